"""Controlled terms as they cross the Backend seam."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Term:
    """One controlled term: its canonical name, description, synonyms and identifiers."""

    name: str
    description: str | None
    synonyms: list[str] = field(default_factory=list)
    id: str | None = None
    uri: str | None = None
    rid: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Term:
        return cls(
            name=row["Name"],
            description=row.get("Description"),
            synonyms=list(row.get("Synonyms") or []),
            id=row.get("ID"),
            uri=row.get("URI"),
            rid=row.get("RID"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "synonyms": list(self.synonyms),
            "id": self.id,
            "uri": self.uri,
            "rid": self.rid,
        }

    def model_dump(self, by_alias: bool = False) -> dict[str, Any]:
        """The term as a dict, as DerivaML's ``VocabularyTerm.model_dump`` gives it (with
        ``by_alias``, keyed by the vocabulary's column names: Name, Description, ...)."""
        fields = self.to_dict()
        if not by_alias:
            return fields
        return {"RID" if key == "rid" else "ID" if key == "id" else "URI" if key == "uri"
                else key.capitalize(): value for key, value in fields.items()}  # fmt: skip
