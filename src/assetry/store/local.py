"""A content-addressed object store in a local directory: ``<root>/ab/cdef...``."""

from __future__ import annotations

import ctypes
import errno
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from assetry.errors import StoreError
from assetry.store.base import ObjectInfo, ObjectStore, missing
from assetry.store.hashing import Digests, copy_hashing, is_sha256

_TMP = ".tmp"
# Bytes between the early syncs of a large object being written (see _EarlyWriteback).
_WRITEBACK_EVERY = 64 << 20


@contextmanager
def _store_errors(action: str) -> Iterator[None]:
    try:
        yield
    except OSError as err:
        raise _store_error(action, err) from None


def _store_error(action: str, err: OSError) -> StoreError:
    if err.errno == errno.ENOSPC:
        return StoreError(f"{action}: the disk is full ({err})")
    return StoreError(f"{action}: {err}")


def _fsync_path(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_fsync_dir = _fsync_path

# From this many files and folders to sync, one syncfs(2) of the store's file system
# replaces them: it writes and waits for everything dirty on that file system, a
# superset, in one call (on the development VM, 0.05 s against 0.2-0.8 s for the
# fsyncs of a 500-file batch, even spread over threads).
_SYNCFS_FROM = 64
_LIBC: Any = None


def _syncfs(path: Path) -> bool:
    """Sync the file system holding ``path``; False where syncfs(2) is not available
    (then the caller syncs file by file). An I/O error raises ``OSError``."""
    global _LIBC
    if not sys.platform.startswith("linux"):
        return False
    if _LIBC is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _LIBC = libc if hasattr(libc, "syncfs") else False
        except OSError:
            _LIBC = False
    if _LIBC is False:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"syncfs: {os.strerror(err)}")
    finally:
        os.close(fd)
    return True


class _EarlyWriteback:
    """Writes to ``out`` and, once a file grows large, asks a helper thread to sync what
    has been written so far (every ``_WRITEBACK_EVERY`` bytes, at most one sync at a
    time). The disk then writes the object while the rest is still being read and
    hashed, and the final sync before the rows commit has only the tail left to write:
    on a large file that final sync otherwise costs almost half as much as hashing it.
    Syncing earlier changes nothing else: the object is still installed, and its rows
    committed, only after the final sync."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._written = 0
        self._next = _WRITEBACK_EVERY
        self._wanted = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None

    def write(self, chunk: bytes) -> None:
        self._out.write(chunk)
        self._written += len(chunk)
        if self._written >= self._next:
            self._next = self._written + _WRITEBACK_EVERY
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="assetry-writeback", daemon=True
                )
                self._thread.start()
            self._wanted.set()

    def _run(self) -> None:
        fd = self._out.fileno()
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._stop:
                return
            try:
                os.fdatasync(fd)
            except OSError:
                return  # only a head start: the final sync reports any error

    def __enter__(self) -> _EarlyWriteback:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop = True
            self._wanted.set()
            self._thread.join()


class LocalStore(ObjectStore):
    """Objects as read-only files under a root directory, written atomically."""

    scheme = "file"
    adopt_supported = True

    def __init__(self, root: Path, url: str | None = None) -> None:
        super().__init__(url or root.as_uri())
        self.root = root
        self._made: set[Path] = set()  # directories known to exist
        self._made_text: set[str] = set()  # object folders known to exist
        self._root_text = os.fspath(root)
        self._objects_prefix = os.path.join(self._root_text, "")  # "<root>/"
        self._root_device: int | None = None

    def path_of(self, sha256: str) -> Path:
        return Path(self._path_text(sha256))

    def _path_text(self, sha256: str) -> str:
        # Strings, not Paths, on the per-object paths: pathlib's parsing costs more
        # than the system calls when thousands of small files are uploaded.
        return f"{self._objects_prefix}{sha256[:2]}/{sha256[2:]}"

    def fetch_url(self, sha256: str) -> str:
        # Built as a string: Path.as_uri() per object was most of writing the fetch.txt
        # of a large bag. Object names are hex, so only the root needs quoting.
        uri = self.__dict__.get("_objects_uri")
        if uri is None:
            uri = self.__dict__["_objects_uri"] = self.root.as_uri().rstrip("/") + "/"
        return f"{uri}{sha256[:2]}/{sha256[2:]}"

    def local_path(self, sha256: str) -> Path | None:
        return self.path_of(sha256)

    def _tmp_dir(self) -> Path:
        tmp = self.root / _TMP
        if tmp not in self._made:
            tmp.mkdir(parents=True, exist_ok=True)
            self._made.add(tmp)
        return tmp

    def _install(self, tmp: str | Path, digests: Digests, durable: bool) -> None:
        """Make ``tmp`` (complete; synced when ``durable``) the object for ``digests``."""
        sha256 = digests.sha256
        parent = f"{self._objects_prefix}{sha256[:2]}"
        final = f"{parent}/{sha256[2:]}"
        try:
            existing = os.stat(final).st_size
        except FileNotFoundError:
            existing = None
        if existing == digests.length:
            os.unlink(tmp)  # identical bytes are stored once
            return
        if parent not in self._made_text:
            os.makedirs(parent, exist_ok=True)
            self._made_text.add(parent)
        os.chmod(tmp, 0o444)
        os.replace(tmp, final)
        if durable:
            _fsync_dir(parent)

    def make_durable(self, keys: Iterable[str]) -> None:
        listed = set(keys)
        if not listed:
            return
        with _store_errors(f"syncing the store {self.url}"):
            # Objects and their folders: at least as many targets as objects.
            if len(listed) >= _SYNCFS_FROM and _syncfs(self.root):
                return
            paths = {self._path_text(k) for k in listed}
            targets = sorted(paths | {os.path.dirname(p) for p in paths})
            if len(targets) >= _SYNCFS_FROM and _syncfs(self.root):
                return
            # Independent fsyncs overlap well on one disk; one at a time they dominate.
            with ThreadPoolExecutor(min(16, len(targets))) as pool:
                list(pool.map(_fsync_path, targets))

    def put_stream(self, source: BinaryIO, durable: bool = True) -> Digests:
        with _store_errors(f"writing to the store {self.url}"):
            fd, name = tempfile.mkstemp(dir=self._tmp_dir(), suffix=".part")
            tmp = Path(name)
            try:
                with os.fdopen(fd, "wb") as out:
                    with _EarlyWriteback(out) as writer:
                        digests = copy_hashing(source, writer.write)
                    out.flush()
                    if durable:
                        os.fsync(out.fileno())
                self._install(tmp, digests, durable)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        self.remember(digests)
        return digests

    def adopt(self, path: Path, digests: Digests, durable: bool = True) -> Digests | None:
        # No context manager and no message until something fails: thousands of small
        # files are adopted in a row.
        source = os.fspath(path)  # once, not for each of the system calls below
        try:
            if os.stat(source).st_dev != self._device():
                return None  # another file system: copy instead
            if durable:
                _fsync_path(source)
            # Renamed straight to its final name (no stop in the temporary folder, where
            # a crash between the two renames would lose the file).
            self._install(source, digests, durable)
        except OSError as err:
            raise _store_error(f"moving {path} into the store {self.url}", err) from None
        self.remember(digests)
        return digests

    def _device(self) -> int:
        if self._root_device is None:
            self._tmp_dir()
            self._root_device = os.stat(self._root_text).st_dev
        return self._root_device

    def stat(self, sha256: str) -> ObjectInfo | None:
        try:
            stat = os.stat(self._path_text(sha256))
        except FileNotFoundError:
            return None
        return ObjectInfo(sha256, stat.st_size, stat.st_mtime)

    def open_raw(self, sha256: str) -> BinaryIO:
        try:
            return open(self.path_of(sha256), "rb")
        except FileNotFoundError:
            raise missing(self.url, sha256) from None

    def delete(self, sha256: str) -> None:
        self.forget(sha256)
        with _store_errors(f"deleting from the store {self.url}"):
            self.path_of(sha256).unlink(missing_ok=True)

    def iter_objects(self) -> Iterator[ObjectInfo]:
        return self.iter_objects_after(None)

    def iter_objects_after(self, after: str | None) -> Iterator[ObjectInfo]:
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if sub.name == _TMP or not sub.is_dir() or len(sub.name) != 2:
                continue
            if after is not None and sub.name < after[:2]:
                continue  # a whole folder of smaller keys: not even listed
            for item in sorted(sub.iterdir()):
                key = sub.name + item.name
                if is_sha256(key) and (after is None or key > after):
                    try:
                        stat = item.stat()
                    except FileNotFoundError:
                        continue  # deleted while listed
                    yield ObjectInfo(key, stat.st_size, stat.st_mtime)
