"""Routes about callers and the catalog itself: who am I, tokens, schema upgrade."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from assetry import config
from assetry.catalog import Catalog
from assetry.errors import ValidationError
from assetry.protocol.operations import ADMIN, READER
from assetry.server import auth, bodies
from assetry.server.state import ServerState, authorizer, current_state

router = APIRouter()
SCHEMA_DEFS: dict[str, Any] = {}
"""Schemas the request bodies below refer to (the app adds them to its OpenAPI document)."""


class TokenRequest(pydantic.BaseModel):
    """A new token: the user it acts as, its role, an optional lifetime (``30d``)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    user: str
    role: str
    expires_in: str | None = None
    description: str | None = None


class RevokeRequest(pydantic.BaseModel):
    """The token to revoke: its id, or the whole token (kept out of URLs and logs)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    token: str = pydantic.Field(min_length=1, max_length=400)


@router.get("/api/v1/whoami", tags=[READER], summary="The caller's user name and role")
async def whoami(
    principal: auth.Principal = Depends(authorizer(READER, "whoami")),
) -> dict[str, str]:
    return {"user": principal.user, "role": principal.role}


@router.get("/api/v1/tokens", tags=[ADMIN], summary="Every token (never its secret)")
async def list_tokens(
    principal: auth.Principal = Depends(authorizer(ADMIN, "listing tokens")),
    state: ServerState = Depends(current_state),
) -> list[dict[str, Any]]:
    found = await run_in_threadpool(auth.list_tokens, state.backend)
    return [t.as_dict() for t in found]


# Routes with a JSON body read it themselves, after the token is checked: a caller
# without one hears 401 before anything is parsed.
@router.post(
    "/api/v1/tokens",
    tags=[ADMIN],
    summary="Make a token",
    status_code=201,
    openapi_extra=bodies.body_schema(TokenRequest, SCHEMA_DEFS),
)
async def create_token(
    raw: Request,
    principal: auth.Principal = Depends(authorizer(ADMIN, "making tokens")),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    request = await bodies.read_model(raw, TokenRequest)
    lifetime = auth.parse_duration(request.expires_in) if request.expires_in else None
    token, info = await run_in_threadpool(_make_token, state, principal, request, lifetime)
    return {"token": token, **info.as_dict()}


def _make_token(
    state: ServerState,
    principal: auth.Principal,
    request: TokenRequest,
    lifetime: dt.timedelta | None,
) -> tuple[str, auth.TokenInfo]:
    """The token ``request`` asks for, made on behalf of ``principal`` (a worker thread)."""
    with config.acting_as(principal.user):
        return auth.create_token(
            state.backend, request.user, request.role, lifetime, request.description
        )


@router.delete("/api/v1/tokens/{token_id}", tags=[ADMIN], summary="Revoke a token by id")
async def revoke_token(
    token_id: str,
    principal: auth.Principal = Depends(authorizer(ADMIN, "revoking tokens")),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    if "_" in token_id:
        # Most likely a whole token: URLs end up in access logs, so its secret must
        # never travel in one (and is not repeated here).
        raise ValidationError(
            "a token id has no '_'; to revoke by the whole token, send it in the body "
            "of POST /api/v1/tokens/revoke, never in a URL"
        )
    info = await run_in_threadpool(auth.revoke_token, state.backend, token_id)
    return info.as_dict()


@router.post(
    "/api/v1/tokens/revoke",
    tags=[ADMIN],
    summary="Revoke a token given in the body (its id or the whole token)",
    openapi_extra=bodies.body_schema(RevokeRequest, SCHEMA_DEFS),
)
async def revoke_token_in_body(
    raw: Request,
    principal: auth.Principal = Depends(authorizer(ADMIN, "revoking tokens")),
    state: ServerState = Depends(current_state),
) -> dict[str, Any]:
    request = await bodies.read_model(raw, RevokeRequest)
    info = await run_in_threadpool(auth.revoke_token, state.backend, request.token)
    return info.as_dict()


@router.post("/api/v1/upgrade", tags=[ADMIN], summary="Migrate the catalog's schema")
async def upgrade(
    principal: auth.Principal = Depends(authorizer(ADMIN, "upgrading")),
    state: ServerState = Depends(current_state),
) -> dict[str, str]:
    revision = await run_in_threadpool(Catalog.upgrade, state.location)
    return {"revision": revision}
