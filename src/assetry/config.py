"""Where catalogs live: locations, environment variables and defaults."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from assetry.errors import ConfigError

ENV_CATALOG = "ASSETRY_CATALOG"
ENV_USER = "ASSETRY_USER"
DEFAULT_LOCATION = ".assetry"
DATABASE_FILE = "catalog.db"
DEFAULT_STORE = "objects"

STORE_SCHEMES = ("file", "s3")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


@dataclass(frozen=True)
class Location:
    """A resolved catalog location: a directory (embedded) or a database URL."""

    text: str
    database_url: str
    directory: Path | None = None

    @property
    def embedded(self) -> bool:
        return self.directory is not None


def resolve_location(location: str | os.PathLike[str] | None) -> Location:
    """Turn what the user gave (or the environment, or the default) into a location."""
    if location is None:
        location = os.environ.get(ENV_CATALOG) or DEFAULT_LOCATION
    text = os.fspath(location)
    if not text:
        raise ConfigError("the catalog location is empty")
    scheme = urlparse(text).scheme.lower() if "://" in text else ""
    if scheme in ("http", "https"):
        raise ConfigError(
            f"{text} is a remote catalog; this version of assetry opens embedded "
            "(directory) and database catalogs only"
        )
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


def local_user() -> str:
    """The user name recorded in RCB/RMB for local changes."""
    return os.environ.get(ENV_USER) or getpass.getuser()
