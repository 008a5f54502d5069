"""Store faults: the S3 endpoint goes away in the middle of an upload (a pausable TCP
proxy in front of moto) and comes back; a full disk under the local store and under the
database. Each gives a clear error, leaves the catalog consistent, and the upload
completes when run again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from assetry import Catalog, ColumnDef, ExecutionConfiguration, StoreError
from tests.store.proxy import PausableProxy

FILES = 12
SIZE = 256 * 1024


@pytest.fixture
def proxied_catalog(
    s3_url: str, tmp_path: Path, moto_endpoint: str
) -> Iterator[tuple[Catalog, PausableProxy]]:
    endpoint = urlparse(moto_endpoint)
    assert endpoint.hostname and endpoint.port
    proxy = PausableProxy(endpoint.hostname, endpoint.port)
    store = s3_url.replace(moto_endpoint, proxy.url)
    cat = Catalog.create(tmp_path / "catalog", store=store)
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    yield cat, proxy
    cat.close()
    proxy.close()


def stage(cat: Catalog, files: int = FILES) -> str:
    wf = cat.create_workflow("outage", "Training", url="https://x/y.py", checksum="sha256:1")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    for i in range(files):
        exe.asset_file_path("Image", f"img{i:02d}.bin", Width=i).write_bytes(os.urandom(SIZE))
    return exe.rid


def assert_consistent_and_complete(cat: Catalog, files: int = FILES) -> None:
    report = cat.fsck()
    assert report.ok, report.to_dict()
    assets = cat.list_assets("Image")
    assert sorted(a["Filename"] for a in assets) == [f"img{i:02d}.bin" for i in range(files)]


def outage_after(proxy: PausableProxy, files: int, seconds: float | None) -> threading.Thread:
    """Pause the proxy once ``files`` files' worth of bytes went through it; resume it
    ``seconds`` later (never, with None)."""
    start = proxy.bytes_forwarded

    def outage() -> None:
        while proxy.bytes_forwarded - start < files * SIZE:
            time.sleep(0.005)
        proxy.pause()
        if seconds is not None:
            time.sleep(seconds)
            proxy.resume()

    thread = threading.Thread(target=outage, daemon=True)
    thread.start()
    return thread


def test_a_short_outage_mid_upload_is_ridden_out(
    proxied_catalog: tuple[Catalog, PausableProxy],
) -> None:
    cat, proxy = proxied_catalog
    rid = stage(cat)
    start = proxy.bytes_forwarded
    thread = outage_after(proxy, 3, 0.8)
    exe = cat.restore_execution(rid)
    try:
        exe.upload_execution_outputs()
    except StoreError:
        # The retries ran out before the endpoint came back: nothing half-recorded,
        # and running the upload again finishes it.
        thread.join()
        assert cat.fsck().ok
        cat.restore_execution(rid).upload_execution_outputs()
    thread.join()
    assert proxy.refused > 0 or proxy.bytes_forwarded > start  # the outage happened
    assert_consistent_and_complete(cat)


def test_a_long_outage_is_a_store_error_and_the_upload_resumes(
    proxied_catalog: tuple[Catalog, PausableProxy],
) -> None:
    cat, proxy = proxied_catalog
    rid = stage(cat)
    outage_after(proxy, 3, None)
    with pytest.raises(StoreError):
        cat.restore_execution(rid).upload_execution_outputs()
    recorded = cat.list_assets("Image")
    assert len(recorded) < FILES
    proxy.resume()
    assert cat.fsck().ok  # every recorded asset's object is there
    exe = cat.restore_execution(rid)
    exe.upload_execution_outputs()
    assert exe.upload_status == "Uploaded"
    assert_consistent_and_complete(cat)


FULL_DISK_CHILD = textwrap.dedent(
    """
    import resource, signal, sys
    from assetry import Catalog, AssetryError

    # Writes past the limit fail with EFBIG instead of killing the process, as a full
    # disk fails them with ENOSPC.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    cat = Catalog(sys.argv[1])
    exe = cat.restore_execution(sys.argv[2])
    try:
        exe.upload_execution_outputs()
    except AssetryError as err:
        print(type(err).__name__, err)
        sys.exit(3)
    print("uploaded")
    """
)


@pytest.mark.parametrize("where", ["store", "database"])
def test_a_full_disk_is_a_clear_error_and_leaves_the_catalog_consistent(
    sqlite_catalog: Catalog, where: str, tmp_path: Path
) -> None:
    cat = sqlite_catalog
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    big = 4 * 1024 * 1024
    if where == "store":
        files, size, limit = 3, big, big // 2  # the first object is too big to store
    else:
        files, size, limit = 200, 1024, 0  # objects fit; the database cannot grow
    wf = cat.create_workflow("full", "Training", url="https://x/y.py", checksum="sha256:1")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    for i in range(files):
        path = exe.asset_file_path("Image", f"img{i:03d}.bin", Width=i)
        path.write_bytes(os.urandom(size))
        if where == "store":  # a second link: the file must be copied, not moved
            os.link(path, tmp_path / f"keep{i}")
    if where == "database":
        import sqlalchemy as sa

        cat._backend.engine.dispose()  # type: ignore[attr-defined]
        engine = sa.create_engine(f"sqlite:///{Path(cat.location) / 'catalog.db'}")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        wal = Path(cat.location) / "catalog.db-wal"
        assert not wal.exists() or wal.stat().st_size == 0
        # The limit is per file: the write-ahead log may grow to 64 KiB and the database
        # file (bigger already) not at all, so recording 200 assets runs out of room.
        limit = 64 * 1024
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, cat.location, exe.rid, str(limit)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == 3, (child.stdout, child.stderr[-2000:])
    assert "Error" in child.stdout and ("File too large" in child.stdout or "full" in child.stdout
                                        or "disk" in child.stdout), child.stdout  # fmt: skip
    report = cat.fsck()
    assert report.ok, report.to_dict()
    done = cat.restore_execution(exe.rid)
    done.upload_execution_outputs()
    assert len(cat.list_assets("Image")) == files
    assert cat.fsck().ok
