"""The asset and execution operations of ``SqlBackend`` (one transaction per call)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from assetry.records.outputs import OutputEntry
from assetry.sql import assets, rids
from assetry.sql.session import Session

if TYPE_CHECKING:
    from assetry.records.lineage import LineageGraph


class SqlAssetsMixin:
    """Asset and execution operations, written once over ``session()``."""

    def session(self, write: bool = False, durable: bool = True) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def prefetch_digests(self, keys: Iterable[object]) -> None:
        raise NotImplementedError

    def lineage(self, rid: str, direction: str, depth: int | None) -> LineageGraph:
        """The provenance graph around ``rid`` (one recursive query)."""
        from assetry.sql.lineage import walk

        with self.session() as s:
            return walk(s, rid, direction, depth)

    def stored_objects(self) -> list[tuple[str, str, str, str, int]]:
        with self.session() as s:
            return assets.stored_objects(s)

    def referenced_keys(self) -> set[str]:
        with self.session() as s:
            return assets.referenced_keys(s)

    def get_row(self, table: str, rid: str) -> dict[str, Any]:
        """The current row ``rid`` of ``table`` (``RIDNotFound`` naming the table)."""
        from assetry.errors import RIDNotFound

        wanted = rids.normalize(rid)
        with self.session() as s:
            model = s.model.table(table)
            row = assets.current_row(s, table, wanted)
        if row is None:
            raise RIDNotFound(wanted, f"no row of {table!r} has RID {wanted!r}")
        return {c: row[c] for c in model.column_names}

    def table_kind(self, table: str) -> str:
        with self.session() as s:
            return s.model.table(table).kind

    def asset_dicts(self, table: str, asset_rids: Sequence[str]) -> list[dict[str, Any]]:
        with self.session() as s:
            return assets.asset_dicts(s, table, [rids.normalize(r) for r in asset_rids])

    def record_outputs(
        self, execution: str, entries: Sequence[OutputEntry], dedupe: bool = False
    ) -> dict[str, tuple[str, str]]:
        self.prefetch_digests(getattr(entry, "sha256", None) for entry in entries)
        with self.session(write=True) as s:
            return assets.record_outputs(s, execution, entries, dedupe)

    def recorded_outputs(self, execution: str) -> dict[str, tuple[str, str]]:
        with self.session() as s:
            return assets.recorded_outputs(s, execution)

    def link_assets(self, execution: str, links: Mapping[str, Sequence[str]], role: str) -> None:
        with self.session(write=True) as s:
            for table, asset_rids in links.items():
                assets.link_assets(s, execution, table, asset_rids, role)

    def set_status(
        self, execution: str, column: str, new: str, detail: str | None = None
    ) -> dict[str, Any]:
        with self.session(write=True, durable=False) as s:
            return assets.set_status(s, execution, column, new, detail)

    def execution_assets(self, execution: str, role: str | None) -> list[dict[str, Any]]:
        with self.session() as s:
            return assets.execution_assets(s, rids.normalize(execution), assets.check_role(role))

    def asset_executions(self, asset: str, role: str | None) -> list[dict[str, Any]]:
        with self.session() as s:
            return assets.asset_executions(s, rids.normalize(asset), assets.check_role(role))

    def check_staging(
        self, table: str, asset_types: Sequence[str], columns: Mapping[str, Any]
    ) -> tuple[list[str], dict[str, Any]]:
        """Canonical asset types and column values for a file staged for ``table``."""
        with self.session() as s:
            types = assets.check_asset_types(s, table, asset_types or [table])
            return types, assets.check_columns(s, table, columns)

    def ensure_asset(self, entry: OutputEntry) -> str:
        self.prefetch_digests([getattr(entry, "sha256", None)])
        with self.session(write=True) as s:
            return assets.ensure_asset(s, entry)

    def create_workflow(self, values: Mapping[str, Any]) -> str:
        with self.session(write=True) as s:
            return assets.create_workflow(s, values)

    def create_execution(
        self,
        values: Mapping[str, Any],
        inputs: Mapping[str, Sequence[str]],
        datasets: Sequence[tuple[str, str]] = (),
    ) -> str:
        with self.session(write=True) as s:
            return assets.create_execution(s, values, inputs, datasets)

    def link_datasets(self, execution: str, datasets: Sequence[tuple[str, str]]) -> None:
        with self.session(write=True) as s:
            assets.link_datasets(s, execution, datasets)

    def find_asset(self, table: str, sha256: str, filename: str) -> str | None:
        with self.session() as s:
            assets.asset_table(s, table)
            return assets.find_by_content(s, table, sha256, filename)

    def iter_asset_rids(self, table: str, asset_type: str | None) -> Iterator[str]:
        """RIDs of the assets of ``table`` (of one type, if given), by RID."""
        import sqlalchemy as sa

        from assetry.sql.vocab import resolve

        with self.session() as s:
            assets.asset_table(s, table)
            t = s.table(table)
            query = sa.select(t.c.RID).order_by(t.c.RID)
            if asset_type is not None:
                canonical = resolve.term_map(s, "Asset_Type").get(asset_type.casefold())
                if canonical is None:
                    from assetry.errors import TermNotFound

                    raise TermNotFound("Asset_Type", asset_type)
                link = s.table(f"{table}_Asset_Type")
                query = query.where(
                    t.c.RID.in_(sa.select(link.c[table]).where(link.c.Asset_Type == canonical))
                )
            found = list(s.conn.execute(query).scalars())
        yield from found
