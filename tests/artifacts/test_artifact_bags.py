"""Artifact versions as dataset members: the version's bag holds its files, objects,
tags, partitions, aliases and producer, and ``import_bag`` brings them back with their
version numbers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assetry import Catalog, ConflictError, DatasetSpec, Reference
from assetry.cli.main import main
from tests.conftest import clone_sqlite


def _dataset_of_artifacts(cat: Catalog, tmp_path: Path) -> tuple[str, str, str, str]:
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    raw = cat.artifacts.register("raw", "Dataset", data=[1, 2, 3], partitions={"region": "us"})
    model = cat.artifacts.register(
        "model", "Model", files={"w.bin": weights}, data={"a": 1}, parents=[raw],
        tags={"stage": "production"},
    )  # fmt: skip
    cat.artifacts.alias(model, "production")
    cat.add_dataset_element_type("Artifact_Version")
    ds = cat.create_dataset("Training", "models")
    version = cat.add_dataset_members(ds, [model.rid, raw.rid])
    assert version is not None
    return ds, version, model.rid, raw.rid


def test_a_bag_of_artifact_versions_round_trips(
    sqlite_catalog: Catalog, sqlite_template: Path, tmp_path: Path
) -> None:
    ds, version, model_rid, raw_rid = _dataset_of_artifacts(sqlite_catalog, tmp_path)
    bag = sqlite_catalog.download_dataset_bag(DatasetSpec(ds, version))
    tables = {p.stem for p in (bag.path / "data").rglob("*.csv")}
    assert {
        "Artifact", "Artifact_Version", "Artifact_Tag", "Artifact_Alias", "Artifact_Partition",
        "Artifact_File", "Artifact_Version_File", "Artifact_Version_Execution", "Execution",
    } <= tables  # fmt: skip
    other = clone_sqlite(sqlite_template, tmp_path / "other")
    added = other.import_bag(bag)
    assert added["Artifact_Version"] == 2
    model = other.artifacts.get("model", "production")
    assert (model.rid, model.version, model.tags) == (model_rid, 1, {"stage": "production"})
    assert sorted(f["Path"] for f in model.files) == ["objects/data.json", "w.bin"]
    assert other.artifacts.load(model) == {"a": 1}
    other.artifacts.download(model, tmp_path / "dl")
    assert (tmp_path / "dl" / "w.bin").read_bytes() == b"weights"
    assert other.artifacts.query("raw", region="us").rid == raw_rid  # type: ignore[union-attr]
    assert [p.rid for p in other.artifacts.parents(model)] == [raw_rid]  # type: ignore[union-attr]
    assert other.artifacts.register("model", data={"a": 2}).version == 2  # numbering goes on
    assert other.import_bag(bag)["Artifact_Version"] == 0  # again: nothing new


def test_a_name_taken_by_another_artifact_is_a_conflict(
    sqlite_catalog: Catalog, sqlite_template: Path, tmp_path: Path
) -> None:
    ds, version, _, _ = _dataset_of_artifacts(sqlite_catalog, tmp_path)
    bag = sqlite_catalog.download_dataset_bag(DatasetSpec(ds, version))
    other = clone_sqlite(sqlite_template, tmp_path / "other")
    mine = other.artifacts.register("model", "Model", data={"mine": True})
    with pytest.raises(ConflictError, match="artifact 'model' of the bag"):
        other.import_bag(bag)
    assert [v.rid for v in other.artifacts.list(name="model")] == [mine.rid]
    assert other.artifacts.list(name="raw") == []


def test_references_go_in_fetch_txt_or_references_csv_and_are_never_copied(
    sqlite_catalog: Catalog, sqlite_template: Path, tmp_path: Path
) -> None:
    cat = sqlite_catalog
    local = tmp_path / "table.parquet"
    local.write_bytes(b"remote bytes")
    known = Reference(
        local.as_uri(),
        size_bytes=12,
        md5=hashlib.md5(b"remote bytes").hexdigest(),
        sha256=hashlib.sha256(b"remote bytes").hexdigest(),
    )
    unknown = Reference("s3://no-such-bucket/big.tar.gz", size_bytes=5_000_000_000)
    v = cat.artifacts.register("refs", "Dataset", references=[known, unknown])
    cat.add_dataset_element_type("Artifact_Version")
    ds = cat.create_dataset("Training", "with references")
    version = cat.add_dataset_members(ds, [v.rid])
    assert version is not None
    bag = cat.download_dataset_bag(DatasetSpec(ds, version))

    fetched = f"data/references/{v.rid}/0/table.parquet"
    assert (bag.path / "fetch.txt").read_text() == f"{local.as_uri()} 12 {fetched}\n"
    assert fetched in (bag.path / "manifest-sha256.txt").read_text()
    assert not (bag.path / fetched).exists()  # nothing copied
    listed = (bag.path / "data" / "references.csv").read_text().splitlines()
    assert listed[0] == "Artifact_Version,Index,URI,Size_Bytes,MD5,SHA256,Description"
    assert listed[1] == f"{v.rid},1,s3://no-such-bucket/big.tar.gz,5000000000,,,"
    assert "references" not in bag.list_tables()
    assert [r["URI"] for r in bag.list_references()] == [known.uri, unknown.uri]
    assert bag.is_complete and bag.validate().pending == [fetched]

    # Importing neither fetches nor needs the referenced bytes.
    other = clone_sqlite(sqlite_template, tmp_path / "other")
    local.unlink()
    assert other.import_bag(bag)["Artifact_Version"] == 1
    assert other.artifacts.get("refs").references == [known, unknown]

    # Fetched on request, verified against the manifests.
    local.write_bytes(b"remote bytes")
    assert main(["bag", "materialize", str(bag.path), "--references"]) == 0
    assert (bag.path / fetched).read_bytes() == b"remote bytes"
    assert bag.validate().pending == []
