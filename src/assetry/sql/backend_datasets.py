"""The dataset operations of ``SqlBackend`` (one transaction per call)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from assetry.errors import ValidationError
from assetry.faults import fault_point
from assetry.records.bag import BagContent
from assetry.records.bulk import collector_paused
from assetry.sql import datasets, members, reads, rids, scope
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
        self,
        ds: str,
        version: str | None,
        recurse: bool,
        limit: int | None = None,
        table: str | None = None,
        after: str | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        _check_limit(limit)
        if table is not None and not isinstance(table, str):
            raise ValidationError(f"table must be a table name, got {table!r}")
        start = None if after is None else rids.normalize(reads.checked_rid(after))
        with self.session() as s:
            ds = datasets.dataset_row(s, ds)["RID"]
            snapshot = int(datasets.resolve_version(s, ds, version)["Snapshot"])
            model = self._model_at(s, snapshot)
            links = members.membership_tables(model)
            if table is not None and table not in links:
                known = ", ".join(links) or "none"
                raise ValidationError(
                    f"{table!r} is not a dataset element type (the element types: {known})"
                )
            nested = datasets.nested_closure(s, ds, snapshot) if recurse else [ds]
            out: dict[str, list[dict[str, Any]]] = {}
            # A limit of 0 still names the tables that have members (an empty list each).
            size = None if limit is None else max(limit, 1)
            with collector_paused():
                for element in [table] if table is not None else links:
                    assert element is not None
                    found = members.member_rows(s, model, nested, element, snapshot, start, size)
                    if found:
                        out[element] = found if limit is None else found[:limit]
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
        self,
        dataset_type: str | None,
        deleted: bool = False,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every dataset with its types and latest version (optionally of one type)."""
        _check_limit(limit)
        start = None if after is None else rids.normalize(reads.checked_rid(after))
        with self.session() as s:
            wanted = None
            if dataset_type is not None:
                wanted = datasets._dataset_types(s, [dataset_type])[0]
            return datasets.summaries(s, wanted, bool(deleted), start, limit)

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


def _check_limit(limit: object) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
