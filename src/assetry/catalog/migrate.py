"""Running the packaged Alembic migrations, configured in code."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from assetry.catalog.engine import WRITE_OPTION, translated_errors
from assetry.errors import SchemaVersionError


def alembic_config(connection: sa.Connection | None = None, **attributes: Any) -> Config:
    """An Alembic configuration pointing at the migrations inside the package."""
    config = Config()
    config.set_main_option("script_location", "assetry:migrations")
    config.attributes["connection"] = connection
    config.attributes["assetry"] = attributes
    return config


@functools.cache
def head_revision() -> str:
    """The newest migration this version of assetry ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(conn: sa.Connection) -> str | None:
    """The migration the catalog's schema is at (None for an empty database)."""
    return MigrationContext.configure(conn).get_current_revision()


def run(engine: sa.Engine, target: str = "head", downgrade: bool = False, **attrs: Any) -> None:
    """Upgrade (or downgrade) the catalog at ``engine`` to ``target`` in one transaction."""
    with translated_errors("migration"), engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            config = alembic_config(conn, **attrs)
            if downgrade:
                command.downgrade(config, target)
            else:
                command.upgrade(config, target)


def check_current(engine: sa.Engine, location: str) -> None:
    """Raise ``SchemaVersionError`` unless the catalog's schema is at this code's head."""
    with translated_errors("schema version check"), engine.connect() as conn:
        revision = current_revision(conn)
        conn.rollback()
    head = head_revision()
    if revision == head:
        return
    if revision is None:
        raise SchemaVersionError(f"{location} is not an assetry catalog (no schema version)")
    if revision not in _known_revisions():
        raise SchemaVersionError(
            f"catalog {location} has schema version {revision}, newer than this assetry "
            f"({head}); upgrade the assetry package"
        )
    raise SchemaVersionError(
        f"catalog {location} has schema version {revision}, older than this assetry "
        f"({head}); run `assetry upgrade --catalog {location}` (or Catalog.upgrade()) first"
    )
