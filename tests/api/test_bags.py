"""Bags of dataset versions end to end: export, reproducibility, download, validation with
the standard tools, import into another catalog, and datasets as execution inputs."""

from __future__ import annotations

from pathlib import Path

import bagit
import pytest

from assetry import (
    Catalog,
    ColumnDef,
    ConflictError,
    DatasetSpec,
    ExecutionConfiguration,
    TableDef,
    ValidationError,
)
from assetry.bags.reader import DatasetBag
from tests.conftest import BuildCatalog, NewCatalog
from tests.helpers import dataset_study, tree

Study = tuple[Catalog, str, dict[str, str]]


@pytest.fixture
def study(built_catalog: BuildCatalog) -> tuple[Catalog, str, dict[str, str]]:
    """A dataset of subjects and images, with one version minted."""
    cat, (ds, rids) = built_catalog(dataset_study)
    return cat, ds, rids


def test_export_layout_and_standard_validation(study, tmp_path: Path) -> None:
    cat, ds, r = study
    bag_dir = cat.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "out")
    files = tree(bag_dir)
    for name in ("bagit.txt", "bag-info.txt", "manifest-md5.txt", "manifest-sha256.txt",
                 "data/schema.json", "data/Subject.csv", "data/Image.csv",
                 "data/Dataset_Image.csv", "data/Execution.csv", "data/Workflow.csv"):  # fmt: skip
        assert name in files, name
    assert f"data/assets/Image/{r['img0']}/img0.png" in files
    info = files["bag-info.txt"].decode()
    assert ds in info and "0.2.0" in info
    subject_csv = files["data/Subject.csv"].decode()
    assert 'S1,""' in subject_csv or ',"",' in subject_csv  # "" stays distinct from NULL
    assert r["s2"] not in subject_csv  # not a member and not referenced
    bagit.Bag(str(bag_dir)).validate()
    from bdbag import bdbag_api

    bdbag_api.validate_bag(str(bag_dir), fast=False)
    bag = DatasetBag(bag_dir)
    bag.validate()
    members = bag.list_dataset_members()
    assert len(members["Image"]) == 3
    assert {r["img0"], r["img1"]} <= {m["RID"] for m in members["Image"]}
    assert [m["RID"] for m in members["Subject"]] == [r["s1"]]
    frame = bag.get_table_as_dataframe("Subject")
    assert list(frame["Note"]) == [""]
    assert bag.asset_path(r["img0"]).read_bytes() == b"pixels 0" * 100


def test_editing_an_exported_bag_never_changes_the_store(study, tmp_path: Path) -> None:
    cat, ds, r = study
    bag_dir = cat.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "out")
    payload = bag_dir / "data" / "assets" / "Image" / r["img0"] / "img0.png"
    payload.chmod(0o644)
    payload.write_bytes(b"edited")
    assert cat.fsck().ok
    assert cat.download_asset(r["img0"], tmp_path / "d").read_bytes() == b"pixels 0" * 100


def test_unmaterialized_bag_fetches_and_verifies(study, tmp_path: Path) -> None:
    cat, ds, r = study
    bag_dir = cat.export_dataset_bag(DatasetSpec(ds, materialize=False), dest=tmp_path / "o")
    assert (bag_dir / "fetch.txt").is_file()
    bag = DatasetBag(bag_dir)
    assert not bag.is_complete
    bag.materialize()
    assert bag.is_complete
    bag.validate()
    assert bag.asset_path(r["img1"]).read_bytes() == b"pixels 1" * 100


def test_download_import_and_import_again(
    study: Study, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    cat, ds, r = study
    bag = cat.download_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "bags")
    other = new_catalog(tmp_path / "other")
    added = other.import_bag(bag)
    assert added["Image"] == 3 and added["Subject"] == 1
    assert other.resolve_rid(r["img0"]).row["Width"] == 64
    assert other.download_asset(r["img0"], tmp_path / "x").read_bytes() == b"pixels 0" * 100
    # The bag holds the dataset as of 0.2.0 only: 0.1.0 (empty) is not in it.
    assert [v.version for v in other.dataset_history(ds)] == ["0.2.0"]
    members = other.list_dataset_members(ds)
    assert len(members["Image"]) == 3
    up = other.lineage(r["img0"])
    assert any(e[2] == "generated" for e in up.edges)
    snapshot = other.snapshot()
    assert sum(other.import_bag(bag).values()) == 0
    assert other.snapshot() == snapshot or other.snapshot() == snapshot + 1
    assert other.fsck().ok
    other.close()


def test_import_never_reads_an_older_version_as_newer_content(
    study: Study, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    cat, ds, r = study
    v1 = cat.download_dataset_bag(DatasetSpec(ds, version="0.1.0"), dest=tmp_path / "b1")
    v2 = cat.download_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "b2")

    # Older first, then newer: each version reads as its own bag.
    forward = new_catalog(tmp_path / "forward")
    forward.import_bag(v1)
    forward.import_bag(v2)
    assert [v.version for v in forward.dataset_history(ds)] == ["0.1.0", "0.2.0"]
    assert forward.list_dataset_members(ds, version="0.1.0") == {}
    assert len(forward.list_dataset_members(ds, version="0.2.0")["Image"]) == 3

    # Newer first: the older bag would read as the newer members, so it is refused
    # and nothing of it is imported.
    backward = new_catalog(tmp_path / "backward")
    backward.import_bag(v2)
    snapshot = backward.snapshot()
    with pytest.raises(ConflictError, match=r"holds version 0\.2\.0, newer than the bag's 0\.1\.0"):
        backward.import_bag(v1)
    assert backward.snapshot() == snapshot
    assert [v.version for v in backward.dataset_history(ds)] == ["0.2.0"]
    forward.close()
    backward.close()


def test_import_refuses_a_version_whose_members_differ_here(
    study: Study, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    cat, ds, r = study
    v2 = cat.download_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "b2")
    cat.delete_dataset_members(ds, [r["img1"]])  # 0.3.0
    v3 = cat.download_dataset_bag(DatasetSpec(ds, version="0.3.0"), dest=tmp_path / "b3")
    other = new_catalog(tmp_path / "other")
    other.import_bag(v2)
    # 0.3.0 dropped img1, which this catalog still holds as a member: importing 0.3.0
    # would read img1 as one of its members.
    with pytest.raises(
        ConflictError, match=r"members here differ from version 0\.3\.0.*" + r["img1"]
    ):
        other.import_bag(v3)
    assert [v.version for v in other.dataset_history(ds)] == ["0.2.0"]
    assert len(other.list_dataset_members(ds)["Image"]) == 3
    other.close()


def test_import_conflict_imports_nothing(
    study: Study, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    cat, ds, r = study
    bag = cat.download_dataset_bag(DatasetSpec(ds), dest=tmp_path / "bags")
    other = new_catalog(tmp_path / "other")
    other.import_bag(bag)
    other.update("Subject", [{"RID": r["s1"], "Name": "local edit"}])
    cat.update("Subject", [{"RID": r["s1"], "Name": "source edit"}])
    v = cat.increment_dataset_version(ds, "patch", "edited")
    newer = cat.download_dataset_bag(DatasetSpec(ds, version=v), dest=tmp_path / "bags2")
    before = other.snapshot()
    with pytest.raises(ConflictError, match=r["s1"]):
        other.import_bag(newer)
    assert other.snapshot() == before
    assert [x.version for x in other.dataset_history(ds)] == ["0.2.0"]
    other.close()


def test_datasets_as_execution_inputs(study) -> None:
    cat, ds, r = study
    wf = cat.create_workflow("train", "Training", url="u", checksum="c")
    cfg = ExecutionConfiguration(workflow=wf, datasets=[DatasetSpec(ds, version="0.2.0")])
    with cat.create_execution(cfg) as exe:
        [bag] = exe.datasets
        assert bag.version == "0.2.0"
        assert bag.asset_path(r["img0"]).is_file()
        exe.asset_file_path("Image", "model-output.png").write_bytes(b"prediction")
    [out] = exe.upload_execution_outputs()["Image"]
    up = cat.lineage(out["RID"])
    assert (exe.rid, ds, "used") in up.edges
    node = next(n for n in up.nodes if n["rid"] == ds)
    assert node["kind"] == "dataset" and node.get("version") == "0.2.0"
    assert r["img0"] in {n["rid"] for n in up.nodes}  # through the dataset to raw assets
    second = cat.create_execution(ExecutionConfiguration(workflow=wf))
    extra = second.download_dataset_bag(DatasetSpec(ds))
    assert extra.version == cat.dataset_history(ds)[-1].version
    assert ds in {n["rid"] for n in cat.lineage(second.rid).nodes}


def test_bag_bad_input(study, tmp_path: Path) -> None:
    cat, ds, r = study
    with pytest.raises(ValidationError, match="no version"):
        cat.export_dataset_bag(DatasetSpec(ds, version="9.9.9"), tmp_path)
    with pytest.raises(ValidationError, match="archive format"):
        cat.export_dataset_bag(DatasetSpec(ds), tmp_path, archive="rar")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("Dataset_")]
    bag_dir = cat.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "out")
    with pytest.raises((ValidationError, ConflictError)):
        cat.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "out")  # already there
    assert (bag_dir / "bagit.txt").is_file()


def test_a_dataset_without_assets_exports(catalog: Catalog, tmp_path: Path) -> None:
    catalog.create_table(TableDef("Item", [ColumnDef("N", "int4")]))
    catalog.add_dataset_element_type("Item")
    ds = catalog.create_dataset("Complete")
    catalog.add_dataset_members(ds, catalog.insert("Item", [{"N": 1}, {"N": 2}]))
    bag_dir = catalog.export_dataset_bag(DatasetSpec(ds), dest=tmp_path)
    bagit.Bag(str(bag_dir)).validate()
    assert len(DatasetBag(bag_dir).list_dataset_members()["Item"]) == 2
