"""Direct transfers (API §11): with a store that signs URLs (S3; see ``store.direct``),
object bytes go between client and store, not through the server.

- ``POST /transfers/uploads`` (declared sha256, md5, length and, for routing, the asset
  table) answers ``{"stored": true}`` when the object is stored already,
  ``{"direct": false}`` when the store it goes to cannot sign URLs (the client then uses
  ``PUT /objects`` or ``/uploads``), or an upload: its id and its parts, each with a
  signed request to send it with.
- ``GET /transfers/uploads/{id}`` tells which parts the store has, with fresh signed
  requests for the others (to resume after a broken connection or expired URLs).
- ``POST /transfers/uploads/{id}/complete`` assembles the parts, reads the result once
  to check SHA-256, MD5 and length, and only then places it under its content key.
  Idempotent, like ``/uploads`` completion.
- ``DELETE /transfers/uploads/{id}`` abandons it.
- ``GET /transfers/objects/{sha256}`` answers a signed GET of a stored object (or
  ``{"direct": false}``).

A session is a small JSON file in the server's upload folder (any worker can continue
it) and expires ``upload_expiry`` seconds after it began: it is refused from then on,
and the collector (at startup and every few minutes) abandons it in its store.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pydantic
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from assetry.errors import ChecksumMismatch, NotFoundError, StoreError
from assetry.protocol.operations import READER, WRITER
from assetry.server import bodies
from assetry.server.auth import Principal
from assetry.server.objects import SHA256_PATTERN, TABLE_PATTERN, _key, _too_large
from assetry.server.state import ServerState, authorizer, current_state
from assetry.store.base import ObjectStore
from assetry.store.direct import DirectTransfers, PartPlan
from assetry.store.hashing import Digests
from assetry.store.storeset import StoreSet
from assetry.store.upload_folder import locked

PREFIX = "direct-"
_ID_LENGTH = 32
COLLECT_EVERY_SECONDS = 600.0

router = APIRouter()
SCHEMA_DEFS: dict[str, Any] = {}
log = logging.getLogger("assetry.server")


class DirectUploadRequest(pydantic.BaseModel):
    """What the whole object will be, and the asset table it is for (store rules)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    sha256: str = pydantic.Field(pattern=SHA256_PATTERN)
    md5: str = pydantic.Field(pattern="^[0-9a-f]{32}$")
    length: int = pydantic.Field(ge=0)
    table: str | None = pydantic.Field(None, pattern=TABLE_PATTERN)
    asset_types: list[str] = pydantic.Field(default_factory=list, max_length=100)


def _role(name: str, what: str) -> Any:
    return Depends(authorizer(name, what))


@router.post(
    "/transfers/uploads",
    tags=[WRITER],
    summary="Start an upload straight to the object store",
    openapi_extra=bodies.body_schema(DirectUploadRequest, SCHEMA_DEFS),
)
async def start_direct_upload(
    request: Request,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> JSONResponse:
    upload = await bodies.read_model(request, DirectUploadRequest)
    if upload.length > state.max_object_bytes:
        return _too_large(upload.length, state.max_object_bytes, "a smaller file")
    body = await run_in_threadpool(_start, state, upload, principal.user)
    return JSONResponse(body, status_code=201 if "id" in body else 200)


@router.get("/transfers/uploads/{upload_id}", tags=[WRITER], summary="A direct upload's parts")
async def direct_upload_status(
    upload_id: str,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    meta = _session(state, upload_id, principal.user)
    return await run_in_threadpool(_describe, state, upload_id, meta, True)


@router.post(
    "/transfers/uploads/{upload_id}/complete",
    tags=[WRITER],
    summary="Check a direct upload and store it",
    status_code=201,
)
async def complete_direct_upload(
    upload_id: str,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> JSONResponse:
    status, body = await run_in_threadpool(_complete, state, upload_id, principal.user)
    return JSONResponse(body, status_code=status)


@router.delete("/transfers/uploads/{upload_id}", tags=[WRITER], summary="Abandon a direct upload")
async def abort_direct_upload(
    upload_id: str,
    principal: Principal = _role(WRITER, "uploading"),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    meta = _session(state, upload_id, principal.user)
    await run_in_threadpool(_abandon, state, upload_id, meta)
    return {"id": upload_id, "aborted": True}


@router.get("/transfers/objects/{sha256}", tags=[READER], summary="A signed download URL")
async def direct_download(
    sha256: str,
    principal: Principal = _role(READER, "reading objects"),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    return await run_in_threadpool(_download, state, _key(sha256))


# --- the work, on worker threads ----------------------------------------------------------


def _start(state: ServerState, upload: DirectUploadRequest, user: str) -> dict[str, Any]:
    collect_now_and_then(state)
    if state.store.stat(upload.sha256) is not None:
        return {"stored": True, "direct": True}
    name, target = _route(state.store, upload.table, upload.length, upload.asset_types)
    direct = target.direct()
    if direct is None:
        return {"stored": False, "direct": False}
    digests = Digests(md5=upload.md5, sha256=upload.sha256, length=upload.length)
    plan = direct.begin_upload(digests)
    upload_id = secrets.token_hex(_ID_LENGTH // 2)
    meta = {
        "sha256": upload.sha256,
        "md5": upload.md5,
        "length": upload.length,
        "user": user,
        "store": name,
        "state": plan.state,
        "parts": [p.to_dict() for p in plan.parts],
    }
    _meta_path(state.upload_dir, upload_id).write_text(json.dumps(meta))
    return _describe(state, upload_id, meta, False)


def _describe(
    state: ServerState, upload_id: str, meta: dict[str, Any], look: bool
) -> dict[str, Any]:
    """The session with a signed request for every part the store lacks (``look``: ask
    the store which it has; otherwise none yet)."""
    direct = _direct_of(state, meta)
    digests = _declared(meta)
    received = direct.received_parts(meta["state"]) if look else {}
    parts = []
    for plan in _parts(meta):
        part: dict[str, Any] = plan.to_dict()
        part["received"] = received.get(plan.number) == plan.size
        if not part["received"]:
            part["request"] = direct.sign_part(meta["state"], plan, digests).to_dict()
        parts.append(part)
    return {
        "id": upload_id,
        "stored": False,
        "direct": True,
        "length": meta["length"],
        "expires": _created(state.upload_dir, upload_id) + state.upload_expiry,
        "parts": parts,
    }


def _complete(state: ServerState, upload_id: str, user: str) -> tuple[int, dict[str, Any]]:
    with locked(state.upload_dir, PREFIX + upload_id):
        try:
            meta = _session(state, upload_id, user)
        except NotFoundError:
            with _finished_guard:
                done = _finished.get(upload_id)
            if done is not None and done[0] == user:
                return 200, dict(done[1])  # completed a moment ago (a repeated call)
            raise
        declared = _declared(meta)
        if state.store.stat(declared.sha256) is not None:
            found = declared  # stored meanwhile by someone else: these bytes are not needed
            _abandon(state, upload_id, meta)
        else:
            try:
                found = _direct_of(state, meta).finish(meta["state"], _parts(meta), declared)
            except (NotFoundError, ChecksumMismatch):
                # Gone from the store, or bad bytes (dropped by ``finish``): never resumed.
                _discard(state.upload_dir, upload_id)
                raise
            _discard(state.upload_dir, upload_id)
        answer = {"sha256": found.sha256, "md5": found.md5, "length": found.length}
        with _finished_guard:
            _finished[upload_id] = (user, answer)
            while len(_finished) > _FINISHED_KEPT:
                del _finished[next(iter(_finished))]
        return 201, answer


def _download(state: ServerState, key: str) -> dict[str, Any]:
    store = state.store
    holder: ObjectStore | None = store
    if isinstance(store, StoreSet):
        found = store.holder(key)
        holder = found[1] if found else None
    info = holder.stat(key) if holder is not None else None
    if holder is None or info is None:
        raise NotFoundError(f"object {key} is not stored")
    direct = holder.direct()
    if direct is None:
        return {"direct": False, "length": info.length}
    return {"direct": True, "length": info.length, "request": direct.sign_download(key).to_dict()}


def _abandon(state: ServerState, upload_id: str, meta: dict[str, Any]) -> None:
    _direct_of(state, meta).abandon(meta["state"])
    _discard(state.upload_dir, upload_id)


# --- sessions -----------------------------------------------------------------------------

# Uploads this process completed lately: id -> (user, answer).
_finished: dict[str, tuple[str, dict[str, Any]]] = {}
_FINISHED_KEPT = 10_000
_finished_guard = threading.Lock()


def _meta_path(folder: Path, upload_id: str) -> Path:
    return folder / f"{PREFIX}{upload_id}.json"


def _created(folder: Path, upload_id: str) -> float:
    return _meta_path(folder, upload_id).stat().st_mtime  # written once, when it began


def _session(state: ServerState, upload_id: str, user: str) -> dict[str, Any]:
    if len(upload_id) != _ID_LENGTH or not all(c in "0123456789abcdef" for c in upload_id):
        raise NotFoundError("no such upload (an upload id is 32 hex digits)")
    path = _meta_path(state.upload_dir, upload_id)
    try:
        meta: dict[str, Any] = json.loads(path.read_text())
        began = path.stat().st_mtime
    except (FileNotFoundError, ValueError):
        raise NotFoundError(f"no upload {upload_id!r} (finished, abandoned or unknown)") from None
    if meta.get("user") != user:
        raise NotFoundError(f"no upload {upload_id!r} of user {user!r}")
    if time.time() - began > state.upload_expiry:
        raise NotFoundError(
            f"upload {upload_id} expired ({state.upload_expiry:.0f} s after it began); "
            "start it again"
        )
    return meta


def _discard(folder: Path, upload_id: str) -> None:
    _meta_path(folder, upload_id).unlink(missing_ok=True)
    (folder / f"{PREFIX}{upload_id}.lock").unlink(missing_ok=True)


def _declared(meta: dict[str, Any]) -> Digests:
    return Digests(md5=meta["md5"], sha256=meta["sha256"], length=int(meta["length"]))


def _parts(meta: dict[str, Any]) -> list[PartPlan]:
    return [PartPlan.from_dict(p) for p in meta["parts"]]


def _route(
    store: ObjectStore, table: str | None, size: int, asset_types: list[str]
) -> tuple[str | None, ObjectStore]:
    if isinstance(store, StoreSet):
        return store.route_named(table, size, asset_types)
    return None, store.route(table, size, asset_types)


def _direct_of(state: ServerState, meta: dict[str, Any]) -> DirectTransfers:
    store = state.store
    name = meta.get("store")
    member = store.member(name) if isinstance(store, StoreSet) and name else store
    direct = member.direct()
    if direct is None:
        raise StoreError(f"the store {member.url} no longer signs URLs")
    return direct


# --- expiry -------------------------------------------------------------------------------

_last_collected = [0.0]


def collect_now_and_then(state: ServerState) -> None:
    """Run ``collect_expired`` if this process has not in ``COLLECT_EVERY_SECONDS``."""
    now = time.monotonic()
    if now - _last_collected[0] < COLLECT_EVERY_SECONDS:
        return
    _last_collected[0] = now
    from assetry.store.upload_folder import collect_abandoned

    removed = collect_abandoned(
        state.upload_dir, state.store, state.abandoned_grace, session_expiry=state.upload_expiry
    )
    removed += collect_expired(state)
    if removed:
        log.info("removed %d expired or abandoned partial uploads", len(removed))


def collect_expired(state: ServerState) -> list[Path]:
    """Abandon direct uploads older than the expiry in their stores and drop their
    sessions; return the session files removed. One whose store cannot be reached now
    is kept for the next round."""
    folder = state.upload_dir
    cutoff = time.time() - state.upload_expiry
    removed: list[Path] = []
    for path in sorted(folder.glob(f"{PREFIX}*.json")):
        upload_id = path.name[len(PREFIX) : -len(".json")]
        try:
            if path.stat().st_mtime >= cutoff:
                continue
            meta = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            continue
        with locked(folder, PREFIX + upload_id, wait=False) as held:
            if not held:
                continue  # being completed right now
            try:
                _direct_of(state, meta).abandon(meta["state"])
            except (StoreError, NotFoundError) as err:
                log.warning("could not abandon expired upload %s yet: %s", upload_id, err)
                continue
            _discard(folder, upload_id)
            removed.append(path)
    return removed
