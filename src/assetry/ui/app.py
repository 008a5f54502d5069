"""``create_ui``: the web interface as an app of its own, mounted at ``/ui`` by
``assetry ui`` (on any catalog) and by ``assetry serve`` (with sign-in).

Every page is a thin reader of the public ``Catalog`` API (``cat.query_page``,
``cat.lineage``, ``cat.update``, ...), so the pages meet the same checks, roles and
history as code. Errors become pages in the interface's style with the error's HTTP
status (a 404 names what was not found); every answer carries a strict Content Security
Policy (scripts, styles and images from the interface itself only).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from assetry.catalog import Catalog
from assetry.errors import AssetryError, AuthenticationError
from assetry.protocol.errors import status_of
from assetry.ui import artifacts, browse, datasets, files, lineage, rows, sessions, vocab
from assetry.ui.context import (
    Authenticate,
    CsrfRefused,
    SignInNeeded,
    UiState,
    form_fields,
    ui_state,
)
from assetry.ui.render import environment

log = logging.getLogger("assetry.ui")

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
SIGN_IN_COOKIE = "assetry_signin"  # the sign-in form's CSRF token, before any session


def create_ui(
    catalog: Catalog,
    authenticate: Authenticate | None = None,
    sessions_folder: str | Path | None = None,
    session_lifetime: float = sessions.LIFETIME_SECONDS,
    secure_cookies: bool = False,
) -> FastAPI:
    """The pages of ``catalog``.

    Without ``authenticate`` (``assetry ui``): the pages answer only requests addressed
    to this machine's loopback names and act as the local user. With it (a server):
    every page needs a session, opened by signing in with a token that
    ``authenticate(token) -> (user, role)`` accepts; sessions live in
    ``sessions_folder`` for ``session_lifetime`` seconds."""
    if (authenticate is None) != (sessions_folder is None):
        raise ValueError("authenticate and sessions_folder come together")
    store = None if sessions_folder is None else Path(sessions_folder)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ui = UiState(
        catalog,
        authenticate,
        None if store is None else sessions.Sessions(store, session_lifetime),
        secure_cookies,
    )
    static = resources.files("assetry.ui").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (browse, rows, files, datasets, vocab, artifacts, lineage):
        app.include_router(module.router)
    if authenticate is not None:
        app.add_api_route("/signin", sign_in_page, methods=["GET"])
        app.add_api_route("/signin", sign_in, methods=["POST"])
        app.add_api_route("/signout", sign_out, methods=["POST"])
    _install_errors(app)
    app.middleware("http")(_headers(local=authenticate is None))
    return app


# --- sign-in ----------------------------------------------------------------------------


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def _secure(request: Request) -> bool:
    """Cookies are Secure over HTTPS (or when the server is told it sits behind it)."""
    return ui_state(request).secure_cookies or request.url.scheme == "https"


def _safe_next(request: Request, wanted: str | None) -> str:
    """Where to go after signing in: a page of the interface, never another site."""
    root = _root(request)
    if wanted and wanted.startswith(root + "/") and "\\" not in wanted and "//" not in wanted:
        return wanted
    return root + "/"


def _sign_in_form(
    request: Request, next_url: str, message: str | None, status: int = 200
) -> Response:
    import secrets

    token = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    html = (
        environment()
        .get_template("signin.html")
        .render(root=_root(request), next_url=next_url, csrf=token, message=message)
    )
    response = HTMLResponse(html, status_code=status)
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path=_root(request) or "/",
        secure=_secure(request),
    )
    return response


def sign_in_page(request: Request, next: str = "", expired: str = "") -> Response:
    message = "Your session has ended; sign in again." if expired else None
    return _sign_in_form(request, _safe_next(request, next), message)


def sign_in(request: Request, fields: dict[str, str] = Depends(form_fields)) -> Response:
    state = ui_state(request)
    assert state.authenticate is not None and state.sessions is not None
    next_url = _safe_next(request, fields.get("next"))
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not sessions.same_token(fields.get("csrf"), expected):
        return _sign_in_form(request, next_url, "The form expired; try again.", 403)
    token = fields.get("token", "").strip()
    try:
        state.authenticate(token)
    except AuthenticationError as err:
        return _sign_in_form(request, next_url, str(err), 401)
    _, cookie = state.sessions.start(token)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        max_age=int(state.sessions.lifetime),
        httponly=True,
        samesite="strict",
        path=_root(request) or "/",
        secure=_secure(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=_root(request) or "/")
    return response


def sign_out(request: Request, fields: dict[str, str] = Depends(form_fields)) -> Response:
    state = ui_state(request)
    assert state.sessions is not None
    found = state.sessions.find(request.cookies.get(sessions.COOKIE))
    if isinstance(found, sessions.Session):
        if not sessions.same_token(fields.get("csrf"), found.csrf):
            raise CsrfRefused("the form's security token is missing or stale; reload the page")
        state.sessions.end(found.id)
    response = RedirectResponse(_root(request) + "/signin", status_code=303)
    response.delete_cookie(sessions.COOKIE, path=_root(request) or "/")
    return response


# --- errors and headers -----------------------------------------------------------------


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    state = ui_state(request)
    html = (
        environment()
        .get_template("error.html")
        .render(
            root=_root(request),
            status=status,
            title=title,
            message=message,
            signed_in=state.sessions is not None,
        )
    )
    return HTMLResponse(html, status_code=status)


_TITLES = {
    400: "Cannot do that",
    422: "Cannot do that",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
}


def _install_errors(app: FastAPI) -> None:
    async def sign_in_needed(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInNeeded)
        asked = {"next": exc.next_url, **({"expired": "1"} if exc.expired else {})}
        target = _root(request) + "/signin?" + urlencode(asked)
        return RedirectResponse(target, status_code=303)

    async def assetry_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AssetryError)
        status = 403 if isinstance(exc, CsrfRefused) else status_of(exc)
        problems = getattr(exc, "problems", None)
        message = "; ".join(problems) if problems else str(exc)
        return _error_page(request, status, _TITLES.get(status, "Error"), message)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            message = f"There is no page at {request.url.path}."
        else:
            message = str(exc.detail)
        return _error_page(request, exc.status_code, _TITLES.get(exc.status_code, "Error"), message)

    app.add_exception_handler(SignInNeeded, sign_in_needed)
    app.add_exception_handler(AssetryError, assetry_error)
    app.add_exception_handler(HTTPException, http_error)


Handler = Callable[[Request], Awaitable[Response]]


def _headers(local: bool) -> Callable[[Request, Handler], Awaitable[Response]]:
    """Security headers on every answer; on ``assetry ui``, refuse requests addressed to
    any name but this machine's loopback (a page elsewhere cannot reach the catalog
    through DNS rebinding)."""

    async def middleware(request: Request, call_next: Handler) -> Response:
        if local and (request.url.hostname or "") not in LOCAL_HOSTS + ("::1",):
            return Response("this interface answers only on 127.0.0.1", status_code=421)
        try:
            response = await call_next(request)
        except Exception:
            log.exception("unexpected error on %s", request.url.path)
            response = _error_page(
                request, 500, "Something went wrong", "The page failed; the server log says why."
            )
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith(_root(request) + "/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return middleware


def local_app(catalog: Catalog) -> FastAPI:
    """``assetry ui``'s app: the pages at ``/ui`` (``/`` leads there)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/", include_in_schema=False)
    def start() -> Response:
        return RedirectResponse("/ui/", status_code=307)

    app.mount("/ui", create_ui(catalog))
    return app
