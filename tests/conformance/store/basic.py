"""The behaviour every object store shares: content-addressed round trips, identical
bytes stored once, atomic writes, and reads that verify what they return."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from assetry import ChecksumMismatch, NotFoundError, StoreError, ValidationError
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests
from tests.conformance.store import Corrupt


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def digests_of(data: bytes) -> Digests:
    return Digests(hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(), len(data))


class AbstractStoreTests:
    @pytest.mark.parametrize("size", [0, 1, 4096, (5 << 20) + 123])
    def test_round_trip(self, store: ObjectStore, tmp_path: Path, size: int) -> None:
        data = os.urandom(size)
        digests = store.put_file(write(tmp_path / "in.bin", data))
        assert digests == digests_of(data)
        assert store.stat(digests.sha256).length == size  # type: ignore[union-attr]
        out = store.get_file(digests.sha256, tmp_path / "out" / "copy.bin", expected=digests)
        assert out.read_bytes() == data
        assert store.verify(digests.sha256, digests) == digests

    def test_identical_bytes_are_stored_once(self, store: ObjectStore, tmp_path: Path) -> None:
        a = store.put_file(write(tmp_path / "a", b"same bytes"))
        b = store.put_stream(io.BytesIO(b"same bytes"))
        c = store.put_stream(io.BytesIO(b"other bytes"))
        assert a == b != c
        assert sorted(o.sha256 for o in store.iter_objects()) == sorted({a.sha256, c.sha256})

    def test_listings_are_in_key_order_and_start_after_a_key(self, store: ObjectStore) -> None:
        keys = sorted(store.put_stream(io.BytesIO(b"object %d" % n)).sha256 for n in range(12))
        assert [o.sha256 for o in store.iter_objects()] == keys
        assert [o.sha256 for o in store.iter_objects_after(None)] == keys
        for cut in (0, 1, 5, 11):
            assert [o.sha256 for o in store.iter_objects_after(keys[cut])] == keys[cut + 1 :]
        between = keys[3][:2] + "0" * 62  # a key that is not stored
        assert [o.sha256 for o in store.iter_objects_after(between)] == [
            k for k in keys if k > between
        ]

    def test_missing_objects(self, store: ObjectStore, tmp_path: Path) -> None:
        key = hashlib.sha256(b"never stored").hexdigest()
        assert store.stat(key) is None
        assert not store.exists(key)
        with pytest.raises(NotFoundError):
            store.get_file(key, tmp_path / "x")
        assert not (tmp_path / "x").exists()
        store.delete(key)  # deleting what is gone is fine

    def test_delete(self, store: ObjectStore) -> None:
        digests = store.put_stream(io.BytesIO(b"to delete"))
        store.delete(digests.sha256)
        assert store.stat(digests.sha256) is None
        assert list(store.iter_objects()) == []

    def test_bad_keys_are_refused(self, store: ObjectStore, tmp_path: Path) -> None:
        for key in ("../../etc/passwd", "ab", "A" * 64):
            with pytest.raises(ValidationError):
                store.get_file(key, tmp_path / "x")

    def test_a_later_write_to_the_source_does_not_change_the_object(
        self, store: ObjectStore, tmp_path: Path
    ) -> None:
        source = write(tmp_path / "mine.txt", b"version 1")
        digests = store.put_file(source)
        source.write_bytes(b"version 2, longer")
        assert store.verify(digests.sha256, digests) == digests

    def test_a_failed_write_leaves_nothing(self, store: ObjectStore) -> None:
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

    def test_corruption_is_detected_on_read(
        self, store: ObjectStore, corrupt: Corrupt, tmp_path: Path
    ) -> None:
        data = b"precious bytes"
        digests = store.put_file(write(tmp_path / "p", data))
        corrupt(digests.sha256, b"precious bytez")
        with pytest.raises(ChecksumMismatch) as caught:
            store.get_file(digests.sha256, tmp_path / "got", expected=digests, name="Image/1")
        assert caught.value.algorithm == "sha256"
        assert caught.value.expected == digests.sha256
        assert caught.value.path == "Image/1"
        assert not (tmp_path / "got").exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".got")]

    def test_object_url_is_catalog_relative(self, store: ObjectStore) -> None:
        key = hashlib.sha256(b"x").hexdigest()
        assert store.object_url(key) == f"/objects/{key}"
