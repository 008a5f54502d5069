"""Listings of a table: DataFrames built column by column, rows streamed in pages of one
read transaction (memory does not grow with the table), RID lists bound as one
parameter."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pandas as pd
import pytest

from assetry import Catalog, ColumnDef, TableDef, ValidationError
from assetry.sql import listing


@pytest.fixture
def cat(sqlite_catalog: Catalog) -> Catalog:
    sqlite_catalog.create_table(
        TableDef(
            "Thing",
            column_defs=[
                ColumnDef("N", "int4"),
                ColumnDef("Name", "text"),
                ColumnDef("Score", "float8"),
                ColumnDef("Good", "boolean"),
                ColumnDef("Seen", "timestamptz"),
                ColumnDef("Doc", "json"),
            ],
        )
    )
    return sqlite_catalog


def test_dataframe_has_typed_columns_and_every_row(cat: Catalog) -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    rows = [
        {"N": 1, "Name": "a", "Score": 0.5, "Good": True, "Seen": when, "Doc": {"k": [1]}},
        {"N": None, "Name": None, "Score": None, "Good": None, "Seen": None, "Doc": None},
    ]
    rids = cat.insert("Thing", rows)
    frame = cat.get_table_as_dataframe("Thing")
    assert list(frame.columns) == ["RID", "RCT", "RMT", "RCB", "RMB", "N", "Name", "Score",
                                   "Good", "Seen", "Doc"]  # fmt: skip
    assert str(frame["N"].dtype) == "Int64" and str(frame["Good"].dtype) == "boolean"
    by_rid = frame.set_index("RID")
    assert by_rid.loc[rids[0], "Seen"] == pd.Timestamp(when)
    assert by_rid.loc[rids[0], "Doc"] == {"k": [1]}
    assert pd.isna(by_rid.loc[rids[1], "N"]) and pd.isna(by_rid.loc[rids[1], "Seen"])
    assert list(frame["RID"]) == sorted(rids)
    empty = cat.get_table_as_dataframe("Thing", filters={"Name": "nobody"})
    assert len(empty) == 0 and list(empty.columns) == list(frame.columns)


def test_dataframe_as_of_and_filters(cat: Catalog) -> None:
    rids = cat.insert("Thing", [{"N": n, "Name": f"t{n}"} for n in range(5)])
    before = cat.snapshot()
    cat.update("Thing", [{"RID": rids[1], "Name": "renamed"}])
    cat.delete("Thing", [rids[2]])
    old = cat.get_table_as_dataframe("Thing", as_of=before)
    assert list(old["Name"]) == [f"t{n}" for n in range(5)]
    now = cat.get_table_as_dataframe("Thing", filters={"N": [1, 2, 3]})
    assert list(now["Name"]) == ["renamed", "t3"]
    with pytest.raises(ValidationError, match="no column 'Nope'"):
        cat.get_table_as_dataframe("Thing", filters={"Nope": 1})


def test_rows_stream_in_pages_of_one_transaction(
    cat: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "LISTING_PAGE", 7)
    rids = cat.insert("Thing", [{"N": n} for n in range(30)])
    stream = cat.get_table_as_dict("Thing")
    first = next(stream)
    cat.insert("Thing", [{"N": 99}])  # after the listing began: not in it
    rest = list(stream)
    assert [first["RID"], *(r["RID"] for r in rest)] == sorted(rids)
    assert [r["RID"] for r in cat.get_table_as_dict("Thing", limit=10, offset=12)] == sorted(rids)[
        12:22
    ]


def _peak_of_listing(cat: Catalog) -> int:
    tracemalloc.start()
    try:
        count = sum(1 for _ in cat.get_table_as_dict("Thing"))
        return tracemalloc.get_traced_memory()[1], count  # type: ignore[return-value]
    finally:
        tracemalloc.stop()


def test_memory_of_a_listing_does_not_grow_with_the_table(
    cat: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "LISTING_PAGE", 1000)
    row = {"Name": "x" * 100, "Score": 1.5}
    cat.insert("Thing", [row] * 5_000)
    small, count = _peak_of_listing(cat)  # type: ignore[misc]
    assert count == 5_000
    cat.insert("Thing", [row] * 20_000)
    large, count = _peak_of_listing(cat)  # type: ignore[misc]
    assert count == 25_000
    # Five times the rows: a listing that held them all would need about five times the
    # memory; a streamed one needs about the same (one page).
    assert large < 2 * small, (small, large)


def test_the_collector_is_left_as_it_was(cat: Catalog) -> None:
    import gc

    cat.insert("Thing", [{"N": 1}])
    assert gc.isenabled()
    cat.get_table_as_dataframe("Thing")
    assert gc.isenabled()
    gc.disable()
    try:
        cat.get_table_as_dataframe("Thing")
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValidationError):
        cat.get_table_as_dataframe("Thing", filters={"N": "one"})
    assert gc.isenabled()
