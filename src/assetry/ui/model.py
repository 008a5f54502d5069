"""The model document as the pages read it: tables, columns, links between tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assetry.errors import TableNotFound

KIND_ORDER = ("table", "asset", "vocabulary", "association", "system")
KIND_TITLES = {
    "table": "Tables",
    "asset": "Asset tables",
    "vocabulary": "Vocabularies",
    "association": "Associations",
    "system": "System tables",
}


@dataclass(frozen=True)
class Link:
    """A foreign key: ``table.column`` holds a value of ``target.target_column``."""

    table: str
    column: str
    target: str
    target_column: str

    @property
    def to_term(self) -> bool:
        return self.target_column == "Name"


class ModelView:
    """One reading of ``cat.model``."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.tables: dict[str, dict[str, Any]] = {t["name"]: t for t in document["tables"]}

    def table(self, name: str) -> dict[str, Any]:
        """A table's document; ``TableNotFound`` naming it."""
        found = self.tables.get(name)
        if found is None:
            raise TableNotFound(f"no table named {name!r} in this catalog")
        return found

    def kind(self, name: str) -> str:
        return str(self.table(name)["kind"])

    def columns(self, name: str) -> list[dict[str, Any]]:
        return list(self.table(name)["columns"])

    def column_types(self, name: str) -> dict[str, str]:
        return {c["name"]: c["type"] for c in self.columns(name)}

    def links_from(self, name: str) -> dict[str, Link]:
        """The foreign keys of table ``name``, by column."""
        return {
            fk["column"]: Link(name, fk["column"], fk["table"], fk["referenced_column"])
            for fk in self.table(name).get("foreign_keys", [])
        }

    def links_to(self, name: str) -> list[Link]:
        """Foreign keys of any table that point at table ``name``."""
        return [
            link
            for table in self.tables
            for link in self.links_from(table).values()
            if link.target == name
        ]

    def by_kind(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(kind, its tables by name) in a reader's order."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for table in self.tables.values():
            groups.setdefault(table["kind"], []).append(table)
        ordered = [k for k in KIND_ORDER if k in groups] + sorted(set(groups) - set(KIND_ORDER))
        return [(k, sorted(groups[k], key=lambda t: t["name"])) for k in ordered]
