"""Object routes: streamed, verified upload and download of content-addressed objects.

- ``PUT /objects/{sha256}`` stores one object in one request. The body is streamed to a
  temporary file while MD5, SHA-256 and length are computed; it is stored only if they
  match the path, ``Content-Length`` and ``Content-MD5`` (RFC 1864, base64). Otherwise
  nothing is stored and the answer is 4xx.
- Resumable uploads for large files: ``POST /uploads`` (declared sha256, md5, length)
  opens a session; ``PUT /uploads/{id}?offset=N`` appends a chunk at byte N;
  ``GET /uploads/{id}`` tells how much has arrived (to resume after a broken
  connection); ``POST /uploads/{id}/complete`` verifies the whole file and stores it.
- Completing is idempotent: concurrent or repeated ``complete`` calls of one upload
  all succeed with the same answer (one stores the object; the others find it done).
- A session expires ``upload_expiry`` seconds (default 24 h) after it began: it is
  refused from then on. Partial uploads left behind (``put-*.part`` of a killed
  ``PUT /objects``, expired sessions) are removed by ``collect_abandoned`` at startup,
  every few minutes while uploads start (``transfers.collect_now_and_then``) and by
  ``fsck --repair``.
- ``GET /objects/{sha256}`` streams an object (``Range: bytes=N-`` for resumed
  downloads); ``HEAD`` tells whether it is there; ``GET /objects`` lists them in pages.
"""

from __future__ import annotations

import base64
import binascii
import collections
import itertools
import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import pydantic
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from assetry.errors import (
    ChecksumMismatch,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from assetry.protocol.operations import ADMIN, READER, WRITER
from assetry.server import bodies
from assetry.server.auth import Principal
from assetry.server.state import ServerState, authorizer, current_state
from assetry.store.base import ObjectStore
from assetry.store.hashing import CHUNK_SIZE, Digests, Hasher, hash_file, is_sha256
from assetry.store.upload_folder import (
    lock_path,
    locked,
)

MAX_OBJECT_BYTES = 1 << 40  # one object (declared by an upload session); 1 TiB
MAX_SINGLE_PUT_BYTES = 1 << 30  # bigger objects go through resumable uploads
MAX_CHUNK_BYTES = 256 << 20
LIST_PAGE = 1000
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")  # always fullmatch: "$" would allow a "\n"
SHA256_PATTERN = "^[0-9a-f]{64}$"
TABLE_PATTERN = "^[A-Za-z][A-Za-z0-9_]{0,62}$"

router = APIRouter()
SCHEMA_DEFS: dict[str, Any] = {}
"""Schemas the request bodies below refer to (the app adds them to its OpenAPI document)."""


class UploadRequest(pydantic.BaseModel):
    """A resumable upload: what the whole file will be."""

    model_config = pydantic.ConfigDict(extra="forbid")
    sha256: str = pydantic.Field(pattern=SHA256_PATTERN)
    md5: str = pydantic.Field(pattern="^[0-9a-f]{32}$")
    length: int = pydantic.Field(ge=0)
    table: str | None = pydantic.Field(None, pattern=TABLE_PATTERN)
    asset_types: list[str] = pydantic.Field(default_factory=list, max_length=100)


def _role(name: str, what: str) -> Any:
    """A parameter default: the caller's principal, who must hold role ``name``."""
    return Depends(authorizer(name, what))


@router.head("/objects/{sha256}", tags=[READER], summary="Whether an object is stored")
async def head_object(
    sha256: str,
    principal: Principal = _role(READER, "reading objects"),
    state: ServerState = Depends(current_state),
) -> Response:
    info = await run_in_threadpool(state.store.stat, _key(sha256))
    if info is None:
        return Response(status_code=404)
    return Response(headers=_object_headers(sha256, info.length))


@router.get("/objects/{sha256}", tags=[READER], summary="Download an object (Range allowed)")
async def get_object(
    sha256: str,
    request: Request,
    principal: Principal = _role(READER, "reading objects"),
    state: ServerState = Depends(current_state),
) -> Response:
    store = state.store
    key = _key(sha256)
    info = await run_in_threadpool(store.stat, key)
    if info is None:
        raise NotFoundError(f"object {key} is not stored")
    path = store.local_path(key)
    headers = _object_headers(key, info.length)
    if path is not None:
        return FileResponse(path, headers=headers, media_type="application/octet-stream")
    start = _range_start(request.headers.get("range"), info.length)
    if start is None:
        return StreamingResponse(_stream(store, key, 0), headers=headers)
    headers["Content-Range"] = f"bytes {start}-{info.length - 1}/{info.length}"
    headers["Content-Length"] = str(info.length - start)
    return StreamingResponse(_stream(store, key, start), status_code=206, headers=headers)


@router.get("/objects", tags=[READER], summary="Stored objects, in pages by key")
async def list_objects(
    after: str | None = Query(None, pattern=SHA256_PATTERN),
    limit: int = Query(LIST_PAGE, ge=1, le=LIST_PAGE),
    principal: Principal = _role(READER, "listing objects"),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    items = await run_in_threadpool(_page, state.store, after, limit)
    return {"objects": items, "next": items[-1]["sha256"] if len(items) == limit else None}


@router.put("/objects/{sha256}", tags=[WRITER], summary="Store an object", status_code=201)
async def put_object(
    sha256: str,
    request: Request,
    content_length: int | None = Header(None),
    content_md5: str | None = Header(None),
    table: str | None = Query(None, pattern=TABLE_PATTERN, description="for store rules"),
    asset_type: list[str] = Query([], max_length=100, description="for store rules"),
    principal: Principal = _role(WRITER, "storing objects"),
    state: ServerState = Depends(current_state),
) -> JSONResponse:
    key = _key(sha256)
    if content_length is None:
        raise ValidationError("PUT /objects needs a Content-Length")
    if content_length < 0 or content_length > MAX_SINGLE_PUT_BYTES:
        return _too_large(content_length, MAX_SINGLE_PUT_BYTES, "POST /uploads")
    md5 = _md5_header(content_md5)
    tmp = _temp_file(state.upload_dir)
    try:
        hasher = Hasher()
        await _receive(request, tmp, content_length, append=False, hasher=hasher)
        digests = hasher.digests()
        if digests.length != content_length:
            raise ValidationError(
                f"truncated upload: {digests.length} of {content_length} bytes arrived"
            )
        _check(key, md5, digests.length, digests)
        await run_in_threadpool(_install, state.store, tmp, digests, table, asset_type)
    finally:
        tmp.unlink(missing_ok=True)
    return JSONResponse(_digest_body(digests), status_code=201)


@router.delete("/objects/{sha256}", tags=[ADMIN], summary="Remove an unreferenced object")
async def delete_object(
    sha256: str,
    principal: Principal = _role(ADMIN, "removing objects"),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    key = _key(sha256)
    referenced = await run_in_threadpool(state.backend.referenced_keys)
    if key in referenced:
        raise ConflictError(f"object {key} is referenced by asset rows; it stays")
    await run_in_threadpool(state.store.delete, key)
    return {"deleted": key}


# --- resumable uploads ----------------------------------------------------------------------


@router.post(
    "/uploads",
    tags=[WRITER],
    summary="Start a resumable upload",
    status_code=201,
    openapi_extra=bodies.body_schema(UploadRequest, SCHEMA_DEFS),
)
async def start_upload(
    request: Request,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> JSONResponse:
    # The body is read once the token is checked: no token, no parsing.
    upload = await bodies.read_model(request, UploadRequest)
    from assetry.server.transfers import collect_now_and_then

    await run_in_threadpool(collect_now_and_then, state)
    if upload.length > state.max_object_bytes:
        return _too_large(upload.length, state.max_object_bytes, "a smaller file")
    if await run_in_threadpool(state.store.stat, upload.sha256) is not None:
        return JSONResponse({"id": None, "offset": upload.length, "stored": True})
    upload_id = secrets.token_hex(16)
    meta = {**upload.model_dump(), "user": principal.user}
    _meta_path(state, upload_id).write_text(json.dumps(meta))
    _part_path(state, upload_id).touch()
    body = {"id": upload_id, "offset": 0, "length": upload.length, "stored": False}
    return JSONResponse(body, status_code=201)


@router.get("/uploads/{upload_id}", tags=[WRITER], summary="How much of an upload arrived")
async def upload_status(
    upload_id: str,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    meta = _session(state, upload_id, principal)
    offset = _part_size(state, upload_id)
    return {"id": upload_id, "offset": offset, "length": meta["length"]}


@router.put("/uploads/{upload_id}", tags=[WRITER], summary="Append a chunk at an offset")
async def upload_chunk(
    upload_id: str,
    request: Request,
    offset: int = Query(..., ge=0),
    content_length: int | None = Header(None),
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> Response:
    meta = _session(state, upload_id, principal)
    part = _part_path(state, upload_id)
    have = _part_size(state, upload_id)
    if offset != have:
        raise ConflictError(f"upload {upload_id} has {have} bytes; send the chunk at offset {have}")
    if content_length is None:
        raise ValidationError("a chunk needs a Content-Length")
    if content_length > MAX_CHUNK_BYTES or have + content_length > meta["length"]:
        return _too_large(
            content_length, min(MAX_CHUNK_BYTES, meta["length"] - have), "smaller chunks"
        )
    # Chunks are not hashed here: completion hashes the whole file once (chunks of
    # one upload may reach different workers).
    received = await _receive(request, part, content_length, append=True)
    offset = have + received
    return JSONResponse({"id": upload_id, "offset": offset, "length": meta["length"]})


@router.post(
    "/uploads/{upload_id}/complete",
    tags=[WRITER],
    summary="Verify a finished upload and store it",
    status_code=201,
)
async def complete_upload(
    upload_id: str,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> JSONResponse:
    try:
        meta = _session(state, upload_id, principal)
    except NotFoundError:
        # Completed a moment ago (by a concurrent or an earlier, repeated call)?
        finished = _finished_upload(upload_id, principal.user)
        if finished is None:
            raise
        return JSONResponse(finished)
    status, body = await run_in_threadpool(_complete, state, upload_id, meta)
    return JSONResponse(body, status_code=status)


@router.delete("/uploads/{upload_id}", tags=[WRITER], summary="Abandon an upload")
async def abort_upload(
    upload_id: str,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    _session(state, upload_id, principal)
    _discard(state, upload_id)
    return {"id": upload_id, "aborted": True}


# --- helpers ----------------------------------------------------------------------------


def _key(sha256: str) -> str:
    if not is_sha256(sha256):
        raise ValidationError(f"{sha256!r} is not an object key (64 lower-case hex digits)")
    return sha256


def _md5_header(value: str | None) -> str | None:
    """The hex MD5 of a Content-MD5 header (base64 of the 16-byte digest)."""
    if value is None:
        return None
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raw = b""
    if len(raw) != 16:
        raise ValidationError(f"Content-MD5 {value!r} is not the base64 of an MD5 digest")
    return raw.hex()


def _object_headers(sha256: str, length: int) -> dict[str, str]:
    return {
        "ETag": f'"{sha256}"',
        "X-Assetry-SHA256": sha256,
        "Content-Length": str(length),
        "Accept-Ranges": "bytes",
    }


def _range_start(header: str | None, length: int) -> int | None:
    if not header:
        return None
    match = re.fullmatch(r"bytes=(\d+)-", header.strip())
    if match is None:
        return None  # other range forms: send the whole object (allowed by RFC 9110)
    start = int(match.group(1))
    if start >= length:
        raise ValidationError(f"range start {start} is past the object's {length} bytes")
    return start


def _page(store: ObjectStore, after: str | None, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` stored objects with keys after ``after``, by key (the store
    starts its listing there: a page never lists the whole store)."""
    found = list(itertools.islice(store.iter_objects_after(after), limit))
    return [{"sha256": o.sha256, "length": o.length, "modified": o.modified} for o in found]


def _stream(store: ObjectStore, key: str, start: int) -> Iterator[bytes]:
    with store.open_raw(key) as handle:
        to_skip = start
        while to_skip:
            skipped = handle.read(min(to_skip, CHUNK_SIZE))
            if not skipped:
                return
            to_skip -= len(skipped)
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _temp_file(folder: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=folder, prefix="put-", suffix=".part")
    os.close(fd)
    return Path(name)


async def _receive(
    request: Request, path: Path, limit: int, append: bool, hasher: Hasher | None = None
) -> int:
    """Stream the request body into ``path`` (at most ``limit`` bytes, synced), feeding
    ``hasher`` if given; return how many bytes arrived."""
    received = 0
    with open(path, "ab" if append else "wb") as out:
        async for chunk in _body(request):
            received += len(chunk)
            if received > limit:
                raise ValidationError(f"the body is longer than its Content-Length {limit}")
            if hasher is not None:
                hasher.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return received


async def _body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            if chunk:
                yield chunk
    except ClientDisconnect:
        raise ValidationError("the client went away before the whole body arrived") from None


def _check(key: str, md5: str | None, length: int, found: Digests) -> None:
    if found.sha256 != key:
        raise ChecksumMismatch("upload", "sha256", key, found.sha256)
    if md5 is not None and found.md5 != md5:
        raise ChecksumMismatch("upload", "md5", md5, found.md5)
    if found.length != length:
        raise ChecksumMismatch("upload", "length", str(length), str(found.length))


def _install(
    store: ObjectStore,
    path: Path,
    digests: Digests,
    table: str | None = None,
    asset_types: Sequence[str] = (),
) -> None:
    """Put a verified file into the store the catalog's rules choose for it (by the
    asset table and types the client named, and size): moved when it can adopt it."""
    if store.exists(digests.sha256):
        return
    target = store.route(table, digests.length, asset_types)
    if target.adopt_supported and target.adopt(path, digests) is not None:
        return
    with open(path, "rb") as handle:
        stored = target.put_stream(handle)
    if stored.sha256 != digests.sha256:  # the file changed under us: never store that
        target.delete(stored.sha256)
        raise ChecksumMismatch("upload", "sha256", digests.sha256, stored.sha256)


def _digest_body(digests: Digests) -> dict[str, Any]:
    return {"sha256": digests.sha256, "md5": digests.md5, "length": digests.length}


def _too_large(size: int, limit: int, hint: str) -> JSONResponse:
    from assetry.protocol.wire import error_body

    error = ValidationError(f"{size} bytes is over the limit of {limit} here; use {hint}")
    return JSONResponse(error_body(error), status_code=413)


def _meta_path(state: ServerState, upload_id: str) -> Path:
    return state.upload_dir / f"{upload_id}.json"


def _part_path(state: ServerState, upload_id: str) -> Path:
    return state.upload_dir / f"{upload_id}.part"


def _part_size(state: ServerState, upload_id: str) -> int:
    try:
        return _part_path(state, upload_id).stat().st_size
    except FileNotFoundError:
        raise NotFoundError(f"upload {upload_id!r} has no data (abandoned)") from None


def _session(state: ServerState, upload_id: str, principal: Principal) -> dict[str, Any]:
    if not _UPLOAD_ID.fullmatch(upload_id):
        raise NotFoundError("no such upload (an upload id is 32 hex digits)")
    path = _meta_path(state, upload_id)
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
        began = path.stat().st_mtime  # the record is written once, when it began
    except (FileNotFoundError, ValueError):
        raise NotFoundError(f"no upload {upload_id!r} (finished, abandoned or unknown)") from None
    if meta.get("user") != principal.user:
        raise NotFoundError(f"no upload {upload_id!r} of user {principal.user!r}")
    if time.time() - began > state.upload_expiry:
        raise NotFoundError(
            f"upload {upload_id} expired ({state.upload_expiry:.0f} s after it began); "
            "start it again"
        )
    return meta


# Uploads this process completed lately: upload id -> (user, answer), so a complete that
# comes in just after another (concurrent, or a client's retry) answers the same.
_FINISHED: collections.OrderedDict[str, tuple[str, dict[str, Any]]] = collections.OrderedDict()
_FINISHED_KEPT = 10_000
_finished_guard = threading.Lock()


def _finished_upload(upload_id: str, user: str) -> dict[str, Any] | None:
    with _finished_guard:
        found = _FINISHED.get(upload_id)
    return dict(found[1]) if found is not None and found[0] == user else None


def _remember_finished(upload_id: str, user: str, answer: dict[str, Any]) -> None:
    with _finished_guard:
        _FINISHED[upload_id] = (user, dict(answer))
        while len(_FINISHED) > _FINISHED_KEPT:
            _FINISHED.popitem(last=False)


def _complete(state: ServerState, upload_id: str, meta: dict[str, Any]) -> tuple[int, Any]:
    """Verify and store a finished upload, once: concurrent calls wait for the first and
    answer what it stored (201 for the call that stored it, else 200)."""
    with locked(state.upload_dir, upload_id):
        declared = {"sha256": meta["sha256"], "md5": meta["md5"], "length": meta["length"]}
        if not _meta_path(state, upload_id).exists():
            # Completed meanwhile (or abandoned): answer what is stored.
            lock_path(state.upload_dir, upload_id).unlink(missing_ok=True)
            if state.store.stat(meta["sha256"]) is None:
                raise NotFoundError(f"no upload {upload_id!r} (finished, abandoned or unknown)")
            return 200, declared
        part = _part_path(state, upload_id)
        try:
            digests = hash_file(part)
        except FileNotFoundError:
            raise NotFoundError(f"upload {upload_id!r} has no data (abandoned)") from None
        if digests.length < meta["length"]:
            raise ValidationError(
                f"upload {upload_id} is incomplete: {digests.length} of {meta['length']} bytes"
            )
        try:
            _check(meta["sha256"], meta["md5"], meta["length"], digests)
        except ChecksumMismatch:
            _discard(state, upload_id)  # bad bytes are never resumed
            raise
        _install(state.store, part, digests, meta.get("table"), meta.get("asset_types", ()))
        answer = _digest_body(digests)
        _remember_finished(upload_id, str(meta.get("user")), answer)
        _discard(state, upload_id)
        return 201, answer


def _discard(state: ServerState, upload_id: str) -> None:
    """Remove a session's files. Whoever waits on its lock finds the record gone."""
    _part_path(state, upload_id).unlink(missing_ok=True)
    _meta_path(state, upload_id).unlink(missing_ok=True)
    lock_path(state.upload_dir, upload_id).unlink(missing_ok=True)


# --- locks and collection of abandoned uploads ----------------------------------------------
