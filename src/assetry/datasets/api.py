"""The dataset part of the public API, mixed into ``Catalog``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assetry.datasets.dataset import (
    Dataset,
    DatasetSpec,
    DatasetVersion,
    check_validate,
    member_list,
)
from assetry.errors import ValidationError

if TYPE_CHECKING:
    from assetry.catalog.backend import Backend


class DatasetsAPI:
    """Datasets, members, nesting and versions of a catalog."""

    _backend: Backend

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
        return Dataset(self, row["Dataset"])  # type: ignore[arg-type]
