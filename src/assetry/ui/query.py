"""A table page's query string: filters per column, sort, and the keyset cursor.

A filter is ``f.<column>=<text>``; the text may start with an operator (``>5``,
``<=2026-01-01``, ``!=mouse``; ``=`` is the default) and ``=null`` / ``!=null`` match
missing values. Values are read by the column's type, so ``Age=abc`` is a message on the
page, not a server error. The cursor is the last (or, going back, first) row's
``[value of the sort column, RID]`` as JSON.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assetry.errors import ValidationError

OPERATORS = (">=", "<=", "!=", ">", "<", "=")
FILTER_PREFIX = "f."
PAGE_ROWS = 50
_INTS = {"int2", "int4", "int8"}
_FLOATS = {"float4", "float8"}


@dataclass
class TableQuery:
    """What a table page shows: filters (column -> text), sort column and direction,
    and where the page starts."""

    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "RID"
    descending: bool = False
    after: list[Any] | None = None
    before: list[Any] | None = None

    def conditions(self, types: Mapping[str, str]) -> list[tuple[str, str, Any]]:
        """The filters as ``(column, op, value)``; ``ValidationError`` naming every bad
        one."""
        found: list[tuple[str, str, Any]] = []
        problems: list[str] = []
        for column, text in self.filters.items():
            if column not in types:
                problems.append(f"no column {column!r} to filter on")
                continue
            try:
                found.append(condition(column, types[column], text))
            except ValueError as err:
                problems.append(f"filter on {column}: {err}")
        if problems:
            raise ValidationError(problems)
        return found

    def query_string(self, **changes: Any) -> dict[str, Any]:
        """The query parameters of this page with ``changes`` (sort, desc, after, ...)."""
        params: dict[str, Any] = {FILTER_PREFIX + k: v for k, v in self.filters.items()}
        params["sort"] = self.sort if self.sort != "RID" else None
        params["desc"] = "1" if self.descending else None
        params.update(changes)
        return params


def parse(params: Mapping[str, str], types: Mapping[str, str]) -> TableQuery:
    """A ``TableQuery`` from a page's query parameters (``ValidationError`` for a bad
    sort column or cursor)."""
    query = TableQuery()
    for key, value in params.items():
        if key.startswith(FILTER_PREFIX) and value.strip():
            query.filters[key[len(FILTER_PREFIX) :]] = value.strip()
    sort = params.get("sort") or "RID"
    if sort not in types or types[sort] == "json":
        raise ValidationError(f"cannot sort by {sort!r}: no such column, or a json one")
    query.sort = sort
    query.descending = params.get("desc") == "1"
    query.after = _cursor(params.get("after"))
    query.before = _cursor(params.get("before"))
    return query


def condition(column: str, kind: str, text: str) -> tuple[str, str, Any]:
    """One filter's condition; ``ValueError`` saying what is wrong with the text."""
    op = "="
    for candidate in OPERATORS:
        if text.startswith(candidate):
            op, text = candidate, text[len(candidate) :].strip()
            break
    op = "==" if op == "=" else op
    if text.lower() == "null":
        if op not in ("==", "!="):
            raise ValueError(f"null can only be compared with = or !=, not {op}")
        return (column, op, None)
    return (column, op, typed(kind, text))


def typed(kind: str, text: str) -> Any:
    """Form or URL text as a value of a column of type ``kind`` (``ValueError``)."""
    if kind in _INTS:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if kind in _FLOATS:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if kind == "boolean":
        if text.lower() in ("true", "yes", "1"):
            return True
        if text.lower() in ("false", "no", "0"):
            return False
        raise ValueError(f"{text!r} is not true or false")
    if kind == "json":
        try:
            return json.loads(text)
        except ValueError:
            raise ValueError(f"{text!r} is not JSON") from None
    return text


def cursor_of(row: Mapping[str, Any], sort: str) -> str:
    """The cursor text of a row for a page sorted by ``sort``."""
    value = row[sort]
    if isinstance(value, dt.date):
        value = value.isoformat()
    return json.dumps([value, row["RID"]], separators=(",", ":"))


def _cursor(text: str | None) -> list[Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], str):
        raise ValidationError(f"bad page position {text[:60]!r}; start again from the first page")
    return value
