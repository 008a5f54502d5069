"""The HTTP app: ``create_app`` builds the state, the app and its middleware, and adds
the routes, each group in its own module:

- ``ops.py``: every Backend operation as ``POST /api/v1/ops/<name>``, generated from the
  Backend's signatures (one route per entry of ``protocol.operations.OPERATIONS``);
- ``admin.py`` (whoami, tokens, upgrade), ``objects.py`` (objects and resumable uploads)
  and ``pages.py`` (``/``, ``/health``, ``/docs``): module-level routers.

Routes find the state through the request (``state.py``). The server keeps no state of
its own beyond partial uploads on disk, so several workers (or machines sharing the
upload folder) can serve one catalog. ``_Guard``, here, is what every request passes
first (body limits and timeouts, the answer to an unexpected error).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.responses import Response

from assetry import config
from assetry.api import context
from assetry.errors import AssetryError, ConfigError, ValidationError
from assetry.protocol.errors import with_status
from assetry.protocol.operations import OPERATIONS, operation_path
from assetry.server import admin, auth, errors, limits, objects, ops, pages, transfers
from assetry.server.state import ServerState
from assetry.sql.backend import SqlBackend
from assetry.store import upload_folder

MAX_REQUEST_BYTES = 512 * 1024 * 1024  # JSON bodies that carry rows (insert, bag import)
SMALL_REQUEST_BYTES = 1024 * 1024  # every other JSON body
UPLOAD_EXPIRY_SECONDS = 86400.0  # an upload session is refused a day after it began
BODY_TIMEOUT = 60.0  # seconds a request body may pause before the request is dropped
# The operations whose arguments carry rows (or other bulk data): only these may send
# bodies up to ``max_request_bytes``.
ROW_OPERATIONS = frozenset(
    {
        "insert",
        "update",
        "delete",
        "import_rows",
        "record_outputs",
        "apply_model",
        "create_execution",
        "link_assets",
        "add_dataset_members",
        "delete_dataset_members",
    }
)

ENV_CATALOG = "ASSETRY_SERVE_CATALOG"
ENV_STORE = "ASSETRY_SERVE_STORE"
ENV_UPLOADS = "ASSETRY_SERVE_UPLOADS"
ENV_UPLOAD_EXPIRY = "ASSETRY_SERVE_UPLOAD_EXPIRY"
ENV_RATE_LIMIT = "ASSETRY_SERVE_RATE_LIMIT"

log = logging.getLogger("assetry.server")


def create_app(
    catalog: str,
    store: str | None = None,
    upload_dir: str | os.PathLike[str] | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_object_bytes: int = objects.MAX_OBJECT_BYTES,
    small_request_bytes: int = SMALL_REQUEST_BYTES,
    body_timeout: float = BODY_TIMEOUT,
    abandoned_grace: float = upload_folder.ABANDONED_GRACE_SECONDS,
    upload_expiry: float = UPLOAD_EXPIRY_SECONDS,
    rate_limit: float | None = limits.DEFAULT_RATE,
    rate_burst: float | None = None,
) -> FastAPI:
    """The app serving the catalog at ``catalog`` (a directory or database URL), with its
    recorded object store or ``store``.

    JSON bodies are limited to ``small_request_bytes``, or ``max_request_bytes`` for the
    operations that carry rows; a body that pauses for ``body_timeout`` seconds is
    dropped (408). An upload session expires ``upload_expiry`` seconds after it began;
    expired sessions, and partial files of single uploads untouched for
    ``abandoned_grace`` seconds, are removed now, at startup, and every few minutes.
    Each token may make ``rate_limit`` requests per second (bursts of ``rate_burst``,
    by default ten times that; None: no limit); more are answered 429 with
    ``Retry-After``."""
    if config.resolve_location(catalog).remote:
        raise ConfigError("a server serves a directory or database catalog, not another server")
    location = config.resolve_location(catalog)
    backend = SqlBackend.at(location)
    if store is not None:
        from assetry.store.registry import open_store

        backend.attach_store(open_store(config.check_store_url(store)))
    local_root = context.local_root(location, backend.settings["rid_prefix"])
    uploads = Path(upload_dir) if upload_dir else local_root / "server-uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    state = ServerState(
        location.text,
        backend,
        backend.object_store(),
        uploads.resolve(),
        max_request_bytes,
        max_object_bytes,
        small_request_bytes,
        upload_expiry,
        abandoned_grace,
    )
    removed = upload_folder.collect_abandoned(
        state.upload_dir, state.store, abandoned_grace, session_expiry=upload_expiry
    )
    removed += transfers.collect_expired(state)
    if removed:
        log.info("removed %d abandoned partial uploads", len(removed))

    app = FastAPI(
        title="assetry",
        version=_version(),
        description="A schema-driven data catalog: the whole assetry API over HTTP.",
        docs_url=None,  # pages.py serves /docs with swagger-ui files of its own (no CDN)
        redoc_url=None,
    )
    app.state.assetry = state
    private = [state.upload_dir, local_root]
    store_root = getattr(state.store, "root", None)
    if isinstance(store_root, Path):
        private.append(store_root)
    errors.install(app, private)
    app.add_middleware(
        _Guard,
        large=max_request_bytes,
        small=small_request_bytes,
        body_timeout=body_timeout,
        scrub=app.state.scrubber,
    )
    if rate_limit is not None:
        # Added last, so it runs first: a caller over its limit costs the server nothing.
        burst = rate_burst if rate_burst is not None else rate_limit * limits.BURST_SECONDS
        buckets = limits.TokenBuckets(rate_limit, max(1.0, burst))
        app.add_middleware(limits.RateLimit, buckets=buckets)
    app.state.schema_defs = {}
    for name, role in OPERATIONS.items():
        ops.add_operation(app, name, role)
    for router, schema_defs in (
        (admin.router, admin.SCHEMA_DEFS),
        (objects.router, objects.SCHEMA_DEFS),
        (transfers.router, transfers.SCHEMA_DEFS),
        (pages.router, {}),
    ):
        app.include_router(router)
        app.state.schema_defs.update(schema_defs)
    app.mount("/ui", _web_interface(location.text, backend, local_root))
    _install_openapi(app)
    return app


def _web_interface(location: str, backend: SqlBackend, local_root: Path) -> FastAPI:
    """The web interface (API §14) at ``/ui``: its pages read a ``Catalog`` of the same
    catalog, signed in with the API's own tokens and acting with their roles."""
    from assetry.catalog import Catalog
    from assetry.ui import create_ui

    def authenticate(token: str) -> tuple[str, str]:
        principal = auth.authenticate(backend, token)
        return principal.user, principal.role

    return create_ui(Catalog(location), authenticate, local_root / "ui-sessions")


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory`` workers, configured by ``assetry serve``."""
    catalog = os.environ.get(ENV_CATALOG)
    if not catalog:
        raise ConfigError(f"{ENV_CATALOG} is not set")
    expiry = os.environ.get(ENV_UPLOAD_EXPIRY)
    rate = float(os.environ.get(ENV_RATE_LIMIT) or limits.DEFAULT_RATE)
    return create_app(
        catalog,
        os.environ.get(ENV_STORE),
        os.environ.get(ENV_UPLOADS),
        upload_expiry=float(expiry) if expiry else UPLOAD_EXPIRY_SECONDS,
        rate_limit=rate if rate > 0 else None,
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("assetry")
    except PackageNotFoundError:
        return "0"


def _install_openapi(app: FastAPI) -> None:
    """The generated document plus the argument schemas the operation routes name."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(app.state.schema_defs)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- request size ---------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _Guard:
    """What every request passes first.

    - JSON bodies over their limit are refused (413) before they are read: the small
      limit, or the large one for the operations that carry rows; object and chunk
      uploads (``PUT /objects``, ``PUT /uploads``) set their own limits.
    - A body that pauses for ``body_timeout`` seconds ends the request (408).
    - An answer sent before the request's body was read whole says
      ``Connection: close`` (the unread rest would otherwise be taken for the next
      request on the connection).
    - An unexpected exception is logged once and answered 500 with a JSON error.
    """

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        large: int,
        small: int,
        body_timeout: float,
        scrub: errors.Scrubber,
    ) -> None:
        self.app = app
        self.large = large
        self.small = small
        self.body_timeout = body_timeout
        self.scrub = scrub

    def limit(self, method: str, path: str) -> int | None:
        if method == "PUT" and path.startswith(("/objects/", "/uploads/")):
            return None
        prefix = operation_path("")
        if path.startswith(prefix) and path[len(prefix) :] in ROW_OPERATIONS:
            return self.large
        return self.small

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length_header = headers.get(b"content-length")
        chunked = b"transfer-encoding" in headers
        try:
            length = int(length_header) if length_header is not None else 0
        except ValueError:
            length = -1
        limit = self.limit(str(scope.get("method")), str(scope.get("path", "")))
        body_done = not chunked and length == 0
        started = False

        async def answer(exc: AssetryError | None, status: int | None = None) -> None:
            nonlocal started
            if exc is None:
                response: Response = Response(
                    json.dumps(errors.internal_error_body()),
                    status_code=500,
                    media_type="application/json",
                )
            else:
                if status is not None:
                    with_status(exc, status)
                response = errors.error_response(exc, scrub=self.scrub)
            if not body_done:
                response.headers["Connection"] = "close"
            started = True
            await response(scope, receive, send)

        if length < 0 or (limit is not None and length > limit):
            shown = length_header.decode("latin-1")[:30] if length_header else "?"
            if length < 0:
                error = ValidationError(f"bad Content-Length {shown!r}")
                await answer(error)
            else:
                await answer(ValidationError(f"the request body is over {limit} bytes"), 413)
            return
        seen = 0

        async def guarded_receive() -> Message:
            nonlocal seen, body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except TimeoutError:
                error = ValidationError(
                    f"the request body stopped arriving for {self.body_timeout:g} s"
                )
                raise with_status(error, 408) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if limit is not None and seen > limit:
                    error = ValidationError(f"the request body is over {limit} bytes")
                    raise with_status(error, 413)
                if not message.get("more_body", False):
                    body_done = True
            else:
                body_done = True  # the client went away
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not body_done:
                    raw = list(message.get("headers") or [])
                    if not any(k.lower() == b"connection" for k, _ in raw):
                        raw.append((b"connection", b"close"))
                    message = {**message, "headers": raw}
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await answer(None)
