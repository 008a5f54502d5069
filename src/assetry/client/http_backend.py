"""``HttpBackend``: the Backend interface over HTTP, one request per call.

Each method sends its arguments to the server's route of the same name and rebuilds the
result into the type ``Backend`` declares, so the Catalog above it cannot tell it from a
``SqlBackend``. Listings (``iter_rows``) travel in pages read at one snapshot.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from assetry.backend import Backend
from assetry.client.transport import Transport
from assetry.protocol import wire
from assetry.protocol.operations import OPERATIONS, READER, operation_path
from assetry.protocol.paging import paged_members, paged_summaries
from assetry.records.bag import BagContent
from assetry.records.definitions import ColumnDef
from assetry.records.lineage import LineageGraph
from assetry.records.outputs import OutputEntry
from assetry.records.rows import ResolvedRID
from assetry.records.stores import StoreEntry, StoreRule
from assetry.records.terms import Term


@functools.cache
def _result_type(name: str) -> Any:
    attribute = getattr(Backend, name)
    if isinstance(attribute, property):
        return dict[str, str]
    return typing.get_type_hints(attribute)["return"]


class HttpBackend(Backend):
    """A catalog served by ``assetry serve`` at ``url``."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.transport = Transport(self.url, token)
        self._settings: dict[str, str] | None = None

    def _op(self, operation: str, /, **arguments: Any) -> Any:
        idempotent = OPERATIONS[operation] == READER
        raw = self.transport.call(operation_path(operation), arguments, idempotent)
        return wire.build(_result_type(operation), raw, f"result of {operation}")

    # --- lifecycle -------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, str]:
        if self._settings is None:
            self._settings = self._op("settings")
        return dict(self._settings)

    def close(self) -> None:
        self.transport.close()

    def whoami(self) -> dict[str, str]:
        """The user name and role of this client's token."""
        found: dict[str, str] = self.transport.request("GET", "/api/v1/whoami").json()
        return found

    # --- model -----------------------------------------------------------------------
    def model_document(self, as_of: int | None = None) -> dict[str, Any]:
        return typing.cast(dict[str, Any], self._op("model_document", as_of=as_of))

    def create_vocabulary(self, name: str, comment: str | None, schema: str | None) -> None:
        self._op("create_vocabulary", name=name, comment=comment, schema=schema)

    def create_table(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        self._op(
            "create_table",
            name=name,
            column_defs=_columns(column_defs),
            referenced_tables=referenced_tables,
            comment=comment,
            schema=schema,
        )

    def create_asset(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        self._op(
            "create_asset",
            name=name,
            column_defs=_columns(column_defs),
            referenced_tables=referenced_tables,
            comment=comment,
            schema=schema,
        )

    def add_column(self, table: str, column: ColumnDef) -> None:
        self._op("add_column", table=table, column=_columns([column])[0])

    def create_index(self, table: str, columns: list[str]) -> None:
        self._op("create_index", table=table, columns=columns)

    def apply_model(self, document: dict[str, Any]) -> list[str]:
        return typing.cast(list[str], self._op("apply_model", document=document))

    # --- rows ------------------------------------------------------------------------
    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        return typing.cast(list[str], self._op("insert", table=table, rows=_rows(rows)))

    def update(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        return typing.cast(list[str], self._op("update", table=table, rows=_rows(rows)))

    def delete(self, table: str, rids: Sequence[str]) -> list[str]:
        return typing.cast(list[str], self._op("delete", table=table, rids=list(rids)))

    def resolve_rid(self, rid: str, as_of: int | None = None) -> ResolvedRID:
        return typing.cast(ResolvedRID, self._op("resolve_rid", rid=rid, **_as_of(as_of)))

    def rows_page(
        self,
        table: str,
        filters: Mapping[str, Any] | None,
        as_of: int | None,
        after: str | None,
        offset: int,
        limit: int,
    ) -> tuple[int, list[dict[str, Any]]]:
        return typing.cast(
            tuple[int, list[dict[str, Any]]],
            self._op(
                "rows_page",
                table=table,
                filters=filters,
                as_of=as_of,
                after=after,
                offset=offset,
                limit=limit,
            ),
        )

    def table_columns(self, table: str, as_of: int | None = None) -> list[tuple[str, str]]:
        return typing.cast(
            list[tuple[str, str]], self._op("table_columns", table=table, as_of=as_of)
        )

    def query_rows(
        self, table: str, conditions: list[tuple[str, str, Any]], limit: int | None = None
    ) -> list[dict[str, Any]]:
        return typing.cast(
            list[dict[str, Any]],
            self._op("query_rows", table=table, conditions=conditions, limit=limit),
        )

    def path_query(self, query: dict[str, Any]) -> list[dict[str, Any]]:
        return typing.cast(list[dict[str, Any]], self._op("path_query", query=query))

    def sorted_rows(
        self,
        table: str,
        conditions: list[tuple[str, str, Any]],
        sort: str,
        descending: bool,
        after: list[Any] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        return typing.cast(
            list[dict[str, Any]],
            self._op(
                "sorted_rows",
                table=table,
                conditions=conditions,
                sort=sort,
                descending=descending,
                after=after,
                limit=limit,
            ),
        )

    def count_rows(self, table: str, conditions: list[tuple[str, str, Any]]) -> int:
        return typing.cast(int, self._op("count_rows", table=table, conditions=conditions))

    def value_counts(
        self, table: str, column: str, conditions: list[tuple[str, str, Any]], limit: int
    ) -> list[tuple[Any, int]]:
        found = self._op(
            "value_counts", table=table, column=column, conditions=conditions, limit=limit
        )
        return [(value, count) for value, count in found]

    def search(
        self,
        text: str,
        tables: Sequence[str] | None,
        limit: int,
        as_of: int | None = None,
        after: tuple[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        # ``after`` is sent only when given, as ``as_of`` (older servers lack it).
        paging = {} if after is None else {"after": after}
        return typing.cast(
            list[dict[str, Any]],
            self._op("search", text=text, tables=tables, limit=limit, **_as_of(as_of), **paging),
        )

    def snapshot(self) -> int:
        return typing.cast(int, self._op("snapshot"))

    def history(self, rid: str) -> list[dict[str, Any]]:
        return typing.cast(list[dict[str, Any]], self._op("history", rid=rid))

    # --- vocabularies ----------------------------------------------------------------
    def add_term(
        self,
        table: str,
        term_name: str,
        description: str | None,
        synonyms: Sequence[str] | None,
        exists_ok: bool,
    ) -> Term:
        return typing.cast(
            Term,
            self._op(
                "add_term",
                table=table,
                term_name=term_name,
                description=description,
                synonyms=synonyms,
                exists_ok=exists_ok,
            ),
        )

    def lookup_term(self, table: str, term_name: str, as_of: int | None = None) -> Term:
        return typing.cast(
            Term,
            self._op("lookup_term", table=table, term_name=term_name, **_as_of(as_of)),
        )

    def list_terms(self, table: str, as_of: int | None = None) -> list[Term]:
        return typing.cast(list[Term], self._op("list_terms", table=table, **_as_of(as_of)))

    def change_term(self, table: str, term_name: str, action: str, **values: Any) -> Term | None:
        return typing.cast(
            "Term | None",
            self._op("change_term", table=table, term_name=term_name, action=action, values=values),
        )

    # --- assets and executions -------------------------------------------------------
    def get_row(self, table: str, rid: str) -> dict[str, Any]:
        return typing.cast(dict[str, Any], self._op("get_row", table=table, rid=rid))

    def table_kind(self, table: str) -> str:
        return typing.cast(str, self._op("table_kind", table=table))

    def asset_dicts(self, table: str, asset_rids: Sequence[str]) -> list[dict[str, Any]]:
        return typing.cast(
            list[dict[str, Any]],
            self._op("asset_dicts", table=table, asset_rids=list(asset_rids)),
        )

    def iter_asset_rids(self, table: str, asset_type: str | None) -> Iterator[str]:
        found = self._op("iter_asset_rids", table=table, asset_type=asset_type)
        return iter(typing.cast(list[str], found))

    def find_asset(self, table: str, sha256: str, filename: str) -> str | None:
        return typing.cast(
            "str | None", self._op("find_asset", table=table, sha256=sha256, filename=filename)
        )

    def check_staging(
        self, table: str, asset_types: Sequence[str], columns: Mapping[str, Any]
    ) -> tuple[list[str], dict[str, Any]]:
        return typing.cast(
            tuple[list[str], dict[str, Any]],
            self._op("check_staging", table=table, asset_types=list(asset_types), columns=columns),
        )

    def declare_artifact(
        self,
        name: str,
        artifact_type: str,
        partition_keys: Sequence[str] | None,
        time_partitioned: bool,
        description: str | None,
    ) -> dict[str, Any]:
        return typing.cast(
            dict[str, Any],
            self._op(
                "declare_artifact",
                name=name,
                artifact_type=artifact_type,
                partition_keys=list(partition_keys) if partition_keys is not None else None,
                time_partitioned=time_partitioned,
                description=description,
            ),
        )

    def register_artifact(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        return typing.cast(dict[str, Any], self._op("register_artifact", spec=dict(spec)))

    def find_artifacts(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        return typing.cast(list[dict[str, Any]], self._op("find_artifacts", query=dict(query)))

    def tag_artifact(
        self, rid: str, tags: Mapping[str, Any], remove: Sequence[str]
    ) -> dict[str, str]:
        return typing.cast(
            dict[str, str], self._op("tag_artifact", rid=rid, tags=dict(tags), remove=list(remove))
        )

    def alias_artifact(self, rid: str, alias: str) -> dict[str, Any]:
        return typing.cast(dict[str, Any], self._op("alias_artifact", rid=rid, alias=alias))

    def delete_artifact(self, rid: str) -> None:
        self._op("delete_artifact", rid=rid)

    def artifact_partition_values(self, name: str, key: str) -> list[str]:
        return typing.cast(list[str], self._op("artifact_partition_values", name=name, key=key))

    def artifact_declaration(self, name: str) -> dict[str, Any]:
        return typing.cast(dict[str, Any], self._op("artifact_declaration", name=name))

    def set_artifact_references(
        self, rid: str, references: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        return typing.cast(
            list[dict[str, Any]],
            self._op("set_artifact_references", rid=rid, references=[dict(r) for r in references]),
        )

    def create_workflow(self, values: Mapping[str, Any]) -> str:
        return typing.cast(str, self._op("create_workflow", values=dict(values)))

    def create_execution(
        self,
        values: Mapping[str, Any],
        inputs: Mapping[str, Sequence[str]],
        datasets: Sequence[tuple[str, str]] = (),
    ) -> str:
        return typing.cast(
            str,
            self._op("create_execution", values=values, inputs=inputs, datasets=list(datasets)),
        )

    def set_status(
        self, execution: str, column: str, new: str, detail: str | None = None
    ) -> dict[str, Any]:
        return typing.cast(
            dict[str, Any],
            self._op("set_status", execution=execution, column=column, new=new, detail=detail),
        )

    def link_assets(self, execution: str, links: Mapping[str, Sequence[str]], role: str) -> None:
        self._op("link_assets", execution=execution, links=links, role=role)

    def link_datasets(self, execution: str, datasets: Sequence[tuple[str, str]]) -> None:
        self._op("link_datasets", execution=execution, datasets=list(datasets))

    def record_outputs(
        self, execution: str, entries: Sequence[OutputEntry], dedupe: bool = False
    ) -> dict[str, tuple[str, str]]:
        return typing.cast(
            dict[str, tuple[str, str]],
            self._op("record_outputs", execution=execution, entries=list(entries), dedupe=dedupe),
        )

    def recorded_outputs(self, execution: str) -> dict[str, tuple[str, str]]:
        return typing.cast(
            dict[str, tuple[str, str]], self._op("recorded_outputs", execution=execution)
        )

    def ensure_asset(self, entry: OutputEntry) -> str:
        return typing.cast(str, self._op("ensure_asset", entry=entry))

    def execution_assets(self, execution: str, role: str | None) -> list[dict[str, Any]]:
        return typing.cast(
            list[dict[str, Any]], self._op("execution_assets", execution=execution, role=role)
        )

    def asset_executions(self, asset: str, role: str | None) -> list[dict[str, Any]]:
        return typing.cast(
            list[dict[str, Any]], self._op("asset_executions", asset=asset, role=role)
        )

    def lineage(self, rid: str, direction: str, depth: int | None) -> LineageGraph:
        return typing.cast(
            LineageGraph, self._op("lineage", rid=rid, direction=direction, depth=depth)
        )

    def stored_objects(self) -> list[tuple[str, str, str, str, int]]:
        return typing.cast(list[tuple[str, str, str, str, int]], self._op("stored_objects"))

    def referenced_keys(self) -> set[str]:
        return typing.cast(set[str], self._op("referenced_keys"))

    # --- datasets --------------------------------------------------------------------
    def create_dataset(
        self,
        dataset_types: Sequence[str],
        description: str | None,
        version: str,
        execution: str | None,
    ) -> str:
        return typing.cast(
            str,
            self._op(
                "create_dataset",
                dataset_types=list(dataset_types),
                description=description,
                version=version,
                execution=execution,
            ),
        )

    def add_dataset_element_type(self, element: str) -> str:
        return typing.cast(str, self._op("add_dataset_element_type", element=element))

    def dataset_element_types(self) -> list[str]:
        return typing.cast(list[str], self._op("dataset_element_types"))

    def add_dataset_members(
        self, ds: str, members: Sequence[str], description: str | None, execution: str | None
    ) -> str | None:
        return typing.cast(
            "str | None",
            self._op(
                "add_dataset_members",
                ds=ds,
                members=list(members),
                description=description,
                execution=execution,
            ),
        )

    def delete_dataset_members(
        self, ds: str, members: Sequence[str], description: str | None
    ) -> str | None:
        return typing.cast(
            "str | None",
            self._op(
                "delete_dataset_members", ds=ds, members=list(members), description=description
            ),
        )

    def increment_dataset_version(
        self, ds: str, component: str, description: str | None, execution: str | None
    ) -> str:
        return typing.cast(
            str,
            self._op(
                "increment_dataset_version",
                ds=ds,
                component=component,
                description=description,
                execution=execution,
            ),
        )

    def dataset_versions(self, ds: str) -> list[dict[str, Any]]:
        return typing.cast(list[dict[str, Any]], self._op("dataset_versions", ds=ds))

    def dataset_version(self, ds: str, version: str | None) -> dict[str, Any]:
        return typing.cast(dict[str, Any], self._op("dataset_version", ds=ds, version=version))

    def dataset_members(
        self,
        ds: str,
        version: str | None,
        recurse: bool,
        limit: int | None = None,
        table: str | None = None,
        after: str | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        # Paged on the wire: a large dataset comes in pages of MEMBER_PAGE rows per table,
        # all read at one version (the latest is pinned by the first page).
        def page(
            version: str | None, table: str | None, after: str | None, size: int | None
        ) -> dict[str, list[dict[str, Any]]]:
            return typing.cast(
                dict[str, list[dict[str, Any]]],
                self._op("dataset_members", ds=ds, version=version, recurse=recurse,
                         limit=size, table=table, after=after),
            )  # fmt: skip

        return paged_members(self, ds, version, limit, table, after, page)

    def dataset_relatives(self, ds: str, children: bool, recurse: bool = False) -> list[str]:
        return typing.cast(
            list[str], self._op("dataset_relatives", ds=ds, children=children, recurse=recurse)
        )

    def dataset_summaries(
        self,
        dataset_type: str | None,
        deleted: bool = False,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        # Paged on the wire, as dataset_members.
        def page(after: str | None, size: int) -> list[dict[str, Any]]:
            return typing.cast(
                list[dict[str, Any]],
                self._op("dataset_summaries", dataset_type=dataset_type, deleted=deleted,
                         limit=size, after=after),
            )  # fmt: skip

        return paged_summaries(limit, after, page)

    def delete_dataset(self, ds: str, recurse: bool) -> list[str]:
        return typing.cast(list[str], self._op("delete_dataset", ds=ds, recurse=recurse))

    # --- features ---------------------------------------------------------------------
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
        return typing.cast(
            str,
            self._op(
                "create_feature",
                target=target,
                feature_name=feature_name,
                terms=terms,
                assets=assets,
                metadata=metadata,
                references=references,
                optional=optional,
                comment=comment,
            ),
        )

    def delete_feature(self, target: str, feature_name: str) -> bool:
        return bool(self._op("delete_feature", target=target, feature_name=feature_name))

    def record_features(
        self, execution: str, batches: Sequence[Mapping[str, Any]]
    ) -> dict[str, list[str]]:
        return typing.cast(
            dict[str, list[str]],
            self._op("record_features", execution=execution, batches=batches),
        )

    def import_rows(
        self, model_doc: dict[str, Any], tables: dict[str, list[dict[str, Any]]]
    ) -> dict[str, int]:
        return typing.cast(
            dict[str, int], self._op("import_rows", model_doc=model_doc, tables=tables)
        )

    def bag_content(self, ds: str, version: str | None) -> BagContent:
        return typing.cast(BagContent, self._op("bag_content", ds=ds, version=version))

    # --- object stores ---------------------------------------------------------------
    def list_stores(self) -> list[StoreEntry]:
        return typing.cast(list[StoreEntry], self._op("list_stores"))

    def add_store(self, name: str, url: str) -> StoreEntry:
        return typing.cast(StoreEntry, self._op("add_store", name=name, url=url))

    def remove_store(self, name: str) -> None:
        self._op("remove_store", name=name)

    def set_default_store(self, name: str) -> None:
        self._op("set_default_store", name=name)

    def store_rules(self) -> list[StoreRule]:
        return typing.cast(list[StoreRule], self._op("store_rules"))

    def set_store_rule(
        self, store: str, table: str | None, size_over: int | str | None
    ) -> list[StoreRule]:
        return typing.cast(
            list[StoreRule],
            self._op("set_store_rule", store=store, table=table, size_over=size_over),
        )

    def remove_store_rule(self, table: str | None, size_over: int | str | None) -> list[StoreRule]:
        return typing.cast(
            list[StoreRule], self._op("remove_store_rule", table=table, size_over=size_over)
        )

    def migrate_objects(
        self, to: str | None, source: str | None, table: str | None
    ) -> dict[str, int]:
        return typing.cast(
            dict[str, int], self._op("migrate_objects", to=to, source=source, table=table)
        )


def _rows(rows: Sequence[Mapping[str, Any]]) -> Any:
    # Not a list of mappings: let the server refuse it with the embedded message.
    return list(rows) if isinstance(rows, list | tuple) else rows


def _columns(column_defs: Sequence[ColumnDef]) -> list[Any]:
    return list(column_defs) if isinstance(column_defs, list | tuple) else [column_defs]


def _as_of(as_of: int | None) -> dict[str, Any]:
    # Sent only when given, so a client can still read the current catalog from a server
    # older than the argument (the server refuses arguments it does not know).
    return {} if as_of is None else {"as_of": as_of}
