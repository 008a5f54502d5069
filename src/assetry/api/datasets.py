"""The dataset namespace of the facade, and the ``Dataset`` handle bound to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assetry.errors import ValidationError
from assetry.records.datasets import (
    DatasetSpec,
    DatasetVersion,
    check_validate,
    member_list,
)

if TYPE_CHECKING:
    from assetry.api.context import Context
    from assetry.backend import Backend


class Datasets:
    """Datasets, members, nesting and versions of a catalog."""

    def __init__(self, context: Context) -> None:
        self._backend = context.backend

    def create_dataset(
        self,
        dataset_types: Sequence[str] | str | None = None,
        description: str | None = None,
        version: str = "0.1.0",
        execution_rid: str | None = None,
    ) -> str:
        """Create a dataset (recording its first version); return its RID."""
        if isinstance(dataset_types, str):
            dataset_types = [dataset_types]
        return self._backend.create_dataset(
            list(dataset_types or []), description, version, execution_rid
        )

    def add_dataset_element_type(self, element: str) -> str:
        """Let rows of table ``element`` be dataset members; return the membership table."""
        return self._backend.add_dataset_element_type(element)

    def list_dataset_element_types(self) -> list[str]:
        """Tables whose rows may be dataset members."""
        return self._backend.dataset_element_types()

    def add_dataset_members(
        self,
        dataset_rid: str,
        members: Sequence[str] | Mapping[str, Sequence[str]],
        validate: bool = True,
        description: str | None = None,
        execution_rid: str | None = None,
    ) -> str | None:
        """Add members (RIDs of any element type, or nested dataset RIDs); mint the next
        minor version and return it (None when all were members already).

        ``validate`` is DerivaML's argument: here members are always checked (each must
        be a row of an element type), whatever its value.
        """
        check_validate(validate)
        return self._backend.add_dataset_members(
            dataset_rid, member_list(members), description, execution_rid
        )

    def delete_dataset_members(
        self,
        dataset_rid: str,
        members: Sequence[str] | Mapping[str, Sequence[str]],
        description: str | None = None,
    ) -> str | None:
        """Remove members; mint the next minor version and return it."""
        return self._backend.delete_dataset_members(dataset_rid, member_list(members), description)

    def list_dataset_members(
        self, dataset_rid: str, version: str | None = None, recurse: bool = False
    ) -> dict[str, list[dict[str, Any]]]:
        """Members by table, as of ``version`` (latest when None); ``recurse`` adds the
        members of nested datasets."""
        return self._backend.dataset_members(dataset_rid, version, recurse)

    def list_dataset_children(self, dataset_rid: str) -> list[str]:
        """RIDs of the datasets nested directly in this one."""
        return self._backend.dataset_relatives(dataset_rid, children=True)

    def list_dataset_parents(self, dataset_rid: str) -> list[str]:
        """RIDs of the datasets this one is nested in."""
        return self._backend.dataset_relatives(dataset_rid, children=False)

    def increment_dataset_version(
        self,
        dataset_rid: str,
        component: str = "minor",
        description: str | None = None,
        execution_rid: str | None = None,
    ) -> str:
        """Mint the next version (``major``, ``minor`` or ``patch``); return it."""
        component = getattr(component, "value", component)
        return self._backend.increment_dataset_version(
            dataset_rid, component, description, execution_rid
        )

    def dataset_history(self, dataset_rid: str) -> list[DatasetVersion]:
        """Every version of a dataset, oldest first."""
        return [DatasetVersion.from_row(r) for r in self._backend.dataset_versions(dataset_rid)]

    def find_datasets(self, dataset_type: str | None = None) -> list[dict[str, Any]]:
        """Datasets (rows plus ``Dataset_Type`` and latest ``Version``)."""
        return self._backend.dataset_summaries(dataset_type)

    def lookup_dataset(
        self, rid: str | DatasetSpec | None = None, *, dataset: str | DatasetSpec | None = None
    ) -> Dataset:
        """A ``Dataset`` object bound to the dataset ``rid`` (a RID or a ``DatasetSpec``;
        ``dataset=`` is DerivaML's name for the same argument)."""
        if (rid is None) == (dataset is None):
            raise ValidationError("lookup_dataset needs one dataset: rid= or dataset=")
        wanted = rid if rid is not None else dataset
        if isinstance(wanted, DatasetSpec):
            wanted = wanted.rid
        row = self._backend.dataset_version(wanted, None)  # type: ignore[arg-type]
        return Dataset(self, self._backend, row["Dataset"])


class Dataset:
    """A dataset bound to its catalog: the catalog's dataset methods without the RID."""

    def __init__(self, datasets: Datasets, backend: Backend, rid: str) -> None:
        self._catalog = datasets
        self._backend = backend
        self.rid = rid

    def __repr__(self) -> str:
        return f"Dataset({self.rid!r})"

    @property
    def dataset_rid(self) -> str:
        """The dataset's RID (DerivaML's name for ``rid``)."""
        return self.rid

    @property
    def version(self) -> str:
        """The latest version."""
        return self._catalog.dataset_history(self.rid)[-1].version

    @property
    def description(self) -> str | None:
        return self._backend.resolve_rid(self.rid).row.get("Description")

    @property
    def dataset_types(self) -> list[str]:
        for summary in self._catalog.find_datasets():
            if summary["RID"] == self.rid:
                return list(summary["Dataset_Type"])
        return []

    def add_dataset_members(
        self,
        members: Sequence[str] | Mapping[str, Sequence[str]],
        validate: bool = True,
        description: str | None = None,
        execution_rid: str | None = None,
    ) -> str | None:
        return self._catalog.add_dataset_members(
            self.rid, members, validate, description, execution_rid
        )

    def delete_dataset_members(
        self, members: Sequence[str] | Mapping[str, Sequence[str]], description: str | None = None
    ) -> str | None:
        return self._catalog.delete_dataset_members(self.rid, members, description)

    def list_dataset_members(
        self, version: str | None = None, recurse: bool = False
    ) -> dict[str, list[dict[str, Any]]]:
        return self._catalog.list_dataset_members(self.rid, version, recurse)

    def list_dataset_children(self) -> list[str]:
        return self._catalog.list_dataset_children(self.rid)

    def list_dataset_parents(self) -> list[str]:
        return self._catalog.list_dataset_parents(self.rid)

    def increment_dataset_version(
        self, component: str = "minor", description: str | None = None
    ) -> str:
        return self._catalog.increment_dataset_version(self.rid, component, description)

    def dataset_history(self) -> list[DatasetVersion]:
        return self._catalog.dataset_history(self.rid)
