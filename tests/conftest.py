"""Shared fixtures: catalogs on every engine, each cloned from a pre-migrated template.

``catalog`` is the embedded default (SQLite): behaviour tests run on it once. What
differs between backends runs in the Backend conformance suite (``tests/conformance/``),
whose concrete modules bind ``sqlite_catalog``, ``postgres_catalog`` and
``remote_catalog`` (a server on 127.0.0.1, port 0, in a thread of the test process, over
a SQLite catalog). PostgreSQL, S3 (moto) and server tests skip with a reason when the
service or extra is missing, and fail instead when ``ASSETRY_REQUIRE_ALL=1`` (as in CI).
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assetry import Catalog
from assetry.sql import rids
from assetry.sql.backend import SqlBackend
from tests.emulators import azure_url, azurite, gcs_emulator, gcs_url  # noqa: F401

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


@pytest.fixture(autouse=True)
def _cache_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Catalogs without a folder of their own (database and remote ones) keep execution
    folders and downloads under ``$XDG_CACHE_HOME/assetry``: in a test, that is a folder
    pytest removes, not the user's ``~/.cache``. Fixtures may point it elsewhere."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


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


NewCatalog = Callable[[Path], Catalog]


@pytest.fixture
def new_catalog(sqlite_template: Path) -> Iterator[NewCatalog]:
    """``new_catalog(path)``: a new, empty catalog at ``path``, as ``Catalog.create(path)``
    makes it (copied from the template, with a RID prefix of its own); closed afterwards."""
    opened: list[Catalog] = []

    def make(path: Path) -> Catalog:
        opened.append(clone_sqlite(sqlite_template, Path(path)))
        return opened[-1]

    yield make
    for cat in opened:
        cat.close()


Builder = Callable[[Catalog], Any]
BuildCatalog = Callable[[Builder], tuple[Catalog, Any]]


class BuiltTemplates:
    """SQLite catalogs holding what a builder made (a model, rows, stored files), each
    built once per test process and copied for every test that asks for it: building a
    model is DDL that costs far more than copying the file it ends up in."""

    def __init__(self, base: Path, root: Path) -> None:
        self.base = base
        self.root = root
        self.built: dict[tuple[Any, ...], tuple[Path, Any]] = {}

    @staticmethod
    def key(build: Builder) -> tuple[Any, ...]:
        if isinstance(build, functools.partial):
            return (*BuiltTemplates.key(build.func), repr(build.args), repr(build.keywords))
        return (build.__module__, build.__qualname__)

    def clone(self, build: Builder, target: Path) -> tuple[Catalog, Any]:
        """A new catalog at ``target`` holding what ``build`` made, and what it returned
        (``None`` for a catalog: a builder returning its argument)."""
        key = self.key(build)
        if key not in self.built:
            path = self.root / f"built-{len(self.built)}"
            cat = clone_sqlite(self.base, path / "catalog")
            value = build(cat)
            cat.close()
            self.built[key] = (path / "catalog", None if isinstance(value, Catalog) else value)
        path, value = self.built[key]
        return clone_sqlite(path, target), value


@pytest.fixture(scope="session")
def built_templates(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> BuiltTemplates:
    return BuiltTemplates(sqlite_template, tmp_path_factory.mktemp("built"))


@pytest.fixture
def built_catalog(built_templates: BuiltTemplates, tmp_path: Path) -> Iterator[BuildCatalog]:
    """``built_catalog(build)``: a fresh SQLite catalog holding what ``build(cat)`` made
    (built once per test process, then copied), and what ``build`` returned. A builder
    that needs arguments is a ``functools.partial``; it may write files only inside the
    catalog (its store), since they are copied with it."""
    opened: list[Catalog] = []

    def make(build: Builder) -> tuple[Catalog, Any]:
        name = "catalog" if not opened else f"catalog-{len(opened)}"
        cat, value = built_templates.clone(build, tmp_path / name)
        opened.append(cat)
        return cat, value

    yield make
    for cat in opened:
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

    def clone(self, template: str | None = None) -> str:
        """A new database copied from ``template`` (the pre-migrated one by default)."""
        name = f"assetry_t_{RUN_ID}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            # FILE_COPY copies the template's files instead of WAL-logging every block:
            # about twice as fast for a small template.
            conn.exec_driver_sql(
                f'CREATE DATABASE "{name}" TEMPLATE "{template or self.template}" '
                "STRATEGY FILE_COPY"
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


class PgBuiltTemplates:
    """PostgreSQL catalogs holding what a builder made, each built once per test process
    into a database of its own (with a store folder of its own), then copied with
    ``CREATE DATABASE ... TEMPLATE`` (and the folder copied) for every test."""

    def __init__(self, admin: sa.Engine, template: str, root: Path) -> None:
        self.databases = PgDatabases(admin, template)
        self.root = root
        self.built: dict[tuple[Any, ...], tuple[str, Path, Any]] = {}

    def clone(self, build: Builder, databases: PgDatabases, store: Path) -> tuple[Catalog, Any]:
        key = BuiltTemplates.key(build)
        if key not in self.built:
            url = self.databases.clone()
            objects = self.root / f"built-{len(self.built)}" / "objects"
            cat = fresh_prefix(Catalog(url))
            cat._backend.set_setting("store", str(objects))
            value = build(cat)
            cat.close()
            name = sa.engine.make_url(url).database
            assert name is not None
            self.built[key] = (name, objects, None if isinstance(value, Catalog) else value)
        name, objects, value = self.built[key]
        cat = fresh_prefix(Catalog(databases.clone(template=name)))
        if objects.is_dir():
            shutil.copytree(objects, store)
        cat._backend.set_setting("store", str(store))
        return cat, value


@pytest.fixture(scope="session")
def pg_built_templates(
    pg_admin: sa.Engine | None,
    pg_template: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PgBuiltTemplates | None]:
    if pg_admin is None or pg_template is None:
        yield None
        return
    templates = PgBuiltTemplates(pg_admin, pg_template, tmp_path_factory.mktemp("pg-built"))
    yield templates
    templates.databases.drop_all()


@pytest.fixture
def built_postgres(
    pg_built_templates: PgBuiltTemplates | None, pg_databases: PgDatabases, tmp_path: Path
) -> Iterator[BuildCatalog]:
    """``built_postgres(build)``: as ``built_catalog``, on PostgreSQL."""
    assert pg_built_templates is not None  # pg_databases skipped or failed otherwise
    opened: list[Catalog] = []

    def make(build: Builder) -> tuple[Catalog, Any]:
        store = tmp_path / ("pg-objects" if not opened else f"pg-objects-{len(opened)}")
        cat, value = pg_built_templates.clone(build, pg_databases, store)
        opened.append(cat)
        return cat, value

    yield make
    for cat in opened:
        cat.close()


# --- remote: a server in a thread ---------------------------------------------------------

ROLES = ("reader", "writer", "curator", "admin")


@dataclass
class RemoteServer:
    """A running server: its URL, one token per role, and the catalog it serves."""

    url: str
    tokens: dict[str, str]
    location: str

    def catalog(self, role: str = "admin") -> Catalog:
        return Catalog(self.url, token=self.tokens[role])


def start_server(location: str, store: str | None = None) -> Iterator[RemoteServer]:
    """Serve the catalog at ``location`` with a token for each role (users <role>-user)."""
    try:
        from assetry.server import auth
        from assetry.server.app import create_app
        from assetry.server.run import background_server
    except ModuleNotFoundError as err:
        service_missing(f"the server extra is not installed ({err.name})")
        raise
    local = Catalog(location)
    assert isinstance(local._backend, SqlBackend)
    tokens = {r: auth.create_token(local._backend, f"{r}-user", r)[0] for r in ROLES}
    local.close()
    with background_server(create_app(location, store)) as url:
        yield RemoteServer(url, tokens, location)


@pytest.fixture
def remote_server(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RemoteServer]:
    """A server over a fresh SQLite catalog; clients keep their files under tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    clone_sqlite(sqlite_template, tmp_path / "served").close()
    yield from start_server(str(tmp_path / "served"))


BuildServer = Callable[[Builder], tuple["RemoteServer", Any]]


@pytest.fixture
def built_server(
    built_templates: BuiltTemplates, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[BuildServer]:
    """``built_server(build)``: a server (as ``remote_server``) over a SQLite catalog
    holding what ``build(cat)`` made (see ``built_catalog``), and what ``build`` returned."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    with contextlib.ExitStack() as servers:
        started: list[RemoteServer] = []

        def make(build: Builder) -> tuple[RemoteServer, Any]:
            served = tmp_path / ("served" if not started else f"served-{len(started)}")
            cat, value = built_templates.clone(build, served)
            cat.close()
            server = servers.enter_context(contextlib.contextmanager(start_server)(str(served)))
            started.append(server)
            return server, value

        yield make


@pytest.fixture
def remote_catalog(
    remote_server: RemoteServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Catalog]:
    """An admin's remote catalog; ``$ASSETRY_TOKEN`` is set too, so ``Catalog(url)``
    (another object, a child process) connects as the same user, as a user's would."""
    monkeypatch.setenv("ASSETRY_TOKEN", remote_server.tokens["admin"])
    cat = remote_server.catalog("admin")
    yield cat
    cat.close()


@pytest.fixture
def remote_pg_server(
    pg_databases: PgDatabases, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RemoteServer]:
    """A server over a fresh PostgreSQL catalog."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    url = pg_databases.clone()
    local = fresh_prefix(Catalog(url))
    assert isinstance(local._backend, SqlBackend)
    local._backend.set_setting("store", str(tmp_path / "pg-objects"))
    local.close()
    yield from start_server(url)


# --- the embedded default -----------------------------------------------------------------


@pytest.fixture
def catalog(sqlite_catalog: Catalog) -> Catalog:
    """A fresh, empty catalog on the embedded default (SQLite)."""
    return sqlite_catalog


@pytest.fixture(params=["sqlite", "postgres"])
def db_catalog(request: pytest.FixtureRequest) -> Catalog:
    """A fresh catalog on each database engine, for tests of what each database itself
    holds (the schema the migrations made, the queries of the bulk checks)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_catalog")  # type: ignore[no-any-return]
    return request.getfixturevalue("postgres_catalog")  # type: ignore[no-any-return]


# --- S3: moto's server ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str | None]:
    """An S3 endpoint served by moto on 127.0.0.1 (a free port)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        yield None
        return
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_url(moto_endpoint: str | None) -> str:
    """The URL of an S3 store in a new, empty bucket."""
    if moto_endpoint is None:
        service_missing("moto[server] is not installed: S3 tests need it")
    import boto3

    bucket = f"assetry-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return f"s3://{bucket}/objects?endpoint_url={moto_endpoint}&region=us-east-1"
