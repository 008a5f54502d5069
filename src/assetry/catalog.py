"""``Catalog``: the whole public API of a catalog, as thin calls into a Backend."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from assetry import config
from assetry.api.bags import Bags
from assetry.api.context import Context, delegate
from assetry.api.datasets import Datasets
from assetry.api.executions import Executions
from assetry.api.features import Features
from assetry.api.lookups import Lookups
from assetry.api.model import ModelDocument, ModelTable
from assetry.api.pathbuilder import PathBuilder, Schema
from assetry.api.stores import Stores
from assetry.artifacts import tracelet
from assetry.artifacts.namespace import Artifacts
from assetry.backend import Backend
from assetry.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from assetry.records.definitions import ColumnDef, TableDef, listed
from assetry.records.rows import ResolvedRID
from assetry.records.terms import Term
from assetry.sql import database, migrate, model, names, reads
from assetry.sql.backend import SqlBackend

if TYPE_CHECKING:
    import pandas as pd

    from assetry.store.base import ObjectStore

# Seconds to wait for a new catalog's GCS or Azure endpoint (per attempt, two attempts).
_CHECK_SECONDS = 5.0


class _LocationOrInstance:
    """A method callable on an open catalog or, with a location, on the class."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __get__(self, obj: Catalog | None, cls: type[Catalog]) -> Callable[..., Any]:
        if obj is None:
            return functools.partial(self.func, None)
        return functools.partial(self.func, obj)


@functools.cache
def model_schema() -> dict[str, Any]:
    """The JSON Schema of model documents, shipped in the package."""
    text = resources.files("assetry.schemas").joinpath("model.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def check_model_document(doc: Any) -> None:
    """``ValidationError`` listing every way ``doc`` breaks the model JSON Schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(model_schema())
    problems = [
        f"model document at {'/'.join(str(p) for p in err.absolute_path) or '(top)'}: {err.message}"
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        raise ValidationError(problems)


class Catalog:
    """A data catalog: user-defined tables, assets, vocabularies, history.

    ``Catalog(location)`` opens an existing catalog: a directory (embedded SQLite), a
    database URL, or ``$ASSETRY_CATALOG`` / ``./.assetry`` when no location is given.
    ``Catalog.create(location)`` makes a new one. Opening never migrates: a catalog whose
    schema is older than the code raises ``SchemaVersionError`` naming ``assetry upgrade``.
    """

    def __init__(
        self, location: str | os.PathLike[str] | None = None, *, token: str | None = None
    ) -> None:
        self._location = config.resolve_location(location)
        if self._location.remote_url is not None:
            backend, open_store = _open_remote(self._location.remote_url, token)
        else:
            if token is not None:
                raise ConfigError("tokens are for remote (http) catalogs")
            sql = SqlBackend.at(self._location)
            # A database catalog shares the backend's store, which checks asset rows
            # against what this process stored.
            backend, open_store = sql, sql.object_store
        self._backend: Backend = backend
        self._context = Context(backend, self._location, open_store)
        self._bags = Bags(self._context)
        self._datasets = Datasets(self._context)
        self._executions = Executions(self._context, self._bags)
        self._lookups = Lookups(self._context)
        self.artifacts = Artifacts(self._context)
        """Named artifacts: versions, tags, aliases, partitions, objects (API §12)."""
        self.features = Features(self._context)
        """DerivaML's features: labels and values per execution (API §2)."""
        self.stores = Stores(self._context)
        """The catalog's object stores and the rules routing new objects (API §1)."""

    # --- DerivaML's flat names, delegated to the namespaces ------------------------------
    create_workflow = delegate("_executions", Executions.create_workflow)
    lookup_workflow = delegate("_lookups", Lookups.lookup_workflow)
    lookup_workflow_by_url = delegate("_lookups", Lookups.lookup_workflow_by_url)
    find_workflows = delegate("_lookups", Lookups.find_workflows)
    find_executions = delegate("_lookups", Lookups.find_executions)
    lookup_asset = delegate("_lookups", Lookups.lookup_asset)
    create_execution = delegate("_executions", Executions.create_execution)
    restore_execution = delegate("_executions", Executions.restore_execution)
    list_executions = delegate("_executions", Executions.list_executions)
    abort_execution = delegate("_executions", Executions.abort_execution)
    list_execution_assets = delegate("_executions", Executions.list_execution_assets)
    list_asset_executions = delegate("_executions", Executions.list_asset_executions)
    list_assets = delegate("_executions", Executions.list_assets)
    download_asset = delegate("_executions", Executions.download_asset)
    upload_assets = delegate("_executions", Executions.upload_assets)
    fsck = delegate("_executions", Executions.fsck)
    lineage = delegate("_executions", Executions.lineage)

    create_dataset = delegate("_datasets", Datasets.create_dataset)
    add_dataset_element_type = delegate("_datasets", Datasets.add_dataset_element_type)
    list_dataset_element_types = delegate("_datasets", Datasets.list_dataset_element_types)
    add_dataset_members = delegate("_datasets", Datasets.add_dataset_members)
    delete_dataset_members = delegate("_datasets", Datasets.delete_dataset_members)
    list_dataset_members = delegate("_datasets", Datasets.list_dataset_members)
    list_dataset_children = delegate("_datasets", Datasets.list_dataset_children)
    list_dataset_parents = delegate("_datasets", Datasets.list_dataset_parents)
    increment_dataset_version = delegate("_datasets", Datasets.increment_dataset_version)
    dataset_history = delegate("_datasets", Datasets.dataset_history)
    find_datasets = delegate("_datasets", Datasets.find_datasets)
    lookup_dataset = delegate("_datasets", Datasets.lookup_dataset)
    dataset_version = delegate("_datasets", Datasets.dataset_version)
    delete_dataset = delegate("_datasets", Datasets.delete_dataset)
    split_dataset = delegate("_datasets", Datasets.split_dataset)

    create_feature = delegate("features", Features.create_feature)
    feature_record_class = delegate("features", Features.feature_record_class)
    lookup_feature = delegate("features", Features.lookup_feature)
    find_features = delegate("features", Features.find_features)
    list_feature_values = delegate("features", Features.list_feature_values)
    feature_values = delegate("features", Features.feature_values)
    fetch_table_features = delegate("features", Features.fetch_table_features)
    delete_feature = delegate("features", Features.delete_feature)

    export_dataset_bag = delegate("_bags", Bags.export_dataset_bag)
    download_dataset_bag = delegate("_bags", Bags.download_dataset_bag)
    import_bag = delegate("_bags", Bags.import_bag)
    estimate_bag_size = delegate("_bags", Bags.estimate_bag_size)

    # Tracelet's names for named artifacts (API §12), delegated to ``cat.artifacts``.
    create_artifact = delegate("artifacts", tracelet.create_artifact)
    log_artifact = delegate("artifacts", tracelet.log_artifact)
    get_artifact = delegate("artifacts", tracelet.get_artifact)
    list_artifacts = delegate("artifacts", tracelet.list_artifacts)

    # Several object stores per catalog (API §1), delegated to ``cat.stores``.
    add_store = delegate("stores", Stores.add_store)
    list_stores = delegate("stores", Stores.list_stores)
    set_store_rule = delegate("stores", Stores.set_store_rule)

    @classmethod
    def create(
        cls,
        location: str | os.PathLike[str] | None = None,
        store: str | os.PathLike[str] | None = None,
        *,
        domain_schema: str = "domain",
        curie_prefix: str | None = None,
    ) -> Catalog:
        """Create a new catalog at ``location`` and open it.

        An embedded catalog keeps its objects in ``<location>/objects`` unless ``store``
        says otherwise; a database catalog needs ``store`` (a path, ``file://`` or
        ``s3://`` URL). The location is recorded relative to the catalog where possible,
        so a moved catalog directory still works.
        """
        loc = config.resolve_location(location)
        if loc.remote:
            raise ConfigError(
                f"{loc.text} is a remote catalog server; create the catalog where the server runs "
                "(`assetry init`), then `assetry serve` it"
            )
        problems = names.name_problems(domain_schema, "schema")
        if problems:
            raise ValidationError(problems)
        store_text = _store_setting(loc, store)
        _check_new_store(store_text)
        if loc.directory is not None:
            if (loc.directory / config.DATABASE_FILE).exists():
                raise ConflictError(f"a catalog already exists at {loc.directory}")
            loc.directory.mkdir(parents=True, exist_ok=True)
            if store_text == config.DEFAULT_STORE:
                (loc.directory / config.DEFAULT_STORE).mkdir(exist_ok=True)
        else:
            database.ensure_database(loc.database_url)
        settings: dict[str, Any] = {
            "store": store_text,
            "domain_schema": domain_schema,
            "curie_prefix": curie_prefix,
        }
        SqlBackend.create(loc.database_url, loc.text, **settings).close()
        return cls(loc.text)

    @_LocationOrInstance
    def upgrade(self: Catalog | None, location: str | os.PathLike[str] | None = None) -> str:
        """Migrate a catalog's schema to this version of assetry; return the new version.

        Call it as ``Catalog.upgrade(location)`` (a catalog with an old schema cannot be
        opened) or ``cat.upgrade()``.
        """
        loc = self._location if self is not None else config.resolve_location(location)
        if loc.remote:
            return _remote_upgrade(self, loc)
        if loc.directory is not None and not (loc.directory / config.DATABASE_FILE).is_file():
            raise NotFoundError(f"no catalog at {loc.directory}")
        from assetry.sql.engine import make_engine

        database.check_exists(loc.database_url)
        engine = make_engine(loc.database_url)
        try:
            with database.opening(loc.database_url):
                migrate.upgrade_existing(engine, loc.text)
        finally:
            engine.dispose()
        return migrate.head_revision()

    # --- basics --------------------------------------------------------------------------
    @property
    def location(self) -> str:
        """Where the catalog is, as given."""
        return self._location.text

    @property
    def ml_schema(self) -> str:
        """The schema name of the system tables."""
        return self._backend.settings["ml_schema"]

    @property
    def domain_schema(self) -> str:
        """The schema name of the user's tables."""
        return self._backend.settings["domain_schema"]

    @property
    def store_location(self) -> str | None:
        """The object store location recorded in the catalog, resolved for this machine."""
        if self._location.remote_url is not None:
            return self._location.remote_url + "/objects"
        store = self._backend.settings.get("store")
        if store is None:
            return None
        if "://" in store or self._location.directory is None:
            return store
        return str((self._location.directory / store).resolve())

    @property
    def rid_prefix(self) -> str:
        """The random prefix of this catalog's RIDs."""
        return self._backend.settings["rid_prefix"]

    @property
    def pathBuilder(self) -> PathBuilder:
        """deriva-py's data paths over this catalog: ``pb.schemas[cat.ml_schema].Table``
        (``filter``, ``link``, ``entities``, ``attributes``, ``insert``). Usable as a
        property and called, as older and newer DerivaML write it."""
        return PathBuilder(self._backend, self.ml_schema, self.domain_schema)

    @property
    def domain_path(self) -> Schema:
        """``pathBuilder.schemas[cat.domain_schema]``; also callable, as
        ``cat.domain_path()`` or ``cat.domain_path(schema)``."""
        return self.pathBuilder.schemas[self.domain_schema]

    def close(self) -> None:
        """Release the catalog's connections."""
        self._backend.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Catalog({self._location.text!r})"

    # --- model ---------------------------------------------------------------------------
    @property
    def model(self) -> ModelDocument:
        """The whole model as a JSON-able document (tables, columns, keys, kinds), with
        DerivaML's helpers: ``is_asset``, ``is_vocabulary``, ``find_assets``,
        ``find_vocabularies``, ``asset_metadata``, ``get_dataset``."""
        return ModelDocument(self._backend.model_document(), self.lookup_dataset)

    def find_vocabularies(self) -> list[ModelTable]:
        """The controlled vocabularies of the catalog (built-in and the domain's)."""
        return self.model.find_vocabularies()

    def model_as_of(self, snapshot: int) -> dict[str, Any]:
        """The model as it was at ``snapshot``."""
        return self._backend.model_document(as_of=snapshot)

    def apply_model(self, doc: Mapping[str, Any]) -> list[str]:
        """Create what a model document describes and is missing; return what changed.

        The document is checked against the packaged JSON Schema first; applying it again
        changes nothing.
        """
        check_model_document(doc)
        return self._backend.apply_model(dict(doc))

    def list_tables(self, kind: str | None = None) -> list[str]:
        """Names of the catalog's tables, optionally of one kind."""
        if kind is not None and kind not in model.KINDS:
            raise ValidationError(f"unknown table kind {kind!r}; kinds: {', '.join(model.KINDS)}")
        return [t["name"] for t in self.model["tables"] if kind is None or t["kind"] == kind]

    def create_vocabulary(
        self, vocab_name: str, comment: str | None = None, schema: str | None = None
    ) -> str:
        """Create a controlled vocabulary table; return its name."""
        self._backend.create_vocabulary(vocab_name, comment, schema)
        return vocab_name

    def create_table(self, table: TableDef, schema: str | None = None) -> str:
        """Create a plain table from a ``TableDef``; return its name."""
        if not isinstance(table, TableDef):
            raise ValidationError(f"create_table needs a TableDef, got {type(table).__name__}")
        self._backend.create_table(
            table.name,
            list(table.column_defs),
            list(table.referenced_tables),
            table.comment,
            schema,
        )
        return table.name

    def create_asset(
        self,
        asset_name: str,
        column_defs: Sequence[ColumnDef] | None = None,
        referenced_tables: Sequence[str] | None = None,
        comment: str | None = None,
        schema: str | None = None,
    ) -> str:
        """Create an asset table (standard file columns plus ``column_defs``); return its
        name. Also creates ``<name>_Asset_Type``, ``<name>_Execution`` and the Asset_Type
        term ``<name>``."""
        what = f"asset table {asset_name!r}"
        self._backend.create_asset(
            asset_name,
            listed(column_defs, f"{what}: column_defs", "ColumnDef"),
            listed(referenced_tables, f"{what}: referenced_tables", "table name"),
            comment,
            schema,
        )
        return asset_name

    def add_column(self, table: str, column_def: ColumnDef) -> None:
        """Add a user column to ``table``."""
        if not isinstance(column_def, ColumnDef):
            raise ValidationError(f"add_column needs a ColumnDef, got {column_def!r}")
        self._backend.add_column(table, column_def)

    def create_index(self, table: str, columns: str | Sequence[str]) -> None:
        """Index ``columns`` of ``table`` (a column name, or a list of names for one index
        over several columns, in order), for reads that filter on them. Creating an index
        that exists already changes nothing. Foreign keys and the asset columns
        ``Filename``, ``MD5`` and ``SHA256`` are indexed always."""
        if isinstance(columns, str):
            columns = [columns]
        if not isinstance(columns, list | tuple):
            raise ValidationError(
                f"create_index: columns must be a column name or a list of column names, "
                f"got {type(columns).__name__}"
            )
        self._backend.create_index(table, list(columns))

    # --- rows ----------------------------------------------------------------------------
    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Insert rows (one transaction, every value checked first); return their RIDs."""
        return self._backend.insert(table, rows)

    def update(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Change rows, each given as its ``RID`` plus the columns to set."""
        return self._backend.update(table, rows)

    def delete(self, table: str, rids: Sequence[str]) -> list[str]:
        """Delete rows by RID; ``ConflictError`` while any is still referenced."""
        if isinstance(rids, str):
            rids = [rids]
        return self._backend.delete(table, rids)

    def resolve_rid(self, rid: str, as_of: int | None = None) -> ResolvedRID:
        """The table and row of any RID in the catalog; with ``as_of``, as they were at
        that snapshot (``RIDNotFound`` for a row that did not exist then)."""
        return self._backend.resolve_rid(reads.checked_rid(rid), as_of=as_of)

    def retrieve_rid(self, rid: str) -> dict[str, Any]:
        """The current row of any RID, as a dict (DerivaML's ``retrieve_rid``)."""
        return self.resolve_rid(rid).row

    def get_table_as_dict(
        self,
        table: str,
        limit: int | None = None,
        offset: int = 0,
        filters: Mapping[str, Any] | None = None,
        as_of: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``table`` as dicts, ordered by RID, streamed page by page."""
        return self._backend.iter_rows(table, filters, as_of, limit, offset)

    def get_table_as_dataframe(
        self,
        table: str,
        filters: Mapping[str, Any] | None = None,
        as_of: int | None = None,
    ) -> pd.DataFrame:
        """Rows of ``table`` (optionally filtered, or as of a snapshot) as a DataFrame."""
        from assetry.api.frames import build_frame

        return build_frame(*self._backend.column_pages(table, filters, as_of))

    def search(
        self,
        text: str,
        tables: Sequence[str] | None = None,
        limit: int = 100,
        as_of: int | None = None,
        after: Mapping[str, Any] | Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows whose text columns contain every word of ``text`` (anywhere in a value,
        ignoring case), each with ``Table``; at most ``limit``, table by table, each by
        RID. With ``as_of``, the rows as they were at that snapshot. Pages: pass the
        last row of a page (or its ``(Table, RID)``) as ``after`` for the next one.

        An asset table's ``URL``, ``MD5`` and ``SHA256`` are not searched (find those
        by an exact filter: ``get_table_as_dict(table, filters={"MD5": ...})``)."""
        cursor: tuple[str, str] | None = None
        if isinstance(after, Mapping):
            cursor = (after.get("Table"), after.get("RID"))  # type: ignore[assignment]
        elif after is not None:
            if isinstance(after, str) or not isinstance(after, Sequence) or len(after) != 2:
                raise ValidationError(
                    "after must be the last row of the previous page or its (Table, RID), "
                    f"got {after!r}"
                )
            cursor = (after[0], after[1])
        if cursor is None:
            return self._backend.search(text, tables, limit, as_of=as_of)
        return self._backend.search(text, tables, limit, as_of=as_of, after=cursor)

    def query_page(
        self,
        table: str,
        conditions: Sequence[tuple[str, str, Any]] = (),
        sort: str = "RID",
        descending: bool = False,
        after: Sequence[Any] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """One page of the rows of ``table`` meeting every ``(column, op, value)``
        condition (as ``pathBuilder`` filters), sorted by ``sort`` then RID (NULL first;
        reversed when ``descending``). Pass ``after=[row[sort], row["RID"]]`` of a page's
        last row for the next page (keyset pagination: any page costs the same)."""
        return self._backend.sorted_rows(
            table,
            list(conditions),
            sort,
            descending,
            None if after is None else list(after),
            limit,
        )

    def count_rows(self, table: str, conditions: Sequence[tuple[str, str, Any]] = ()) -> int:
        """How many rows of ``table`` meet every ``(column, op, value)`` condition."""
        return self._backend.count_rows(table, list(conditions))

    def value_counts(
        self,
        table: str,
        column: str,
        conditions: Sequence[tuple[str, str, Any]] = (),
        limit: int = 100,
    ) -> list[tuple[Any, int]]:
        """``(value, count)`` pairs of ``column`` over the rows meeting every condition,
        the most frequent first (e.g. how often each term of a vocabulary column is
        used)."""
        return self._backend.value_counts(table, column, list(conditions), limit)

    def open_asset(self, rid: str) -> BinaryIO:
        """The stored bytes of asset ``rid`` as a binary stream (for previews and
        streaming downloads; read the whole object and compare its ``SHA256`` to check
        it, as ``download_asset`` does)."""
        found = self._backend.resolve_rid(reads.checked_rid(rid))
        if self._backend.table_kind(found.table) != "asset":
            raise ValidationError(f"{rid} is a row of {found.table!r}, not an asset")
        return self._context.store().open_raw(found.row["SHA256"])

    def snapshot(self) -> int:
        """The catalog's current snapshot number."""
        return self._backend.snapshot()

    def history(self, rid: str) -> list[dict[str, Any]]:
        """Every version of a row, oldest first: snapshot, action, user, time, row."""
        return self._backend.history(reads.checked_rid(rid))

    # --- vocabularies --------------------------------------------------------------------
    def add_term(
        self,
        table: str,
        term_name: str,
        description: str | None = None,
        synonyms: Sequence[str] | None = None,
        exists_ok: bool = True,
    ) -> Term:
        """Add a term to a vocabulary (an existing one is returned when ``exists_ok``)."""
        return self._backend.add_term(table, term_name, description, synonyms, exists_ok)

    def lookup_term(self, table: str, term_name: str, as_of: int | None = None) -> Term:
        """A term by name or synonym, ignoring case; ``TermNotFound`` otherwise. With
        ``as_of``, among the terms as they were at that snapshot."""
        return self._backend.lookup_term(table, term_name, as_of=as_of)

    def list_vocabulary_terms(self, table: str, as_of: int | None = None) -> list[Term]:
        """Every term of a vocabulary (as of a snapshot, when given), ordered by name."""
        return self._backend.list_terms(table, as_of=as_of)

    def add_synonym(self, table: str, term_name: str, synonym: str) -> Term:
        """Give a term another name; a synonym belongs to one term only."""
        result = self._backend.change_term(table, term_name, "add_synonym", synonym=synonym)
        assert result is not None
        return result

    def remove_synonym(self, table: str, term_name: str, synonym: str) -> Term:
        """Remove one synonym of a term."""
        result = self._backend.change_term(table, term_name, "remove_synonym", synonym=synonym)
        assert result is not None
        return result

    def update_term(
        self,
        table: str,
        term_name: str,
        description: str | None = None,
        synonyms: Sequence[str] | None = None,
        name: str | None = None,
    ) -> Term:
        """Change a term's description, synonyms or (while unused) name."""
        result = self._backend.change_term(
            table, term_name, "update", description=description, synonyms=synonyms, name=name
        )
        assert result is not None
        return result

    def delete_term(self, table: str, term_name: str) -> None:
        """Delete a term; ``ConflictError`` while any row uses it."""
        self._backend.change_term(table, term_name, "delete")


def _open_remote(url: str, token: str | None) -> tuple[Backend, Callable[[], ObjectStore]]:
    """Connect to a catalog server; its settings are read at once, so a wrong URL or
    token fails here."""
    from assetry.client.http_backend import HttpBackend
    from assetry.client.objects import HttpObjectStore

    token = config.remote_token(url, token)
    backend = HttpBackend(url, token)
    try:
        backend.settings  # noqa: B018 - the connection check
    except BaseException:
        backend.close()
        raise
    config.register_server(url, token)
    return backend, lambda: HttpObjectStore(backend.transport)


def _remote_upgrade(cat: Catalog | None, loc: config.Location) -> str:
    """Ask a catalog server to migrate its catalog (admin role)."""
    from assetry.client.http_backend import HttpBackend

    assert loc.remote_url is not None
    if cat is not None and isinstance(cat._backend, HttpBackend):
        backend, owned = cat._backend, False
    else:
        token = config.remote_token(loc.remote_url, None)
        backend, owned = HttpBackend(loc.remote_url, token), True
    try:
        revision: str = backend.transport.request("POST", "/api/v1/upgrade").json()["revision"]
        return revision
    finally:
        if owned:
            backend.close()


def _check_new_store(store_text: str) -> None:
    """A new catalog's bucket or container (S3, GCS, Azure) must exist and take writes;
    checked before anything of the catalog is created, so a failed check leaves no
    database or folder behind."""
    scheme = store_text.split("://", 1)[0].lower() if "://" in store_text else ""
    if scheme not in ("s3", "gs", "az", "abfs"):
        return
    from assetry.store.registry import open_store

    open_store(store_text)  # a bad URL, or the install command for the extra
    if scheme == "s3":
        from assetry.store import s3

        s3.check_new_bucket(store_text)
        return
    # Opened again with few attempts and a short timeout: an unreachable endpoint is
    # reported soon rather than after the client's own back-off.
    quick: ObjectStore
    if scheme == "gs":
        from assetry.store.gcs import GcsStore

        quick = GcsStore.from_url(store_text, attempts=2, timeout=_CHECK_SECONDS)
    else:
        from assetry.store.azure import AzureStore

        quick = AzureStore.from_url(store_text, attempts=2, timeout=_CHECK_SECONDS)
    quick.check_writable()


def _store_setting(loc: config.Location, store: str | os.PathLike[str] | None) -> str:
    if store is None:
        if loc.directory is None:
            raise ConfigError(
                "a database catalog needs an object store: pass store= (a path, file:// or "
                "s3:// URL)"
            )
        return config.DEFAULT_STORE
    text = config.check_store_url(os.fspath(store))
    if "://" in text:
        return text
    path = Path(text).expanduser()
    if loc.directory is not None and not path.is_absolute():
        return text
    return str(path.resolve())
