"""Datasets as they cross the seam: specs, versions, member lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assetry.errors import ValidationError


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
