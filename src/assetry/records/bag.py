"""What a bag of a dataset version holds, independent of how it is written.

The catalog computes a ``BagContent`` (rows as of the version's snapshot, the model as
of that snapshot, the asset files in scope); the writer turns it into a BagIt bag. Every
field is deterministic for a given version, so the bag is byte-identical whenever it is
exported.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AssetFile:
    """One asset's file in a bag: ``data/assets/<table>/<rid>/<filename>``."""

    table: str
    rid: str
    filename: str
    md5: str
    sha256: str
    length: int

    @property
    def bag_path(self) -> str:
        """Path of the payload file inside the bag (always '/'-separated)."""
        return f"data/assets/{self.table}/{self.rid}/{self.filename}"


@dataclass
class TableRows:
    """One table in a bag: column names and types in model order, rows sorted by RID."""

    columns: list[str]
    types: dict[str, str]
    rows: list[dict[str, Any]]


@dataclass
class BagContent:
    """Everything in the bag of one dataset version."""

    dataset: str
    version: str
    snapshot: int
    catalog: str
    description: str | None
    created: dt.datetime  # when the version was minted: the bag's only date
    model: dict[str, Any]
    tables: dict[str, TableRows] = field(default_factory=dict)
    assets: list[AssetFile] = field(default_factory=list)
