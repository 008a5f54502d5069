"""The fast paths of hashing and storing large files give the same digests and objects
as the plain ones, and fail cleanly."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import pytest

from assetry.store import hashing, local
from assetry.store.local import LocalStore


def _expected(data: bytes) -> hashing.Digests:
    return hashing.Digests(
        hashlib.md5(data, usedforsecurity=False).hexdigest(),
        hashlib.sha256(data).hexdigest(),
        len(data),
    )


@pytest.mark.parametrize("size", [0, 1, hashing.CHUNK_SIZE, hashing.PARALLEL_FROM + 12345])
def test_copy_hashing_digests_every_byte_written(size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    written: list[bytes] = []
    digests = hashing.copy_hashing(io.BytesIO(data), written.append, chunk_size=1 << 16)
    assert digests == _expected(data)
    assert b"".join(written) == data


def test_copy_hashing_stops_its_helper_when_the_write_fails() -> None:
    data = b"y" * (hashing.PARALLEL_FROM * 2)
    calls = 0

    def write(chunk: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 80:
            raise OSError("disk full")

    def helpers() -> int:
        # Only the hashing helpers: emulators and proxies of other tests in this process
        # start and end threads of their own meanwhile.
        return sum(thread.name == "assetry-md5" for thread in threading.enumerate())

    before = helpers()
    with pytest.raises(OSError, match="disk full"):
        hashing.copy_hashing(io.BytesIO(data), write, chunk_size=1 << 16)
    assert helpers() == before


def test_large_put_with_early_writeback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local, "_WRITEBACK_EVERY", 1 << 16)
    data = bytes(range(251)) * 40_000  # about 10 MB, not a multiple of the chunk size
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    store = LocalStore(tmp_path / "objects")
    for durable in (True, False):
        digests = store.put_file(source, durable=durable)
        assert digests == _expected(data)
        assert store.path_of(digests.sha256).read_bytes() == data
        store.make_durable([digests.sha256])
        assert store.verify(digests.sha256, digests) == digests
    assert not list((tmp_path / "objects" / ".tmp").iterdir())


def test_copy_hashing_reports_a_failure_on_its_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    class Failing:
        def __init__(self) -> None:
            self.calls = 0

        def update(self, chunk: bytes) -> None:
            self.calls += 1
            if self.calls > 70:
                raise MemoryError("no room")

        def hexdigest(self) -> str:
            return ""

    monkeypatch.setattr(hashing.hashlib, "md5", lambda **_: Failing())
    data = memoryview(b"z" * (hashing.PARALLEL_FROM * 2))
    with pytest.raises(MemoryError, match="no room"):
        hashing.copy_hashing(io.BytesIO(data), None, chunk_size=1 << 16)
