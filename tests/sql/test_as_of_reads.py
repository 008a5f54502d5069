"""``as_of=`` on resolve_rid, search, lookup_term and list_vocabulary_terms: each reads the
catalog as it was at a snapshot, on every backend."""

from __future__ import annotations

import pytest

from assetry import (
    Catalog,
    ColumnDef,
    RIDNotFound,
    TableNotFound,
    TermNotFound,
    ValidationError,
)
from tests.sql.test_model import define_basic

BAD_SNAPSHOTS = [0, -1, 10**9, "3", 2.5, True]


def test_resolve_rid_as_of(catalog: Catalog) -> None:
    define_basic(catalog)
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


@pytest.mark.parametrize("bad", BAD_SNAPSHOTS)
def test_resolve_rid_refuses_bad_snapshots(catalog: Catalog, bad: object) -> None:
    [term] = catalog.list_vocabulary_terms("Asset_Role")[:1]
    assert term.rid is not None
    with pytest.raises(ValidationError, match="snapshot"):
        catalog.resolve_rid(term.rid, as_of=bad)  # type: ignore[arg-type]


def test_search_as_of(catalog: Catalog) -> None:
    define_basic(catalog)
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
    assert [r["RID"] for r in catalog.search("liver", tables=["Subject"], as_of=s1, limit=1)] == [
        min(a, b)
    ]
    # Every table as it was: the deleted row is found without naming its table.
    assert b in [r["RID"] for r in catalog.search("two", as_of=s1)]
    assert b not in [r["RID"] for r in catalog.search("two")]


@pytest.mark.parametrize("bad", BAD_SNAPSHOTS)
def test_search_refuses_bad_snapshots(catalog: Catalog, bad: object) -> None:
    with pytest.raises(ValidationError, match="snapshot"):
        catalog.search("Input", as_of=bad)  # type: ignore[arg-type]


def test_vocabulary_terms_as_of(catalog: Catalog) -> None:
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
    assert catalog.list_vocabulary_terms("Color", as_of=latest) == catalog.list_vocabulary_terms(
        "Color"
    )


def test_vocabulary_as_of_before_it_existed(catalog: Catalog) -> None:
    before = catalog.snapshot()
    catalog.create_vocabulary("Color")
    catalog.add_term("Color", "Red")
    with pytest.raises(TableNotFound):
        catalog.list_vocabulary_terms("Color", as_of=before)
    with pytest.raises(TableNotFound):
        catalog.lookup_term("Color", "Red", as_of=before)


@pytest.mark.parametrize("bad", BAD_SNAPSHOTS)
def test_vocabulary_reads_refuse_bad_snapshots(catalog: Catalog, bad: object) -> None:
    with pytest.raises(ValidationError, match="snapshot"):
        catalog.list_vocabulary_terms("Asset_Role", as_of=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="snapshot"):
        catalog.lookup_term("Asset_Role", "Input", as_of=bad)  # type: ignore[arg-type]
