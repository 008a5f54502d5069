"""Rows: insert, update, delete, RIDs, reads, streaming, filters, search."""

from __future__ import annotations

import pandas as pd
import pytest

from assetry import (
    Catalog,
    ColumnDef,
    ConflictError,
    RIDNotFound,
    TableDef,
    TableNotFound,
    ValidationError,
)
from tests.helpers import stored_file
from tests.sql.test_model import define_basic


def image_row(cat: Catalog, subject: str, **extra: object) -> dict:
    return {**stored_file(cat, b"abc"), "Subject": subject, **extra}


def test_insert_returns_rids_in_order_and_rows_resolve(catalog: Catalog) -> None:
    define_basic(catalog)
    rids = catalog.insert("Subject", [{"Name": f"S{i}", "Age": i} for i in range(5)])
    assert len(set(rids)) == 5
    assert all(r.startswith(catalog.rid_prefix + "-") for r in rids)
    for i, rid in enumerate(rids):
        resolved = catalog.resolve_rid(rid.lower())  # case-insensitive
        assert resolved.table == "Subject"
        assert resolved.row["Name"] == f"S{i}"
        assert resolved.row["RCB"] == resolved.row["RMB"]
        assert resolved.row["RCT"] == resolved.row["RMT"]


def test_rids_are_unique_across_tables(catalog: Catalog) -> None:
    define_basic(catalog)
    a = catalog.insert("Subject", [{"Name": "a"}])
    b = catalog.insert("Species", [{"Name": "Rattus"}])
    c = catalog.add_term("Asset_Type", "Mask").rid
    assert len({*a, *b, c}) == 3
    assert catalog.resolve_rid(b[0]).table == "Species"
    assert catalog.resolve_rid(c).table == "Asset_Type"


def test_resolve_unknown_and_deleted_rid(catalog: Catalog) -> None:
    define_basic(catalog)
    with pytest.raises(RIDNotFound):
        catalog.resolve_rid("ZZZZZZZZ-1")
    [rid] = catalog.insert("Subject", [{"Name": "gone"}])
    catalog.delete("Subject", [rid])
    with pytest.raises(RIDNotFound, match="deleted at snapshot"):
        catalog.resolve_rid(rid)


def test_vocabulary_column_stores_canonical_name(catalog: Catalog) -> None:
    define_basic(catalog)
    [rid] = catalog.insert("Subject", [{"Name": "S1", "Species": "MOUSE"}])
    assert catalog.resolve_rid(rid).row["Species"] == "Mus musculus"
    frame = catalog.get_table_as_dataframe("Subject", filters={"Species": "mouse"})
    assert list(frame["RID"]) == [rid]


def test_foreign_keys_are_enforced(catalog: Catalog) -> None:
    define_basic(catalog)
    [subject] = catalog.insert("Subject", [{"Name": "S1"}])
    [image] = catalog.insert("Image", [image_row(catalog, subject.lower())])
    assert catalog.resolve_rid(image).row["Subject"] == subject
    with pytest.raises(ValidationError, match="no row of 'Subject'"):
        catalog.insert("Image", [image_row(catalog, "ZZZZZZZZ-9")])
    with pytest.raises(ConflictError, match="still referenced"):
        catalog.delete("Subject", [subject])
    catalog.delete("Image", [image])
    catalog.delete("Subject", [subject])
    assert catalog.get_table_as_dataframe("Subject").empty


def test_update_changes_only_given_columns(catalog: Catalog) -> None:
    define_basic(catalog)
    rids = catalog.insert("Subject", [{"Name": "a", "Age": 1}, {"Name": "b", "Age": 2}])
    catalog.update("Subject", [{"RID": rids[0], "Age": 10}, {"RID": rids[1], "Name": "B"}])
    rows = {r["RID"]: r for r in catalog.get_table_as_dict("Subject")}
    assert (rows[rids[0]]["Name"], rows[rids[0]]["Age"]) == ("a", 10)
    assert (rows[rids[1]]["Name"], rows[rids[1]]["Age"]) == ("B", 2)
    assert rows[rids[0]]["RMT"] > rows[rids[0]]["RCT"]


def test_update_and_delete_unknown_rid(catalog: Catalog) -> None:
    define_basic(catalog)
    with pytest.raises(RIDNotFound):
        catalog.update("Subject", [{"RID": "ZZZZZZZZ-1", "Age": 1}])
    with pytest.raises(RIDNotFound):
        catalog.delete("Subject", ["ZZZZZZZZ-1"])
    with pytest.raises(ValidationError, match="needs the RID"):
        catalog.update("Subject", [{"Age": 1}])


def test_unknown_table(catalog: Catalog) -> None:
    with pytest.raises(TableNotFound):
        catalog.insert("Nope", [{"A": 1}])
    with pytest.raises(TableNotFound):
        list(catalog.get_table_as_dict("Nope"))


def test_get_table_as_dict_streams_pages(catalog: Catalog) -> None:
    catalog.create_table(TableDef("Many", column_defs=[ColumnDef("N", "int4")]))
    catalog.insert("Many", [{"N": i} for i in range(2500)])
    rows = catalog.get_table_as_dict("Many")
    first = next(rows)
    assert set(first) >= {"RID", "N"}
    assert len(list(rows)) == 2499
    page = list(catalog.get_table_as_dict("Many", limit=10, offset=1995))
    everything = [r["RID"] for r in catalog.get_table_as_dict("Many")]
    assert [r["RID"] for r in page] == everything[1995:2005]
    assert everything == sorted(everything)
    assert list(catalog.get_table_as_dict("Many", limit=0)) == []


def test_dataframe_types_and_filters(catalog: Catalog) -> None:
    define_basic(catalog)
    [a, _b] = catalog.insert("Subject", [{"Name": "a", "Age": 3}, {"Name": "b"}])
    frame = catalog.get_table_as_dataframe("Subject")
    assert list(frame.columns) == ["RID", "RCT", "RMT", "RCB", "RMB", "Name", "Age", "Species"]
    assert str(frame["Age"].dtype) == "Int64"
    assert frame["Age"].isna().sum() == 1
    only = catalog.get_table_as_dataframe("Subject", filters={"RID": a.lower()})
    assert list(only["Name"]) == ["a"]
    empty = catalog.get_table_as_dataframe("Image")
    assert isinstance(empty, pd.DataFrame) and empty.empty and "URL" in empty.columns
    with pytest.raises(ValidationError, match="no column 'Nope'"):
        catalog.get_table_as_dataframe("Subject", filters={"Nope": 1})


def test_search(catalog: Catalog) -> None:
    define_basic(catalog)
    catalog.insert("Subject", [{"Name": "liver sample 100%"}, {"Name": "kidney"}])
    hits = catalog.search("LIVER 100%")
    assert [(h["Table"], h["Name"]) for h in hits] == [("Subject", "liver sample 100%")]
    assert catalog.search("mouse", tables=["Species"])[0]["Name"] == "Mus musculus"
    assert catalog.search("kid", tables=["Subject"], limit=1)[0]["Name"] == "kidney"
    assert catalog.search("_") == [] or all("_" in str(h) for h in catalog.search("_"))
    with pytest.raises(ValidationError):
        catalog.search("   ")


def test_empty_insert_changes_nothing(catalog: Catalog) -> None:
    define_basic(catalog)
    snapshot = catalog.snapshot()
    assert catalog.insert("Subject", []) == []
    assert catalog.snapshot() == snapshot


def test_filter_values_are_checked_and_float4_matches(catalog: Catalog) -> None:
    catalog.create_table(
        TableDef("Num", column_defs=[ColumnDef("N", "int4"), ColumnDef("F", "float4")])
    )
    [rid] = catalog.insert("Num", [{"N": 1, "F": 0.1}])
    with pytest.raises(ValidationError, match="'N'"):
        list(catalog.get_table_as_dict("Num", filters={"N": "abc"}))
    assert [r["RID"] for r in catalog.get_table_as_dict("Num", filters={"F": 0.1})] == [rid]
    assert [r["RID"] for r in catalog.get_table_as_dict("Num", filters={"N": [1, 2]})] == [rid]
