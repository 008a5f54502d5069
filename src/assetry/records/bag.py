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


REFERENCES_FOLDER = "data/references"
REFERENCES_CSV = "data/references.csv"
REFERENCE_COLUMNS = ["Artifact_Version", "Index", "URI", "Size_Bytes", "MD5", "SHA256"]
REFERENCE_COLUMNS += ["Description"]
REFERENCE_TYPES = {"Index": "int4", "Size_Bytes": "int8"} | {
    c: "text" for c in REFERENCE_COLUMNS if c not in ("Index", "Size_Bytes")
}


@dataclass(frozen=True)
class ReferenceFile:
    """One external reference of an artifact version in a bag (API §12). With its size
    and both checksums known it is a fetch.txt entry at ``bag_path`` (the bytes stay
    where they are until someone fetches them); otherwise a row of ``data/references.csv``."""

    version: str  # the artifact version's RID
    index: int  # its place in the version's references
    uri: str
    size_bytes: int | None
    md5: str | None
    sha256: str | None
    description: str | None

    @property
    def fetchable(self) -> bool:
        """Whether the bag can list it in fetch.txt (a manifest needs every checksum)."""
        return self.size_bytes is not None and self.md5 is not None and self.sha256 is not None

    @property
    def bag_path(self) -> str:
        """``data/references/<version RID>/<index>/<last segment of the URI>``."""
        tail = self.uri.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        name = tail if tail not in ("", ".", "..") and ":" not in tail else "reference"
        return f"{REFERENCES_FOLDER}/{self.version}/{self.index}/{name}"

    def as_row(self) -> dict[str, Any]:
        """The row of ``data/references.csv``."""
        return {
            "Artifact_Version": self.version,
            "Index": self.index,
            "URI": self.uri,
            "Size_Bytes": self.size_bytes,
            "MD5": self.md5,
            "SHA256": self.sha256,
            "Description": self.description,
        }


def is_reference_path(path: str) -> bool:
    """Whether a payload path is an external reference's fetch.txt entry."""
    return path.startswith(REFERENCES_FOLDER + "/")


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
    references: list[ReferenceFile] = field(default_factory=list)
