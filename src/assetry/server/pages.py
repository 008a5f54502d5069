"""The routes that need no token: ``/`` (what this server is), ``/health`` and ``/docs``.

``/docs`` is Swagger UI served by the server itself (no CDN), from the files the
``swagger-ui-bundle`` package ships (Apache-2.0, like swagger-ui; its licence travels with
the package), so the page works on a network without internet access.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fastapi.routing
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from assetry import __version__
from assetry.errors import NotFoundError
from assetry.server.state import ServerState, current_state

PUBLIC = "public"
API_PREFIX = "/api/v1"
STATIC_PREFIX = "/static/swagger-ui"
HEALTH_TIMEOUT = 10.0  # seconds the database may take to answer a health check
# The swagger-ui files /docs needs (and the source maps browsers' tools ask for).
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-bundle.js.map": "application/json",
    "swagger-ui.css": "text/css",
    "swagger-ui.css.map": "application/json",
    "favicon-32x32.png": "image/png",
}
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({("GET", "/"), ("GET", "/health")})
"""Routes in the OpenAPI document that answer without a token (no role applies)."""

log = logging.getLogger("assetry.server")
router = APIRouter()
"""``/``, ``/health``, ``/docs`` and the swagger-ui files, all without a token."""


def swagger_ui_folder() -> Path | None:
    """Where the installed ``swagger-ui-bundle`` keeps swagger-ui's files (None: not
    installed)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    return Path(str(swagger_ui_path))


def _route_paths(app: FastAPI) -> Iterator[str]:
    """The path of every route ``app`` serves, those of included routers too (FastAPI
    0.137.2 and later keep an included router as one node of ``app.routes``, expanded by
    ``fastapi.routing.iter_route_contexts``)."""
    expand = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in expand(app.routes) if expand is not None else app.routes:
        yield str(getattr(route, "path", None) or "")


@router.get("/", tags=[PUBLIC], summary="What this server is and where its parts are")
async def home(request: Request) -> dict[str, Any]:
    app = request.app
    ui = any(path.startswith("/ui") for path in _route_paths(app))
    return {
        "name": "assetry",
        "description": "A schema-driven data catalog: the whole assetry API over HTTP.",
        "version": __version__,
        "api": API_PREFIX,
        "openapi": app.openapi_url,
        "docs": "/docs",
        "health": "/health",
        "ui": "/ui" if ui else None,
        "auth": "Authorization: Bearer <token> (made with `assetry token create`)",
    }


@router.get(
    "/health",
    tags=[PUBLIC],
    summary="200 when the server and its database answer, else 503",
    responses={503: {"description": "the database does not answer"}},
)
async def health(state: ServerState = Depends(current_state)) -> Response:
    try:
        await asyncio.wait_for(run_in_threadpool(state.backend.snapshot), HEALTH_TIMEOUT)
    except Exception as err:  # any failure to reach the database is "unavailable"
        log.warning("health check: the database does not answer: %s", err)
        body = {"status": "unavailable", "detail": "the database does not answer"}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    app = request.app
    if swagger_ui_folder() is None:
        return HTMLResponse(
            "<p>The API documentation page needs the <code>swagger-ui-bundle</code> "
            "package: <code>pip install 'assetry[server]'</code>. The API itself is "
            f'described at <a href="{app.openapi_url}">{app.openapi_url}</a>.</p>',
            status_code=503,
        )
    return get_swagger_ui_html(
        openapi_url=str(app.openapi_url),
        title=f"{app.title} - API",
        swagger_js_url=f"{STATIC_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{STATIC_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PREFIX}/favicon-32x32.png",
    )


@router.get(STATIC_PREFIX + "/{name}", include_in_schema=False)
async def swagger_file(name: str) -> Response:
    folder = swagger_ui_folder()
    if name not in SWAGGER_FILES or folder is None:
        raise NotFoundError(f"no file {name!r} here")
    return FileResponse(
        folder / name,
        media_type=SWAGGER_FILES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
