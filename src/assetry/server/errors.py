"""One table from assetry errors to HTTP statuses; the client rebuilds the same class."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from assetry import errors
from assetry.client.wire import error_body

log = logging.getLogger("assetry.server")

# First match wins: subclasses before their bases.
STATUS: list[tuple[type[errors.AssetryError], int]] = [
    (errors.AuthenticationError, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFoundError, 404),
    (errors.ValidationError, 422),
    (errors.ConflictError, 409),
    (errors.StateError, 409),
    (errors.IntegrityError, 422),
    (errors.BagError, 422),
    (errors.StoreError, 502),
    (errors.SchemaVersionError, 503),
    (errors.ConfigError, 400),
    (errors.AssetryError, 400),
]


def status_of(exc: errors.AssetryError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def error_response(exc: errors.AssetryError) -> JSONResponse:
    auth_failed = isinstance(exc, errors.AuthenticationError)
    headers = {"WWW-Authenticate": "Bearer"} if auth_failed else None
    return JSONResponse(error_body(exc), status_code=status_of(exc), headers=headers)


def install(app: FastAPI) -> None:
    """Make every error a JSON ``{"error": {...}}`` body with the table's status."""

    @app.exception_handler(errors.AssetryError)
    async def assetry_error(request: Request, exc: errors.AssetryError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
            problems.append(f"{where}: {err.get('msg', 'invalid')}")
        return error_response(errors.ValidationError(problems or ["invalid request"]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = errors.NotFoundError if exc.status_code == 404 else errors.AssetryError
        body = error_body(cls(str(exc.detail)))
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in %s %s", request.method, request.url.path)
        body = error_body(errors.AssetryError("internal server error (see the server log)"))
        return JSONResponse(body, status_code=500)
