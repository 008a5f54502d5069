"""One-pass checksums: MD5, SHA-256 and length computed while bytes stream by."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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


def copy_hashing(
    source: BinaryIO,
    write: Callable[[bytes], object] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Digests:
    """Read ``source`` to the end once, passing each chunk to ``write``; return digests."""
    hasher = Hasher()
    while chunk := source.read(chunk_size):
        hasher.update(chunk)
        if write is not None:
            write(chunk)
    return hasher.digests()


def hash_file(path: Path) -> Digests:
    """Digests of the file at ``path`` (one read)."""
    with open(path, "rb") as handle:
        return copy_hashing(handle)


def is_sha256(value: object) -> bool:
    """True for a lower-case hex SHA-256 digest."""
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )
