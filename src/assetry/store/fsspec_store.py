"""A content-addressed object store in any fsspec file system: ``<root>/ab/cdef...``.

The same guarantees as the S3 store, over fsspec's interface. Small objects (under one
part) are hashed in memory and written straight to their key in one request. Larger ones
are streamed in parts (gcsfs: a resumable upload; adlfs: staged blocks committed at the
end) to a temporary key while they are hashed, one read of the source, then copied
server-side to their content key and the temporary key removed: nothing is visible under
a content key until all of its bytes are there. Every write is checked afterwards
against the length (and the MD5, when the service reports one) the service recorded.

The cloud stores (``gcs.py``, ``azure.py``) build their file system from a store URL
and the cloud's usual credential settings; ``FsspecStore`` itself takes any
``fsspec.AbstractFileSystem``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from typing import Any, BinaryIO

from assetry.errors import AssetryError, ConfigError, StoreError
from assetry.store.base import ObjectInfo, ObjectStore, missing
from assetry.store.hashing import Digests, Hasher, is_sha256

PART_SIZE = 8 << 20
_TMP = "tmp"


@contextmanager
def store_errors(action: str) -> Iterator[None]:
    """Translate what an fsspec file system raises into ``StoreError``.

    fsspec back ends raise their own exception trees (aiohttp, google-auth, azure-core,
    plain ``OSError``); none of them may reach a user. Assetry's own errors pass."""
    try:
        yield
    except AssetryError:
        raise
    except Exception as err:  # third-party trees, translated at this boundary only
        raise StoreError(f"{action}: {type(err).__name__}: {err}") from None


class _Reader:
    """A stored object opened for reading; read errors become ``StoreError``."""

    def __init__(self, handle: Any, url: str) -> None:
        self._handle = handle
        self._url = url

    def read(self, size: int = -1) -> bytes:
        with store_errors(f"reading from {self._url}"):
            data: bytes = self._handle.read(size)
        return data

    def close(self) -> None:
        with store_errors(f"closing an object of {self._url}"):
            self._handle.close()

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FsspecStore(ObjectStore):
    """Objects under ``root`` (``bucket/prefix``) of an fsspec file system."""

    scheme = "fsspec"

    def __init__(
        self,
        url: str,
        fs: Any,
        root: str,
        part_size: int = PART_SIZE,
        protocol: str | None = None,
    ) -> None:
        super().__init__(url)
        self.fs = fs
        self.root = root.strip("/")
        self.part_size = part_size
        self.protocol = protocol or self.scheme

    # --- layout ----------------------------------------------------------------------
    def key_of(self, sha256: str) -> str:
        return f"{self.root}/{sha256[:2]}/{sha256[2:]}"

    def fetch_url(self, sha256: str) -> str:
        return f"{self.protocol}://{self.key_of(sha256)}"

    def _tmp_key(self) -> str:
        return f"{self.root}/{_TMP}/{uuid.uuid4().hex}"

    # --- what each service reports ----------------------------------------------------
    def stored_md5(self, info: dict[str, Any]) -> str | None:
        """The MD5 (hex) the service computed for an object described by ``info``, if it
        reports one (subclasses know where); None when it does not."""
        return None

    # --- writes ----------------------------------------------------------------------
    def check_writable(self) -> None:
        """A probe object written and deleted; ``ConfigError`` when the bucket (or
        container) does not exist, ``StoreError`` when the service fails otherwise."""
        try:
            super().check_writable()
        except StoreError:
            bucket = self.root.split("/", 1)[0]
            with store_errors(f"looking up {bucket!r} in {self.url}"):
                there = self.fs.exists(bucket)
            if not there:
                raise ConfigError(
                    f"the bucket {bucket!r} of the store {self.url} does not exist (create "
                    "it first)"
                ) from None
            raise

    def put_stream(self, source: BinaryIO, durable: bool = True) -> Digests:
        first = source.read(self.part_size)
        if len(first) < self.part_size:
            hasher = Hasher()
            hasher.update(first)
            digests = hasher.digests()
            if self.stat(digests.sha256) is None:
                with store_errors(f"writing to {self.url}"):
                    self.fs.pipe_file(self.key_of(digests.sha256), first)
            self._check_written(digests)
            return digests
        return self._put_parts(first, source)

    def _put_parts(self, first: bytes, source: BinaryIO) -> Digests:
        tmp = self._tmp_key()
        hasher = Hasher()
        with store_errors(f"writing to {self.url}"):
            self._write_parts(tmp, first, source, hasher.update)
        digests = hasher.digests()
        try:
            with store_errors(f"writing to {self.url}"):
                if self.stat(digests.sha256) is None:
                    self.fs.copy(tmp, self.key_of(digests.sha256))
        finally:
            self._remove_quietly(tmp)
        self._check_written(digests)
        return digests

    def _write_parts(
        self, key: str, first: bytes, source: BinaryIO, seen: Callable[[bytes], None]
    ) -> None:
        """Stream ``first`` and the rest of ``source`` to ``key`` part by part; on any
        failure the upload is abandoned (never committed half) and ``key`` removed."""
        handle = self.fs.open(key, "wb", block_size=self.part_size)
        try:
            chunk = first
            while chunk:
                seen(chunk)
                handle.write(chunk)
                chunk = source.read(self.part_size)
            handle.close()
        except BaseException:
            # fsspec commits what was written when a file is closed (also when it is
            # garbage collected): cancel the upload and mark it closed instead.
            with suppress(Exception):  # the service may be the thing that failed
                self.abandon_upload(handle)
            handle.closed = True
            self._remove_quietly(key)
            raise

    def abandon_upload(self, handle: Any) -> None:
        """Cancel an unfinished upload to ``handle`` (an fsspec file open for writing)
        so that none of it is ever committed."""
        handle.discard()

    def _remove_quietly(self, key: str) -> None:
        # Gone already, or the service is down: fsck --repair removes it later.
        with suppress(Exception):
            self.fs.rm_file(key)

    def _check_written(self, digests: Digests) -> None:
        key = self.key_of(digests.sha256)
        with store_errors(f"checking {key} in {self.url}"):
            info = self._info(key)
        if info is None or int(info["size"]) != digests.length:
            raise StoreError(
                f"{self.url}: object {digests.sha256} was not stored whole "
                f"({info['size'] if info else 'no'} bytes of {digests.length})"
            )
        md5 = self.stored_md5(info)
        if md5 is not None and md5 != digests.md5:
            self._remove_quietly(key)
            raise StoreError(
                f"{self.url}: object {digests.sha256} arrived damaged (the service "
                f"recorded MD5 {md5}, the bytes sent have {digests.md5}); removed"
            )
        self.remember(digests)

    # --- reads -----------------------------------------------------------------------
    def _info(self, key: str) -> dict[str, Any] | None:
        try:
            info: dict[str, Any] = self.fs.info(key)
        except FileNotFoundError:
            return None
        if info.get("type") == "directory":
            return None
        return info

    def stat(self, sha256: str) -> ObjectInfo | None:
        with store_errors(f"reading {self.url}"):
            info = self._info(self.key_of(sha256))
        if info is None:
            return None
        return ObjectInfo(sha256, int(info["size"]), _modified(info))

    def open_raw(self, sha256: str) -> BinaryIO:
        with store_errors(f"reading {self.url}"):
            try:
                handle = self.fs.open(
                    self.key_of(sha256), "rb", block_size=self.part_size, cache_type="readahead"
                )
            except FileNotFoundError:
                raise missing(self.url, sha256) from None
        return _Reader(handle, self.url)  # type: ignore[return-value]

    def delete(self, sha256: str) -> None:
        self.forget(sha256)
        with store_errors(f"deleting from {self.url}"), suppress(FileNotFoundError):
            self.fs.rm_file(self.key_of(sha256))

    def iter_objects(self) -> Iterator[ObjectInfo]:
        return self.iter_objects_after(None)

    def iter_objects_after(self, after: str | None) -> Iterator[ObjectInfo]:
        """Listed one two-character folder at a time (bounded memory per listing),
        skipping the folders of keys before ``after``."""
        with store_errors(f"listing {self.url}"):
            folders = self._listing(self.root)
        for folder in sorted(folders):
            name = folder.rstrip("/").rsplit("/", 1)[-1]
            if len(name) != 2 or name == _TMP or (after is not None and name < after[:2]):
                continue
            with store_errors(f"listing {self.url}"):
                entries = self._listing(folder, detail=True)
            for entry in sorted(entries, key=lambda e: str(e["name"])):
                key = name + str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
                if entry.get("type") != "directory" and is_sha256(key):
                    if after is not None and key <= after:
                        continue
                    yield ObjectInfo(key, int(entry["size"]), _modified(entry))

    def _listing(self, path: str, detail: bool = False) -> list[Any]:
        try:
            found: list[Any] = self.fs.ls(path, detail=detail)
        except FileNotFoundError:
            return []
        return found


def _modified(info: dict[str, Any]) -> float | None:
    """The modification time in an fsspec ``info`` mapping, under whichever name the file
    system uses (gcsfs: ``updated``/``mtime``; adlfs: ``last_modified``)."""
    for name in ("mtime", "last_modified", "updated", "LastModified"):
        value = info.get(name)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    return None
