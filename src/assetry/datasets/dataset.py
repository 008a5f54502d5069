"""Dataset handles, specs and versions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assetry.errors import ValidationError

if TYPE_CHECKING:
    from assetry.catalog.facade import Catalog


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset version to read: ``version=None`` means the latest; ``materialize``
    fetches the asset files into the bag."""

    rid: str
    version: str | None = None
    materialize: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.rid, str) or not self.rid.strip():
            raise ValidationError(f"DatasetSpec needs a dataset RID, got {self.rid!r}")


@dataclass(frozen=True)
class DatasetVersion:
    """One immutable version of a dataset."""

    dataset: str
    version: str
    description: str | None
    snapshot: int
    created: dt.datetime
    execution: str | None = None
    rid: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DatasetVersion:
        return cls(
            dataset=row["Dataset"],
            version=row["Version"],
            description=row.get("Description"),
            snapshot=int(row["Snapshot"]),
            created=row["RCT"],
            execution=row.get("Execution"),
            rid=row.get("RID"),
        )


def member_list(members: Sequence[str] | Mapping[str, Sequence[str]] | str) -> list[str]:
    """RIDs from a list, or from DerivaML's ``{table: [RID, ...]}`` form."""
    if isinstance(members, str):
        return [members]
    if isinstance(members, Mapping):
        return [rid for group in members.values() for rid in group]
    return list(members)


def check_validate(validate: object) -> None:
    """DerivaML's ``validate`` flag must be a bool: a description passed where it used to
    be (the third positional argument) must not be taken for it."""
    if not isinstance(validate, bool):
        raise ValidationError(
            f"validate must be True or False, got {validate!r} (the description is "
            "the next argument: description=...)"
        )


class Dataset:
    """A dataset bound to its catalog: the catalog's dataset methods without the RID."""

    def __init__(self, catalog: Catalog, rid: str) -> None:
        self._catalog = catalog
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
        return self._catalog.resolve_rid(self.rid).row.get("Description")

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
