"""Database engines: connection settings, explicit transactions, fork safety, errors.

SQLite runs in WAL mode with a busy timeout and foreign keys on. Python's sqlite3 driver
opens transactions lazily, which lets a multi-statement change commit halfway and makes a
reader that turns writer fail at once with SQLITE_BUSY (the busy timeout does not retry
that case). So the driver's own transaction handling is switched off and every session
starts its transaction explicitly: ``BEGIN IMMEDIATE`` when it will write, ``BEGIN`` when
it only reads.
"""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc

from assetry.errors import (
    AssetryError,
    ConfigError,
    ConflictError,
    NotFoundError,
    StoreError,
    ValidationError,
)

WRITE_OPTION = "assetry_write"

_ENGINES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _dispose_after_fork() -> None:
    # The child must never use the parent's sockets or SQLite handles.
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_dispose_after_fork)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy's default driver is psycopg2)."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url`` with assetry's connection and transaction settings."""
    url = normalize_url(url)
    try:
        if url.startswith("sqlite"):
            engine = _sqlite_engine(url)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    except ModuleNotFoundError as err:
        raise ConfigError(
            f"the database driver {err.name!r} is not installed; "
            "install it with: pip install 'assetry[postgres]'"
        ) from None
    except exc.ArgumentError as err:
        raise ConfigError(f"not a usable database URL {url!r}: {err}") from None
    _ENGINES.add(engine)
    return engine


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 60},
        pool_size=8,
        max_overflow=8,
        poolclass=sa.pool.QueuePool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        # FULL: a commit that returned survives a power loss.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        writes = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _sqlstate(err: exc.DBAPIError) -> str:
    return str(getattr(err.orig, "sqlstate", "") or "")


@contextmanager
def translated_errors(action: str = "database operation") -> Iterator[None]:
    """Turn driver and SQLAlchemy exceptions into assetry errors.

    This is the only place database exceptions are caught and translated.
    """
    try:
        yield
    except exc.IntegrityError as err:
        message = str(err.orig)
        state = _sqlstate(err)
        if state == "23505" or "UNIQUE constraint" in message:
            raise ConflictError(f"{action}: duplicate value ({_first_line(message)})") from None
        if state == "23503" or "FOREIGN KEY" in message:
            raise ConflictError(
                f"{action}: a referenced row is missing or still in use ({_first_line(message)})"
            ) from None
        raise ValidationError(f"{action}: {_first_line(message)}") from None
    except exc.OperationalError as err:
        message = _first_line(str(err.orig))
        if "locked" in message or "busy" in message:
            raise ConflictError(f"{action}: the catalog is busy ({message}); retry") from None
        if _is_server_driver(err):
            if _MISSING_DATABASE.search(message):
                raise NotFoundError(f"{action}: {message}") from None
            if any(sign in message for sign in _UNREACHABLE):
                raise StoreError(
                    f"{action}: the database server cannot be reached ({message})"
                ) from None
        raise AssetryError(f"{action} failed: {message}") from None
    except exc.DataError as err:
        # Values the database cannot hold (e.g. PostgreSQL refuses NUL in text).
        raise ValidationError(f"{action}: {_first_line(str(err.orig))}") from None
    except exc.DBAPIError as err:
        raise AssetryError(f"{action} failed: {_first_line(str(err.orig))}") from None
    except exc.SQLAlchemyError as err:
        raise AssetryError(f"{action} failed: {_first_line(str(err))}") from None
    except UnicodeEncodeError as err:
        # The drivers encode text as UTF-8; a lone surrogate cannot be.
        raise ValidationError(
            f"{action}: text with a character that is not valid Unicode cannot be stored "
            f"({err.object[err.start : err.end]!r} at position {err.start})"
        ) from None


# A network database server refusing or not answering a connection (psycopg's words).
_UNREACHABLE = (
    "connection failed",
    "Connection refused",
    "could not connect",
    "failed to resolve host",
    "could not translate host name",
    "timeout expired",
    "server closed the connection unexpectedly",
    "No route to host",
    "Network is unreachable",
)
_MISSING_DATABASE = re.compile(r'database ".*" does not exist')


def _is_server_driver(err: exc.DBAPIError) -> bool:
    """True for the driver of a database server (not SQLite's, whose 'database' is a file)."""
    return not type(err.orig).__module__.startswith("sqlite3")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text
