"""The HTTP app: every Backend operation as one route, plus objects, uploads and admin.

Each operation route is ``POST /api/v1/ops/<name>`` with the method's arguments as a JSON
object (typed in the OpenAPI document, values in the wire format of
``assetry.protocol.wire``) and answers ``{"result": ...}``. Handlers are thin: authenticate,
check the role in ``operations.OPERATIONS``, call the ``SqlBackend`` method as the
token's user. The server keeps no state of its own beyond partial uploads on disk, so
several workers (or machines sharing the upload folder) can serve one catalog.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import typing
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import pydantic
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from assetry import config
from assetry.api import context
from assetry.backend import Backend
from assetry.catalog import check_model_document
from assetry.errors import AssetryError, ConfigError, ValidationError
from assetry.protocol import wire
from assetry.protocol.errors import with_status
from assetry.protocol.operations import OPERATIONS, operation_path
from assetry.server import admin, auth, bodies, errors, objects, pages
from assetry.server.state import ServerState, authorizer
from assetry.sql.backend import SqlBackend
from assetry.store import upload_folder

MAX_REQUEST_BYTES = 512 * 1024 * 1024  # JSON bodies that carry rows (insert, bag import)
SMALL_REQUEST_BYTES = 1024 * 1024  # every other JSON body
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
_REF_TEMPLATE = "#/components/schemas/{model}"

ENV_CATALOG = "ASSETRY_SERVE_CATALOG"
ENV_STORE = "ASSETRY_SERVE_STORE"
ENV_UPLOADS = "ASSETRY_SERVE_UPLOADS"

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
) -> FastAPI:
    """The app serving the catalog at ``catalog`` (a directory or database URL), with its
    recorded object store or ``store``.

    JSON bodies are limited to ``small_request_bytes``, or ``max_request_bytes`` for the
    operations that carry rows; a body that pauses for ``body_timeout`` seconds is
    dropped (408). Partial uploads untouched for ``abandoned_grace`` seconds are removed
    now, at startup."""
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
    )
    removed = upload_folder.collect_abandoned(state.upload_dir, state.store, abandoned_grace)
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
    app.state.schema_defs = {}
    for name, role in OPERATIONS.items():
        _add_operation(app, state, name, role)
    for router, schema_defs in (
        (admin.router, admin.SCHEMA_DEFS),
        (objects.router, objects.SCHEMA_DEFS),
        (pages.router, {}),
    ):
        app.include_router(router)
        app.state.schema_defs.update(schema_defs)
    _install_openapi(app)
    return app


def app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory`` workers, configured by ``assetry serve``."""
    catalog = os.environ.get(ENV_CATALOG)
    if not catalog:
        raise ConfigError(f"{ENV_CATALOG} is not set")
    return create_app(catalog, os.environ.get(ENV_STORE), os.environ.get(ENV_UPLOADS))


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("assetry")
    except PackageNotFoundError:
        return "0"


# --- operations ---------------------------------------------------------------------------


def _add_operation(app: FastAPI, state: ServerState, name: str, role: str) -> None:
    attribute = inspect.getattr_static(Backend, name)
    if isinstance(attribute, property):
        params: list[inspect.Parameter] = []
        hints: dict[str, Any] = {}
    else:
        params = [p for p in inspect.signature(attribute).parameters.values() if p.name != "self"]
        hints = typing.get_type_hints(attribute)
    fields: dict[str, Any] = {}
    for p in params:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            hints[p.name] = dict[str, Any]
            fields[p.name] = (dict[str, Any], {})
        else:
            default = ... if p.default is inspect.Parameter.empty else p.default
            if hasattr(pydantic.BaseModel, p.name):  # e.g. "schema": keep the wire name
                fields[p.name + "_"] = (hints[p.name], pydantic.Field(default, alias=p.name))
            else:
                fields[p.name] = (hints[p.name], default)
    doc = inspect.getdoc(attribute) or name
    model: type[pydantic.BaseModel] | None = None

    def run(body: bytes, principal: auth.Principal) -> bytes:
        # Parsing, checking, the call and encoding its result all happen on a worker
        # thread: a large or slow body never holds the event loop.
        raw = bodies.parse_json(body) if fields else {}
        args = _arguments(params, hints, raw)
        try:
            result = _call(state, name, principal, args)
        except AssetryError:
            raise  # the method's own checks: what an embedded caller hears
        except Exception:
            # The method tripped over a value of the wrong type: say which argument.
            problems = _type_problems(model, raw) if model is not None else []
            if problems:
                raise ValidationError(problems) from None
            raise
        return json.dumps({"result": wire.encode(result)}, allow_nan=False).encode("utf-8")

    async def endpoint(request: Request, principal: auth.Principal, **_: Any) -> Response:
        body = await request.body()  # bounded by _Guard
        answer = await run_in_threadpool(run, body, principal)
        return Response(answer, media_type="application/json")

    signature = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter(
            "principal",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=auth.Principal,
            default=Depends(authorizer(role, name)),
        ),
    ]
    extra: dict[str, Any] | None = None
    if fields:
        # The arguments are documented here and checked by the Backend method itself,
        # so a remote caller gets exactly the errors an embedded caller gets; when the
        # method fails on a wrongly typed argument instead (a TypeError, not an assetry
        # error), this model names the argument (422, not 500).
        model = pydantic.create_model(
            "".join(part.title() for part in name.split("_")) + "Arguments",
            __config__=pydantic.ConfigDict(extra="forbid"),
            **fields,
        )
        schema = model.model_json_schema(
            ref_template=_REF_TEMPLATE, mode="validation", by_alias=True
        )
        app.state.schema_defs.update(schema.pop("$defs", {}))
        content = {"application/json": {"schema": schema}}
        extra = {"requestBody": {"required": True, "content": content}}
    endpoint.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    app.add_api_route(
        operation_path(name),
        endpoint,
        methods=["POST"],
        name=name,
        summary=doc.splitlines()[0],
        description=f"{doc}\n\nRole: {role}.",
        tags=[role],
        openapi_extra=extra,
    )


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


def _arguments(
    params: list[inspect.Parameter], hints: dict[str, Any], raw: Any
) -> tuple[list[Any], dict[str, Any]]:
    """The call's positional arguments (in the Backend method's order, defaults filled
    in) and its keyword-only extras (``**values`` of change_term)."""
    if not isinstance(raw, dict):
        raise ValidationError("the request body must be a JSON object of arguments")
    unknown = sorted(set(raw) - {p.name for p in params})
    if unknown:
        raise ValidationError(f"unknown arguments: {', '.join(unknown)}")
    positional: list[Any] = []
    extras: dict[str, Any] = {}
    for p in params:
        if p.name in raw:
            value = wire.shape(hints[p.name], wire.decode(raw[p.name]))
            if p.kind is p.VAR_KEYWORD and not isinstance(value, dict):
                raise ValidationError(
                    f"argument {p.name}: must be an object of named values, got {value!r}"
                )
        elif p.kind is p.VAR_KEYWORD:
            value = {}
        elif p.default is inspect.Parameter.empty:
            raise ValidationError(f"missing argument {p.name!r}")
        else:
            value = p.default
        if p.kind is p.VAR_KEYWORD:
            extras = value
        else:
            positional.append(value)
    return positional, extras


def _listed(value: Any) -> Any:
    """Sets (``$set`` on the wire) as lists, as a Sequence argument takes them."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, list):
        return [_listed(v) for v in value]
    return value


def _type_problems(model: type[pydantic.BaseModel], raw: dict[str, Any]) -> list[str]:
    """How the arguments differ from the types the model documents (none: they fit)."""
    try:
        model.model_validate({k: _listed(wire.decode(v)) for k, v in raw.items()})
    except pydantic.ValidationError as err:
        return bodies.problems_of(err, "argument ")
    except (AssetryError, RecursionError):
        return []
    return []


def _call(
    state: ServerState,
    name: str,
    principal: auth.Principal,
    args: tuple[list[Any], dict[str, Any]],
) -> Any:
    backend = state.backend
    if name == "settings":
        return backend.settings
    positional, extras = args
    if name in ("apply_model", "import_rows"):
        # What the Python API checks before these calls, the server checks for callers
        # that come straight over HTTP.
        check_model_document(positional[0])
    if name == "import_rows":
        _check_import_tables(positional[1])
    # The backend authorizes by what the call touches (``catalog/policy.py``): a bag
    # import that creates tables or terms needs curator, system tables are written only
    # by their own operations, built-in terms never change.
    with config.acting_as(principal.user, principal.role):
        result = getattr(backend, name)(*positional, **extras)
        if isinstance(result, typing.Iterator):
            result = list(result)
    return result


def _check_import_tables(tables: Any) -> None:
    if not isinstance(tables, dict) or not all(
        isinstance(rows, list) and all(isinstance(row, dict) for row in rows)
        for rows in tables.values()
    ):
        raise ValidationError("tables must map table names to lists of rows (objects)")


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
