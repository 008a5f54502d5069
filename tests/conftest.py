"""Shared fixtures: catalogs on every engine, each cloned from a pre-migrated template.

``catalog`` is parametrized over SQLite and PostgreSQL. PostgreSQL tests skip with a
reason when no server answers on 127.0.0.1:5432, and fail instead when
``ASSETRY_REQUIRE_ALL=1`` (as in CI).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from assetry import Catalog
from assetry.catalog import rids

PG_ADMIN_URL = os.environ.get(
    "ASSETRY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_ALL = os.environ.get("ASSETRY_REQUIRE_ALL") == "1"
RUN_ID = uuid.uuid4().hex[:8]


def _conformance_suite() -> Path:
    """The Library of Congress BagIt conformance bags in ``shared/`` beside the repo."""
    override = os.environ.get("ASSETRY_BAGIT_CONFORMANCE")
    if override:
        return Path(override)
    beside = Path(__file__).resolve().parents[1].parent / "shared" / "bagit-conformance"
    return beside if beside.is_dir() else Path("/work/shared/bagit-conformance")


BAGIT_CONFORMANCE = _conformance_suite()


def service_missing(reason: str) -> None:
    """Skip, or fail when every service is required (CI)."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (ASSETRY_REQUIRE_ALL=1: required services may not be skipped)")
    pytest.skip(reason)


def fresh_prefix(cat: Catalog) -> Catalog:
    """Give a cloned catalog its own RID prefix, as an independently created one has."""
    cat._backend.set_setting("rid_prefix", rids.new_prefix())
    return cat


# --- SQLite ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "catalog"
    Catalog.create(path).close()
    return path


def clone_sqlite(template: Path, target: Path) -> Catalog:
    target.mkdir(parents=True)
    for name in os.listdir(template):
        source = template / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    return fresh_prefix(Catalog(target))


@pytest.fixture
def sqlite_catalog(sqlite_template: Path, tmp_path: Path) -> Iterator[Catalog]:
    cat = clone_sqlite(sqlite_template, tmp_path / "catalog")
    yield cat
    cat.close()


# --- PostgreSQL --------------------------------------------------------------------------


def _pg_admin() -> sa.Engine | None:
    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:
        engine.dispose()
        return None
    return engine


def pg_url(database: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=database).render_as_string(False)


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[sa.Engine | None]:
    engine = _pg_admin()
    yield engine
    if engine is not None:
        engine.dispose()


def drop_database(admin: sa.Engine, name: str) -> None:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template(
    pg_admin: sa.Engine | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str | None]:
    if pg_admin is None:
        yield None
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"assetry_tpl_{RUN_ID}_{worker}"
    drop_database(pg_admin, name)
    store = tmp_path_factory.mktemp("pg-template-store")
    Catalog.create(pg_url(name), store=str(store)).close()
    yield name
    drop_database(pg_admin, name)


class PgDatabases:
    """Creates test databases from the template and drops them afterwards."""

    def __init__(self, admin: sa.Engine, template: str) -> None:
        self.admin = admin
        self.template = template
        self.created: list[str] = []

    def clone(self) -> str:
        name = f"assetry_t_{RUN_ID}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            # FILE_COPY copies the template's files instead of WAL-logging every block:
            # about twice as fast for a small template.
            conn.exec_driver_sql(
                f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY'
            )
        self.created.append(name)
        return pg_url(name)

    def empty(self) -> str:
        """A new, empty database (no catalog in it)."""
        name = f"assetry_t_{RUN_ID}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return pg_url(name)

    def drop_all(self) -> None:
        for name in self.created:
            drop_database(self.admin, name)


@pytest.fixture
def pg_databases(pg_admin: sa.Engine | None, pg_template: str | None) -> Iterator[PgDatabases]:
    if pg_admin is None or pg_template is None:
        service_missing(f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    assert pg_admin is not None and pg_template is not None
    dbs = PgDatabases(pg_admin, pg_template)
    yield dbs
    dbs.drop_all()


@pytest.fixture
def postgres_catalog(pg_databases: PgDatabases, tmp_path: Path) -> Iterator[Catalog]:
    cat = fresh_prefix(Catalog(pg_databases.clone()))
    cat._backend.set_setting("store", str(tmp_path / "pg-objects"))
    yield cat
    cat.close()


# --- every engine --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest) -> Catalog:
    """A fresh, empty catalog on each database engine."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_catalog")  # type: ignore[no-any-return]
    return request.getfixturevalue("postgres_catalog")  # type: ignore[no-any-return]
