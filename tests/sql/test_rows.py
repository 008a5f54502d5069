"""Rows: insert, update, delete, RIDs, reads, streaming, filters, search."""

from __future__ import annotations

import pytest

from assetry import (
    Catalog,
    TableNotFound,
)
from tests.helpers import subject_image_model


def test_insert_returns_rids_in_order_and_rows_resolve(catalog: Catalog) -> None:
    subject_image_model(catalog)
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
    subject_image_model(catalog)
    a = catalog.insert("Subject", [{"Name": "a"}])
    b = catalog.insert("Species", [{"Name": "Rattus"}])
    c = catalog.add_term("Asset_Type", "Mask").rid
    assert len({*a, *b, c}) == 3
    assert catalog.resolve_rid(b[0]).table == "Species"
    assert catalog.resolve_rid(c).table == "Asset_Type"


def test_update_changes_only_given_columns(catalog: Catalog) -> None:
    subject_image_model(catalog)
    rids = catalog.insert("Subject", [{"Name": "a", "Age": 1}, {"Name": "b", "Age": 2}])
    catalog.update("Subject", [{"RID": rids[0], "Age": 10}, {"RID": rids[1], "Name": "B"}])
    rows = {r["RID"]: r for r in catalog.get_table_as_dict("Subject")}
    assert (rows[rids[0]]["Name"], rows[rids[0]]["Age"]) == ("a", 10)
    assert (rows[rids[1]]["Name"], rows[rids[1]]["Age"]) == ("B", 2)
    assert rows[rids[0]]["RMT"] > rows[rids[0]]["RCT"]


def test_unknown_table(catalog: Catalog) -> None:
    with pytest.raises(TableNotFound):
        catalog.insert("Nope", [{"A": 1}])
    with pytest.raises(TableNotFound):
        list(catalog.get_table_as_dict("Nope"))
