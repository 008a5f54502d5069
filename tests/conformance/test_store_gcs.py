"""The object store conformance suite on Google Cloud Storage (gcp-storage-emulator on
127.0.0.1), and what only a GCS store does (its URLs, an endpoint that is down)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assetry import ConfigError, StoreError
from assetry.store.base import ObjectStore
from assetry.store.registry import open_store
from tests.conformance.store import Corrupt, StoreFixtures
from tests.conformance.store.basic import AbstractStoreTests, write


class GcsFixtures(StoreFixtures):
    @pytest.fixture
    def store(self, gcs_url: str) -> ObjectStore:
        from assetry.store.gcs import GcsStore

        return GcsStore.from_url(gcs_url, part_size=5 << 20)

    @pytest.fixture
    def corrupt(self, store: ObjectStore) -> Corrupt:
        from assetry.store.gcs import GcsStore

        assert isinstance(store, GcsStore)
        return lambda sha256, data: store.fs.pipe_file(store.key_of(sha256), data)


class TestGcsStore(AbstractStoreTests, GcsFixtures):
    pass


# --- GCS specifics ------------------------------------------------------------------


def test_gcs_registry_and_fetch_url(gcs_url: str) -> None:
    from assetry.store.gcs import GcsStore

    store = open_store(gcs_url)
    assert isinstance(store, GcsStore)
    key = hashlib.sha256(b"x").hexdigest()
    bucket = gcs_url.split("/")[2]
    assert store.fetch_url(key) == f"gs://{bucket}/objects/{key[:2]}/{key[2:]}"


def test_gcs_damage_in_transit_is_refused(gcs_url: str, tmp_path: Path) -> None:
    """The MD5 GCS computed of what arrived must be the MD5 of what was sent."""
    from assetry.store.gcs import GcsStore

    store = GcsStore.from_url(gcs_url)
    real_pipe = store.fs.pipe_file

    def damaging(path: str, data: bytes, **kwargs: object) -> None:
        real_pipe(path, data[:-1] + b"?", **kwargs)

    store.fs.pipe_file = damaging
    with pytest.raises(StoreError, match="arrived damaged"):
        store.put_file(write(tmp_path / "f", b"some bytes"))
    assert list(store.iter_objects()) == []


def test_gcs_endpoint_down_is_a_store_error(tmp_path: Path) -> None:
    from assetry.store.gcs import GcsStore

    # Nothing listens on port 9: one attempt (no real back-off to wait).
    store = GcsStore.from_url(
        "gs://bucket/x?endpoint_url=http://127.0.0.1:9&token=anon", attempts=1, timeout=2
    )
    with pytest.raises(StoreError):
        store.put_file(write(tmp_path / "f", b"data"))
    with pytest.raises(StoreError):
        store.stat(hashlib.sha256(b"x").hexdigest())


def test_gcs_bad_urls() -> None:
    with pytest.raises(ConfigError, match="bucket"):
        open_store("gs:///nobucket")
    with pytest.raises(ConfigError, match="unknown GCS store options"):
        open_store("gs://b/p?colour=blue")
