"""Migrations: the system schema is made only by the packaged migrations, which agree with
the declared tables, upgrade from empty to head and back on both engines, and opening an
outdated catalog is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from assetry import Catalog, NotFoundError, SchemaVersionError
from assetry.sql import internal, migrate
from assetry.sql.engine import make_engine
from assetry.sql.model import Model, build_metadata
from tests.conftest import PgDatabases
from tests.helpers import subject_image_model


def declared_metadata(cat: Catalog) -> sa.MetaData:
    """Every table the code believes exists: bookkeeping tables plus the model's."""
    metadata = sa.MetaData()
    for table in internal.metadata.tables.values():
        table.to_metadata(metadata)
    for table in build_metadata(Model.from_doc(cat.model)).tables.values():
        table.to_metadata(metadata)
    return metadata


def _declared_elsewhere(obj: object, name: str | None, kind: str, *_: object) -> bool:
    """False for the text-search indexes (``sql.search_index``): SQLite's FTS5 tables
    (and their shadow tables) and PostgreSQL's expression indexes are made from the
    model by the DDL and migration 0012, not declared as tables (tests/sql/test_search)."""
    if name is None:
        return True
    if kind == "table" and name.startswith("assetry_fts_"):
        return False
    return not (kind == "index" and name.endswith("_trgm"))


def schema_differences(engine: sa.Engine, metadata: sa.MetaData) -> list:
    with engine.connect() as conn:
        opts = {"compare_type": True, "include_object": _declared_elsewhere}
        context = MigrationContext.configure(conn, opts=opts)
        diffs = compare_metadata(context, metadata)
    return [d for d in diffs if not _is_alembic_version(d)]


def _is_alembic_version(diff: object) -> bool:
    return "alembic_version" in repr(diff)


def test_migrations_match_declared_tables(db_catalog: Catalog) -> None:
    subject_image_model(db_catalog)  # user tables are declared by the model document too
    engine = db_catalog._backend.engine
    assert schema_differences(engine, declared_metadata(db_catalog)) == []


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    pg: PgDatabases = request.getfixturevalue("pg_databases")
    return pg.empty()


def table_names(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def test_upgrade_from_empty_to_head_and_back(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        assert table_names(engine) == set()
        migrate.run(engine, "head")
        with engine.connect() as conn:
            assert migrate.current_revision(conn) == migrate.head_revision()
        assert {"Execution", "Dataset_Version", "assetry_history"} <= table_names(engine)
        migrate.run(engine, "base", downgrade=True)
        assert table_names(engine) <= {"alembic_version"}
        migrate.run(engine, "head")
        assert "Workflow" in table_names(engine)
    finally:
        engine.dispose()


def test_downgrade_also_removes_user_tables(empty_database: str, tmp_path: Path) -> None:
    store = str(tmp_path / "objects")
    cat = Catalog.create(empty_database, store=store)
    subject_image_model(cat)
    cat.close()
    engine = make_engine(empty_database)
    migrate.run(engine, "base", downgrade=True)
    assert table_names(engine) <= {"alembic_version"}
    engine.dispose()


def test_opening_an_outdated_catalog_names_the_upgrade_command(
    sqlite_catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = sqlite_catalog.location
    sqlite_catalog.close()
    monkeypatch.setattr(migrate, "head_revision", lambda: "9999")
    monkeypatch.setattr(migrate, "_known_revisions", lambda: {"0001", "0002", migrate.HEAD, "9999"})
    with pytest.raises(SchemaVersionError, match="assetry upgrade"):
        Catalog(location)


def test_opening_a_newer_catalog_is_refused(sqlite_catalog: Catalog) -> None:
    location = sqlite_catalog.location
    engine = sqlite_catalog._backend.engine
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    sqlite_catalog.close()
    with pytest.raises(SchemaVersionError, match="newer"):
        Catalog(location)


def test_upgrade_is_a_no_op_at_head(sqlite_catalog: Catalog) -> None:
    assert sqlite_catalog.upgrade() == migrate.head_revision()
    assert Catalog.upgrade(sqlite_catalog.location) == migrate.head_revision()


def test_a_non_catalog_database_is_refused(tmp_path: Path) -> None:
    import sqlite3

    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    with pytest.raises(SchemaVersionError, match="not an assetry catalog"):
        Catalog(f"sqlite:///{plain}")


def test_declared_head_matches_the_scripts() -> None:
    assert migrate.head_revision() == migrate.scripts_head()


def test_upgrade_from_the_first_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.run(engine, "0001", rid_prefix="AAAAAAAA", store="objects")
    engine.dispose()
    with pytest.raises(SchemaVersionError, match="assetry upgrade"):
        Catalog(url)
    assert Catalog.upgrade(url) == migrate.head_revision()
    with Catalog(url) as cat:
        assert "Execution_Metadata" in cat.list_tables("asset")
        assert cat.rid_prefix == "AAAAAAAA"


def test_upgrade_of_no_catalog_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for location in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(NotFoundError):
            Catalog.upgrade(location)
    assert list((tmp_path / "empty").iterdir()) == []
    with pytest.raises(NotFoundError):
        Catalog.upgrade(f"sqlite:///{tmp_path / 'plain.db'}")


def test_apply_model_defaults_the_schema(catalog: Catalog) -> None:
    doc = {"tables": [{"name": "Sample", "kind": "table",
                       "columns": [{"name": "Label", "type": "text"}]}]}  # fmt: skip
    assert catalog.apply_model(doc) == ["Sample"]
    [table] = [t for t in catalog.model["tables"] if t["name"] == "Sample"]
    assert table["schema"] == catalog.domain_schema
