"""Staged outputs of an execution, stored and ready to be recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutputEntry:
    """One staged file of an execution, stored and ready to be recorded."""

    staged_name: str
    table: str
    filename: str
    url: str
    md5: str
    sha256: str
    length: int
    asset_types: list[str] = field(default_factory=list)
    description: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)
