"""Snapshots and history: every change numbered, old images kept, reads as of a snapshot."""

from __future__ import annotations

import pytest

from assetry import Catalog, ColumnDef, TableNotFound, ValidationError
from tests.sql.test_model import define_basic


def test_every_change_takes_the_next_snapshot(catalog: Catalog) -> None:
    start = catalog.snapshot()
    catalog.create_vocabulary("Color")
    assert catalog.snapshot() == start + 1
    catalog.add_term("Color", "red")
    assert catalog.snapshot() == start + 2
    catalog.lookup_term("Color", "red")
    catalog.list_tables()
    assert catalog.snapshot() == start + 2


def test_history_of_a_row(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    define_basic(catalog)
    monkeypatch.setenv("ASSETRY_USER", "alice")
    [rid] = catalog.insert("Subject", [{"Name": "S1", "Age": 1}])
    s1 = catalog.snapshot()
    monkeypatch.setenv("ASSETRY_USER", "bob")
    catalog.update("Subject", [{"RID": rid, "Age": 2}])
    s2 = catalog.snapshot()
    monkeypatch.setenv("ASSETRY_USER", "carol")
    catalog.delete("Subject", [rid])
    s3 = catalog.snapshot()

    versions = catalog.history(rid)
    assert [v["action"] for v in versions] == ["insert", "update", "delete"]
    assert [v["snapshot"] for v in versions] == [s1, s2, s3]
    assert versions[0]["row"]["Age"] == 1 and versions[1]["row"]["Age"] == 2
    if catalog.location.startswith("http"):
        # Through a server, changes are recorded as the token's user, never the client's.
        assert [v["user"] for v in versions] == ["admin-user"] * 3
        return
    assert [v["user"] for v in versions] == ["alice", "bob", "carol"]
    assert versions[1]["row"]["RCB"] == "alice" and versions[1]["row"]["RMB"] == "bob"
    assert versions[2]["row"] is None


def test_reads_as_of_a_snapshot(catalog: Catalog) -> None:
    define_basic(catalog)
    [a, b] = catalog.insert("Subject", [{"Name": "a", "Age": 1}, {"Name": "b", "Age": 1}])
    s1 = catalog.snapshot()
    catalog.update("Subject", [{"RID": a, "Age": 5}])
    catalog.delete("Subject", [b])
    [c] = catalog.insert("Subject", [{"Name": "c"}])

    then = {r["Name"]: r["Age"] for r in catalog.get_table_as_dict("Subject", as_of=s1)}
    assert then == {"a": 1, "b": 1}
    now = {r["Name"]: r["Age"] for r in catalog.get_table_as_dict("Subject")}
    assert now == {"a": 5, "c": None}
    frame = catalog.get_table_as_dataframe("Subject", as_of=s1, filters={"Name": "b"})
    assert list(frame["RID"]) == [b]
    assert list(catalog.get_table_as_dict("Subject", as_of=s1, limit=1))[0]["RID"] == min(a, b)
    assert c not in [r["RID"] for r in catalog.get_table_as_dict("Subject", as_of=s1)]


def test_model_is_versioned(catalog: Catalog) -> None:
    define_basic(catalog)
    catalog.insert("Subject", [{"Name": "a"}])
    before = catalog.snapshot()
    catalog.add_column("Subject", ColumnDef("Weight", "float8"))
    old_names = [c["name"] for t in catalog.model_as_of(before)["tables"]
                 if t["name"] == "Subject" for c in t["columns"]]  # fmt: skip
    assert "Weight" not in old_names
    [row] = catalog.get_table_as_dict("Subject", as_of=before)
    assert "Weight" not in row
    assert "Weight" in next(iter(catalog.get_table_as_dict("Subject")))
    with pytest.raises(TableNotFound):
        list(catalog.get_table_as_dict("Image", as_of=1))


@pytest.mark.parametrize("bad", [0, -1, 10**9, "3", 2.5, True])
def test_bad_snapshots_are_refused(catalog: Catalog, bad: object) -> None:
    with pytest.raises(ValidationError, match="snapshot"):
        catalog.get_table_as_dict("Dataset", as_of=bad)  # type: ignore[arg-type]


def test_a_failed_change_takes_no_snapshot_and_keeps_no_history(catalog: Catalog) -> None:
    define_basic(catalog)
    [rid] = catalog.insert("Subject", [{"Name": "a"}])
    before = catalog.snapshot()
    with pytest.raises(ValidationError):
        catalog.update("Subject", [{"RID": rid, "Age": "old"}])
    assert catalog.snapshot() == before
    assert len(catalog.history(rid)) == 1
