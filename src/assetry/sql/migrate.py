"""Running the packaged Alembic migrations, configured in code."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from assetry.errors import NotFoundError, SchemaVersionError
from assetry.faults import fault_point
from assetry.sql.engine import WRITE_OPTION, translated_errors

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where it is used: opening a catalog should not pay for it.


def alembic_config(connection: sa.Connection | None = None, **attributes: Any) -> Config:
    """An Alembic configuration pointing at the migrations inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "assetry:migrations")
    config.attributes["connection"] = connection
    config.attributes["assetry"] = attributes
    return config


# The newest migration this version ships (a test checks it against the scripts), so
# that opening a catalog needs no Alembic import.
HEAD = "0013"


def head_revision() -> str:
    """The newest migration this version of assetry ships."""
    return HEAD


@functools.cache
def scripts_head() -> str | None:
    """The head revision according to the migration scripts themselves."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def current_revision(conn: sa.Connection) -> str | None:
    """The migration the catalog's schema is at (None for an empty database)."""
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    return versions[0] if len(versions) == 1 else None


def upgrade_existing(engine: sa.Engine, location: str) -> None:
    """Upgrade an existing catalog; an empty database is not one (``NotFoundError``)."""
    with translated_errors("schema version check"), engine.connect() as conn:
        revision = current_revision(conn)
        conn.rollback()
    if revision is None:
        raise NotFoundError(f"no catalog at {location} (create one with Catalog.create)")
    run(engine, "head")


def run(engine: sa.Engine, target: str = "head", downgrade: bool = False, **attrs: Any) -> None:
    """Upgrade (or downgrade) the catalog at ``engine`` to ``target`` in one transaction."""
    from alembic import command

    with translated_errors("migration"), engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            config = alembic_config(conn, **attrs)
            if downgrade:
                command.downgrade(config, target)
            else:
                command.upgrade(config, target)
            fault_point("migrate.before_commit")


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
