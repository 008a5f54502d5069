"""Rows as they cross the Backend seam."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResolvedRID:
    """Where a RID lives: its table and its current row."""

    table: str
    row: dict[str, Any]
