"""fsck --repair keeps every object that any current or historical row references: a
frozen dataset version still exports byte-identically after its asset rows are deleted
and the store is repaired; only truly unreferenced objects past the grace period go."""

from __future__ import annotations

import io
from pathlib import Path

from assetry import Catalog, DatasetSpec
from tests.api.test_bags import study
from tests.helpers import tree

__all__ = ["study"]  # the fixture, shared with the bag tests


def test_a_frozen_version_survives_deleted_rows_and_repair(study, tmp_path: Path) -> None:
    cat: Catalog
    cat, ds, r = study
    before = cat.export_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "a")
    images = [row["RID"] for row in cat.get_table_as_dict("Image")]
    cat.delete_dataset_members(ds, images)
    for link in ("Image_Asset_Type", "Image_Execution"):
        rows = [row["RID"] for row in cat.get_table_as_dict(link) if row["Image"] in images]
        cat.delete(link, rows)
    cat.delete("Image", images)
    assert list(cat.get_table_as_dict("Image")) == []

    orphan = cat._context.store().put_stream(io.BytesIO(b"nobody refers to me")).sha256
    dry = cat.fsck(grace_seconds=0)
    assert dry.ok and dry.unreferenced == [orphan] and dry.removed == []
    report = cat.fsck(repair=True, grace_seconds=0)
    assert report.ok and report.removed == [orphan]
    assert not cat._context.store().exists(orphan)

    after = cat.export_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "b")
    assert tree(before) == tree(after)


def test_repair_keeps_young_unreferenced_objects(sqlite_catalog: Catalog) -> None:
    young = sqlite_catalog._context.store().put_stream(io.BytesIO(b"an upload in flight")).sha256
    report = sqlite_catalog.fsck(repair=True, grace_seconds=3600)
    assert report.unreferenced == [young] and report.removed == []
    assert sqlite_catalog._context.store().exists(young)


def test_repair_collects_what_killed_uploads_left(sqlite_catalog, tmp_path: Path) -> None:
    import os
    import time

    cat = sqlite_catalog
    uploads = cat._context.local_root() / "server-uploads"
    uploads.mkdir()
    old_put = uploads / "put-abc.part"
    old_session = [uploads / f"{'a' * 32}.{ext}" for ext in ("json", "part")]
    fresh = uploads / "put-new.part"
    for path in (old_put, *old_session, fresh):
        path.write_bytes(b"partial")
    hour_ago = time.time() - 7200
    for path in (old_put, *old_session):
        os.utime(path, (hour_ago, hour_ago))
    assert cat.fsck().leftovers_removed == []  # a dry run removes nothing
    assert old_put.exists()
    report = cat.fsck(repair=True)
    assert sorted(report.leftovers_removed) == sorted(str(p) for p in (old_put, *old_session))
    assert fresh.exists() and not old_put.exists()
