"""Form fields as row values: read by each column's type, every problem reported once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assetry.errors import ValidationError
from assetry.ui import query
from assetry.ui.model import ModelView

FIELD_PREFIX = "c."


def editable_columns(model: ModelView, table: str) -> list[dict[str, Any]]:
    """The columns a person may change: in a system table only its description (the
    rest is written by the catalog's own operations), in an association table nothing,
    elsewhere every column but the system ones and, in an asset table, the file columns
    (those come from the bytes)."""
    kind = model.kind(table)
    if kind == "association":
        return []
    if kind == "system":
        return [c for c in model.columns(table) if c["name"] == "Description"]
    fixed = {"URL", "Filename", "Length", "MD5", "SHA256"} if kind == "asset" else set()
    return [c for c in model.columns(table) if not c.get("system") and c["name"] not in fixed]


def form_values(
    model: ModelView, table: str, fields: Mapping[str, str], skip_empty: bool
) -> dict[str, Any]:
    """The values of the form's ``c.<column>`` fields (an empty field is NULL, or left
    out when ``skip_empty``)."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    for column in editable_columns(model, table):
        name = column["name"]
        key = FIELD_PREFIX + name
        if key not in fields:
            continue
        text = fields[key]
        if text.strip() == "":
            if not skip_empty:
                values[name] = None
            continue
        kind = column["type"]
        try:
            values[name] = query.typed(kind, text if kind in ("text", "markdown") else text.strip())
        except ValueError as err:
            problems.append(f"{name}: {err}")
    if problems:
        raise ValidationError(problems)
    return values
