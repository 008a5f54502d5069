"""``HttpObjectStore``: a catalog server's object store, seen from a client.

Uploads send the SHA-256 in the path and the MD5 as ``Content-MD5``; the server stores
nothing that does not match. Files over ``SINGLE_PUT_BYTES`` go through a resumable
upload session in chunks, resumed from the server's offset after a broken connection.
Downloads are verified against the key (and the caller's MD5 and length) and resume
with ``Range`` requests.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, cast

import requests

from assetry.client import direct
from assetry.client.transport import Transport
from assetry.errors import ConflictError, NotFoundError, StoreError
from assetry.store.base import ObjectInfo, ObjectStore, _checked_key, _compare
from assetry.store.hashing import CHUNK_SIZE, Digests, Hasher, copy_hashing, hash_file

SINGLE_PUT_BYTES = 64 << 20
UPLOAD_CHUNK_BYTES = 64 << 20
RESUME_ATTEMPTS = 5


class HttpObjectStore(ObjectStore):
    """Objects stored through ``/objects`` and ``/uploads`` of an assetry server."""

    scheme: ClassVar[str] = "http"

    def __init__(self, transport: Transport) -> None:
        super().__init__(transport.url + "/objects")
        self.transport = transport
        self.table: str | None = None
        self.asset_types: list[str] = []

    def route(
        self, table: str | None, size: int | None, asset_types: Sequence[str] = ()
    ) -> ObjectStore:
        """This store, telling the server which asset table new objects are for (its
        store rules choose where they go)."""
        if table == self.table and list(asset_types) == self.asset_types:
            return self
        routed = copy.copy(self)  # shares what this process stored (``remember``)
        routed.table, routed.asset_types = table, list(asset_types)
        return routed

    def _routing(self) -> dict[str, Any]:
        """The store-rule inputs, as query parameters (``PUT /objects``)."""
        found: dict[str, Any] = {}
        if self.table is not None:
            found["table"] = self.table
        if self.asset_types:
            found["asset_type"] = self.asset_types
        return found

    # --- writes ----------------------------------------------------------------------
    def put_stream(self, source: BinaryIO, durable: bool = True) -> Digests:
        # The key must be known before the upload, so spool (and hash) first.
        with tempfile.TemporaryFile() as spool:
            digests = copy_hashing(source, spool.write)
            spool.seek(0)
            self._upload(cast(BinaryIO, spool), digests)
        return digests

    def put_file(self, path: Path, *, move: bool = False, durable: bool = True) -> Digests:
        digests = hash_file(Path(path))
        with open(path, "rb") as handle:
            self._upload(handle, digests)
        return digests

    def _upload(self, handle: BinaryIO, digests: Digests) -> None:
        if self.stat(digests.sha256) is not None:
            return
        if digests.length >= direct.DIRECT_MIN_BYTES and direct.upload(
            self.transport, handle.fileno(), digests, self.table, self.asset_types
        ):
            return
        if digests.length <= SINGLE_PUT_BYTES:
            self.transport.request(
                "PUT",
                f"/objects/{digests.sha256}",
                params=self._routing(),
                data=_Reader(handle, digests.length),
                headers={
                    "Content-MD5": _b64_md5(digests.md5),
                    "Content-Length": str(digests.length),
                    "Content-Type": "application/octet-stream",
                },
                idempotent=True,
            )
            return
        self._resumable(handle, digests)

    def _resumable(self, handle: BinaryIO, digests: Digests) -> None:
        started = self.transport.request(
            "POST",
            "/uploads",
            json_body={
                "sha256": digests.sha256,
                "md5": digests.md5,
                "length": digests.length,
                "table": self.table,
                "asset_types": self.asset_types,
            },
        ).json()
        if started.get("stored"):
            return
        upload = f"/uploads/{started['id']}"
        offset, failures = 0, 0
        while offset < digests.length:
            size = min(UPLOAD_CHUNK_BYTES, digests.length - offset)
            handle.seek(offset)  # each attempt reads its chunk from the file again
            try:
                answer = self.transport.request(
                    "PUT",
                    f"{upload}?offset={offset}",
                    data=_Reader(handle, size),
                    headers={
                        "Content-Length": str(size),
                        "Content-Type": "application/octet-stream",
                    },
                ).json()
                offset = int(answer["offset"])
                failures = 0
            except (StoreError, ConflictError):
                # The connection broke (or a chunk half-arrived): once the server
                # answers again, go on from the offset it has.
                failures += 1
                if failures > RESUME_ATTEMPTS:
                    raise
                time.sleep(min(2.0**failures * 0.1, 5.0))
                with contextlib.suppress(StoreError):
                    offset = int(
                        self.transport.request("GET", upload, idempotent=True).json()["offset"]
                    )
        self.transport.request("POST", f"{upload}/complete")

    # --- reads -----------------------------------------------------------------------
    def stat(self, sha256: str) -> ObjectInfo | None:
        key = _checked_key(sha256)
        response = self.transport.request(
            "HEAD", f"/objects/{key}", idempotent=True, expect=(200, 404)
        )
        if response.status_code == 404:
            return None
        return ObjectInfo(key, int(response.headers.get("Content-Length", 0)))

    def open_raw(self, sha256: str) -> BinaryIO:
        key = _checked_key(sha256)
        response = self._get(key, 0)
        raw = response.raw
        raw.decode_content = True
        return cast(BinaryIO, _ClosingStream(raw, response))

    def _get(self, key: str, start: int) -> requests.Response:
        headers = {"Range": f"bytes={start}-"} if start else {}
        response = self.transport.request(
            "GET",
            f"/objects/{key}",
            stream=True,
            idempotent=True,
            headers=headers,
            expect=(200, 206, 404),
        )
        if response.status_code == 404:
            response.close()
            raise NotFoundError(f"object {key} is not stored at {self.url}")
        if start and response.status_code != 206:
            response.close()
            raise StoreError(f"the server at {self.url} did not resume the download of {key}")
        return response

    def get_file(
        self,
        sha256: str,
        dest: Path,
        expected: Digests | None = None,
        name: str | None = None,
    ) -> Path:
        """Download to ``dest`` atomically, resuming with Range after a broken connection
        and verifying the whole file. A large object comes straight from the store when
        the server signs a URL for it."""
        key = _checked_key(sha256)
        signed = None
        if expected is None or expected.length >= direct.DIRECT_MIN_BYTES:
            signed = direct.signed_download(self.transport, key)
        if signed is not None:
            request = signed
            return self._download(
                key, dest, expected, name, lambda at: direct.open_signed(request, at)
            )
        return self._download(key, dest, expected, name, lambda at: self._get(key, at))

    def _download(
        self,
        key: str,
        dest: Path,
        expected: Digests | None,
        name: str | None,
        open_at: Callable[[int], requests.Response],
    ) -> Path:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
        tmp = Path(tmp_name)
        hasher, failures, written = Hasher(), 0, 0
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    try:
                        with open_at(written) as response:
                            for chunk in response.iter_content(CHUNK_SIZE):
                                hasher.update(chunk)
                                out.write(chunk)
                                written += len(chunk)
                        break
                    except (requests.exceptions.RequestException, StoreError) as err:
                        failures += 1
                        if failures > RESUME_ATTEMPTS:
                            raise StoreError(f"downloading {key} from {self.url}: {err}") from None
                        time.sleep(min(2.0**failures * 0.1, 5.0))
            _compare(name or str(dest), key, expected, hasher.digests())
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return dest

    def delete(self, sha256: str) -> None:
        key = _checked_key(sha256)
        self.transport.request("DELETE", f"/objects/{key}", idempotent=True, expect=(200, 404))

    def iter_objects(self) -> Iterator[ObjectInfo]:
        return self.iter_objects_after(None)

    def iter_objects_after(self, after: str | None) -> Iterator[ObjectInfo]:
        while True:
            params = {"after": after} if after else {}
            page: dict[str, Any] = self.transport.request(
                "GET", "/objects", params=params, idempotent=True
            ).json()
            for item in page["objects"]:
                yield ObjectInfo(item["sha256"], int(item["length"]), item.get("modified"))
            after = page.get("next")
            if not after:
                return

    def fetch_url(self, sha256: str) -> str:
        return f"{self.url}/{_checked_key(sha256)}"


def _b64_md5(md5_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(md5_hex)).decode("ascii")


class _Reader:
    """``size`` bytes of ``handle`` from its current position, read in chunks (requests
    streams it). It can be rewound (``seek``/``tell`` within those bytes), so a retried
    request (urllib3 rewinds the body it retries; so does ``Transport``) sends the same
    bytes again rather than nothing."""

    def __init__(self, handle: BinaryIO, size: int) -> None:
        self.handle = handle
        self.start = handle.tell()
        self.size = size
        self.position = 0

    @property
    def remaining(self) -> int:
        return self.size - self.position

    def __len__(self) -> int:
        return self.size  # requests sends len() - tell() as the Content-Length

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        target = base + offset
        if not 0 <= target <= self.size:
            raise ValueError(f"seek to {target} outside a body of {self.size} bytes")
        self.position = target
        self.handle.seek(self.start + target)
        return target

    def read(self, size: int | None = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        wanted = self.remaining if size is None or size < 0 else min(size, self.remaining)
        chunk = self.handle.read(min(wanted, CHUNK_SIZE))
        self.position += len(chunk)
        return chunk


class _ClosingStream:
    """A response body as a file object that closes the response with it."""

    def __init__(self, raw: Any, response: requests.Response) -> None:
        self.raw = raw
        self.response = response

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self.raw.read(size)
            return data
        except Exception as err:  # urllib3 and requests errors mid-stream
            raise StoreError(f"reading from {self.response.url}: {err}") from None

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> _ClosingStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
