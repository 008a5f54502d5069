"""The behaviour every object store shares (fsspec-style conformance suite)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from assetry import ChecksumMismatch, ConfigError, NotFoundError, StoreError, ValidationError
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests
from assetry.store.local import LocalStore
from assetry.store.registry import open_store


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def digests_of(data: bytes) -> Digests:
    return Digests(hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))


@pytest.mark.parametrize("size", [0, 1, 4096, (5 << 20) + 123])
def test_round_trip(store: ObjectStore, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    digests = store.put_file(write(tmp_path / "in.bin", data))
    assert digests == digests_of(data)
    assert store.stat(digests.sha256).length == size  # type: ignore[union-attr]
    out = store.get_file(digests.sha256, tmp_path / "out" / "copy.bin", expected=digests)
    assert out.read_bytes() == data
    assert store.verify(digests.sha256, digests) == digests


def test_identical_bytes_are_stored_once(store: ObjectStore, tmp_path: Path) -> None:
    a = store.put_file(write(tmp_path / "a", b"same bytes"))
    b = store.put_stream(io.BytesIO(b"same bytes"))
    c = store.put_stream(io.BytesIO(b"other bytes"))
    assert a == b != c
    assert sorted(o.sha256 for o in store.iter_objects()) == sorted({a.sha256, c.sha256})


def test_missing_objects(store: ObjectStore, tmp_path: Path) -> None:
    key = hashlib.sha256(b"never stored").hexdigest()
    assert store.stat(key) is None
    assert not store.exists(key)
    with pytest.raises(NotFoundError):
        store.get_file(key, tmp_path / "x")
    assert not (tmp_path / "x").exists()
    store.delete(key)  # deleting what is gone is fine


def test_delete(store: ObjectStore) -> None:
    digests = store.put_stream(io.BytesIO(b"to delete"))
    store.delete(digests.sha256)
    assert store.stat(digests.sha256) is None
    assert list(store.iter_objects()) == []


def test_bad_keys_are_refused(store: ObjectStore, tmp_path: Path) -> None:
    for key in ("../../etc/passwd", "ab", "A" * 64):
        with pytest.raises(ValidationError):
            store.get_file(key, tmp_path / "x")


def test_a_later_write_to_the_source_does_not_change_the_object(
    store: ObjectStore, tmp_path: Path
) -> None:
    source = write(tmp_path / "mine.txt", b"version 1")
    digests = store.put_file(source)
    source.write_bytes(b"version 2, longer")
    assert store.verify(digests.sha256, digests) == digests


def test_a_failed_write_leaves_nothing(store: ObjectStore) -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.sent = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
            if self.sent > (6 << 20):
                raise OSError("the source disk went away")
            n = len(buffer)
            buffer[:n] = b"x" * n
            self.sent += n
            return n

    with pytest.raises((OSError, StoreError)):
        store.put_stream(io.BufferedReader(Broken(), buffer_size=1 << 20))
    assert list(store.iter_objects()) == []


def test_corruption_is_detected_on_read(store: ObjectStore, tmp_path: Path) -> None:
    data = b"precious bytes"
    digests = store.put_file(write(tmp_path / "p", data))
    corrupt(store, digests.sha256, b"precious bytez")
    with pytest.raises(ChecksumMismatch) as caught:
        store.get_file(digests.sha256, tmp_path / "got", expected=digests, name="Image/1")
    assert caught.value.algorithm == "sha256"
    assert caught.value.expected == digests.sha256
    assert caught.value.path == "Image/1"
    assert not (tmp_path / "got").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".got")]


def corrupt(store: ObjectStore, sha256: str, data: bytes) -> None:
    store = getattr(store, "backing", store)  # behind a server: its own store
    if isinstance(store, LocalStore):
        path = store.path_of(sha256)
        path.chmod(0o644)
        path.write_bytes(data)
    else:
        store.client.put_object(Bucket=store.bucket, Key=store.key_of(sha256), Body=data)  # type: ignore[attr-defined]


def test_object_url_is_catalog_relative(store: ObjectStore) -> None:
    key = hashlib.sha256(b"x").hexdigest()
    assert store.object_url(key) == f"/objects/{key}"


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
    with pytest.raises(ConfigError, match="known: a path, file://, s3://"):
        open_store("gs://bucket/x")
    with pytest.raises(ConfigError, match="relative"):
        open_store("objects")


def test_s3_endpoint_down_is_a_store_error(tmp_path: Path) -> None:
    from assetry.store.s3 import S3Store

    store = S3Store.from_url("s3://bucket/x?endpoint_url=http://127.0.0.1:9&region=us-east-1")
    with pytest.raises(StoreError):
        store.put_file(write(tmp_path / "f", b"data"))
    with pytest.raises(StoreError):
        store.stat(hashlib.sha256(b"x").hexdigest())


def test_s3_bad_urls() -> None:
    with pytest.raises(ConfigError, match="bucket"):
        open_store("s3:///nobucket")
    with pytest.raises(ConfigError, match="unknown S3 store options"):
        open_store("s3://b/p?colour=blue")
