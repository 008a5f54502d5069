"""The client side of direct transfers (``server/transfers.py``): the server signs, the
bytes go straight to or from the object store.

Parts of a large upload are sent in parallel, each read from the file at its offset
(``os.pread``: no shared file position). A part that fails is sent again after asking
the server which parts the store has (with freshly signed requests, so an expired URL
is no dead end); the server checks the whole object before it is stored.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from assetry.client.transport import Transport
from assetry.errors import StoreError
from assetry.store.hashing import CHUNK_SIZE, Digests

DIRECT_MIN_BYTES = 8 << 20
"""Smaller objects go through the server in one request, which costs less than the
three a direct upload needs (start, send, complete)."""
PARALLEL_PARTS = 4
ATTEMPTS = 5
TIMEOUT = (10.0, 120.0)  # seconds to connect, and to wait for each answer

_local = threading.local()


def _session() -> requests.Session:
    """A session per thread, without the catalog's token: signed URLs carry their own
    permission, and the store must never see the catalog's credentials."""
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def upload(
    transport: Transport,
    fd: int,
    digests: Digests,
    table: str | None = None,
    asset_types: list[str] | None = None,
) -> bool:
    """Upload the object in file ``fd`` straight to the store the server's rules choose
    for ``table`` and ``asset_types``; False when the server wants the bytes itself (that
    store signs no URLs, or the server predates direct transfers)."""
    body: dict[str, Any] = {
        "sha256": digests.sha256,
        "md5": digests.md5,
        "length": digests.length,
        "table": table,
        "asset_types": asset_types or [],
    }
    response = transport.request(
        "POST", "/transfers/uploads", json_body=body, expect=(200, 201, 404)
    )
    if response.status_code == 404:
        return False  # an older server: no /transfers
    answer: dict[str, Any] = response.json()
    if answer.get("stored"):
        return True
    if not answer.get("direct"):
        return False
    path = f"/transfers/uploads/{answer['id']}"
    failures = 0
    while True:
        pending = [p for p in answer["parts"] if not p["received"]]
        failed = _send_parts(fd, pending)
        if not failed:
            break
        failures += 1
        if failures >= ATTEMPTS:
            raise StoreError(
                f"uploading {digests.sha256} to the store of {transport.url}: {failed[0]}"
            )
        time.sleep(min(2.0**failures * 0.1, 5.0))
        answer = transport.request("GET", path, idempotent=True).json()
    transport.request("POST", f"{path}/complete", idempotent=True)
    return True


def _send_parts(fd: int, parts: list[dict[str, Any]]) -> list[str]:
    """Send each part with its signed request; return what went wrong, if anything."""
    if len(parts) == 1:
        problem = _send_part(fd, parts[0])
        return [problem] if problem else []
    with ThreadPoolExecutor(min(PARALLEL_PARTS, len(parts))) as pool:
        problems = list(pool.map(lambda part: _send_part(fd, part), parts))
    return [p for p in problems if p]


def _send_part(fd: int, part: dict[str, Any]) -> str | None:
    request = part["request"]
    try:
        response = _session().request(
            request["method"],
            request["url"],
            data=_PartReader(fd, int(part["offset"]), int(part["size"])),
            headers={**request["headers"], "Content-Length": str(part["size"])},
            timeout=TIMEOUT,
        )
    except requests.RequestException as err:
        return f"part {part['number']}: {err}"
    if response.status_code >= 300:
        return f"part {part['number']}: the store answered {response.status_code}"
    return None


def signed_download(transport: Transport, sha256: str) -> dict[str, Any] | None:
    """The signed request for downloading ``sha256`` straight from the store, or None
    when the server streams it itself (or does not know the object: it says so then)."""
    response = transport.request(
        "GET", f"/transfers/objects/{sha256}", idempotent=True, expect=(200, 404)
    )
    if response.status_code == 404:
        return None  # an older server, or a missing object (the plain GET will say which)
    answer: dict[str, Any] = response.json()
    request: dict[str, Any] | None = answer.get("request") if answer.get("direct") else None
    return request


def open_signed(request: dict[str, Any], start: int) -> requests.Response:
    """The response of a signed GET from byte ``start`` (``StoreError`` on failure)."""
    headers = dict(request["headers"])
    if start:
        headers["Range"] = f"bytes={start}-"
    try:
        response = _session().request(
            request["method"], request["url"], headers=headers, stream=True, timeout=TIMEOUT
        )
    except requests.RequestException as err:
        raise StoreError(f"downloading from the store: {err}") from None
    if response.status_code != (206 if start else 200):
        response.close()
        raise StoreError(f"downloading from the store: it answered {response.status_code}")
    return response


class _PartReader:
    """Bytes ``offset`` to ``offset + size`` of file ``fd``, read with ``os.pread`` (so
    parts read by several threads at once do not disturb each other). Rewindable, so a
    retried request sends the same bytes."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self.fd, self.offset, self.size, self.position = fd, offset, size, 0

    def __len__(self) -> int:
        return self.size

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.position, os.SEEK_END: self.size}[whence]
        if not 0 <= base + offset <= self.size:
            raise ValueError(f"seek to {base + offset} outside a part of {self.size} bytes")
        self.position = base + offset
        return self.position

    def read(self, size: int | None = -1) -> bytes:
        remaining = self.size - self.position
        if remaining <= 0:
            return b""
        wanted = remaining if size is None or size < 0 else min(size, remaining)
        chunk = os.pread(self.fd, min(wanted, CHUNK_SIZE), self.offset + self.position)
        if not chunk:
            raise StoreError("the file being uploaded became shorter")
        self.position += len(chunk)
        return chunk
