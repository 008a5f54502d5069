"""Datasets as they cross the seam: specs, versions, member lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assetry.errors import ValidationError
from assetry.records.versions import DatasetVersion, VersionPart

__all__ = [
    "DatasetHistory",
    "DatasetSpec",
    "DatasetVersion",
    "PartitionInfo",
    "SplitResult",
    "VersionPart",
    "check_validate",
    "member_list",
]


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


class DatasetHistory(DatasetVersion):
    """One immutable version of a dataset, as ``dataset_history`` lists it: the version
    itself (a ``DatasetVersion``: ``entry == "0.2.0"``, ordered, printed ``0.2.0``) with
    its record, under assetry's names (``dataset``, ``version``, ``description``,
    ``snapshot``, ``created``, ``execution``, ``rid``) and DerivaML's
    (``dataset_version``, ``dataset_rid``, ``version_rid``, ``execution_rid``,
    ``minid``, ``spec_hash``: always None here)."""

    dataset: str
    description: str | None
    snapshot: int
    created: dt.datetime
    execution: str | None
    rid: str | None
    minid: None = None
    spec_hash: None = None

    def __new__(
        cls,
        dataset: str,
        version: str,
        description: str | None,
        snapshot: int,
        created: dt.datetime,
        execution: str | None = None,
        rid: str | None = None,
    ) -> DatasetHistory:
        entry = str.__new__(cls, str(DatasetVersion(version)))
        entry.dataset = dataset
        entry.description = description
        entry.snapshot = snapshot
        entry.created = created
        entry.execution = execution
        entry.rid = rid
        return entry

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DatasetHistory:
        return cls(
            dataset=row["Dataset"],
            version=row["Version"],
            description=row.get("Description"),
            snapshot=int(row["Snapshot"]),
            created=row["RCT"],
            execution=row.get("Execution"),
            rid=row.get("RID"),
        )

    @property
    def version(self) -> str:
        """The version as text."""
        return str(self)

    @property
    def dataset_version(self) -> DatasetVersion:
        return DatasetVersion(str(self))

    @property
    def dataset_rid(self) -> str:
        return self.dataset

    @property
    def version_rid(self) -> str | None:
        return self.rid

    @property
    def execution_rid(self) -> str | None:
        return self.execution

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain data (``--json`` output)."""
        return {
            "dataset": self.dataset,
            "version": self.version,
            "description": self.description,
            "snapshot": self.snapshot,
            "created": self.created,
            "execution": self.execution,
            "rid": self.rid,
        }

    def __repr__(self) -> str:
        return (
            f"DatasetHistory(dataset={self.dataset!r}, version={self.version!r}, "
            f"snapshot={self.snapshot}, description={self.description!r})"
        )


@dataclass(frozen=True)
class PartitionInfo:
    """One dataset a split made (DerivaML's ``PartitionInfo``)."""

    rid: str
    version: str
    count: int


@dataclass(frozen=True)
class SplitResult:
    """What ``split_dataset`` made: the parent ``Split`` dataset and its partitions."""

    source: str
    split: PartitionInfo
    training: PartitionInfo
    testing: PartitionInfo
    validation: PartitionInfo | None = None
    seed: int = 42
    element_table: str = ""


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
