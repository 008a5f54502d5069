"""Workflows (the programs executions run) and execution configurations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assetry.errors import ValidationError


@dataclass(frozen=True)
class Workflow:
    """A registered workflow; a RID is accepted wherever a Workflow is."""

    rid: str
    name: str
    workflow_type: str | None = None
    description: str | None = None
    url: str | None = None
    checksum: str | None = None
    version: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Workflow:
        return cls(
            rid=row["RID"],
            name=row["Name"],
            workflow_type=row.get("Workflow_Type"),
            description=row.get("Description"),
            url=row.get("URL"),
            checksum=row.get("Checksum"),
            version=row.get("Version"),
        )


def workflow_rid(value: Workflow | str | None) -> str | None:
    """The RID of a Workflow given as an object or a RID."""
    if value is None or isinstance(value, Workflow):
        return value.rid if value is not None else None
    if isinstance(value, str) and value.strip():
        return value.strip().upper()
    raise ValidationError(f"expected a Workflow or its RID, got {value!r}")


@dataclass
class ExecutionConfiguration:
    """What an execution runs and reads: its workflow, input datasets (specs, RIDs or
    bags already downloaded), assets and artifact versions (``ArtifactVersion`` or RID),
    a description and parameters (recorded with the execution).

    Automatic capture (API §13): files created or changed in the ``watch`` folders while
    the execution runs are staged once stable (size and mtime unchanged for
    ``watch_settle`` seconds, not open for writing); with ``upload_while_running`` each
    is uploaded at once. At the end, files still being written are waited for up to
    ``watch_wait`` seconds, then reported (never uploaded half-written).
    """

    workflow: Workflow | str | None = None
    datasets: list[Any] = field(default_factory=list)
    assets: list[str] = field(default_factory=list)
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: list[Any] = field(default_factory=list)
    watch: list[Any] = field(default_factory=list)
    upload_while_running: bool = False
    watch_settle: float = 2.0
    watch_wait: float = 60.0
    dry_run: bool = False
    """Record nothing (DerivaML's dry run): see ``create_execution``."""
