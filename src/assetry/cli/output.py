"""Writing results: one JSON document (``--json``) or aligned text for people."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import os
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice
from typing import Any, Generic, TextIO, TypeVar

SYSTEM_COLUMNS = ("RID", "RCT", "RMT", "RCB", "RMB")
"""Columns every row has; text listings show only ``RID`` of them unless asked."""

MAX_CELL = 48
# Column widths are measured a page at a time, so a long listing streams instead of being
# held in memory to measure every row; a later page only ever widens a column.
PAGE = 100
SUMMARY_LIMIT = 20
"""How many items a long text output shows unless ``--all`` is given."""

T = TypeVar("T")


def to_jsonable(value: Any) -> Any:
    """``json.dumps`` fallback: ISO 8601 for dates and times, plain data for the rest."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, uuid.UUID | os.PathLike):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.hex()
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON text, dates and times as ISO 8601 strings."""
    return json.dumps(value, default=to_jsonable, indent=indent, ensure_ascii=False)


def text_value(value: Any) -> str:
    """One value as short, single-line text (NULL is the empty string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(text_value(v) for v in value)
    if isinstance(value, Mapping):
        return dumps(value, indent=None)
    return " ".join(str(value).splitlines())


def cell(value: Any, width: int = MAX_CELL) -> str:
    """``text_value`` cut to ``width`` characters for a table cell."""
    text = text_value(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@dataclasses.dataclass
class Summary(Generic[T]):
    """The items a text output shows (``shown``) out of ``total``."""

    shown: list[T]
    total: int

    @property
    def hidden(self) -> int:
        """How many items are not shown."""
        return self.total - len(self.shown)

    def more(self, what: str = "more") -> str | None:
        """The line that says what is not shown, or None when everything is."""
        if not self.hidden:
            return None
        return (
            f"... and {self.hidden} {what} (showing {len(self.shown)} of {self.total}; "
            "--all shows every one)"
        )


def summarized(rows: Iterable[T], show_all: bool, limit: int = SUMMARY_LIMIT) -> Summary[T]:
    """The first ``limit`` of ``rows`` (every one with ``show_all``) and how many there
    are. Rows past the limit are counted, not kept."""
    if show_all:
        kept = list(rows)
        return Summary(kept, len(kept))
    stream = iter(rows)
    shown = list(islice(stream, limit))
    return Summary(shown, len(shown) + sum(1 for _ in stream))


def aligned(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """Lines of a left-aligned text table: header, rule, rows (streamed).

    Every column is as wide as its widest cell (header included) in the first page of
    rows; each later page may widen a column for itself and the pages after it, so a
    long listing streams and RIDs of any length line up."""
    stream = iter(rows)
    page = list(islice(stream, PAGE))
    widths = [len(h) for h in header]

    def widen(cells: list[Sequence[str]]) -> None:
        nonlocal widths
        for row in cells:
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    widen(page)
    yield line(header)
    yield line(["-" * w for w in widths])
    while page:
        for row in page:
            yield line(row)
        page = list(islice(stream, PAGE))
        widen(page)


class Output:
    """Where a command writes: JSON documents in ``--json`` mode, else lines of text."""

    def __init__(self, json_mode: bool, stream: TextIO) -> None:
        self.json_mode = json_mode
        self.stream = stream

    def line(self, text: str = "") -> None:
        """Write one line of text."""
        self.stream.write(text + "\n")

    def lines(self, lines: Iterable[str], indent: str = "") -> None:
        """Write each of ``lines``, indented."""
        for text in lines:
            self.line(indent + text if text else text)

    def json(self, doc: Any) -> None:
        """Write ``doc`` as the command's one JSON document."""
        self.stream.write(dumps(doc) + "\n")

    def json_list(self, items: Iterable[Any]) -> None:
        """Write ``items`` as one JSON array, one item per line, without holding them all."""
        self.stream.write("[")
        for n, item in enumerate(items):
            self.stream.write(("," if n else "") + "\n  " + dumps(item, indent=None))
        self.stream.write("\n]\n")

    def table(
        self,
        header: Sequence[str],
        rows: Iterable[Sequence[Any]],
        empty: str,
        full_last: bool = False,
        indent: str = "",
    ) -> None:
        """Write an aligned text table of ``rows``, or ``empty`` when there are none.

        Cells are cut to ``MAX_CELL`` characters, except the last column's if
        ``full_last`` (nothing follows it, so it may be long).
        """
        stream = iter(rows)
        first = next(stream, None)
        if first is None:
            self.line(indent + empty)
            return
        last = len(header) - 1
        cells = (
            [text_value(v) if full_last and i == last else cell(v) for i, v in enumerate(row)]
            for row in chain([first], stream)
        )
        self.lines(aligned(list(header), cells), indent)

    def summary_table(
        self,
        header: Sequence[str],
        rows: Iterable[Sequence[Any]],
        empty: str,
        show_all: bool,
        full_last: bool = False,
        indent: str = "",
        limit: int = SUMMARY_LIMIT,
    ) -> Summary[Sequence[Any]]:
        """``table`` of the first ``limit`` rows (all with ``show_all``), then a line
        saying how many more there are; return the summary."""
        summary = summarized(rows, show_all, limit)
        self.table(header, summary.shown, empty, full_last=full_last, indent=indent)
        more = summary.more()
        if more:
            self.line(indent + more)
        return summary

    def rows(
        self, rows: Iterable[Mapping[str, Any]], all_columns: bool = False, indent: str = ""
    ) -> int:
        """Write row dicts as an aligned table (system columns but RID hidden unless
        ``all_columns``); return how many were written."""
        stream = iter(rows)
        first = next(stream, None)
        if first is None:
            self.line(indent + "(no rows)")
            return 0
        hidden = () if all_columns else SYSTEM_COLUMNS[1:]
        columns = [c for c in first if c not in hidden]
        count = 0

        def cells() -> Iterator[list[str]]:
            nonlocal count
            for row in chain([first], stream):
                count += 1
                yield [cell(row.get(c)) for c in columns]

        self.lines(aligned(columns, cells()), indent)
        return count
