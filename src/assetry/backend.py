"""The Backend interface: everything a Catalog needs from where its data lives.

``SqlBackend`` implements it on SQLite and PostgreSQL; the remote client implements it
over HTTP. These docstrings are the specification every implementation follows.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from assetry.errors import ValidationError
from assetry.records.bag import BagContent
from assetry.records.definitions import ColumnDef
from assetry.records.lineage import LineageGraph
from assetry.records.outputs import OutputEntry
from assetry.records.rows import ResolvedRID
from assetry.records.stores import StoreEntry, StoreRule
from assetry.records.terms import Term

# Rows per page of a listing (``rows_page`` refuses more).
PAGE_SIZE = 1000


class Backend(abc.ABC):
    """Storage of one catalog: model, rows, vocabularies, snapshots and history.

    Implementations provide the primitives (the abstract methods); composites written
    over them (``iter_rows`` over ``rows_page``) live here, once.

    Every argument and result is plain data (or a dataclass of plain data), so each
    method can travel over HTTP unchanged: the server exposes each of these methods as
    one route, and the remote client implements each as one call.
    """

    # --- model ---------------------------------------------------------------------------
    @abc.abstractmethod
    def model_document(self, as_of: int | None = None) -> dict[str, Any]:
        """The model (current, or as of a snapshot) as a JSON-able document."""

    @abc.abstractmethod
    def create_vocabulary(self, name: str, comment: str | None, schema: str | None) -> None:
        """Create an empty vocabulary table."""

    @abc.abstractmethod
    def create_table(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        """Create a plain table."""

    @abc.abstractmethod
    def create_asset(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        """Create an asset table, its association tables and its Asset_Type term."""

    @abc.abstractmethod
    def add_column(self, table: str, column: ColumnDef) -> None:
        """Add a user column to a table."""

    @abc.abstractmethod
    def create_index(self, table: str, columns: list[str]) -> None:
        """Index ``columns`` of ``table`` (in this order) in one transaction. An index,
        unique key or primary key on exactly these columns already there is left as it
        is; an unknown table is ``TableNotFound``, an unknown or repeated column a
        ``ValidationError`` naming it."""

    @abc.abstractmethod
    def apply_model(self, document: dict[str, Any]) -> list[str]:
        """Create what a (validated) model document describes; return what changed."""

    # --- rows ----------------------------------------------------------------------------
    @abc.abstractmethod
    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Insert checked rows in one transaction; return their RIDs in order."""

    @abc.abstractmethod
    def update(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Change rows (each names its RID) in one transaction, keeping old images."""

    @abc.abstractmethod
    def delete(self, table: str, rids: Sequence[str]) -> list[str]:
        """Delete rows by RID in one transaction; refused while any is referenced."""

    @abc.abstractmethod
    def resolve_rid(self, rid: str, as_of: int | None = None) -> ResolvedRID:
        """The table and current row of ``rid``, or with ``as_of`` the table and row as
        they were at that snapshot (a row deleted since is found as it was; one inserted
        later is ``RIDNotFound``). A snapshot that does not exist is a
        ``ValidationError``."""

    def iter_rows(
        self,
        table: str,
        filters: Mapping[str, Any] | None = None,
        as_of: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``table`` ordered by RID, streamed in pages read at one snapshot.

        Written once over ``rows_page``: the first page is read at the call, so bad
        arguments fail there (not at the first ``next``), and every later page is read
        at the snapshot the first one was."""
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
        first = PAGE_SIZE if limit is None else min(limit, PAGE_SIZE)
        snapshot, page = self.rows_page(table, filters, as_of, None, offset, first)
        return self._more_rows(table, filters, snapshot, page, limit)

    def _more_rows(
        self,
        table: str,
        filters: Mapping[str, Any] | None,
        snapshot: int,
        page: list[dict[str, Any]],
        limit: int | None,
    ) -> Iterator[dict[str, Any]]:
        remaining = limit
        while True:
            yield from page
            if remaining is not None:
                remaining -= len(page)
            if len(page) < PAGE_SIZE or remaining == 0 or not page:
                return
            size = PAGE_SIZE if remaining is None else min(remaining, PAGE_SIZE)
            _, page = self.rows_page(table, filters, snapshot, page[-1]["RID"], 0, size)

    def column_pages(
        self,
        table: str,
        filters: Mapping[str, Any] | None = None,
        as_of: int | None = None,
    ) -> tuple[list[tuple[str, str]], Iterator[list[Sequence[Any]]]]:
        """(name, type) of each column of ``table`` (as of ``as_of``) and its rows as
        pages of columns: each page one list of values per column, in that order, rows
        ordered by RID and read at one snapshot. What a DataFrame is built from, a page
        at a time. Written once over ``iter_rows``; a backend may read columns directly."""
        columns = self.table_columns(table, as_of)
        rows = self.iter_rows(table, filters, as_of)
        return columns, self._pages_of_columns([name for name, _ in columns], rows)

    @staticmethod
    def _pages_of_columns(
        names: list[str], rows: Iterator[dict[str, Any]]
    ) -> Iterator[list[Sequence[Any]]]:
        page: list[dict[str, Any]] = []
        for row in rows:
            page.append(row)
            if len(page) == PAGE_SIZE:
                yield [[r.get(name) for r in page] for name in names]
                page = []
        if page:
            yield [[r.get(name) for r in page] for name in names]

    @abc.abstractmethod
    def rows_page(
        self,
        table: str,
        filters: Mapping[str, Any] | None,
        as_of: int | None,
        after: str | None,
        offset: int,
        limit: int,
    ) -> tuple[int, list[dict[str, Any]]]:
        """One page of ``iter_rows``: the snapshot it was read at (pass it as ``as_of``
        for the next page) and at most ``limit`` rows with RID > ``after``, skipping
        ``offset`` of them first. This is how listings travel over the wire."""

    @abc.abstractmethod
    def table_columns(self, table: str, as_of: int | None = None) -> list[tuple[str, str]]:
        """(name, type) of each column of ``table`` in model order."""

    @abc.abstractmethod
    def query_rows(
        self, table: str, conditions: list[tuple[str, str, Any]], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Current rows of ``table`` meeting every condition, ordered by RID.

        Each condition is plain data, ``(column, op, value)`` with ``op`` one of ``==``,
        ``!=``, ``<``, ``>``, ``<=``, ``>=``, so it can travel over the wire. Values are
        checked against the column's type; RIDs (of ``RID`` and reference columns)
        compare case-insensitively; a vocabulary column accepts a term's name or synonym
        in any case. ``== None`` matches NULL; ``!=`` also matches NULL; ordering
        operators never do and refuse ``None``. json columns cannot be compared. Every
        problem (unknown column or operator, bad value) is reported together in one
        ``ValidationError``; an unknown table is ``TableNotFound``. Rows have every
        column of the table in model order; at most ``limit`` of them.
        """

    @abc.abstractmethod
    def path_query(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        """Current rows selected by a path of table instances linked through foreign
        keys (``cat.pathBuilder``'s ``link``, ``filter``, ``entities``, ``attributes``).

        ``query`` is plain data::

            {"instances": [{"alias": "E", "table": "Execution"},
                           {"alias": "L", "table": "Image_Execution",
                            "link": {"from": "E", "on": ["RID", "Execution"] | None,
                                     "join": "inner" | "left"}}],
             "where": condition | None,
             "context": "L",                  # default: the last instance
             "attributes": [{"alias": "E", "column": "RID", "name": "Execution"}] | None,
             "limit": int | None}

        A condition is ``{"and": [...]}``, ``{"or": [...]}``, ``{"not": condition}`` or
        a comparison ``{"alias", "column", "op", "value"}`` (``op`` as in ``query_rows``,
        or ``in`` with a list of values), checked and compared as in ``query_rows``. A
        link follows a foreign key between the two tables (either way): the one named by
        ``on`` (source column, target column) or the only one there is. Without
        ``attributes``: every column of the context's rows that take part in a joined
        row meeting the conditions, each row once, ordered by RID. With attributes of the
        context only: those columns of the same rows. With attributes of several
        instances: one row per joined row, ordered by the instances' RIDs in path order
        (NULL, from a left link, first).
        Every problem is reported together in one ``ValidationError``; at most ``limit``
        rows."""

    @abc.abstractmethod
    def sorted_rows(
        self,
        table: str,
        conditions: list[tuple[str, str, Any]],
        sort: str,
        descending: bool,
        after: list[Any] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        """One keyset page of the current rows of ``table`` meeting every condition (as
        in ``query_rows``), ordered by column ``sort`` and then RID (NULL before every
        value; the reverse when ``descending``): at most ``limit`` (up to ``PAGE_SIZE``)
        rows, those after ``after`` = ``[value of sort, RID]`` of the previous page's last
        row when given. json columns cannot be sorted. The cost of a page does not grow
        with how far into the table it is."""

    @abc.abstractmethod
    def count_rows(self, table: str, conditions: list[tuple[str, str, Any]]) -> int:
        """How many current rows of ``table`` meet every condition (as in
        ``query_rows``)."""

    @abc.abstractmethod
    def value_counts(
        self, table: str, column: str, conditions: list[tuple[str, str, Any]], limit: int
    ) -> list[tuple[Any, int]]:
        """``(value, count)`` of column ``column`` over the current rows of ``table``
        meeting every condition, the most frequent first (then by value, NULL first): at
        most ``limit`` (up to 1000) values. json columns cannot be counted."""

    @abc.abstractmethod
    def search(
        self,
        text: str,
        tables: Sequence[str] | None,
        limit: int,
        as_of: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Rows whose text columns contain every word of ``text`` (case-insensitive), each
        with its ``Table``; at most ``limit``, table by table, each by RID. With ``as_of``,
        the rows (and tables and columns) as they were at that snapshot. With ``after``,
        the ``(Table, RID)`` of the last row of a page, the rows after it (the next
        page)."""

    @abc.abstractmethod
    def snapshot(self) -> int:
        """The latest committed snapshot number."""

    @abc.abstractmethod
    def history(self, rid: str) -> list[dict[str, Any]]:
        """Every version of the row ``rid``, oldest first."""

    # --- vocabularies --------------------------------------------------------------------
    @abc.abstractmethod
    def add_term(
        self,
        table: str,
        term_name: str,
        description: str | None,
        synonyms: Sequence[str] | None,
        exists_ok: bool,
    ) -> Term:
        """Add a term to a vocabulary."""

    @abc.abstractmethod
    def lookup_term(self, table: str, term_name: str, as_of: int | None = None) -> Term:
        """A term by name or synonym, ignoring case (``TermNotFound`` otherwise); with
        ``as_of``, among the terms as they were at that snapshot (a term renamed since is
        found by its old name, one added later is not found)."""

    @abc.abstractmethod
    def list_terms(self, table: str, as_of: int | None = None) -> list[Term]:
        """Every term of a vocabulary (as of a snapshot, when given), by name."""

    @abc.abstractmethod
    def change_term(self, table: str, term_name: str, action: str, **values: Any) -> Term | None:
        """Change a term: ``action`` is add_synonym, remove_synonym, update or delete."""

    # --- assets and executions -----------------------------------------------------------
    @abc.abstractmethod
    def get_row(self, table: str, rid: str) -> dict[str, Any]:
        """The current row ``rid`` of ``table`` (``RIDNotFound`` naming the table)."""

    @abc.abstractmethod
    def table_kind(self, table: str) -> str:
        """The kind of ``table``: asset, vocabulary, association, table, ..."""

    @abc.abstractmethod
    def asset_dicts(self, table: str, asset_rids: Sequence[str]) -> list[dict[str, Any]]:
        """Asset rows of ``table`` with their asset types, in the order asked."""

    @abc.abstractmethod
    def iter_asset_rids(self, table: str, asset_type: str | None) -> Iterator[str]:
        """RIDs of the assets of ``table`` (of one type, if given), by RID."""

    @abc.abstractmethod
    def find_asset(self, table: str, sha256: str, filename: str) -> str | None:
        """The asset of ``table`` with these bytes and this file name, if any."""

    @abc.abstractmethod
    def check_staging(
        self, table: str, asset_types: Sequence[str], columns: Mapping[str, Any]
    ) -> tuple[list[str], dict[str, Any]]:
        """Canonical asset types and column values for a file staged for ``table``."""

    @abc.abstractmethod
    def create_workflow(self, values: Mapping[str, Any]) -> str:
        """The RID of the workflow with these ``Name``, ``URL``, ``Checksum`` and
        ``Workflow_Type``, recording one (with ``Description`` and ``Version``) when there
        is none; the only way Workflow rows are written."""

    @abc.abstractmethod
    def create_execution(
        self,
        values: Mapping[str, Any],
        inputs: Mapping[str, Sequence[str]],
        datasets: Sequence[tuple[str, str]] = (),
    ) -> str:
        """Record a new execution (``values``: its ``Workflow``, ``Description`` and
        ``Parameters``; it starts Created / Not_Started) with its input assets and
        dataset versions (one transaction); return its RID."""

    @abc.abstractmethod
    def set_status(
        self, execution: str, column: str, new: str, detail: str | None = None
    ) -> dict[str, Any]:
        """Move an execution's ``Status`` or ``Upload_Status`` to ``new`` (transitions
        checked); return the execution row."""

    @abc.abstractmethod
    def link_assets(self, execution: str, links: Mapping[str, Sequence[str]], role: str) -> None:
        """Link assets (by table) to an execution with a role, with their edges."""

    @abc.abstractmethod
    def link_datasets(self, execution: str, datasets: Sequence[tuple[str, str]]) -> None:
        """Record (dataset, version) pairs as inputs of an execution."""

    @abc.abstractmethod
    def record_outputs(
        self, execution: str, entries: Sequence[OutputEntry], dedupe: bool = False
    ) -> dict[str, tuple[str, str]]:
        """Record stored files as Output assets of an execution, each staged name exactly
        once; return staged name -> (table, asset RID) for the entries."""

    @abc.abstractmethod
    def recorded_outputs(self, execution: str) -> dict[str, tuple[str, str]]:
        """Staged name -> (table, asset RID) of what an execution has recorded so far."""

    @abc.abstractmethod
    def ensure_asset(self, entry: OutputEntry) -> str:
        """The asset for a stored file outside an execution's upload (the same bytes
        under the same name in the same table give the existing asset)."""

    @abc.abstractmethod
    def execution_assets(self, execution: str, role: str | None) -> list[dict[str, Any]]:
        """Assets linked to an execution (optionally with one role)."""

    @abc.abstractmethod
    def asset_executions(self, asset: str, role: str | None) -> list[dict[str, Any]]:
        """Executions linked to an asset (optionally with one role)."""

    @abc.abstractmethod
    def lineage(self, rid: str, direction: str, depth: int | None) -> LineageGraph:
        """The provenance graph around ``rid`` (one recursive query)."""

    @abc.abstractmethod
    def stored_objects(self) -> list[tuple[str, str, str, str, int]]:
        """(table, RID, SHA-256, MD5, length) of every current asset row."""

    @abc.abstractmethod
    def referenced_keys(self) -> set[str]:
        """SHA-256 keys referenced by any current or historical asset row."""

    # --- datasets ------------------------------------------------------------------------
    @abc.abstractmethod
    def create_dataset(
        self,
        dataset_types: Sequence[str],
        description: str | None,
        version: str,
        execution: str | None,
    ) -> str:
        """Create a dataset with its first version; return its RID."""

    @abc.abstractmethod
    def add_dataset_element_type(self, element: str) -> str:
        """Allow rows of table ``element`` as dataset members."""

    @abc.abstractmethod
    def dataset_element_types(self) -> list[str]:
        """Tables whose rows may be dataset members, by name."""

    @abc.abstractmethod
    def add_dataset_members(
        self, ds: str, members: Sequence[str], description: str | None, execution: str | None
    ) -> str | None:
        """Add members; return the version minted (None when nothing changed)."""

    @abc.abstractmethod
    def delete_dataset_members(
        self, ds: str, members: Sequence[str], description: str | None
    ) -> str | None:
        """Remove members; return the version minted (None when nothing changed)."""

    @abc.abstractmethod
    def increment_dataset_version(
        self, ds: str, component: str, description: str | None, execution: str | None
    ) -> str:
        """Mint the next major, minor or patch version; return it."""

    @abc.abstractmethod
    def dataset_versions(self, ds: str) -> list[dict[str, Any]]:
        """Every version of a dataset, oldest first."""

    @abc.abstractmethod
    def dataset_version(self, ds: str, version: str | None) -> dict[str, Any]:
        """One version of a dataset (the latest when ``version`` is None)."""

    @abc.abstractmethod
    def dataset_members(
        self,
        ds: str,
        version: str | None,
        recurse: bool,
        limit: int | None = None,
        table: str | None = None,
        after: str | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Member rows by table (by RID), as of the version's snapshot; at most ``limit``
        rows per table when given; only the members of element table ``table`` when
        given (a ``ValidationError`` naming the element types if it is none); only those
        with RID > ``after`` when given. A page is a range of an index: any page of a
        large dataset costs the same (keyset paging)."""

    @abc.abstractmethod
    def dataset_relatives(self, ds: str, children: bool, recurse: bool = False) -> list[str]:
        """RIDs of the datasets nested in ``ds`` (``children``) or of those containing it,
        now; with ``recurse``, transitively (all descendants, or all ancestors)."""

    @abc.abstractmethod
    def dataset_summaries(
        self,
        dataset_type: str | None,
        deleted: bool = False,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every dataset with its types and latest version (optionally of one type),
        ordered by RID; deleted datasets only with ``deleted``; at most ``limit`` of
        them, those with RID > ``after`` (keyset paging)."""

    @abc.abstractmethod
    def delete_dataset(self, ds: str, recurse: bool) -> list[str]:
        """Mark ``ds`` deleted (with ``recurse`` its nested datasets too): hidden from
        ``dataset_summaries``, its versions and bags still readable, no more changes. A
        dataset nested in another (not deleted) is refused (``ConflictError``). Returns the
        RIDs marked."""

    @abc.abstractmethod
    def import_rows(
        self, model_doc: dict[str, Any], tables: dict[str, list[dict[str, Any]]]
    ) -> dict[str, int]:
        """Load a bag's model and rows (one transaction; ``ConflictError`` imports
        nothing); return how many rows were new, by table."""

    @abc.abstractmethod
    def bag_content(self, ds: str, version: str | None) -> BagContent:
        """The content of the bag of a dataset version (as of its snapshot)."""

    # --- features (DerivaML's labelling model) --------------------------------------------
    @abc.abstractmethod
    def create_feature(
        self,
        target: str,
        feature_name: str,
        terms: Sequence[str],
        assets: Sequence[str],
        metadata: Sequence[ColumnDef],
        references: Sequence[str],
        optional: Sequence[str],
        comment: str | None,
    ) -> str:
        """Create feature ``feature_name`` of table ``target`` (curator): the association
        table ``Execution_<target>_<feature_name>`` with ``Execution``, the target and
        ``Feature_Name`` (a term of that vocabulary, added), one column per vocabulary of
        ``terms``, per asset table of ``assets`` and per table of ``references``, then
        ``metadata``'s columns; all not null but those named in ``optional``. Every
        problem is one ``ValidationError``. Returns the table's name."""

    @abc.abstractmethod
    def delete_feature(self, target: str, feature_name: str) -> bool:
        """Delete a feature's values (kept in history: versions minted before still
        read them) and its table (curator); False when there is no such feature."""

    @abc.abstractmethod
    def record_features(
        self, execution: str, batches: Sequence[Mapping[str, Any]]
    ) -> dict[str, list[str]]:
        """Record feature values made by ``execution`` (one transaction): ``batches`` of
        ``{"table": feature table, "rows": [values]}``, each value linked to the
        execution (edge ``generated``). A value the execution recorded already for the
        same target is not recorded again (a different one is a ``ConflictError``).
        Returns the values' RIDs by table."""

    # --- named artifacts (API §12) -------------------------------------------------------
    @abc.abstractmethod
    def declare_artifact(
        self,
        name: str,
        artifact_type: str,
        partition_keys: Sequence[str] | None,
        time_partitioned: bool,
        description: str | None,
    ) -> dict[str, Any]:
        """Declare artifact ``name`` (curator): its ``Artifact_Type`` term, partition keys
        and whether versions carry a time partition. Declaring again the same way returns
        the ``Artifact`` row; another way is a ``ConflictError``."""

    @abc.abstractmethod
    def register_artifact(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        """Record a new version of ``spec["name"]`` (one transaction); return ``{"rid",
        "version", "existing", "row"}`` (``row``: the version as ``find_artifacts``
        shows it).

        ``spec``: ``name``; ``artifact_type`` (a term; the name's declared type, or
        ``Custom`` for a new name, when None); ``files`` (``path`` in the version, ``url``,
        ``filename``, ``md5``, ``sha256``, ``length`` of objects already in the store);
        ``objects`` (what materializers wrote: name, path, materializer, type);
        ``references`` (``uri``, ``size_bytes``, ``md5``, ``sha256``); ``properties``;
        ``tags`` and ``partitions`` (key -> text); ``time_partition`` (aware datetime or
        ISO text); ``execution`` (a running execution that made it) or None for a new
        ``Register`` execution; ``parents`` (RIDs of artifact versions, assets or
        datasets: the execution's inputs); ``description``.

        Versions of a name count up by one; the first registration of a name declares
        its partition keys. Content equal to the latest version's (files, objects,
        references, properties, partitions) returns that version with ``existing``."""

    @abc.abstractmethod
    def find_artifacts(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Artifact versions matching ``query``, newest first, each with ``Tags``,
        ``Aliases`` and ``Files``. Keys (all optional): ``rid``, ``name``, ``version``,
        ``alias`` (with ``name``), ``artifact_type``, ``tags`` and ``partitions`` (key ->
        value, all must match), ``time_partition``, ``time_range`` ([start, end)),
        ``words`` (each in the name, description or type), ``include_deleted``,
        ``limit`` (default 100), ``offset``, ``after`` (a version's RID: the versions
        after it in this order, for keyset paging), ``as_of`` (a snapshot: tags, aliases
        and deletions as they were then)."""

    @abc.abstractmethod
    def tag_artifact(
        self, rid: str, tags: Mapping[str, Any], remove: Sequence[str]
    ) -> dict[str, str]:
        """Set ``tags`` and remove the keys ``remove`` of version ``rid``; its tags after."""

    @abc.abstractmethod
    def alias_artifact(self, rid: str, alias: str) -> dict[str, Any]:
        """Point ``alias`` of the version's name at version ``rid`` (it moves)."""

    @abc.abstractmethod
    def delete_artifact(self, rid: str) -> None:
        """Hide version ``rid`` from latest, lists and searches (curator); kept in history
        and lineage, its aliases removed."""

    @abc.abstractmethod
    def artifact_partition_values(self, name: str, key: str) -> list[str]:
        """The values of partition ``key`` in use by versions of ``name``."""

    @abc.abstractmethod
    def artifact_declaration(self, name: str) -> dict[str, Any]:
        """The ``Artifact`` row of ``name`` (``NotFoundError`` when there is none)."""

    @abc.abstractmethod
    def set_artifact_references(
        self, rid: str, references: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Record the checksums ``verify`` measured for version ``rid``'s references (a
        recorded checksum never changes: ``ConflictError``); the references after."""

    # --- object stores -------------------------------------------------------------------
    @abc.abstractmethod
    def list_stores(self) -> list[StoreEntry]:
        """The catalog's object stores: ``default`` (the one it was created with) first,
        then the others by name; ``default=True`` marks where unrouted objects go."""

    @abc.abstractmethod
    def add_store(self, name: str, url: str) -> StoreEntry:
        """Add a store (admin): ``name`` must be new, ``url`` of a known scheme, and the
        store must take writes (a probe object is written and deleted first)."""

    @abc.abstractmethod
    def remove_store(self, name: str) -> None:
        """Remove a store from the catalog (admin): refused (``ConflictError``) for
        ``default``, the default store, a store rules name, and one holding objects."""

    @abc.abstractmethod
    def set_default_store(self, name: str) -> None:
        """New objects no rule routes go to store ``name`` (admin)."""

    @abc.abstractmethod
    def store_rules(self) -> list[StoreRule]:
        """The routing rules, in the order they are tried."""

    @abc.abstractmethod
    def set_store_rule(
        self, store: str, table: str | None, size_over: int | str | None
    ) -> list[StoreRule]:
        """New objects of asset table ``table`` (any, when None) over ``size_over``
        bytes (``100MB`` etc.; any size, when None) go to ``store`` (curator). The rule
        for the same table and size is replaced, else one is appended; the rules after."""

    @abc.abstractmethod
    def remove_store_rule(self, table: str | None, size_over: int | str | None) -> list[StoreRule]:
        """Remove the rule for ``table`` and ``size_over`` (curator); the rules after."""

    @abc.abstractmethod
    def migrate_objects(
        self, to: str | None, source: str | None, table: str | None
    ) -> dict[str, int]:
        """Move objects between stores (admin), each copied, verified in its new store
        and only then deleted from its old one (a row never names an object no store
        holds): those of ``source`` (every other store when None; of asset table
        ``table`` only, when given) to ``to``; with no ``to``, every object an asset row
        names to the store the rules choose now. Counts: ``moved``, ``bytes``,
        ``in_place``."""

    # --- lifecycle -----------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def settings(self) -> dict[str, str]:
        """The catalog's recorded settings (RID prefix, store location, schema names)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""
