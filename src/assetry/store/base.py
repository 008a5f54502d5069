"""The ObjectStore interface: a few primitives per store, composite operations once.

Objects are addressed by the SHA-256 of their bytes. Identical bytes are stored once.
Writes are atomic (nothing is visible under an object's key until all of it is there) and
durable when they return; reads are verified against the key (and against MD5 and length
when the caller knows them).
"""

from __future__ import annotations

import abc
import io
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, ClassVar

from assetry.errors import ChecksumMismatch, NotFoundError, ValidationError
from assetry.store.hashing import Digests, copy_hashing, hash_file, is_sha256

if TYPE_CHECKING:
    from assetry.store.direct import DirectTransfers

# Digests remembered per store object of this process (about 200 bytes each), and how
# long they are trusted without looking at the store again (well under fsck's default
# grace period, after which another process may delete an object nothing names yet).
_WITNESS_LIMIT = 200_000
WITNESS_TRUSTED_SECONDS = 600.0


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object: its key, size and (when known) modification time."""

    sha256: str
    length: int
    modified: float | None = None


class ObjectStore(abc.ABC):
    """Content-addressed storage of immutable bytes."""

    scheme: ClassVar[str]
    # True when ``adopt`` can move files into the store (same file system).
    adopt_supported: ClassVar[bool] = False

    def __init__(self, url: str) -> None:
        self.url = url
        self._witnessed: dict[str, tuple[Digests, float]] = {}
        self._witness_lock = threading.Lock()

    # --- what this process stored ----------------------------------------------------
    def remember(self, digests: Digests) -> None:
        """Note that this process stored these bytes, hashing them as it wrote them (each
        ``put_stream`` and ``adopt`` calls it), so recording an asset row that names them
        needs no second read. Bounded: the oldest are forgotten first."""
        with self._witness_lock:
            witnessed = self._witnessed
            witnessed.pop(digests.sha256, None)  # re-inserted: the newest goes last
            witnessed[digests.sha256] = (digests, time.monotonic())
            while len(witnessed) > _WITNESS_LIMIT:
                del witnessed[next(iter(witnessed))]

    def forget(self, sha256: str) -> None:
        """No longer vouch for ``sha256`` (each ``delete`` calls it first)."""
        with self._witness_lock:
            self._witnessed.pop(sha256, None)

    def witnessed(self, sha256: str) -> Digests | None:
        """The digests of an object this process stored (see ``remember``), or None."""
        with self._witness_lock:
            found = self._witnessed.get(sha256)
        return None if found is None else found[0]

    def digests_of(self, sha256: str) -> Digests | None:
        """The true digests of the stored object ``sha256``, or None if it is not stored.

        Those this process computed when it stored it, trusted as they are for a short
        while; later the object is looked up again (another process may have deleted it,
        e.g. ``fsck --repair`` past its grace period). Any other object is read and
        verified once."""
        with self._witness_lock:
            found = self._witnessed.get(sha256)
        if found is not None:
            digests, when = found
            if time.monotonic() - when < WITNESS_TRUSTED_SECONDS:
                return digests
            info = self.stat(_checked_key(sha256))
            if info is not None and info.length == digests.length:
                self.remember(digests)
                return digests
            self.forget(sha256)
            if info is None:
                return None
        if self.stat(_checked_key(sha256)) is None:
            return None
        verified = self.verify(sha256)
        self.remember(verified)
        return verified

    # --- primitives ------------------------------------------------------------------
    @abc.abstractmethod
    def put_stream(self, source: BinaryIO, durable: bool = True) -> Digests:
        """Store everything ``source`` yields, hashing it in the same pass; the object's
        key is the SHA-256 of those bytes. Atomic; durable when it returns unless
        ``durable`` is False, in which case ``make_durable`` must follow before anything
        refers to the object."""

    @abc.abstractmethod
    def stat(self, sha256: str) -> ObjectInfo | None:
        """The stored object with this key, or None."""

    @abc.abstractmethod
    def open_raw(self, sha256: str) -> BinaryIO:
        """A stream of the object's stored bytes, unverified (``NotFoundError`` if absent)."""

    @abc.abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the object (no error if it is already gone); call ``forget`` first."""

    @abc.abstractmethod
    def iter_objects(self) -> Iterator[ObjectInfo]:
        """Every stored object, in key order."""

    def iter_objects_after(self, after: str | None) -> Iterator[ObjectInfo]:
        """The stored objects with keys after ``after`` (all, when None), in key order:
        a page of a listing costs what it returns, not the whole store (stores skip to
        ``after`` where they can)."""
        for info in self.iter_objects():
            if after is None or info.sha256 > after:
                yield info

    @abc.abstractmethod
    def fetch_url(self, sha256: str) -> str:
        """An absolute URL other tools can fetch the object from (a bag's fetch.txt)."""

    def route(
        self, table: str | None, size: int | None, asset_types: Sequence[str] = ()
    ) -> ObjectStore:
        """The store a new object of asset table ``table`` with ``size`` bytes and
        ``asset_types`` goes to: this one, unless it is several stores with routing rules
        (``StoreSet``)."""
        return self

    def local_path(self, sha256: str) -> Path | None:
        """The object's file on this machine, if the store is a local directory."""
        return None

    def likely_local_path(self, sha256: str) -> Path | None:
        """Where the object's file would be if it is on this machine, without looking
        (no system call): for readers that open it anyway and ask ``local_path`` when it
        is not there. None for a store without local files."""
        return self.local_path(sha256)

    def direct(self) -> DirectTransfers | None:
        """Signed-URL transfers of this store (``store.direct``), or None when it cannot
        sign URLs (a local folder): a server then carries the bytes itself."""
        return None

    def make_durable(self, keys: Iterable[str]) -> None:
        """Make objects stored with ``durable=False`` survive a power loss."""
        return None

    def adopt(self, path: Path, digests: Digests, durable: bool = True) -> Digests | None:
        """Move the file at ``path``, whose digests the caller computed, into the store
        instead of copying it; return None when this store cannot (another file system).
        Only for files nobody else holds (see ``put_file``)."""
        return None

    # --- composites ------------------------------------------------------------------
    def check_writable(self) -> None:
        """Check that the store takes writes: store a small probe object of unique
        bytes, then delete it. ``StoreError`` (or ``ConfigError``) saying what failed."""
        probe = f"assetry: checking that this store takes writes ({uuid.uuid4()})\n"
        digests = self.put_stream(io.BytesIO(probe.encode()))
        self.delete(digests.sha256)

    def put_file(self, path: Path, *, move: bool = False, durable: bool = True) -> Digests:
        """Store the file at ``path``.

        With ``move`` a file with a single link may be moved into the store (it must be
        one the caller owns, such as a file an execution created in its working
        directory); anything else is copied while it is hashed, so no later write to the
        user's file can change the stored object.
        """
        if move and self.adopt_supported and path.stat().st_nlink == 1:
            adopted = self.adopt(path, hash_file(path), durable)
            if adopted is not None:
                return adopted
        with open(path, "rb") as handle:
            return self.put_stream(handle, durable)

    def exists(self, sha256: str) -> bool:
        return self.stat(_checked_key(sha256)) is not None

    def object_url(self, sha256: str) -> str:
        """The catalog-relative URL of an object: the same from every client."""
        return f"/objects/{_checked_key(sha256)}"

    def verify(
        self, sha256: str, expected: Digests | None = None, name: str | None = None
    ) -> Digests:
        """Read the object once and check it against its key (and ``expected``)."""
        with self.open_raw(_checked_key(sha256)) as stream:
            found = copy_hashing(stream)
        _compare(name or self.object_url(sha256), sha256, expected, found)
        return found

    def get_file(
        self,
        sha256: str,
        dest: Path,
        expected: Digests | None = None,
        name: str | None = None,
    ) -> Path:
        """Write the object to ``dest`` (atomically), verifying it on the way."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, self.open_raw(_checked_key(sha256)) as stream:
                found = copy_hashing(stream, out.write)
            _compare(name or str(dest), sha256, expected, found)
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return dest


def _checked_key(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValidationError(f"{sha256!r} is not a SHA-256 object key")
    return sha256


def _compare(name: str, sha256: str, expected: Digests | None, found: Digests) -> None:
    if found.sha256 != sha256:
        raise ChecksumMismatch(name, "sha256", sha256, found.sha256)
    if expected is None:
        return
    if expected.md5 and found.md5 != expected.md5:
        raise ChecksumMismatch(name, "md5", expected.md5, found.md5)
    if found.length != expected.length:
        raise ChecksumMismatch(name, "length", str(expected.length), str(found.length))


def missing(url: str, sha256: str) -> NotFoundError:
    return NotFoundError(f"object {sha256} is not in the store {url}")
