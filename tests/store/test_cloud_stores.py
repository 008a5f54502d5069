"""Catalogs whose objects live in Google Cloud Storage and Azure Blob Storage (local
emulators): uploads, downloads, routing and moving between clouds, and an emulator that
goes away in the middle of an upload (a pausable TCP proxy in front of it): a clear
``StoreError``, no row without its object, and the upload completes when run again."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from assetry import Catalog, ColumnDef, ConfigError, StoreError
from assetry.store import azure, gcs
from assetry.store.storeset import StoreSet
from tests.conftest import NewCatalog
from tests.store.proxy import PausableProxy
from tests.store.test_outage import FILES, assert_consistent_and_complete, outage_after, stage
from tests.store.test_stores import upload

CLOUDS = ["gcs", "azure"]


def endpoint_of(url: str) -> str:
    return parse_qs(urlparse(url).query)["endpoint_url"][0]


@pytest.fixture
def quick_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cloud stores opened from URLs try each request once, with a short timeout: no
    real back-off to wait out when the endpoint is down."""
    for cls in (gcs.GcsStore, azure.AzureStore):
        real = cls.from_url

        def quick(url: str, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            return _real(url, *args, **{**kwargs, "attempts": 1, "timeout": 5})

        monkeypatch.setattr(cls, "from_url", staticmethod(quick))


@pytest.mark.parametrize("cloud", CLOUDS)
def test_a_catalog_created_on_a_cloud_store(
    cloud: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue(f"{cloud}_url")
    with Catalog.create(tmp_path / "catalog", store=url) as cat:
        assert cat.list_stores()[0].url == url
        cat.create_asset("Image")
        assets = upload(cat, "Image", {"a.png": b"in the cloud", "big.bin": os.urandom(9 << 20)})
        for asset in assets.values():
            got = cat.download_asset(asset["RID"], tmp_path / "down" / asset["Filename"])
            assert got.stat().st_size == asset["Length"]
        assert cat.fsck().ok
    # A bucket that does not exist: nothing of the catalog is made.
    scheme, rest = url.split("://", 1)
    missing = f"{scheme}://no-such-bucket-{os.getpid()}/{rest.split('/', 1)[1]}"
    with pytest.raises(ConfigError, match="no-such-bucket.* does not exist"):
        Catalog.create(tmp_path / "never", store=missing)
    assert not (tmp_path / "never").exists()


def test_objects_routed_to_and_moved_between_clouds(
    gcs_url: str, azure_url: str, new_catalog: NewCatalog, tmp_path: Path
) -> None:
    cat = new_catalog(tmp_path / "catalog")
    cat.create_asset("Image")
    cat.add_store("gcs", gcs_url)
    cat.add_store("azure", azure_url)
    cat.set_store_rule(store="gcs", size_over="1MB")
    cat.set_store_rule(table="Image", store="azure")  # tried after the size rule
    big, small = os.urandom(2 << 20), b"small"
    assets = upload(cat, "Image", {"big.bin": big, "small.png": small})
    stores = cat._context.store()
    assert isinstance(stores, StoreSet)
    assert stores.member("gcs").exists(assets["big.bin"]["SHA256"])
    assert stores.member("azure").exists(assets["small.png"]["SHA256"])
    assert not stores.member("default").exists(assets["small.png"]["SHA256"])
    assert cat.fsck().ok

    counts = cat.stores.migrate_objects(to="azure", source="gcs")
    assert counts["moved"] == 1 and counts["bytes"] == len(big)
    assert not stores.member("gcs").exists(assets["big.bin"]["SHA256"])
    got = cat.download_asset(assets["big.bin"]["RID"], tmp_path / "big.bin")
    assert got.read_bytes() == big
    assert cat.fsck().ok


@pytest.fixture(params=CLOUDS)
def proxied_cloud_catalog(
    request: pytest.FixtureRequest,
    new_catalog: NewCatalog,
    tmp_path: Path,
    quick_stores: None,
) -> Iterator[tuple[Catalog, PausableProxy]]:
    """A catalog whose new objects go to a cloud store reached through a proxy."""
    url = request.getfixturevalue(f"{request.param}_url")
    endpoint = urlparse(endpoint_of(url))
    assert endpoint.hostname and endpoint.port
    proxy = PausableProxy(endpoint.hostname, endpoint.port)
    cat = new_catalog(tmp_path / "catalog")
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    cat.add_store(
        "cloud", url.replace(f"{endpoint.hostname}:{endpoint.port}", f"127.0.0.1:{proxy.port}")
    )
    cat.stores.set_default_store("cloud")
    yield cat, proxy
    proxy.close()


def test_a_cloud_outage_mid_upload_is_a_store_error_and_the_upload_resumes(
    proxied_cloud_catalog: tuple[Catalog, PausableProxy],
) -> None:
    cat, proxy = proxied_cloud_catalog
    rid = stage(cat)
    outage_after(proxy, 3, None)
    with pytest.raises(StoreError):
        cat.restore_execution(rid).upload_execution_outputs()
    assert len(cat.list_assets("Image")) < FILES
    proxy.resume()
    assert cat.fsck().ok  # every recorded asset's object is there
    exe = cat.restore_execution(rid)
    exe.upload_execution_outputs()
    assert exe.upload_status == "Uploaded"
    assert_consistent_and_complete(cat)
