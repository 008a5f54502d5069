"""The bag CSV format: UTF-8, RFC 4180, header in model column order, NULL as an empty
unquoted field and the empty string as ``""`` (so the two round-trip distinctly), json as
compact JSON, timestamps in ISO 8601 UTC.

Python's csv module cannot tell an empty unquoted field from ``""`` before Python 3.12,
so both directions are written here.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from assetry.errors import BagError

# A field with one of these characters, or empty, is quoted.
_NEEDS_QUOTES = re.compile('[,"\r\n]').search


def format_value(value: Any, kind: str) -> str | None:
    """The text of one value (None for NULL)."""
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamptz" and isinstance(value, dt.datetime):
        stamp = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return stamp.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _field(text: str | None) -> str:
    if text is None:
        return ""
    if text == "" or _NEEDS_QUOTES(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_line(fields: Iterable[str | None]) -> str:
    """One CSV record with CRLF, as RFC 4180 says."""
    return ",".join(_field(f) for f in fields) + "\r\n"


def dump_rows(
    columns: list[str], types: Mapping[str, str], rows: Iterable[Mapping[str, Any]]
) -> Iterator[str]:
    """The text of a table's CSV file, in pieces: the header line, then blocks of
    records (one per row)."""
    yield write_line(columns)
    if not columns:
        for _ in rows:
            yield "\r\n"
        return
    kinds = [types.get(c, "text") for c in columns]
    formatters = [field_formatter(kind) for kind in kinds]
    getters = [operator.itemgetter(c) for c in columns]
    remaining = iter(rows)
    while block := list(itertools.islice(remaining, _BLOCK_ROWS)):
        # Column by column: a column of plain values is checked and rendered in C.
        fields = []
        for column, kind, formatter, get in zip(columns, kinds, formatters, getters, strict=True):
            try:
                values = list(map(get, block))
            except KeyError:  # a row without this column: NULL there
                values = [row.get(column) for row in block]
            fields.append(_column_fields(kind, formatter, values))
        yield "\r\n".join(map(",".join, zip(*fields, strict=True))) + "\r\n"


_BLOCK_ROWS = 8192
_TEXT_KINDS = frozenset(("text", "markdown", "uri"))
_INT_KINDS = frozenset(("int2", "int4", "int8"))


def _column_fields(kind: str, formatter: Formatter, values: list[Any]) -> list[str]:
    """The CSV fields of one column's ``values``: ``formatter`` of each (see
    ``field_formatter``), with whole-column shortcuts when every value is plain."""
    kinds = set(map(type, values))
    if kinds == {str} and kind in _TEXT_KINDS:
        if "" not in values and _NEEDS_QUOTES("\x00".join(values)) is None:
            return values  # nothing to quote: every field is its text
    elif kinds == {int} and kind in _INT_KINDS:
        return list(map(str, values))
    elif kinds == {dt.datetime} and kind == "timestamptz" and set(map(_TZINFO, values)) == {dt.UTC}:
        # Equal UTC datetimes are the same instant, so the same text: format each once.
        texts = {value: formatter(value) for value in dict.fromkeys(values)}
        return list(map(texts.__getitem__, values))
    return list(map(formatter, values))


_TZINFO = operator.attrgetter("tzinfo")


Formatter = Callable[[Any], str]


def field_formatter(kind: str) -> Formatter:
    """The function that turns a value of a column of ``kind`` into its CSV field (quoted
    if need be): ``_field(format_value(value, kind))``, with the common cases first."""

    def generic(value: Any) -> str:
        return _field(format_value(value, kind))

    if kind in ("int2", "int4", "int8"):

        def integer(value: Any) -> str:
            return str(value) if type(value) is int else generic(value)

        return integer
    if kind in ("float4", "float8"):

        def number(value: Any) -> str:
            return repr(value) if type(value) is float else generic(value)

        return number
    if kind == "boolean":

        def boolean(value: Any) -> str:
            return "true" if value is True else "false" if value is False else generic(value)

        return boolean
    if kind == "timestamptz":
        return _timestamptz_formatter(generic)
    if kind in ("json", "date", "timestamp"):
        return generic

    def text(value: Any) -> str:  # text, markdown, uri, and kinds this code does not know
        if type(value) is str and value and not _NEEDS_QUOTES(value):
            return value
        return generic(value)

    return text


def _timestamptz_formatter(generic: Formatter) -> Formatter:
    """Rows written together share their timestamps, so each distinct UTC value is
    formatted once. Only values in ``dt.UTC`` are remembered: equal ones are the same
    instant, so the same text (not so for equal values in a zone with a ``fold``)."""
    cache: dict[dt.datetime, str] = {}

    def timestamptz(value: Any) -> str:
        if type(value) is not dt.datetime or value.tzinfo is not dt.UTC:
            return generic(value)
        text = cache.get(value)
        if text is None:
            text = generic(value)
            if len(cache) < _CACHE_SIZE:
                cache[value] = text
        return text

    return timestamptz


_CACHE_SIZE = 4096


def parse_records(text: str, name: str = "CSV") -> list[list[str | None]]:
    """RFC 4180 records; an empty unquoted field is None, a quoted one is text."""
    records: list[list[str | None]] = []
    fields: list[str | None] = []
    i, n = 0, len(text)
    if n == 0:
        return records
    while True:
        if i < n and text[i] == '"':
            i += 1
            chunk = []
            while True:
                j = text.find('"', i)
                if j < 0:
                    raise BagError(f"{name}: a quoted field is not closed")
                chunk.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    chunk.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            fields.append("".join(chunk))
        else:
            j = i
            while j < n and text[j] not in ",\r\n":
                j += 1
            value = text[i:j]
            if '"' in value:
                raise BagError(f"{name}: a quote inside an unquoted field")
            fields.append(value if value else None)
            i = j
        if i >= n:
            records.append(fields)
            return records
        if text[i] == ",":
            i += 1
            if i >= n:
                fields.append(None)
                records.append(fields)
                return records
            continue
        if text.startswith("\r\n", i):
            i += 2
        elif text[i] in "\r\n":
            i += 1
        else:
            raise BagError(f"{name}: unexpected character after a quoted field")
        records.append(fields)
        fields = []
        if i >= n:
            return records


def parse_value(text: str | None, kind: str) -> Any:
    """The Python value of one field of a column of ``kind``."""
    if text is None:
        return None
    try:
        if kind in ("int2", "int4", "int8"):
            return int(text)
        if kind in ("float4", "float8"):
            return float(text)
        if kind == "boolean":
            if text not in ("true", "false"):
                raise ValueError(f"not a boolean: {text!r}")
            return text == "true"
        if kind == "json":
            return json.loads(text)
        if kind == "date":
            return dt.date.fromisoformat(text)
        if kind == "timestamp":
            return dt.datetime.fromisoformat(text)
        if kind == "timestamptz":
            return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)
    except ValueError as err:
        raise BagError(f"bad {kind} value {text!r}: {err}") from None
    return text


def load_rows(
    text: str, types: Mapping[str, str], name: str = "CSV"
) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and typed rows of a table's CSV text."""
    records = parse_records(text, name)
    if not records:
        raise BagError(f"{name}: no header")
    header = [h or "" for h in records[0]]
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if len(record) != len(header):
            raise BagError(
                f"{name}: record {number} has {len(record)} fields, expected {len(header)}"
            )
        rows.append(
            {c: parse_value(v, types.get(c, "text")) for c, v in zip(header, record, strict=True)}
        )
    return header, rows
