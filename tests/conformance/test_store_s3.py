"""The object store conformance suite on S3 (moto's server on 127.0.0.1), and what only
an S3 store does (its URLs, an endpoint that is down)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assetry import ConfigError, StoreError
from assetry.store.base import ObjectStore
from assetry.store.registry import open_store
from tests.conformance.store import Corrupt, StoreFixtures
from tests.conformance.store.basic import AbstractStoreTests, write


class S3Fixtures(StoreFixtures):
    @pytest.fixture
    def store(self, s3_url: str) -> ObjectStore:
        from assetry.store.s3 import S3Store

        return S3Store.from_url(s3_url, part_size=5 << 20)

    @pytest.fixture
    def corrupt(self, store: ObjectStore) -> Corrupt:
        from assetry.store.s3 import S3Store

        assert isinstance(store, S3Store)

        def overwrite(sha256: str, data: bytes) -> None:
            store.client.put_object(Bucket=store.bucket, Key=store.key_of(sha256), Body=data)

        return overwrite


class TestS3Store(AbstractStoreTests, S3Fixtures):
    pass


# --- S3 specifics -------------------------------------------------------------------


def test_s3_endpoint_down_is_a_store_error(tmp_path: Path) -> None:
    from assetry.store.s3 import S3Store

    # Nothing listens on port 9: one attempt, a short timeout (no real back-off to wait).
    store = S3Store.from_url(
        "s3://bucket/x?endpoint_url=http://127.0.0.1:9&region=us-east-1",
        connect_timeout=1,
        read_timeout=1,
        attempts=1,
    )
    with pytest.raises(StoreError):
        store.put_file(write(tmp_path / "f", b"data"))
    with pytest.raises(StoreError):
        store.stat(hashlib.sha256(b"x").hexdigest())


def test_s3_bad_urls() -> None:
    with pytest.raises(ConfigError, match="bucket"):
        open_store("s3:///nobucket")
    with pytest.raises(ConfigError, match="unknown S3 store options"):
        open_store("s3://b/p?colour=blue")
