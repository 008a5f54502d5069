"""``cat.model``: the model document (a JSON-able dict, as before) that also answers
DerivaML's model questions: ``is_asset``, ``is_vocabulary``, ``is_association``,
``find_assets``, ``find_vocabularies``, ``asset_metadata``, ``name_to_table`` and
``get_dataset``.

Tables are given by name (or as anything with a ``name``, such as the tables these
methods return); they come back as :class:`ModelTable`: the table's entry of the
document (a dict) with ``name``, ``schema``, ``kind`` and ``columns`` as attributes too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from assetry.errors import TableNotFound, ValidationError

# The columns every asset table has besides its own (system columns and file columns).
_ASSET_COLUMNS = frozenset(
    ("RID", "RCT", "RMT", "RCB", "RMB", "URL", "Filename", "Length", "MD5", "SHA256",
     "Description")
)  # fmt: skip


class ModelTable(dict[str, Any]):
    """One table of the model document, with its fields as attributes too."""

    @property
    def name(self) -> str:
        return str(self["name"])

    @property
    def schema(self) -> str:
        return str(self["schema"])

    @property
    def kind(self) -> str:
        return str(self["kind"])

    @property
    def columns(self) -> list[dict[str, Any]]:
        return list(self["columns"])

    @property
    def column_names(self) -> list[str]:
        return [str(c["name"]) for c in self["columns"]]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<table {self.schema}.{self.name} ({self.kind})>"


class ModelDocument(dict[str, Any]):
    """The model document with DerivaML's model helpers (see the module docstring)."""

    def __init__(
        self, document: Mapping[str, Any], get_dataset: Callable[[str], Any] | None = None
    ) -> None:
        super().__init__(document)
        self._get_dataset = get_dataset

    def name_to_table(self, table: Any) -> ModelTable:
        """The table called ``table`` (a name, or anything with a ``name``);
        ``TableNotFound`` otherwise."""
        name = table if isinstance(table, str) else getattr(table, "name", table)
        for entry in self.get("tables", []):
            if entry["name"] == name:
                return ModelTable(entry)
        raise TableNotFound(str(name))

    def _kind(self, table: Any) -> str:
        return self.name_to_table(table).kind

    def is_asset(self, table: Any) -> bool:
        """Whether ``table`` is an asset table."""
        return self._kind(table) == "asset"

    def is_vocabulary(self, table: Any) -> bool:
        """Whether ``table`` is a controlled vocabulary."""
        return self._kind(table) == "vocabulary"

    def is_association(self, table: Any) -> bool:
        """Whether ``table`` is an association table (links rows of two others)."""
        return self._kind(table) == "association"

    def find_assets(self, with_metadata: bool = False) -> list[ModelTable]:
        """The asset tables (only those with columns of their own, ``with_metadata``)."""
        found = [ModelTable(t) for t in self.get("tables", []) if t["kind"] == "asset"]
        if with_metadata:
            found = [t for t in found if self.asset_metadata(t)]
        return found

    def find_vocabularies(self) -> list[ModelTable]:
        """The controlled vocabularies (built-in and the domain's)."""
        return [ModelTable(t) for t in self.get("tables", []) if t["kind"] == "vocabulary"]

    def asset_metadata(self, table: Any) -> set[str]:
        """The columns of asset table ``table`` beyond the file and system columns (its
        own columns and references): what ``asset_file_path`` takes as metadata."""
        found = self.name_to_table(table)
        if found.kind != "asset":
            raise ValidationError(f"table {found.name!r} is a {found.kind} table, not an asset")
        return set(found.column_names) - _ASSET_COLUMNS

    def get_dataset(self, rid: str) -> Any:
        """The dataset ``rid`` (a ``Dataset`` handle, as ``cat.lookup_dataset``)."""
        if self._get_dataset is None:
            raise ValidationError("this model document is not bound to a catalog")
        return self._get_dataset(rid)
