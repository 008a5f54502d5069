"""The dataset operations of ``SqlBackend`` (one transaction per call)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from assetry.errors import ValidationError
from assetry.faults import fault_point
from assetry.records.bag import BagContent
from assetry.sql import datasets, reads, scope
from assetry.sql.model import Model
from assetry.sql.session import Session


class SqlDatasetsMixin:
    """Dataset operations, written once over ``session()``."""

    def session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def prefetch_digests(self, keys: Iterable[object]) -> None:
        raise NotImplementedError

    def _model_at(self, session: Session, snapshot: int | None) -> Model:
        raise NotImplementedError

    @property
    def settings(self) -> dict[str, str]:
        raise NotImplementedError

    def create_dataset(
        self,
        dataset_types: Sequence[str],
        description: str | None,
        version: str,
        execution: str | None,
    ) -> str:
        with self.session(write=True) as s:
            return datasets.create(s, dataset_types, description, version, execution)

    def add_dataset_element_type(self, element: str) -> str:
        with self.session(write=True) as s:
            return datasets.add_element_type(s, element)

    def dataset_element_types(self) -> list[str]:
        with self.session() as s:
            return sorted(datasets.element_types(s))

    def add_dataset_members(
        self, ds: str, members: Sequence[str], description: str | None, execution: str | None
    ) -> str | None:
        with self.session(write=True) as s:
            minted = datasets.add_members(s, ds, members, description, execution)
            fault_point("version.before_commit")
            return minted

    def delete_dataset_members(
        self, ds: str, members: Sequence[str], description: str | None
    ) -> str | None:
        with self.session(write=True) as s:
            return datasets.delete_members(s, ds, members, description)

    def increment_dataset_version(
        self, ds: str, component: str, description: str | None, execution: str | None
    ) -> str:
        with self.session(write=True) as s:
            ds = datasets.writable_row(s, ds)["RID"]
            minted = datasets.next_version(s, ds, component, description, execution)
            fault_point("version.before_commit")
            return minted

    def dataset_versions(self, ds: str) -> list[dict[str, Any]]:
        with self.session() as s:
            ds = datasets.dataset_row(s, ds)["RID"]
            return datasets.version_rows(s, ds)

    def dataset_version(self, ds: str, version: str | None) -> dict[str, Any]:
        with self.session() as s:
            ds = datasets.dataset_row(s, ds)["RID"]
            return datasets.resolve_version(s, ds, version)

    def dataset_members(
        self, ds: str, version: str | None, recurse: bool, limit: int | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
        with self.session() as s:
            ds = datasets.dataset_row(s, ds)["RID"]
            snapshot = int(datasets.resolve_version(s, ds, version)["Snapshot"])
            model = self._model_at(s, snapshot)
            nested = datasets.nested_closure(s, ds, snapshot) if recurse else [ds]
            out: dict[str, list[dict[str, Any]]] = {}
            for table, members in datasets.member_rids(s, nested, snapshot).items():
                if table not in model.tables:
                    continue
                wanted = members if limit is None else members[:limit]
                found = reads.fetch_as_of(s, model.table(table), wanted, snapshot)
                out[table] = [found[rid] for rid in sorted(found)]
            return out

    def dataset_relatives(self, ds: str, children: bool, recurse: bool = False) -> list[str]:
        with self.session() as s:
            ds = datasets.dataset_row(s, ds)["RID"]
            if children and recurse:
                return [d for d in datasets.nested_closure(s, ds, None) if d != ds]
            if children:
                members = datasets.member_rids(s, [ds], None)
                return members.get(datasets.DATASET, [])
            if recurse:
                return datasets.ancestors(s, ds)
            return datasets.parents(s, ds, None)

    def delete_dataset(self, ds: str, recurse: bool) -> list[str]:
        with self.session(write=True) as s:
            return datasets.delete(s, ds, bool(recurse))

    def dataset_summaries(
        self, dataset_type: str | None, deleted: bool = False
    ) -> list[dict[str, Any]]:
        """Every dataset with its types and latest version (optionally of one type)."""
        with self.session() as s:
            t = s.table(datasets.DATASET)
            columns = s.model.table(datasets.DATASET).column_names
            found = [dict(r) for r in s.conn.execute(
                t.select().order_by(t.c.RID)).mappings()]  # fmt: skip
            kinds = datasets.dataset_types(s, [r["RID"] for r in found])
            wanted = None
            if dataset_type is not None:
                wanted = datasets._dataset_types(s, [dataset_type])[0]
            out = []
            for row in found:
                if wanted is not None and wanted not in kinds.get(row["RID"], []):
                    continue
                if row.get("Deleted") and not deleted:
                    continue
                known = datasets.version_rows(s, row["RID"])
                out.append(
                    {
                        **{c: row[c] for c in columns},
                        "Dataset_Type": kinds.get(row["RID"], []),
                        "Version": known[-1]["Version"] if known else None,
                    }
                )
            return out

    def import_rows(
        self, model_doc: dict[str, Any], tables: dict[str, list[dict[str, Any]]]
    ) -> dict[str, int]:
        """Load a bag's rows (one transaction; ConflictError imports nothing)."""
        from assetry.sql.imports import import_rows

        kinds = {
            t.get("name"): t.get("kind")
            for t in (model_doc.get("tables") if isinstance(model_doc, dict) else None) or []
            if isinstance(t, dict)
        }
        self.prefetch_digests(
            row.get("SHA256")
            for name, found in (tables.items() if isinstance(tables, dict) else [])
            if kinds.get(name) == "asset" and isinstance(found, list)
            for row in found
            if isinstance(row, dict)
        )
        with self.session(write=True) as s:
            loaded = import_rows(s, model_doc, tables)
            fault_point("import.before_commit")
            return loaded

    def bag_content(self, ds: str, version: str | None) -> BagContent:
        """The content of the bag of a dataset version (as of its snapshot)."""
        with self.session() as s:
            ds = datasets.dataset_row(s, ds)["RID"]
            row = datasets.resolve_version(s, ds, version)
            model = self._model_at(s, int(row["Snapshot"]))
            return scope.compute(s, model, ds, row, self.settings["rid_prefix"])
