"""What every page handler gets: the catalog, who is looking, and the page's CSRF token.

``create_ui`` keeps one ``UiState`` in the app's state. Handlers take a ``Page`` with
``Depends(page)`` (reads) or ``Depends(change)`` (forms that change the catalog: the
form's CSRF token is checked first). On a server, a request without a live session is
sent to the sign-in page and back; on ``assetry ui`` the local user acts as the owner of
the catalog (or, on a remote catalog, with their own token).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from fastapi import Depends, Request
from starlette.responses import Response

from assetry import config
from assetry.catalog import Catalog
from assetry.errors import AssetryError, AuthenticationError
from assetry.ui import sessions

# Who a token is: (user, role); raises ``AuthenticationError`` for a bad token. The
# server gives its own check, so the pages accept exactly the tokens the API accepts.
Authenticate = Callable[[str], tuple[str, str]]

LOCAL_CSRF_COOKIE = "assetry_csrf"
ROLES = ("reader", "writer", "curator", "admin")
MAX_FORM_BYTES = 1024 * 1024


@dataclass
class UiState:
    """The catalog the pages show and, on a server, how users sign in."""

    catalog: Catalog
    authenticate: Authenticate | None = None
    sessions: sessions.Sessions | None = None
    secure_cookies: bool = False


class SignInNeeded(Exception):
    """No live session: go to the sign-in page, then back to ``next``."""

    def __init__(self, next_url: str, expired: bool) -> None:
        super().__init__(next_url)
        self.next_url = next_url
        self.expired = expired


class CsrfRefused(AssetryError):
    """A change without the page's CSRF token."""


@dataclass
class Page:
    """One request's view of the catalog."""

    request: Request
    cat: Catalog
    csrf: str
    user: str | None = None
    role: str | None = None  # None: the local owner of the catalog (every role)
    session_id: str | None = None
    new_csrf_cookie: bool = False
    form: dict[str, str] = field(default_factory=dict)

    @property
    def signed_in(self) -> bool:
        return self.session_id is not None

    def allows(self, role: str) -> bool:
        """Whether the viewer holds ``role`` (only to show or hide forms: the catalog
        itself decides every change)."""
        return self.role is None or ROLES.index(self.role) >= ROLES.index(role)

    def url(self, path: str, **query: object) -> str:
        """The address of page ``path`` (``/table/Image``) with a query, if any."""
        base = str(self.request.scope.get("root_path", "")) + path
        pairs = [(k, str(v)) for k, v in query.items() if v is not None and v != ""]
        return base + ("?" + urlencode(pairs) if pairs else "")

    @contextlib.contextmanager
    def acting(self) -> Iterator[None]:
        """Changes made inside are made by the signed-in user with their token's role
        (the owner, on ``assetry ui``)."""
        if self.user is None:
            yield
            return
        with config.acting_as(self.user, self.role):
            yield

    def finish(self, response: Response) -> Response:
        """Set the local CSRF cookie on the first answer that needs it."""
        if self.new_csrf_cookie:
            response.set_cookie(
                LOCAL_CSRF_COOKIE, self.csrf, httponly=True, samesite="strict", path="/"
            )
        return response


def ui_state(request: Request) -> UiState:
    state: UiState = request.app.state.ui
    return state


def asked_url(request: Request) -> str:
    """The page asked for, as a path under the interface (to come back to it)."""
    path = request.url.path
    return path + ("?" + request.url.query if request.url.query else "")


def page(request: Request) -> Page:
    """A dependency: the viewer of this request (``SignInNeeded`` without a session)."""
    state = ui_state(request)
    if state.sessions is None:
        cookie = request.cookies.get(LOCAL_CSRF_COOKIE, "")
        if len(cookie) >= 32:
            return Page(request, state.catalog, cookie)
        return Page(request, state.catalog, secrets.token_urlsafe(32), new_csrf_cookie=True)
    assert state.authenticate is not None
    found = state.sessions.find(request.cookies.get(sessions.COOKIE))
    if not isinstance(found, sessions.Session):
        raise SignInNeeded(asked_url(request), expired=found is False)
    try:
        user, role = state.authenticate(found.token)
    except AuthenticationError:
        state.sessions.end(found.id)
        raise SignInNeeded(asked_url(request), expired=True) from None
    return Page(request, state.catalog, found.csrf, user, role, found.id)


async def form_fields(request: Request) -> dict[str, str]:
    """A dependency: the fields of a URL-encoded form (the last of a repeated name)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise CsrfRefused("the form is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise CsrfRefused("the form is not UTF-8") from None
    return dict(parse_qsl(text, keep_blank_values=True))


def change(viewer: Page = Depends(page), fields: dict[str, str] = Depends(form_fields)) -> Page:
    """A dependency for forms that change the catalog: the page's CSRF token must come
    with the form (a cross-site form cannot read it, and the cookies are SameSite=Strict
    too)."""
    if viewer.new_csrf_cookie or not sessions.same_token(fields.get("csrf"), viewer.csrf):
        raise CsrfRefused("the form's security token is missing or stale; reload the page")
    viewer.form = fields
    return viewer
