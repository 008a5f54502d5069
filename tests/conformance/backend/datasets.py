"""Datasets: versions minted in order, each read at its own snapshot (frozen), and
members of nested datasets in one recursive query."""

from __future__ import annotations

import functools

import pytest

from assetry import Catalog, ColumnDef, ValidationError
from tests.conformance.backend import Build
from tests.helpers import stored_file, subject_image_model


def subjects(cat: Catalog, n: int) -> list[str]:
    return cat.insert("Subject", [{"Name": f"S{i}", "Species": "mouse"} for i in range(n)])


def rids_by_table(members: dict) -> dict[str, list[str]]:
    return {table: [r["RID"] for r in found] for table, found in members.items()}


class AbstractDatasetTests:
    @pytest.fixture
    def cat(self, built: Build) -> Catalog:
        model = functools.partial(
            subject_image_model,
            subject_columns=[ColumnDef("Name", "text")],
            image_columns=[],
            element_types=["Subject", "Image"],
        )
        return built(model)[0]

    def test_membership_changes_mint_minor_versions(self, cat: Catalog) -> None:
        s = subjects(cat, 3)
        ds = cat.create_dataset("Training")
        assert cat.add_dataset_members(ds, s[:2]) == "0.2.0"
        assert cat.add_dataset_members(ds, s[:2]) is None  # nothing new, no version
        assert cat.add_dataset_members(ds, {"Subject": [s[2]]}) == "0.3.0"
        assert cat.delete_dataset_members(ds, [s[0]]) == "0.4.0"
        assert cat.increment_dataset_version(ds, "major", "release") == "1.0.0"
        assert cat.increment_dataset_version(ds, "patch") == "1.0.1"
        history = cat.dataset_history(ds)
        assert [v.version for v in history] == [
            "0.1.0", "0.2.0", "0.3.0", "0.4.0", "1.0.0", "1.0.1",
        ]  # fmt: skip
        assert [v.snapshot for v in history] == sorted(v.snapshot for v in history)
        assert rids_by_table(cat.list_dataset_members(ds)) == {"Subject": sorted(s[1:])}
        assert rids_by_table(cat.list_dataset_members(ds, version="0.2.0")) == {
            "Subject": sorted(s[:2])
        }

    def test_a_version_is_frozen(self, cat: Catalog) -> None:
        s = subjects(cat, 2)
        ds = cat.create_dataset("Training")
        v = cat.add_dataset_members(ds, s)
        cat.update("Subject", [{"RID": s[0], "Name": "renamed"}])
        cat.add_term("Species", "Rattus")
        cat.update("Subject", [{"RID": s[1], "Species": "Rattus"}])
        cat.delete_dataset_members(ds, [s[1]])
        then = cat.list_dataset_members(ds, version=v)["Subject"]
        assert [(r["Name"], r["Species"]) for r in then] == [
            ("S0", "Mus musculus"),
            ("S1", "Mus musculus"),
        ]
        now = cat.list_dataset_members(ds)["Subject"]
        assert [(r["Name"], r["Species"]) for r in now] == [("renamed", "Mus musculus")]

    def test_members_of_any_type_and_nested_datasets(self, cat: Catalog) -> None:
        [s] = subjects(cat, 1)
        [img] = cat.insert("Image", [{**stored_file(cat, b"x"), "Subject": s}])
        parent = cat.create_dataset("Complete")
        child = cat.create_dataset("Training")
        grandchild = cat.create_dataset("Testing")
        cat.add_dataset_members(grandchild, [img])
        cat.add_dataset_members(child, [s, grandchild])
        cat.add_dataset_members(parent, [child])
        assert rids_by_table(cat.list_dataset_members(parent)) == {"Dataset": [child]}
        deep = rids_by_table(cat.list_dataset_members(parent, recurse=True))
        assert deep == {"Dataset": sorted([child, grandchild]), "Image": [img], "Subject": [s]}
        assert cat.list_dataset_children(parent) == [child]
        assert cat.list_dataset_parents(grandchild) == [child]
        assert cat.list_dataset_parents(parent) == []

    def test_members_and_summaries_page_by_rid_at_one_version(
        self, cat: Catalog, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from assetry.protocol import paging

        monkeypatch.setattr(paging, "WIRE_PAGE", 3)  # a remote listing travels in pages
        s = sorted(subjects(cat, 8))
        ds = cat.create_dataset("Training")
        v = cat.add_dataset_members(ds, s)
        cat.delete_dataset_members(ds, s[:2])  # the latest version has 6 members
        names = {r["RID"]: r["Name"] for r in cat.list_dataset_members(ds, version=v)["Subject"]}
        cat.update("Subject", [{"RID": s[4], "Name": "changed"}])
        page_at_v = cat.list_dataset_members(ds, version=v, table="Subject", after=s[3], limit=2)
        assert [r["Name"] for r in page_at_v["Subject"]] == [names[s[4]], names[s[5]]]
        assert cat.list_dataset_members(ds, after=s[3], limit=1)["Subject"][0]["Name"] != "changed"
        cat.increment_dataset_version(ds, "patch")  # 0.3.1 reads the changed row
        assert cat.list_dataset_members(ds, after=s[3], limit=1)["Subject"][0]["Name"] == "changed"
        assert rids_by_table(cat.list_dataset_members(ds, version=v)) == {"Subject": s}
        first = cat.list_dataset_members(ds, version=v, limit=3, table="Subject")
        assert rids_by_table(first) == {"Subject": s[:3]}
        more = cat.list_dataset_members(ds, version=v, table="Subject", after=s[2], limit=4)
        assert rids_by_table(more) == {"Subject": s[3:7]}
        assert rids_by_table(cat.list_dataset_members(ds, after=s[6])) == {"Subject": s[7:]}
        assert cat.list_dataset_members(ds, after=s[7]) == {}
        assert rids_by_table(cat.list_dataset_members(ds)) == {"Subject": s[2:]}
        with pytest.raises(ValidationError, match="not a dataset element type.*Subject"):
            cat.list_dataset_members(ds, table="Species")
        with pytest.raises(ValidationError, match="is not a RID"):
            cat.list_dataset_members(ds, after=" ")
        with pytest.raises(ValidationError, match="limit"):
            cat.list_dataset_members(ds, limit=-1)

        made = sorted([ds] + [cat.create_dataset("Testing") for _ in range(6)])
        assert [d["RID"] for d in cat.find_datasets()] == made
        page = cat.find_datasets(limit=2, after=made[2])
        assert [d["RID"] for d in page] == made[3:5]
        assert [d["RID"] for d in cat.find_datasets("Testing", limit=10)] == made[:0] + [
            d for d in made if d != ds
        ]
        [mine] = cat.find_datasets("Training")
        assert (mine["RID"], mine["Version"], mine["Dataset_Type"]) == (ds, "0.3.1", ["Training"])
        with pytest.raises(ValidationError, match="limit"):
            cat.find_datasets(limit="ten")  # type: ignore[arg-type]
