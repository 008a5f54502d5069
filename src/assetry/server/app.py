"""The HTTP app: every Backend operation as one route, plus objects, uploads and admin.

Each operation route is ``POST /api/v1/ops/<name>`` with the method's arguments as a JSON
object (typed in the OpenAPI document, values in the wire format of
``assetry.client.wire``) and answers ``{"result": ...}``. Handlers are thin: authenticate,
check the role in ``operations.OPERATIONS``, call the ``SqlBackend`` method as the
token's user. The server keeps no state of its own beyond partial uploads on disk, so
several workers (or machines sharing the upload folder) can serve one catalog.
"""

from __future__ import annotations

import inspect
import json
import os
import typing
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from assetry import config
from assetry.catalog.backend import Backend
from assetry.catalog.facade import Catalog, check_model_document
from assetry.catalog.sql_backend import SqlBackend
from assetry.client import wire
from assetry.errors import ConfigError, ValidationError
from assetry.server import auth, errors, objects
from assetry.server.operations import ADMIN, CURATOR, OPERATIONS, READER, operation_path
from assetry.store.base import ObjectStore

MAX_REQUEST_BYTES = 512 * 1024 * 1024  # JSON bodies (a large insert or bag import)
_REF_TEMPLATE = "#/components/schemas/{model}"

ENV_CATALOG = "ASSETRY_SERVE_CATALOG"
ENV_STORE = "ASSETRY_SERVE_STORE"
ENV_UPLOADS = "ASSETRY_SERVE_UPLOADS"

_bearer = HTTPBearer(auto_error=False, description="an assetry token: `assetry token create`")


@dataclass
class ServerState:
    """What every request handler needs: the backend, the store, the upload folder."""

    catalog: Catalog
    backend: SqlBackend
    store: ObjectStore
    upload_dir: Path
    max_request_bytes: int = MAX_REQUEST_BYTES
    max_object_bytes: int = objects.MAX_OBJECT_BYTES


def create_app(
    catalog: str,
    store: str | None = None,
    upload_dir: str | os.PathLike[str] | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_object_bytes: int = objects.MAX_OBJECT_BYTES,
) -> FastAPI:
    """The app serving the catalog at ``catalog`` (a directory or database URL), with its
    recorded object store or ``store``."""
    if config.resolve_location(catalog).remote:
        raise ConfigError("a server serves a directory or database catalog, not another server")
    cat = Catalog(catalog)
    if store is not None:
        from assetry.store.registry import open_store

        cat._store_cache = open_store(config.check_store_url(store))
    backend = cat._backend
    assert isinstance(backend, SqlBackend)
    uploads = Path(upload_dir) if upload_dir else cat._local_root() / "server-uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    state = ServerState(
        cat, backend, cat._store(), uploads.resolve(), max_request_bytes, max_object_bytes
    )

    app = FastAPI(
        title="assetry",
        version=_version(),
        description="A schema-driven data catalog: the whole assetry API over HTTP.",
    )
    app.state.assetry = state
    errors.install(app)
    app.add_middleware(_RequestLimit, limit=max_request_bytes)
    app.state.schema_defs = {}
    for name, role in OPERATIONS.items():
        _add_operation(app, state, name, role)
    _add_admin_routes(app, state)
    objects.add_routes(app, state, authorizer)
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


# --- authentication -----------------------------------------------------------------------


def authorizer(state: ServerState, role: str, what: str) -> Callable[..., Awaitable[Any]]:
    """A dependency: the caller's principal, which must hold ``role``."""

    async def dependency(
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> auth.Principal:
        token = credentials.credentials if credentials is not None else None
        principal = await run_in_threadpool(auth.authenticate, state.backend, token)
        principal.require(role, what)
        return principal

    return dependency


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

    async def endpoint(request: Request, principal: auth.Principal, **_: Any) -> Response:
        try:
            raw = await request.json() if fields else {}
        except ValueError as err:  # not JSON, or not UTF-8
            raise ValidationError(f"the request body is not JSON: {err}") from None
        args = _arguments(params, hints, raw)
        result = await run_in_threadpool(_call, state, name, principal, args)
        body = json.dumps({"result": wire.encode(result)}, allow_nan=False)
        return Response(body, media_type="application/json")

    signature = [
        inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter(
            "principal",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=auth.Principal,
            default=Depends(authorizer(state, role, name)),
        ),
    ]
    extra: dict[str, Any] | None = None
    if fields:
        # The arguments are documented here and checked by the Backend method itself,
        # so a remote caller gets exactly the errors an embedded caller gets.
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
        current = {t["name"] for t in backend.model_document()["tables"]}
        new = sorted(set(positional[1] or {}) - current)
        if new:
            principal.require(CURATOR, f"a bag import that creates tables ({', '.join(new)})")
    with config.acting_as(principal.user):
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


# --- admin ----------------------------------------------------------------------------------


class TokenRequest(pydantic.BaseModel):
    """A new token: the user it acts as, its role, an optional lifetime (``30d``)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    user: str
    role: str
    expires_in: str | None = None
    description: str | None = None


def _add_admin_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/api/v1/whoami", tags=[READER], summary="The caller's user name and role")
    async def whoami(
        principal: auth.Principal = Depends(authorizer(state, READER, "whoami")),
    ) -> dict[str, str]:
        return {"user": principal.user, "role": principal.role}

    @app.get("/api/v1/tokens", tags=[ADMIN], summary="Every token (never its secret)")
    async def list_tokens(
        principal: auth.Principal = Depends(authorizer(state, ADMIN, "listing tokens")),
    ) -> list[dict[str, Any]]:
        found = await run_in_threadpool(auth.list_tokens, state.backend)
        return [t.as_dict() for t in found]

    @app.post("/api/v1/tokens", tags=[ADMIN], summary="Make a token", status_code=201)
    async def create_token(
        request: TokenRequest,
        principal: auth.Principal = Depends(authorizer(state, ADMIN, "making tokens")),
    ) -> dict[str, Any]:
        lifetime = auth.parse_duration(request.expires_in) if request.expires_in else None

        def make() -> tuple[str, auth.TokenInfo]:
            with config.acting_as(principal.user):
                return auth.create_token(
                    state.backend, request.user, request.role, lifetime, request.description
                )

        token, info = await run_in_threadpool(make)
        return {"token": token, **info.as_dict()}

    @app.delete("/api/v1/tokens/{token_id}", tags=[ADMIN], summary="Revoke a token")
    async def revoke_token(
        token_id: str,
        principal: auth.Principal = Depends(authorizer(state, ADMIN, "revoking tokens")),
    ) -> dict[str, Any]:
        info = await run_in_threadpool(auth.revoke_token, state.backend, token_id)
        return info.as_dict()

    @app.post("/api/v1/upgrade", tags=[ADMIN], summary="Migrate the catalog's schema")
    async def upgrade(
        principal: auth.Principal = Depends(authorizer(state, ADMIN, "upgrading")),
    ) -> dict[str, str]:
        revision = await run_in_threadpool(state.catalog.upgrade)
        return {"revision": revision}


# --- request size ---------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _RequestLimit:
    """Refuse JSON bodies over the limit (413) before reading them, and count the bytes
    of bodies sent without a length (object and upload routes set their own limits)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith("/api/"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        too_big = False
        if length is not None:
            try:
                too_big = int(length) > self.limit
            except ValueError:
                too_big = True
        if too_big:
            response = errors.error_response(
                ValidationError(f"the request body is over {self.limit} bytes")
            )
            response.status_code = 413
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise ValidationError(f"the request body is over {self.limit} bytes")
            return message

        await self.app(scope, counted, send)
