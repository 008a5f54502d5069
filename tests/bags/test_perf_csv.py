"""The bag CSV writer's per-column fast paths give exactly the text of the plain rule:
every field is ``format_value`` of the value, quoted when empty or holding ``,"\\r\\n``."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

import pytest

from assetry.bags.csvcodec import dump_rows, format_value, load_rows, write_line

KINDS = [
    "text", "markdown", "uri", "int2", "int4", "int8", "float4", "float8", "boolean",
    "date", "timestamp", "timestamptz", "json", "unknown_kind",
]  # fmt: skip

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC_STAMP = dt.datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=dt.UTC)
VALUES: list[Any] = [
    None, "", "plain", "a,b", 'say "hi"', "line\nbreak", "cr\r", "ünïcode", " spaced ",
    0, -17, 2**40, True, False, 1.5, -0.0, 1e300, float("inf"), float("nan"),
    dt.date(2024, 2, 29), UTC_STAMP, UTC_STAMP.replace(tzinfo=None),
    UTC_STAMP.astimezone(PARIS), dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=PARIS),
    dt.datetime(2024, 10, 27, 2, 30, fold=0, tzinfo=PARIS),
    dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    {"b": [1, "x,y"], "a": None}, [1, 2], "2024-05-01T12:30:15Z",
]  # fmt: skip


def plain(columns: list[str], types: dict[str, str], rows: list[dict[str, Any]]) -> str:
    lines = [write_line(columns)]
    for row in rows:
        lines.append(write_line(format_value(row.get(c), types.get(c, "text")) for c in columns))
    return "".join(lines)


def outcome(make: Any) -> tuple[str, Any]:
    """The text made, or the exception type raised (a value the kind cannot hold)."""
    try:
        return "text", make()
    except (TypeError, ValueError) as err:
        return "error", type(err)


def same(columns: list[str], types: dict[str, str], rows: list[dict[str, Any]]) -> None:
    fast = outcome(lambda: "".join(dump_rows(columns, types, rows)))
    assert fast == outcome(lambda: plain(columns, types, rows))


@pytest.mark.parametrize("kind", KINDS)
def test_every_value_of_every_kind_as_the_plain_rule(kind: str) -> None:
    rows = [{"RID": str(i), "V": value} for i, value in enumerate(VALUES * 2)]
    types = {"RID": "text", "V": kind}
    same(["RID", "V"], types, rows)
    if kind == "json":  # every JSON value on its own (a datetime is not one)
        for value in VALUES:
            same(["V"], types, [{"V": value}])
    else:
        assert outcome(lambda: plain(["RID", "V"], types, rows))[0] == "text"


def test_random_tables_and_missing_columns() -> None:
    rng = random.Random(7)
    for _ in range(50):
        columns = [f"c{i}" for i in range(rng.randint(1, 6))]
        types = {c: rng.choice(KINDS) for c in columns if rng.random() < 0.9}
        rows = []
        for _ in range(rng.randint(0, 20)):
            row = {c: rng.choice(VALUES) for c in columns if rng.random() < 0.95}
            rows.append(row)
        same(columns, types, rows)


def test_repeated_timestamps_round_trip() -> None:
    stamps = [UTC_STAMP + dt.timedelta(seconds=i % 3) for i in range(10)]
    rows = [{"RID": str(i), "T": t} for i, t in enumerate(stamps)]
    text = "".join(dump_rows(["RID", "T"], {"T": "timestamptz"}, rows))
    _, back = load_rows(text, {"T": "timestamptz"})
    assert [r["T"] for r in back] == stamps


def test_no_columns() -> None:
    assert list(dump_rows([], {}, [{}, {}])) == ["\r\n", "\r\n", "\r\n"]


def test_many_rows_in_blocks_with_whole_column_shortcuts() -> None:
    n = 20_000  # more than two blocks
    stamps = [UTC_STAMP + dt.timedelta(minutes=i % 5) for i in range(n)]
    rows = [
        {
            "RID": f"1-{i:05X}",
            "plain": "user",
            "quoted": "a,b" if i == 12_345 else "x",
            "empty": "" if i == 17_000 else "y",
            "n": i - 10,
            "n_null": None if i % 7 == 0 else i,
            "t": stamps[i],
            "t_mixed": stamps[i].astimezone(PARIS) if i == 9_000 else stamps[i],
            "b": i % 2 == 0,
        }
        for i in range(n)
    ]
    types = {"n": "int4", "n_null": "int8", "t": "timestamptz", "t_mixed": "timestamptz"}
    types["b"] = "boolean"
    same(list(rows[0]), types, rows)
