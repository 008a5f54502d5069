"""Errors as HTTP answers: the status table (``protocol.errors``) installed as FastAPI
exception handlers; the client rebuilds the same class from the body.

Messages are scrubbed of the server's own folders (the catalog, the store, the upload
folder): an error body never tells a caller where the server keeps its files.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from assetry import errors
from assetry.protocol.errors import status_of
from assetry.protocol.wire import error_body

log = logging.getLogger("assetry.server")

# An absolute POSIX or Windows path in a message (not the path part of a URL).
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])(?:/|[A-Za-z]:\\)[^\s'\"]*")
_URL_PATH = re.compile(r"file://[^\s'\"]*")


class Scrubber:
    """Replaces the server's private folders in messages by ``<server>``."""

    def __init__(self, folders: Iterable[str | os.PathLike[str]] = ()) -> None:
        texts: set[str] = set()
        for folder in folders:
            text = os.fspath(folder)
            texts.add(text)
            texts.add(os.path.realpath(text))
        # Longest first, so a folder inside another is replaced whole.
        self.folders = sorted((t.rstrip("/") for t in texts if len(t.rstrip("/")) > 1), key=len)
        self.folders.reverse()

    def __call__(self, message: str, storage: bool = False) -> str:
        for folder in self.folders:
            message = message.replace(folder, "<server>")
        if storage:
            # Storage errors carry operating-system messages naming files: keep none.
            message = _URL_PATH.sub("<server>", message)
            message = _ABSOLUTE_PATH.sub("<server>", message)
        return message


def error_response(
    exc: errors.AssetryError, *, close: bool = False, scrub: Scrubber | None = None
) -> JSONResponse:
    """The JSON answer for ``exc``; ``close`` asks the client to drop the connection (an
    answer sent before the request's body was read); ``scrub`` hides the server's
    folders in the message."""
    auth_failed = isinstance(exc, errors.AuthenticationError)
    headers = {"WWW-Authenticate": "Bearer"} if auth_failed else {}
    if close:
        headers["Connection"] = "close"
    body = error_body(exc)
    message = body["error"]["message"]
    storage = isinstance(exc, errors.StoreError)
    scrub = scrub or Scrubber()
    scrubbed = scrub(message, storage)
    if scrubbed != message:
        body["error"]["message"] = scrubbed
        problems = body["error"]["fields"].get("problems")
        if isinstance(problems, list):
            body["error"]["fields"]["problems"] = [scrub(str(p), storage) for p in problems]
    return JSONResponse(body, status_code=status_of(exc), headers=headers or None)


def install(app: FastAPI, private_folders: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Make every error a JSON ``{"error": {...}}`` body with the table's status.

    Unexpected exceptions are answered (500, logged once) by the app's outer guard
    (``assetry.server.app._Guard``), not here: Starlette would log them a second time.
    """
    scrub = Scrubber(private_folders)
    app.state.scrubber = scrub

    @app.exception_handler(errors.AssetryError)
    async def assetry_error(request: Request, exc: errors.AssetryError) -> JSONResponse:
        return error_response(exc, scrub=scrub)

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

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        log.warning("%s %s: nested too deeply", request.method, request.url.path)
        return error_response(errors.ValidationError("the request is nested too deeply"))

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return error_response(
            errors.ValidationError(f"a number in the request is too large: {exc}")
        )


def internal_error_body() -> dict[str, object]:
    return error_body(errors.AssetryError("internal server error (see the server log)"))
