"""Snapshots, history and reads ``as_of`` a snapshot: every committed change takes the
next snapshot, old row images are kept, and reads at a snapshot see the catalog (rows,
model, terms) as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assetry import (
    Catalog,
    ColumnDef,
    RIDNotFound,
    TableNotFound,
    TermNotFound,
    ValidationError,
)
from tests.helpers import refused

BAD_SNAPSHOTS: list[object] = [0, -1, 10**9, "3", 2.5, True]


def refuses_every_bad_snapshot(read: Callable[[Any], object]) -> None:
    """``read(as_of=bad)`` is a ValidationError naming the snapshot, for every bad one."""
    for bad in BAD_SNAPSHOTS:
        err = refused(f"as_of={bad!r}", lambda b=bad: read(b), ValidationError)
        assert "snapshot" in str(err), (bad, str(err))


class AbstractHistoryTests:
    def test_every_change_takes_the_next_snapshot(self, catalog: Catalog) -> None:
        start = catalog.snapshot()
        catalog.create_vocabulary("Color")
        assert catalog.snapshot() == start + 1
        catalog.add_term("Color", "red")
        assert catalog.snapshot() == start + 2
        catalog.lookup_term("Color", "red")
        catalog.list_tables()
        assert catalog.snapshot() == start + 2

    def test_history_of_a_row(
        self, subject_image: Catalog, backend: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        catalog = subject_image
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
        if backend == "remote":
            # Through a server, changes are recorded as the token's user, never the client's.
            assert [v["user"] for v in versions] == ["admin-user"] * 3
            return
        assert [v["user"] for v in versions] == ["alice", "bob", "carol"]
        assert versions[1]["row"]["RCB"] == "alice" and versions[1]["row"]["RMB"] == "bob"
        assert versions[2]["row"] is None

    def test_reads_as_of_a_snapshot(self, subject_image: Catalog) -> None:
        catalog = subject_image
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
        first = list(catalog.get_table_as_dict("Subject", as_of=s1, limit=1))
        assert first[0]["RID"] == min(a, b)
        assert c not in [r["RID"] for r in catalog.get_table_as_dict("Subject", as_of=s1)]

    def test_model_is_versioned(self, subject_image: Catalog) -> None:
        catalog = subject_image
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

    def test_resolve_rid_as_of(self, subject_image: Catalog) -> None:
        catalog = subject_image
        [a, b] = catalog.insert("Subject", [{"Name": "a", "Age": 1}, {"Name": "b", "Age": 2}])
        s1 = catalog.snapshot()
        catalog.update("Subject", [{"RID": a, "Age": 5}])
        catalog.delete("Subject", [b])
        catalog.add_column("Subject", ColumnDef("Weight", "float8"))
        [c] = catalog.insert("Subject", [{"Name": "c", "Weight": 1.5}])

        then = catalog.resolve_rid(a, as_of=s1)
        assert then.table == "Subject" and then.row["Age"] == 1 and "Weight" not in then.row
        assert catalog.resolve_rid(a).row["Age"] == 5
        gone = catalog.resolve_rid(b.lower(), as_of=s1)  # a deleted row, as it was
        assert gone.table == "Subject" and gone.row["RID"] == b and gone.row["Age"] == 2
        assert gone.row["Name"] == "b" and gone.row["RCT"] is not None
        with pytest.raises(RIDNotFound):
            catalog.resolve_rid(b)
        with pytest.raises(RIDNotFound, match="snapshot"):
            catalog.resolve_rid(c, as_of=s1)  # inserted later
        assert catalog.resolve_rid(c, as_of=catalog.snapshot()).row["Weight"] == 1.5
        unchanged = catalog.resolve_rid(c)
        assert catalog.resolve_rid(c, as_of=catalog.snapshot()) == unchanged

    def test_search_as_of(self, subject_image: Catalog) -> None:
        catalog = subject_image
        [a, b] = catalog.insert("Subject", [{"Name": "liver one"}, {"Name": "liver two"}])
        s1 = catalog.snapshot()
        catalog.update("Subject", [{"RID": a, "Name": "kidney one"}])
        catalog.delete("Subject", [b])
        [c] = catalog.insert("Subject", [{"Name": "liver three"}])
        catalog.add_column("Subject", ColumnDef("Note", "text"))

        now = catalog.search("liver", tables=["Subject"])
        assert [r["RID"] for r in now] == [c]
        then = catalog.search("LIVER", tables=["Subject"], as_of=s1)
        assert sorted(r["RID"] for r in then) == sorted([a, b])
        assert [r["RID"] for r in then] == sorted(r["RID"] for r in then)
        assert {r["Name"] for r in then} == {"liver one", "liver two"}
        assert all(r["Table"] == "Subject" and "Note" not in r for r in then)
        assert catalog.search("liver one", tables=["Subject"], as_of=s1)[0]["RID"] == a
        assert catalog.search("kidney", tables=["Subject"], as_of=s1) == []
        limited = catalog.search("liver", tables=["Subject"], as_of=s1, limit=1)
        assert [r["RID"] for r in limited] == [min(a, b)]
        # Every table as it was: the deleted row is found without naming its table.
        assert b in [r["RID"] for r in catalog.search("two", as_of=s1)]
        assert b not in [r["RID"] for r in catalog.search("two")]

    def test_vocabulary_terms_as_of(self, catalog: Catalog) -> None:
        catalog.create_vocabulary("Color")
        catalog.add_term("Color", "Red", description="warm", synonyms=["rouge"])
        catalog.add_term("Color", "Blue")
        s1 = catalog.snapshot()
        catalog.update_term("Color", "Red", name="Crimson", description="deep")
        catalog.remove_synonym("Color", "Crimson", "rouge")
        catalog.delete_term("Color", "Blue")
        catalog.add_term("Color", "Green")

        then = catalog.list_vocabulary_terms("Color", as_of=s1)
        assert [t.name for t in then] == ["Blue", "Red"]
        assert then[1].synonyms == ["rouge"] and then[1].description == "warm"
        assert [t.name for t in catalog.list_vocabulary_terms("Color")] == ["Crimson", "Green"]

        old = catalog.lookup_term("Color", "red", as_of=s1)  # renamed since: its old name
        assert old.name == "Red" and old.description == "warm" and old.rid is not None
        assert catalog.lookup_term("Color", "ROUGE", as_of=s1).name == "Red"
        assert catalog.lookup_term("Color", "blue", as_of=s1).name == "Blue"  # deleted since
        assert catalog.lookup_term("Color", "Crimson").rid == old.rid
        with pytest.raises(TermNotFound):
            catalog.lookup_term("Color", "Red")
        with pytest.raises(TermNotFound):
            catalog.lookup_term("Color", "Green", as_of=s1)  # added later
        with pytest.raises(TermNotFound):
            catalog.lookup_term("Color", "Crimson", as_of=s1)
        latest = catalog.snapshot()
        assert catalog.list_vocabulary_terms(
            "Color", as_of=latest
        ) == catalog.list_vocabulary_terms("Color")

    def test_vocabulary_as_of_before_it_existed(self, catalog: Catalog) -> None:
        before = catalog.snapshot()
        catalog.create_vocabulary("Color")
        catalog.add_term("Color", "Red")
        with pytest.raises(TableNotFound):
            catalog.list_vocabulary_terms("Color", as_of=before)
        with pytest.raises(TableNotFound):
            catalog.lookup_term("Color", "Red", as_of=before)

    def test_bad_snapshots_are_refused(self, catalog: Catalog) -> None:
        """Every read that takes ``as_of`` refuses a snapshot that is not one (the same
        ValidationError over the wire, where a string or a bool may look like a number)."""
        [term] = catalog.list_vocabulary_terms("Asset_Role")[:1]
        assert term.rid is not None
        rid = term.rid
        refuses_every_bad_snapshot(lambda s: list(catalog.get_table_as_dict("Dataset", as_of=s)))
        refuses_every_bad_snapshot(lambda s: catalog.resolve_rid(rid, as_of=s))
        refuses_every_bad_snapshot(lambda s: catalog.search("Input", as_of=s))
        refuses_every_bad_snapshot(lambda s: catalog.list_vocabulary_terms("Asset_Role", as_of=s))
        refuses_every_bad_snapshot(lambda s: catalog.lookup_term("Asset_Role", "Input", as_of=s))
