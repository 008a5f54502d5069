"""What every route needs, found through the request: the server's state and the caller.

``create_app`` keeps one ``ServerState`` in ``app.state.assetry``; routes take it with
``Depends(current_state)`` and the caller's principal with ``Depends(authorizer(role,
what))``. Route modules import this module, never ``app.py`` (which imports them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from assetry.server import auth
from assetry.sql.backend import SqlBackend
from assetry.store.base import ObjectStore

_bearer = HTTPBearer(auto_error=False, description="an assetry token: `assetry token create`")


@dataclass
class ServerState:
    """What every request handler needs: the backend, the store, the upload folder."""

    location: str
    backend: SqlBackend
    store: ObjectStore
    upload_dir: Path
    max_request_bytes: int
    max_object_bytes: int
    small_request_bytes: int
    upload_expiry: float = 86400.0
    """Seconds after which an upload session that began is refused and collected."""
    abandoned_grace: float = 3600.0
    """Seconds after which a killed single ``PUT``'s partial file is collected."""


async def current_state(request: Request) -> ServerState:
    """A dependency: the state of the app serving ``request``.

    A coroutine, so FastAPI calls it on the event loop rather than on a worker thread."""
    state: ServerState = request.app.state.assetry
    return state


def authorizer(role: str, what: str) -> Callable[..., Awaitable[auth.Principal]]:
    """A dependency: the caller's principal, which must hold ``role`` (``what`` names
    the action in the refusal)."""

    async def dependency(
        state: ServerState = Depends(current_state),
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    ) -> auth.Principal:
        token = credentials.credentials if credentials is not None else None
        principal = await run_in_threadpool(auth.authenticate, state.backend, token)
        principal.require(role, what)
        return principal

    return dependency
