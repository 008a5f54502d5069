"""Where catalogs live: locations, environment variables and defaults."""

from __future__ import annotations

import functools
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from assetry.errors import ConfigError

ENV_CATALOG = "ASSETRY_CATALOG"
ENV_USER = "ASSETRY_USER"
ENV_TOKEN = "ASSETRY_TOKEN"
ENV_CREDENTIALS = "ASSETRY_CREDENTIALS"
DEFAULT_LOCATION = ".assetry"
DATABASE_FILE = "catalog.db"
DEFAULT_STORE = "objects"

STORE_SCHEMES = ("file", "s3", "gs", "az", "abfs")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


@dataclass(frozen=True)
class Location:
    """A resolved catalog location: a directory (embedded) or a database URL."""

    text: str
    database_url: str
    directory: Path | None = None
    remote_url: str | None = None

    @property
    def embedded(self) -> bool:
        return self.directory is not None

    @property
    def remote(self) -> bool:
        return self.remote_url is not None


def resolve_location(location: str | os.PathLike[str] | None) -> Location:
    """Turn what the user gave (or the environment, or the default) into a location."""
    if location is None:
        location = os.environ.get(ENV_CATALOG) or DEFAULT_LOCATION
    text = os.fspath(location)
    if not text:
        raise ConfigError("the catalog location is empty")
    scheme = urlparse(text).scheme.lower() if "://" in text else ""
    if scheme in ("http", "https"):
        return Location(text, "", remote_url=text.rstrip("/"))
    if scheme:
        base = scheme.split("+", 1)[0]
        if base not in DATABASE_SCHEMES:
            raise ConfigError(
                f"unknown catalog location scheme {scheme!r} in {text!r}; use a directory, "
                "a database URL (sqlite://, postgresql://) or http(s)://"
            )
        return Location(text, text)
    directory = Path(text).expanduser().resolve()
    return Location(text, f"sqlite:///{directory / DATABASE_FILE}", directory)


def check_store_url(store: str) -> str:
    """``store`` if its scheme is known, else a ``ConfigError`` listing the known ones."""
    if "://" in store:
        scheme = urlparse(store).scheme.lower()
        if scheme not in STORE_SCHEMES:
            known = ", ".join(f"{s}://" for s in STORE_SCHEMES)
            raise ConfigError(
                f"unknown object store scheme {scheme!r} in {store!r}; known: a path, {known}"
            )
    return store


_ACTING_USER: ContextVar[str | None] = ContextVar("assetry_acting_user", default=None)
_ACTING_ROLE: ContextVar[str | None] = ContextVar("assetry_acting_role", default=None)


def local_user() -> str:
    """The user name recorded in RCB/RMB: the server's authenticated user while it
    handles a request (``acting_as``), else ``$ASSETRY_USER`` or the login name."""
    return _ACTING_USER.get() or os.environ.get(ENV_USER) or _login_name()


@functools.cache
def _login_name() -> str:
    # Looked up once: every catalog session records it.
    return getpass.getuser()


def acting_role() -> str | None:
    """The role of the caller the server acts for (``acting_as``), or None for the local
    owner of an embedded or database catalog, who may do anything a role may."""
    return _ACTING_ROLE.get()


@contextmanager
def acting_as(user: str, role: str | None = None) -> Iterator[None]:
    """Record changes made inside the block as made by ``user`` and authorize them for
    ``role`` (this thread/task only; None: the local owner)."""
    user_token = _ACTING_USER.set(user)
    role_token = _ACTING_ROLE.set(role)
    try:
        yield
    finally:
        _ACTING_ROLE.reset(role_token)
        _ACTING_USER.reset(user_token)


def credentials_file() -> Path:
    """Where ``assetry`` keeps tokens for remote catalogs (``$ASSETRY_CREDENTIALS``)."""
    override = os.environ.get(ENV_CREDENTIALS)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "assetry" / "credentials.json"


# Catalog servers this process has connected to, with their tokens, so a bag's fetch.txt
# URLs that point at one of them can be fetched with its token (and no other URL ever
# sees a token).
_SERVER_TOKENS: dict[str, str] = {}


def register_server(url: str, token: str | None) -> None:
    """Remember the token of a catalog server this process uses."""
    if token:
        _SERVER_TOKENS[url.rstrip("/") + "/"] = token


def token_for_url(url: str) -> str | None:
    """The token to send with a request for ``url``: only for URLs under a catalog server
    this process connected to, under ``$ASSETRY_CATALOG`` (with ``$ASSETRY_TOKEN``), or
    under a server named in the credentials file."""
    for base, token in _SERVER_TOKENS.items():
        if url.startswith(base):
            return token
    catalog, env_token = os.environ.get(ENV_CATALOG), os.environ.get(ENV_TOKEN)
    if catalog and env_token and url.startswith(catalog.rstrip("/") + "/"):
        return env_token
    try:
        known = _credentials()
    except ConfigError:
        return None  # a broken file is reported when a catalog is opened, not here
    for base, token in known.items():
        if url.startswith(base.rstrip("/") + "/"):
            return token
    return None


def remote_token(url: str, token: str | None) -> str | None:
    """The token for the remote catalog at ``url``: the argument, ``$ASSETRY_TOKEN``, or
    the credentials file (a JSON object mapping server URLs to tokens)."""
    if token:
        return token
    if os.environ.get(ENV_TOKEN):
        return os.environ[ENV_TOKEN]
    known = _credentials()
    return known.get(url.rstrip("/")) or known.get(url.rstrip("/") + "/")


def _credentials() -> dict[str, str]:
    """The credentials file as server URL -> token (empty when there is none)."""
    import json

    path = credentials_file()
    if not path.is_file():
        return {}
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read the credentials file {path}: {err}") from None
    if not isinstance(known, dict):
        raise ConfigError(f"the credentials file {path} must hold a JSON object")
    return {str(k): v for k, v in known.items() if isinstance(v, str)}
