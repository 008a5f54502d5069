"""The object store conformance suite on a local folder, and what only a local store does
(moving a staged file in, the registry of store URLs)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assetry import ConfigError
from assetry.store.base import ObjectStore
from assetry.store.local import LocalStore
from assetry.store.registry import open_store
from tests.conformance.store import Corrupt, StoreFixtures
from tests.conformance.store.basic import AbstractStoreTests, write


def overwrite(store: LocalStore, sha256: str, data: bytes) -> None:
    path = store.path_of(sha256)
    path.chmod(0o644)
    path.write_bytes(data)


class LocalFixtures(StoreFixtures):
    @pytest.fixture
    def store(self, tmp_path: Path) -> ObjectStore:
        return LocalStore(tmp_path / "objects")

    @pytest.fixture
    def corrupt(self, store: ObjectStore) -> Corrupt:
        assert isinstance(store, LocalStore)
        return lambda sha256, data: overwrite(store, sha256, data)


class TestLocalStore(AbstractStoreTests, LocalFixtures):
    pass


# --- local specifics ----------------------------------------------------------------


def test_local_move_adopts_a_single_link_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    staged = write(tmp_path / "work" / "out.bin", b"made by an execution")
    digests = store.put_file(staged, move=True)
    assert not staged.exists()
    stored = store.path_of(digests.sha256)
    assert stored.read_bytes() == b"made by an execution"
    assert stored.stat().st_mode & 0o222 == 0  # read-only


def test_local_move_copies_a_file_with_other_links(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    staged = write(tmp_path / "work" / "out.bin", b"linked")
    os.link(staged, tmp_path / "user-copy.bin")
    digests = store.put_file(staged, move=True)
    assert staged.exists()
    assert store.path_of(digests.sha256).stat().st_ino != staged.stat().st_ino


def test_registry(tmp_path: Path) -> None:
    assert isinstance(open_store("objects", base=tmp_path), LocalStore)
    local = open_store((tmp_path / "o").as_uri())
    assert isinstance(local, LocalStore) and local.root == (tmp_path / "o").resolve()
    with pytest.raises(ConfigError, match="known: a path, file://, s3://, gs://, az://"):
        open_store("ftp://bucket/x")
    with pytest.raises(ConfigError, match="relative"):
        open_store("objects")
