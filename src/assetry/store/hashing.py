"""One-pass checksums: MD5, SHA-256 and length computed while bytes stream by."""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

CHUNK_SIZE = 1 << 20


@dataclass(frozen=True)
class Digests:
    """What a catalog records about a file's bytes."""

    md5: str
    sha256: str
    length: int


class Hasher:
    """Accumulates MD5, SHA-256 and length of the bytes given to ``update``."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self._length = 0

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._sha256.update(chunk)
        self._length += len(chunk)

    def digests(self) -> Digests:
        return Digests(self._md5.hexdigest(), self._sha256.hexdigest(), self._length)


# Streams longer than this hash MD5 on a helper thread while the calling thread hashes
# SHA-256 and writes: hashlib releases the GIL on large buffers, so on two cores the pass
# costs about the slower of the two digests instead of their sum. Shorter streams are
# not worth a thread.
PARALLEL_FROM = 4 * CHUNK_SIZE
# Chunks the helper may lag behind (bounded memory: this many chunks at most).
_QUEUE_CHUNKS = 16


class _Md5Thread:
    """MD5 of the chunks given to ``put``, in order, on a helper thread."""

    def __init__(self, md5: Any) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(md5,), name="assetry-md5", daemon=True
        )
        self._thread.start()

    def _run(self, md5: Any) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    md5.update(chunk)
                except BaseException as err:  # kept for close(); keep draining the queue
                    self._error = err

    def put(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait until every chunk given so far is hashed; raise what hashing raised."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def copy_hashing(
    source: BinaryIO,
    write: Callable[[bytes], object] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Digests:
    """Read ``source`` to the end once, passing each chunk to ``write``; return digests.

    Every digest is of the very chunks passed to ``write``, whichever thread computes it.
    """
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    length = 0
    helper: _Md5Thread | None = None
    try:
        while chunk := source.read(chunk_size):
            if type(chunk) is not bytes:  # the helper may hash it later: no shared buffer
                chunk = bytes(chunk)
            length += len(chunk)
            if helper is not None:
                helper.put(chunk)
            elif length >= PARALLEL_FROM:
                helper = _Md5Thread(md5)
                helper.put(chunk)
            else:
                md5.update(chunk)
            sha256.update(chunk)
            if write is not None:
                write(chunk)
    finally:
        if helper is not None:
            helper.close()
    return Digests(md5.hexdigest(), sha256.hexdigest(), length)


def hash_file(path: Path) -> Digests:
    """Digests of the file at ``path`` (one read)."""
    # Unbuffered: copy_hashing reads whole chunks itself; a buffered reader only adds
    # its own set-up, which shows on thousands of small files.
    with open(path, "rb", buffering=0) as handle:
        return copy_hashing(handle)


_SHA256_HEX = re.compile("[0-9a-f]{64}")


def is_sha256(value: object) -> bool:
    """True for a lower-case hex SHA-256 digest."""
    return isinstance(value, str) and _SHA256_HEX.fullmatch(value) is not None
