"""Bags: a dataset version exports the same bytes however the catalog changed since (its
rows read at the version's snapshot), and a bag imports whole into each backend, every
kind of model included."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetry import Catalog, DatasetSpec
from tests.bags.test_roundtrip import EVERY_KIND, build, check_round_trip
from tests.conformance.backend import Build
from tests.conftest import clone_sqlite
from tests.helpers import dataset_study, tree


class AbstractBagTests:
    @pytest.fixture
    def study(self, built: Build) -> tuple[Catalog, str, dict[str, str]]:
        cat, (ds, rids) = built(dataset_study)
        return cat, ds, rids

    def test_a_version_exports_byte_identically_after_changes(
        self, study: tuple[Catalog, str, dict[str, str]], tmp_path: Path
    ) -> None:
        cat, ds, r = study
        first = cat.export_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "a")
        zip_first = cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), tmp_path / "za", archive="zip")
        cat.update("Subject", [{"RID": r["s1"], "Name": "renamed"}])
        cat.update("Image", [{"RID": r["img0"], "Width": 1}])
        cat.add_term("Species", "Rattus")
        cat.update("Species", [{"RID": cat.lookup_term("Species", "mouse").rid,
                                "Description": "changed"}])  # fmt: skip
        cat.delete_dataset_members(ds, [r["img1"]])
        second = cat.export_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "b")
        zip_second = cat.export_dataset_bag(
            DatasetSpec(ds, "0.2.0"), tmp_path / "zb", archive="zip"
        )
        assert tree(first) == tree(second)
        assert zip_first.read_bytes() == zip_second.read_bytes()
        latest = cat.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "c")
        assert b"renamed" in (latest / "data" / "Subject.csv").read_bytes()

    def test_every_kind_of_model_round_trips(
        self, catalog: Catalog, sqlite_template: Path, tmp_path: Path
    ) -> None:
        source = clone_sqlite(sqlite_template, tmp_path / "source")
        ds = build(source, EVERY_KIND)
        check_round_trip(source, catalog, ds, tmp_path / "bag")
        assert {"T2", "V1", "T0_T1"} <= set(catalog.list_tables())
        source.close()
