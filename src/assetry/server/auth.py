"""Bearer tokens and roles.

A token is ``ast_<id>_<secret>``. The catalog keeps the id (a public handle, shown by
``token list`` and used by ``token revoke``) and the SHA-256 of the secret, never the
secret: a stolen database does not yield usable tokens. Secrets are 256 random bits, so a
fast hash is enough (no password stretching needed), and hashes are compared in constant
time. Roles nest: reader < writer < curator < admin.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetry import config
from assetry.errors import AuthenticationError, NotFoundError, PermissionDenied, ValidationError
from assetry.sql import internal
from assetry.sql.backend import SqlBackend
from assetry.sql.engine import translated_errors

ROLES = ("reader", "writer", "curator", "admin")
PREFIX = "ast"
_DURATION = re.compile(r"\s*(\d+)\s*([smhdw])\s*")
MAX_LIFETIME = dt.timedelta(days=100 * 366)  # a token lifetime; later ones overflow dates
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_BY_ID = sa.select(internal.tokens).where(internal.tokens.c.id == sa.bindparam("id"))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's user name and role."""

    user: str
    role: str
    token_id: str

    def allows(self, needed: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(needed)

    def require(self, needed: str, what: str) -> None:
        """``PermissionDenied`` unless this role includes ``needed``."""
        if not self.allows(needed):
            raise PermissionDenied(
                f"{what} needs the {needed} role; user {self.user!r} has {self.role}"
            )


@dataclass(frozen=True)
class TokenInfo:
    """A token as ``token list`` shows it (never its secret)."""

    id: str
    user: str
    role: str
    description: str | None
    created: dt.datetime
    expires: dt.datetime | None
    revoked: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user": self.user,
            "role": self.role,
            "description": self.description,
            "created": self.created.isoformat(),
            "expires": self.expires.isoformat() if self.expires else None,
            "revoked": self.revoked.isoformat() if self.revoked else None,
        }


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def parse_duration(text: str) -> dt.timedelta:
    """``30d``, ``12h``, ``15m``, ``2w`` or ``90s`` as a time span."""
    match = _DURATION.fullmatch(text) if isinstance(text, str) and len(text) <= 40 else None
    if not match or int(match.group(1)) == 0:
        raise ValidationError(
            f"bad duration {text!r}; use a positive number and a unit s, m, h, d or w (30d)"
        )
    try:
        span = dt.timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    except OverflowError:
        span = MAX_LIFETIME + MAX_LIFETIME
    if span > MAX_LIFETIME:
        raise ValidationError(f"duration {text!r} is longer than {MAX_LIFETIME.days} days")
    return span


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    backend: SqlBackend,
    user: str,
    role: str,
    expires_in: dt.timedelta | None = None,
    description: str | None = None,
) -> tuple[str, TokenInfo]:
    """Make a token; return it (the only time its secret is seen) and its record."""
    check_role(role)
    if not isinstance(user, str) or not user.strip() or len(user) > 200:
        raise ValidationError(f"a token needs a user name (1-200 characters), got {user!r}")
    if expires_in is not None and expires_in <= dt.timedelta(0):
        raise ValidationError("a token's lifetime must be positive")
    if expires_in is not None and expires_in > MAX_LIFETIME:
        raise ValidationError(f"a token's lifetime is at most {MAX_LIFETIME.days} days")
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    expires = now + expires_in if expires_in else None
    info = TokenInfo(token_id, user.strip(), role, description, now, expires, None)
    with backend.session(write=True) as s:
        s.conn.execute(
            internal.tokens.insert().values(
                id=info.id,
                secret_hash=_hash(secret),
                user_name=info.user,
                role=role,
                description=description,
                created=now,
                created_by=config.local_user(),
                expires=info.expires,
                revoked=None,
            )
        )
    return f"{PREFIX}_{token_id}_{secret}", info


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        row.id, row.user_name, row.role, row.description, row.created, row.expires, row.revoked
    )


def list_tokens(backend: SqlBackend) -> list[TokenInfo]:
    """Every token ever made, oldest first (revoked and expired ones included)."""
    t = internal.tokens
    with backend.session() as s:
        found = s.conn.execute(sa.select(t).order_by(t.c.created, t.c.id)).all()
    return [_info(row) for row in found]


def revoke_token(backend: SqlBackend, token_id: str) -> TokenInfo:
    """Revoke a token by id (or by the whole token); it stops working at once."""
    if isinstance(token_id, str) and token_id.startswith(PREFIX + "_"):
        token_id = token_id.split("_", 2)[1]
    t = internal.tokens
    with backend.session(write=True) as s:
        row = s.conn.execute(sa.select(t).where(t.c.id == token_id)).first()
        if row is None:
            raise NotFoundError(f"no token has id {token_id!r} (see `assetry token list`)")
        if row.revoked is None:
            s.conn.execute(
                t.update().where(t.c.id == token_id).values(revoked=dt.datetime.now(dt.UTC))
            )
        row = s.conn.execute(sa.select(t).where(t.c.id == token_id)).one()
    return _info(row)


def authenticate(backend: SqlBackend, token: str | None) -> Principal:
    """The principal of a bearer token; ``AuthenticationError`` if it is missing,
    malformed, unknown, wrong, expired or revoked (one message for all: no oracle)."""
    if not token:
        raise AuthenticationError("this catalog needs a token (Authorization: Bearer ...)")
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        raise AuthenticationError("the token is not valid")
    # A plain connection, not a catalog session: no snapshot or model is needed here,
    # and this runs before every request.
    with translated_errors("checking a token"), backend.engine.connect() as conn:
        row = conn.execute(_BY_ID, {"id": parts[1]}).first()
        conn.rollback()
    # Compare even when the id is unknown, so timing does not tell ids apart.
    stored = row.secret_hash if row is not None else _hash("")
    matches = hmac.compare_digest(stored, _hash(parts[2]))
    now = dt.datetime.now(dt.UTC)
    if (
        row is None
        or not matches
        or row.revoked is not None
        or (row.expires is not None and row.expires <= now)
    ):
        raise AuthenticationError("the token is not valid (unknown, revoked or expired)")
    return Principal(row.user_name, row.role, row.id)
