"""Named artifacts as users see them: ``ArtifactVersion`` and ``Reference`` (API §12)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from assetry.errors import ValidationError

REFERENCE_SCHEMES = ("file", "http", "https", "s3", "gs")


@dataclass(frozen=True)
class Reference:
    """Bytes that stay where they are (``s3://``, ``gs://``, ``http(s)://``, ``file://``):
    nothing is copied; ``cat.artifacts.verify`` streams them once and records or checks
    their checksums."""

    uri: str
    size_bytes: int | None = None
    md5: str | None = None
    sha256: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or not self.uri:
            raise ValidationError(f"a Reference needs a URI, got {self.uri!r}")
        scheme = urlsplit(self.uri).scheme.lower()
        if scheme not in REFERENCE_SCHEMES:
            raise ValidationError(
                f"reference {self.uri!r}: unknown scheme {scheme or '(none)'!r}; "
                f"known: {', '.join(REFERENCE_SCHEMES)}"
            )
        size = self.size_bytes
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise ValidationError(f"reference {self.uri!r}: size_bytes must be 0 or more")
        for name, length in (("md5", 32), ("sha256", 64)):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, str)
                or len(value) != length
                or any(c not in "0123456789abcdef" for c in value)
            ):
                raise ValidationError(
                    f"reference {self.uri!r}: {name} must be {length} lowercase hex digits"
                )

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "size_bytes": self.size_bytes,
            "md5": self.md5,
            "sha256": self.sha256,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reference:
        return cls(
            data["uri"],
            data.get("size_bytes"),
            data.get("md5"),
            data.get("sha256"),
            data.get("description"),
        )


@dataclass(frozen=True)
class ArtifactVersion:
    """One immutable version of a named artifact."""

    rid: str
    name: str
    version: int
    artifact_type: str
    execution: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    partitions: dict[str, str] = field(default_factory=dict)
    time_partition: dt.datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    objects: list[dict[str, Any]] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    description: str | None = None
    created: dt.datetime | None = None
    deleted: bool = False
    content: str = ""

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ArtifactVersion:
        """From a version dict of ``Backend.find_artifacts``."""
        files = [
            {
                "Path": f["Path"],
                "RID": f["RID"],
                "URL": f["URL"],
                "Filename": f["Filename"],
                "Length": f["Length"],
                "MD5": f["MD5"],
                "SHA256": f["SHA256"],
            }
            for f in row.get("Files") or []
        ]
        return cls(
            rid=row["RID"],
            name=row["Name"],
            version=int(row["Version"]),
            artifact_type=row["Artifact_Type"],
            execution=row["Execution"],
            tags=dict(row.get("Tags") or {}),
            aliases=list(row.get("Aliases") or []),
            partitions=dict(row.get("Partitions") or {}),
            time_partition=_aware(row.get("Time_Partition")),
            properties=dict(row.get("Properties") or {}),
            files=files,
            objects=list(row.get("Objects") or []),
            references=[Reference.from_dict(r) for r in row.get("References") or []],
            description=row.get("Description"),
            created=row.get("RCT"),
            deleted=bool(row.get("Deleted")),
            content=row.get("Content") or "",
        )

    def __repr__(self) -> str:
        return f"ArtifactVersion({self.name!r}, version={self.version}, rid={self.rid!r})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (the CLI's ``--json``)."""
        return {
            "rid": self.rid,
            "name": self.name,
            "version": self.version,
            "artifact_type": self.artifact_type,
            "execution": self.execution,
            "tags": self.tags,
            "aliases": self.aliases,
            "partitions": self.partitions,
            "time_partition": self.time_partition.isoformat() if self.time_partition else None,
            "properties": self.properties,
            "files": [
                {"path": f["Path"], "rid": f["RID"], "length": f["Length"], "sha256": f["SHA256"]}
                for f in self.files
            ],
            "objects": self.objects,
            "references": [r.to_dict() for r in self.references],
            "description": self.description,
            "created": self.created.isoformat() if self.created else None,
            "deleted": self.deleted,
        }


def _aware(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    assert isinstance(value, dt.datetime)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
