"""SqlBackend: a catalog in a SQLite file or a PostgreSQL database, via SQLAlchemy Core."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from assetry import config
from assetry.backend import PAGE_SIZE, Backend
from assetry.errors import (
    AssetryError,
    ConflictError,
    NotFoundError,
    RIDNotFound,
    ValidationError,
)
from assetry.records.definitions import ColumnDef
from assetry.records.rows import ResolvedRID
from assetry.records.terms import Term
from assetry.sql import (
    assets,
    database,
    ddl,
    history,
    indexes,
    internal,
    listing,
    migrate,
    policy,
    reads,
    registry,
    rids,
    rows,
    search,
)
from assetry.sql.backend_artifacts import SqlArtifactsMixin
from assetry.sql.backend_assets import SqlAssetsMixin
from assetry.sql.backend_browse import SqlBrowseMixin
from assetry.sql.backend_datasets import SqlDatasetsMixin
from assetry.sql.backend_features import SqlFeaturesMixin
from assetry.sql.backend_stores import SqlStoresMixin
from assetry.sql.engine import WRITE_OPTION, make_engine, translated_errors
from assetry.sql.model import Model, build_metadata
from assetry.sql.names import MAX_COUNT, SNAPSHOT_COLUMN
from assetry.sql.session import Session
from assetry.sql.vocab import terms
from assetry.store.base import ObjectStore
from assetry.store.hashing import is_sha256

_TERM_ACTIONS: dict[str, set[str]] = {
    "add_synonym": {"synonym"},
    "remove_synonym": {"synonym"},
    "update": {"description", "synonyms", "name"},
    "delete": set(),
}


_LATEST_MODEL = sa.select(sa.func.max(internal.model_versions.c.version))
_LATEST_MODEL_SQL = "SELECT max(version) FROM assetry_model"


def _latest_model_version(conn: sa.Connection) -> int:
    """The newest model version, read at the start of every session."""
    if conn.dialect.name != "sqlite":
        return int(conn.execute(_LATEST_MODEL).scalar_one())
    # On the driver connection, inside the transaction SQLAlchemy began: its execution
    # path costs about 130 us here against 8 us for SQLite itself, and this runs in
    # every session (an execution's life is five of them).
    driver = conn.connection.driver_connection
    assert driver is not None
    try:
        row = driver.execute(_LATEST_MODEL_SQL).fetchone()
    except sqlite3.Error as err:
        raise sa.exc.DBAPIError.instance(_LATEST_MODEL_SQL, (), err, sqlite3.Error) from err
    return int(row[0])


def _set_synchronous(conn: sa.Connection, level: str) -> None:
    # On the driver connection: outside SQLAlchemy's transaction handling.
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA synchronous=NORMAL" if level == "NORMAL" else "PRAGMA synchronous=FULL")


class SqlBackend(
    SqlAssetsMixin,
    SqlDatasetsMixin,
    SqlFeaturesMixin,
    SqlArtifactsMixin,
    SqlBrowseMixin,
    SqlStoresMixin,
    Backend,
):
    """A catalog stored in a relational database (SQLite or PostgreSQL)."""

    def __init__(self, engine: sa.Engine, label: str, store_base: Path | None = None) -> None:
        """Wrap an engine whose schema is already at the current version; a relative
        store location recorded in the catalog is taken relative to ``store_base`` (the
        catalog folder of an embedded catalog)."""
        self._engine = engine
        self.label = label
        self._store_base = store_base
        self._object_store: ObjectStore | None = None
        self._primary_override: ObjectStore | None = None
        self._lock = threading.Lock()
        self._model: Model | None = None
        self._metadata: sa.MetaData | None = None
        self._models_by_version: dict[int, Model] = {}
        with translated_errors("reading catalog settings"), engine.connect() as conn:
            self._settings = self._settings_from(conn)
            conn.rollback()

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str, label: str, store_base: Path | None = None) -> SqlBackend:
        """Open an existing catalog database; refuse one whose schema is not current."""
        engine = make_engine(url)
        migrate.check_current(engine, label)
        return cls(engine, label, store_base)

    @classmethod
    def at(cls, location: config.Location) -> SqlBackend:
        """Open the directory or database catalog at ``location`` (``NotFoundError`` when
        there is none; ``SchemaVersionError`` when its schema is not current)."""
        directory = location.directory
        if directory is not None and not (directory / config.DATABASE_FILE).is_file():
            raise NotFoundError(
                f"no catalog at {directory} (create one with Catalog.create or `assetry init`)"
            )
        url = location.database_url
        database.check_exists(url)
        with database.opening(url):
            return cls.open(url, location.text, directory)

    @classmethod
    def create(cls, url: str, label: str, **settings: Any) -> SqlBackend:
        """Build the system schema in an empty database with the packaged migrations."""
        engine = make_engine(url)
        with translated_errors("checking the database"), engine.connect() as conn:
            revision = migrate.current_revision(conn)
            conn.rollback()
        if revision is not None:
            engine.dispose()
            raise ConflictError(f"a catalog already exists in {label}")
        migrate.run(engine, "head", **settings)
        return cls(engine, label)

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    @property
    def settings(self) -> dict[str, str]:
        return dict(self._settings)

    def close(self) -> None:
        self._engine.dispose()

    def object_store(self) -> ObjectStore:
        """The catalog's object stores as one (``StoreSet``): the one it was created with
        (unless ``attach_store`` gave another) and those added since, opened on first
        use. Asset rows are checked against it."""
        with self._lock:
            if self._object_store is None:
                url = self._settings.get("store") or self.label
                self._object_store = self._open_stores(url)
            return self._object_store

    def prefetch_digests(self, keys: Iterable[object]) -> None:
        """Look at the objects new asset rows will name before the write transaction
        that records them: one this process did not store is read and verified here, so
        the check inside the transaction (``sql/stored.py``) does not hash while
        holding the write lock. Anything wrong is left for that check to report."""
        wanted = {key for key in keys if is_sha256(key)}
        if not wanted:
            return
        store = self.object_store()
        for key in wanted:
            try:
                store.digests_of(str(key))
            except AssetryError:
                continue

    def attach_store(self, store: ObjectStore) -> None:
        """Use ``store`` as the catalog's store named ``default`` (a server given
        ``--store``)."""
        with self._lock:
            self._primary_override = store
            self._object_store = None

    # --- sessions ------------------------------------------------------------------------
    @contextmanager
    def session(self, write: bool = False, durable: bool = True) -> Iterator[Session]:
        """A transaction: commit on success, roll back on error, errors translated.

        ``durable=False`` (for bookkeeping such as execution statuses) lets SQLite commit
        without syncing the WAL: still atomic and never corrupt, but a power loss may undo
        it. Everything that records data keeps the default.
        """
        action = "catalog " + ("write" if write else "read")
        with translated_errors(action), self._engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            relaxed = write and not durable and conn.dialect.name == "sqlite"
            if relaxed:
                _set_synchronous(conn, "NORMAL")
                try:
                    with self._transaction(conn, write, postgres) as session:
                        yield session
                finally:
                    _set_synchronous(conn, "FULL")
            else:
                with self._transaction(conn, write, postgres) as session:
                    yield session
            if session.model_changed:
                with self._lock:
                    self._model, self._metadata = session.model, session.metadata

    @contextmanager
    def _transaction(self, conn: sa.Connection, write: bool, postgres: bool) -> Iterator[Session]:
        """Begin, check the model version, yield the session; commit on success."""
        if write:
            policy.require(policy.WRITER, "changing the catalog")
            conn.execution_options(**{WRITE_OPTION: True})
        elif postgres:
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if write and postgres:
                # Writers take turns on the snapshot counter, so snapshots are
                # committed in the order they are numbered.
                conn.execute(
                    sa.select(internal.counter.c.value)
                    .where(internal.counter.c.name == internal.SNAPSHOT)
                    .with_for_update()
                )
            model, metadata = self._current_model(conn)
            session = Session(
                conn=conn,
                model=model,
                metadata=metadata,
                user=config.local_user(),
                writes=write,
                settings=self._settings,
                objects=self.object_store,
            )
            yield session

    def _settings_from(self, conn: sa.Connection) -> dict[str, str]:
        s = internal.settings
        return {k: v for k, v in conn.execute(sa.select(s.c.key, s.c.value)) if v is not None}

    def _current_model(self, conn: sa.Connection) -> tuple[Model, sa.MetaData]:
        version = _latest_model_version(conn)
        with self._lock:
            if self._model is not None and self._model.version == version:
                assert self._metadata is not None
                return self._model, self._metadata
        model = self._load_model(conn, version)
        metadata = build_metadata(model)
        with self._lock:
            self._model, self._metadata = model, metadata
        return model, metadata

    def _load_model(self, conn: sa.Connection, version: int) -> Model:
        cached = self._models_by_version.get(version)
        if cached is not None:
            return cached
        mv = internal.model_versions
        doc = conn.execute(sa.select(mv.c.document).where(mv.c.version == version)).scalar_one()
        model = Model.from_doc(json.loads(doc))
        model.version = version
        self._models_by_version[version] = model
        return model

    def _model_at(self, session: Session, snapshot: int | None) -> Model:
        if snapshot is None:
            return session.model
        mv = internal.model_versions
        version = session.conn.execute(
            sa.select(sa.func.max(mv.c.version)).where(mv.c.snapshot <= snapshot)
        ).scalar_one()
        return self._load_model(session.conn, version)

    def _check_snapshot(self, session: Session, as_of: int | None) -> int | None:
        if as_of is None:
            return None
        if isinstance(as_of, bool) or not isinstance(as_of, int):
            raise ValidationError(f"as_of must be a snapshot number, got {as_of!r}")
        current = session.current_snapshot()
        if not 1 <= as_of <= current:
            raise ValidationError(
                f"snapshot {as_of} does not exist; this catalog's snapshots are 1 to {current}"
            )
        return as_of

    # --- model ---------------------------------------------------------------------------
    def model_document(self, as_of: int | None = None) -> dict[str, Any]:
        with self.session() as s:
            return self._model_at(s, self._check_snapshot(s, as_of)).to_doc()

    def create_vocabulary(self, name: str, comment: str | None, schema: str | None) -> None:
        with self.session(write=True) as s:
            ddl.create_vocabulary(s, name, comment, schema)

    def create_table(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        with self.session(write=True) as s:
            ddl.create_table(s, name, column_defs, referenced_tables, comment, schema)

    def create_asset(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        with self.session(write=True) as s:
            ddl.create_asset(s, name, column_defs, referenced_tables, comment, schema)

    def add_column(self, table: str, column: ColumnDef) -> None:
        with self.session(write=True) as s:
            ddl.add_column(s, table, column)

    def create_index(self, table: str, columns: list[str]) -> None:
        with self.session(write=True) as s:
            indexes.create_index(s, table, columns)

    def apply_model(self, document: dict[str, Any]) -> list[str]:
        with self.session(write=True) as s:
            return ddl.apply_model(s, document)

    def table_columns(self, table: str, as_of: int | None = None) -> list[tuple[str, str]]:
        with self.session() as s:
            model = self._model_at(s, self._check_snapshot(s, as_of))
            return [(c.name, c.type) for c in model.table(table).columns]

    # --- rows ----------------------------------------------------------------------------
    def insert(self, table: str, rows_: Sequence[Mapping[str, Any]]) -> list[str]:
        known = self._model.tables.get(table) if self._model is not None else None
        if known is not None and known.kind == "asset" and isinstance(rows_, Sequence):
            self.prefetch_digests(r.get("SHA256") for r in rows_ if isinstance(r, Mapping))
        with self.session(write=True) as s:
            policy.check_generic_write(s.model.table(table), "insert")
            return rows.insert(s, table, rows_)

    def update(self, table: str, rows_: Sequence[Mapping[str, Any]]) -> list[str]:
        with self.session(write=True) as s:
            policy.check_generic_write(s.model.table(table), "update", rows_)
            assets.guard_update(s, table, rows_)
            return rows.update(s, table, rows_)

    def delete(self, table: str, rids_: Sequence[str]) -> list[str]:
        with self.session(write=True) as s:
            policy.check_generic_write(s.model.table(table), "delete")
            return rows.delete(s, table, rids_)

    def resolve_rid(self, rid: str, as_of: int | None = None) -> ResolvedRID:
        wanted = rids.normalize(reads.checked_rid(rid))
        with self.session() as s:
            snapshot = self._check_snapshot(s, as_of)
            if snapshot is not None:
                return self._resolve_as_of(s, wanted, snapshot)
            # One probe of the RID registry, then one of the row's own table.
            found = registry.table_of(s.conn, wanted)
            if found is not None and found in s.model.tables:
                row = rows.fetch_current(s, found, [wanted]).get(wanted)
                if row is not None:
                    table = s.model.table(found)
                    return ResolvedRID(found, {c: row[c] for c in table.column_names})
            past = history.entries_for(s, wanted) if found is not None else []
            if past:
                last = past[-1]
                raise RIDNotFound(
                    wanted,
                    f"RID {wanted!r} of table {last.table_name!r} was deleted at snapshot "
                    f"{last.snap_to}; see history({wanted!r})",
                )
        raise RIDNotFound(wanted)

    def _resolve_as_of(self, s: Session, wanted: str, snapshot: int) -> ResolvedRID:
        """``wanted`` as it was at ``snapshot``: a current row unchanged since, else the
        history image valid then; its columns those of the model at ``snapshot``."""
        model = self._model_at(s, snapshot)
        found = registry.table_of(s.conn, wanted)
        if found is None:
            raise RIDNotFound(wanted, f"RID {wanted!r} did not exist at snapshot {snapshot}")
        if found in model.tables and found in s.model.tables:
            row = rows.fetch_current(s, found, [wanted]).get(wanted)
            if row is not None and row[SNAPSHOT_COLUMN] <= snapshot:
                table = model.table(found)
                return ResolvedRID(found, {c: row.get(c) for c in table.column_names})
        for entry in history.entries_for(s, wanted):
            if entry.snap_from <= snapshot < entry.snap_to and entry.table_name in model.tables:
                table = model.table(entry.table_name)
                old = history.decode_row(table, entry.row)
                return ResolvedRID(table.name, {c: old.get(c) for c in table.column_names})
        raise RIDNotFound(wanted, f"RID {wanted!r} did not exist at snapshot {snapshot}")

    def iter_rows(
        self,
        table: str,
        filters: Mapping[str, Any] | None = None,
        as_of: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[dict[str, Any]]:
        # Overrides the composite over ``rows_page``: the filters are checked and their
        # terms and RIDs resolved once per listing, not once per page.
        if limit is not None:
            _check_count("limit", limit)
        _check_count("offset", offset)
        # Check everything and pin the snapshot before the first row is yielded, so bad
        # arguments fail at the call and every page is read at the same snapshot.
        with self.session() as s:
            snapshot = self._check_snapshot(s, as_of)
            pinned = snapshot if snapshot is not None else s.current_snapshot()
            model_table = self._model_at(s, snapshot).table(table)
            wanted = reads.normalize_filters(s, model_table, filters)
        return self._pages(model_table.name, pinned, wanted, limit, offset)

    def rows_page(
        self,
        table: str,
        filters: Mapping[str, Any] | None,
        as_of: int | None,
        after: str | None,
        offset: int,
        limit: int,
    ) -> tuple[int, list[dict[str, Any]]]:
        _check_count("offset", offset)
        _check_count("limit", limit)
        if limit > PAGE_SIZE:
            raise ValidationError(f"limit must be at most {PAGE_SIZE}, got {limit}")
        with self.session() as s:
            snapshot = self._check_snapshot(s, as_of)
            pinned = snapshot if snapshot is not None else s.current_snapshot()
            model_table = self._model_at(s, snapshot).table(table)
            wanted = reads.normalize_filters(s, model_table, filters)
            page = reads.select_page(
                s,
                model_table,
                snapshot=pinned,
                filters=wanted,
                after_rid=rids.normalize(after) if after else None,
                limit=min(offset + limit, MAX_COUNT),
            )
        return pinned, page[offset:]

    def _pages(
        self,
        table: str,
        snapshot: int,
        filters: Mapping[str, list[Any]],
        limit: int | None,
        offset: int,
    ) -> Iterator[dict[str, Any]]:
        # One read transaction for the whole listing, pages of ``LISTING_PAGE`` rows read
        # as columns (see ``listing``); dicts are made one page at a time.
        to_skip, remaining = offset, limit
        with self.session() as s:
            model_table = self._model_at(s, snapshot).table(table)
            prepared = listing.prepare(s, model_table, snapshot=snapshot, filters=filters)
            column_names = prepared.column_names
            for columns in listing.pages(s, prepared):
                rows = listing.as_dicts(column_names, columns)
                if to_skip:
                    skipped = min(to_skip, len(rows))
                    to_skip -= skipped
                    del rows[:skipped]
                if remaining is not None:
                    del rows[remaining:]
                    remaining -= len(rows)
                yield from rows
                if remaining == 0:
                    return

    def column_pages(
        self,
        table: str,
        filters: Mapping[str, Any] | None = None,
        as_of: int | None = None,
    ) -> tuple[list[tuple[str, str]], Iterator[list[Sequence[Any]]]]:
        with self.session() as s:
            snapshot = self._check_snapshot(s, as_of)
            pinned = snapshot if snapshot is not None else s.current_snapshot()
            model_table = self._model_at(s, snapshot).table(table)
            wanted = reads.normalize_filters(s, model_table, filters)
            kinds = [(c.name, c.type) for c in model_table.columns]
        return kinds, self._column_pages(model_table.name, pinned, wanted)

    def _column_pages(
        self, table: str, snapshot: int, filters: Mapping[str, list[Any]]
    ) -> Iterator[list[Sequence[Any]]]:
        with self.session() as s:
            model_table = self._model_at(s, snapshot).table(table)
            prepared = listing.prepare(s, model_table, snapshot=snapshot, filters=filters)
            yield from listing.pages(s, prepared)

    def search(
        self,
        text: str,
        tables: Sequence[str] | None,
        limit: int,
        as_of: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        with self.session() as s:
            snapshot = self._check_snapshot(s, as_of)
            if snapshot is None:
                return search.search(s, text, tables, limit, after=after)
            model = self._model_at(s, snapshot)
            return search.search(
                s, text, tables, limit, model=model, snapshot=snapshot, after=after
            )

    def snapshot(self) -> int:
        with self.session() as s:
            return s.current_snapshot()

    def history(self, rid: str) -> list[dict[str, Any]]:
        wanted = rids.normalize(reads.checked_rid(rid))
        with self.session() as s:
            versions: list[dict[str, Any]] = []
            for entry in history.entries_for(s, wanted):
                table = self._model_at(s, entry.snap_from).table(entry.table_name)
                row = history.decode_row(table, entry.row)
                versions.append(
                    _version(
                        entry.table_name, entry.snap_from, entry.snap_to, row, len(versions) == 0
                    )
                )
                if entry.ended_op == "delete":
                    versions.append(
                        {
                            "table": entry.table_name,
                            "snapshot": entry.snap_to,
                            "valid_until": None,
                            "action": "delete",
                            "user": entry.ended_by,
                            "time": entry.ended_at,
                            "row": None,
                        }
                    )
            # The registry names the table of the current row (history names the table
            # of the older ones).
            name = registry.table_of(s.conn, wanted)
            if name is not None and name in s.model.tables:
                current = rows.fetch_current(s, name, [wanted]).get(wanted)
                if current is not None:
                    snap = current.pop("_snapshot")
                    versions.append(_version(name, snap, None, current, not versions))
            if not versions:
                raise RIDNotFound(wanted)
            _mark_import(s, versions[0])
            return versions

    # --- vocabularies --------------------------------------------------------------------
    def add_term(
        self,
        table: str,
        term_name: str,
        description: str | None,
        synonyms: Sequence[str] | None,
        exists_ok: bool,
    ) -> Term:
        with self.session(write=True) as s:
            return terms.add(s, table, term_name, description, synonyms, exists_ok)

    def lookup_term(self, table: str, term_name: str, as_of: int | None = None) -> Term:
        with self.session() as s:
            snapshot = self._check_snapshot(s, as_of)
            if snapshot is None:
                return terms.lookup(s, table, term_name)
            return terms.lookup(s, table, term_name, self._model_at(s, snapshot), snapshot)

    def list_terms(self, table: str, as_of: int | None = None) -> list[Term]:
        with self.session() as s:
            snapshot = self._check_snapshot(s, as_of)
            if snapshot is None:
                return terms.list_terms(s, table)
            return terms.list_terms(s, table, self._model_at(s, snapshot), snapshot)

    def change_term(self, table: str, term_name: str, action: str, **values: Any) -> Term | None:
        allowed = _TERM_ACTIONS.get(action)
        if allowed is None:
            raise ValidationError(
                f"unknown term action {action!r}; actions: {', '.join(sorted(_TERM_ACTIONS))}"
            )
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise ValidationError(f"term action {action!r} takes no {', '.join(unknown)}")
        if "synonym" in allowed and not isinstance(values.get("synonym"), str):
            raise ValidationError(f"term action {action!r} needs a synonym (text)")
        with self.session(write=True) as s:
            if action == "add_synonym":
                return terms.add_synonym(s, table, term_name, values["synonym"])
            if action == "remove_synonym":
                return terms.remove_synonym(s, table, term_name, values["synonym"])
            if action == "update":
                return terms.update(s, table, term_name, **values)
            if action == "delete":
                terms.delete(s, table, term_name)
                return None
        raise AssertionError(action)  # every action in _TERM_ACTIONS is handled above

    # --- internal helpers for tests and tools --------------------------------------------
    def set_setting(self, key: str, value: str) -> None:
        """Change a recorded setting (used when a catalog file is cloned, e.g. in tests)."""
        with self.session(write=True) as s:
            st = internal.settings
            s.conn.execute(st.update().where(st.c.key == key).values(value=value))
        self._settings[key] = value
        if key == "store":
            with self._lock:
                self._object_store = None  # opened again from the new location

    def query_rows(
        self, table: str, conditions: list[tuple[str, str, Any]], limit: int | None = None
    ) -> list[dict[str, Any]]:
        from assetry.sql.pathbuilder import sql_conditions

        if limit is not None:
            _check_count("limit", limit)
        with self.session() as s:
            model_table = s.model.table(table)
            t = s.table(model_table.name)
            query = (
                sa.select(*(t.c[name] for name in model_table.column_names))
                .where(*sql_conditions(s, model_table, conditions))
                .order_by(t.c.RID)
            )
            if limit is not None:
                query = query.limit(limit)
            return [dict(row) for row in s.conn.execute(query).mappings()]

    def path_query(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        from assetry.sql import pathquery

        with self.session() as s:
            return pathquery.run(s, query)


def _check_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValidationError(f"{name} must be a non-negative integer, got {value!r}")


def _mark_import(session: Session, first: dict[str, Any]) -> None:
    """A row that came in a bag keeps its source's RCB/RCT; its first version is shown as
    the import, by the user who imported it."""
    imports = internal.imports
    found = session.conn.execute(
        sa.select(imports.c.user_name, imports.c.created).where(
            imports.c.snapshot == first["snapshot"]
        )
    ).first()
    if found is not None:
        first.update(action="import", user=found.user_name, time=found.created)


def _version(
    table: str, snapshot: int, until: int | None, row: dict[str, Any], first: bool
) -> dict[str, Any]:
    return {
        "table": table,
        "snapshot": snapshot,
        "valid_until": until,
        "action": "insert" if first else "update",
        "user": row.get("RMB"),
        "time": row.get("RMT"),
        "row": row,
    }
