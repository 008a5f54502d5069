"""The database behind a catalog URL: creating a new PostgreSQL catalog's database, and
telling a missing database or an unreachable server apart when one is opened."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from assetry.errors import ConfigError, NotFoundError, StoreError
from assetry.sql.engine import make_engine, normalize_url, translated_errors

_CREATE_HINT = "create one with Catalog.create or `assetry init`"


def ensure_database(url: str) -> None:
    """Create the database named in a PostgreSQL ``url`` if it is missing."""
    parsed = sa.engine.make_url(normalize_url(url))
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    try:
        with translated_errors("creating the catalog database"):
            with admin.connect() as conn:
                exists = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                    {"name": parsed.database},
                ).first()
            if exists:
                return
            quoted = admin.dialect.identifier_preparer.quote_identifier(parsed.database)
            with admin.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
    finally:
        admin.dispose()


def _parse(url: str) -> sa.URL:
    try:
        return sa.engine.make_url(normalize_url(url))
    except sa.exc.ArgumentError as err:
        raise ConfigError(f"not a usable database URL: {err}") from None


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite ``url``; None for another engine or an in-memory database."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if str(parsed.query.get("uri", "")).lower() in ("true", "1"):
        if "mode=memory" in database:
            return None
        database = database.removeprefix("file:").partition("?")[0]
    if database in ("", ":memory:"):
        return None
    return Path(database).expanduser()


def check_exists(url: str) -> None:
    """Before a catalog database is opened: ``NotFoundError`` if it is a SQLite file that
    does not exist (opening it would create an empty one)."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise NotFoundError(f"no catalog database at {path} ({_CREATE_HINT})")


def server_label(url: str) -> str:
    """``host:port`` of a database server URL (no user name or password)."""
    parsed = _parse(url)
    host = parsed.host or "localhost"
    return f"{host}:{parsed.port}" if parsed.port else host


@contextmanager
def opening(url: str) -> Iterator[None]:
    """Around opening the catalog database at ``url``: a database that does not exist is
    a ``NotFoundError`` naming it (nothing is created), a server that cannot be reached a
    ``StoreError`` naming its host and port."""
    try:
        yield
    except NotFoundError as err:
        parsed = _parse(url)
        if parsed.get_backend_name() != "postgresql" or "does not exist" not in str(err):
            raise
        raise NotFoundError(
            f"no catalog database {parsed.database!r} on the PostgreSQL server at "
            f"{server_label(url)} ({_CREATE_HINT})"
        ) from None
    except StoreError as err:
        if sqlite_file(url) is not None:
            raise
        raise StoreError(
            f"the database server at {server_label(url)} cannot be reached: {_detail(err)}"
        ) from None


def _detail(err: Exception) -> str:
    text = str(err)
    marker = "cannot be reached ("
    if marker in text and text.endswith(")"):
        return text[text.index(marker) + len(marker) : -1]
    return text
