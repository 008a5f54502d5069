"""fsck: missing, corrupt and unreferenced objects; repair keeps what history needs."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from assetry import Catalog, ExecutionConfiguration


def ingest(cat: Catalog, tmp_path: Path, name: str, data: bytes) -> dict:
    path = tmp_path / name
    path.write_bytes(data)
    [asset] = cat.upload_assets("Image", [path])
    return asset


def test_clean_catalog_is_ok(sqlite_catalog: Catalog, tmp_path: Path) -> None:
    cat = sqlite_catalog
    cat.create_asset("Image")
    ingest(cat, tmp_path, "a.png", b"a")
    report = cat.fsck()
    assert report.ok and report.unreferenced == [] and report.removed == []
    assert report.assets == 2  # a.png and the environment document
    assert report.to_dict()["ok"] is True


def test_missing_corrupt_and_unreferenced(sqlite_catalog: Catalog, tmp_path: Path) -> None:
    cat = sqlite_catalog
    cat.create_asset("Image")
    gone = ingest(cat, tmp_path, "gone.png", b"gone")
    bad = ingest(cat, tmp_path, "bad.png", b"bad")
    store = cat._context.store()
    store.delete(gone["SHA256"])
    path = store.local_path(bad["SHA256"])
    path.chmod(0o644)
    path.write_bytes(b"BAD")
    stray = store.put_stream(io.BytesIO(b"nobody refers to me"))
    report = cat.fsck()
    assert not report.ok
    assert [m["rid"] for m in report.missing] == [gone["RID"]]
    assert [c["rid"] for c in report.corrupt] == [bad["RID"]]
    assert report.unreferenced == [stray.sha256]
    assert cat.fsck(verify=False).corrupt == []


def test_repair_removes_only_old_unreferenced_objects(
    sqlite_catalog: Catalog, tmp_path: Path
) -> None:
    cat = sqlite_catalog
    cat.create_asset("Image")
    deleted = ingest(cat, tmp_path, "deleted.png", b"deleted but in history")
    exe = cat.list_asset_executions(deleted["RID"])[0]["RID"]
    links = [
        r["RID"]
        for r in cat.get_table_as_dict("Image_Execution", filters={"Image": deleted["RID"]})
    ]
    types = [
        r["RID"]
        for r in cat.get_table_as_dict("Image_Asset_Type", filters={"Image": deleted["RID"]})
    ]
    cat.delete("Image_Execution", links)
    cat.delete("Image_Asset_Type", types)
    cat.delete("Image", [deleted["RID"]])
    assert exe
    store = cat._context.store()
    old = store.put_stream(io.BytesIO(b"old stray"))
    new = store.put_stream(io.BytesIO(b"new stray"))
    long_ago = time.time() - 7200
    os.utime(store.local_path(old.sha256), (long_ago, long_ago))

    dry = cat.fsck()
    assert dry.removed == [] and store.exists(old.sha256)
    report = cat.fsck(repair=True)
    assert report.removed == [old.sha256]
    assert not store.exists(old.sha256)
    assert store.exists(new.sha256)  # within the grace period
    assert store.exists(deleted["SHA256"])  # still referenced by history


def test_objects_of_an_interrupted_upload_are_kept(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    cat.create_asset("Image")
    wf = cat.create_workflow("w", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    staged = exe.asset_file_path("Image", "a.png")
    staged.write_bytes(b"moved before the crash")
    from assetry.store.hashing import hash_file

    digests = hash_file(staged)
    exe._work.record_stored("Image/a.png", digests)
    cat._context.store().adopt(staged, digests)
    store = cat._context.store()
    long_ago = time.time() - 7200
    os.utime(store.local_path(digests.sha256), (long_ago, long_ago))
    report = cat.fsck(repair=True)
    assert report.removed == []
    assert store.exists(digests.sha256)
    out = exe.upload_execution_outputs()
    assert out["Image"][0]["SHA256"] == digests.sha256
