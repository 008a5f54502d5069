"""Sign-in sessions of the web interface on a catalog server (``/ui``).

A user signs in with a catalog token. The browser then holds a session cookie (HttpOnly,
SameSite=Strict, ``Path=/ui``) made of a random session id and a random key; the server
keeps one small file per session in its own folder, holding the token sealed with that
key (a one-time pad), the CSRF token and the expiry. So:

- the folder alone yields no token, and the cookie alone works only until the session
  ends (sign-out deletes the file; an expired one is deleted when next seen);
- every request re-checks the token with the catalog (a revoked or expired token ends
  the session at once) and acts with the token's user and role, exactly as the API does;
- several server workers sharing the folder share the sessions (the server keeps no
  other state).
"""

from __future__ import annotations

import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "assetry_session"
LIFETIME_SECONDS = 8 * 3600
_SESSION_ID = re.compile(r"[0-9a-f]{32}")
_KEY = re.compile(r"(?:[0-9a-f]{2}){1,512}")


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the token it signed in with, its CSRF token, its expiry."""

    id: str
    token: str
    csrf: str
    expires: float


class Sessions:
    """The session files of one server, in ``folder`` (created private)."""

    def __init__(self, folder: Path, lifetime: float = LIFETIME_SECONDS) -> None:
        self.folder = folder
        self.lifetime = lifetime
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.sweep()

    def sweep(self) -> None:
        """Remove the files of sessions that have expired (those never seen again)."""
        now = time.time()
        for path in self.folder.glob("*.json"):
            try:
                expires = float(json.loads(path.read_text(encoding="utf-8"))["expires"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if expires <= now:
                path.unlink(missing_ok=True)

    def start(self, token: str) -> tuple[Session, str]:
        """A new session for ``token``; return it and the cookie value that opens it."""
        secret = token.encode("utf-8")
        key = secrets.token_bytes(len(secret))
        session = Session(
            secrets.token_hex(16), token, secrets.token_urlsafe(32), time.time() + self.lifetime
        )
        record = {
            "sealed": bytes(a ^ b for a, b in zip(secret, key, strict=True)).hex(),
            "csrf": session.csrf,
            "expires": session.expires,
        }
        path = self._path(session.id)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(record, out)
        return session, f"{session.id}.{key.hex()}"

    def find(self, cookie: str | None) -> Session | None | bool:
        """The live session a cookie opens; ``False`` when it opened one that has expired
        (now ended), None when it opens nothing."""
        parts = (cookie or "").split(".")
        if len(parts) != 2 or not _SESSION_ID.fullmatch(parts[0]) or not _KEY.fullmatch(parts[1]):
            return None
        path = self._path(parts[0])
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
            sealed = bytes.fromhex(record["sealed"])
            csrf, expires = str(record["csrf"]), float(record["expires"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        key = bytes.fromhex(parts[1])
        if len(key) != len(sealed):
            return None
        if expires <= time.time():
            path.unlink(missing_ok=True)
            return False
        try:
            token = bytes(a ^ b for a, b in zip(sealed, key, strict=True)).decode("utf-8")
        except UnicodeDecodeError:
            return None
        return Session(parts[0], token, csrf, expires)

    def end(self, session_id: str) -> None:
        """Sign out: the session's file is removed, so its cookie opens nothing."""
        if _SESSION_ID.fullmatch(session_id):
            self._path(session_id).unlink(missing_ok=True)

    def _path(self, session_id: str) -> Path:
        return self.folder / f"{session_id}.json"


def same_token(given: str | None, expected: str) -> bool:
    """Whether a submitted CSRF token is the expected one (constant time)."""
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())
