"""A catalog whose objects live in S3 (moto): executions, downloads, an endpoint outage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, ExecutionConfiguration, StoreError
from assetry.store import s3
from tests.conftest import PgDatabases, fresh_prefix


@pytest.fixture(params=["sqlite", "postgres"])
def s3_catalog(
    request: pytest.FixtureRequest, s3_url: str, sqlite_template: Path, tmp_path: Path
) -> Catalog:
    if request.param == "sqlite":
        from tests.conftest import clone_sqlite

        cat = clone_sqlite(sqlite_template, tmp_path / "catalog")
    else:
        pg: PgDatabases = request.getfixturevalue("pg_databases")
        cat = fresh_prefix(Catalog(pg.clone()))
    cat._backend.set_setting("store", s3_url)
    cat.create_asset("Image")
    return cat


def run_once(cat: Catalog, name: str, data: bytes) -> dict:
    wf = cat.create_workflow("s3", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    exe.asset_file_path("Image", name).write_bytes(data)
    return exe.upload_execution_outputs()["Image"][0]


def test_execution_outputs_go_to_s3(s3_catalog: Catalog, tmp_path: Path) -> None:
    asset = run_once(s3_catalog, "a.bin", b"bytes in a bucket")
    store = s3_catalog._context.store()
    assert store.route("Image", None).scheme == "s3"
    assert store.exists(asset["SHA256"])
    got = s3_catalog.download_asset(asset["RID"], tmp_path / "down")
    assert got.read_bytes() == b"bytes in a bucket"
    cfg = ExecutionConfiguration(assets=[asset["RID"]])
    exe = s3_catalog.create_execution(cfg)
    assert exe.asset_paths["Image"][0].read_bytes() == b"bytes in a bucket"
    assert s3_catalog.fsck().ok


def test_an_s3_outage_records_no_row_without_its_object(
    s3_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = s3_catalog
    # Nothing listens on port 9: one attempt, a short timeout (no real back-off to wait).
    real = s3.S3Store.from_url

    def quick(url: str, *args: Any, **kwargs: Any) -> s3.S3Store:
        return real(url, *args, **{**kwargs, "attempts": 1, "connect_timeout": 1})

    monkeypatch.setattr(s3.S3Store, "from_url", staticmethod(quick))
    wf = cat.create_workflow("s3", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    exe.asset_file_path("Image", "a.bin").write_bytes(b"during the outage")
    good = cat._backend.settings["store"]
    cat._backend.set_setting(
        "store", "s3://bucket/x?endpoint_url=http://127.0.0.1:9&region=us-east-1"
    )
    cat._store_cache = None
    with pytest.raises(StoreError):
        exe.upload_execution_outputs()
    assert cat.list_assets("Image") == []
    assert exe.upload_status == "Failed"
    cat._backend.set_setting("store", good)
    cat._store_cache = None
    out = exe.upload_execution_outputs()
    assert [a["Filename"] for a in out["Image"]] == ["a.bin"]
    assert cat.fsck().ok
