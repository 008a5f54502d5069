"""The Backend interface: everything a Catalog needs from where its data lives.

``SqlBackend`` implements it on SQLite and PostgreSQL; the remote client implements it
over HTTP. These docstrings are the specification every implementation follows.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assetry.catalog.definitions import ColumnDef
from assetry.vocab.terms import Term


@dataclass(frozen=True)
class ResolvedRID:
    """Where a RID lives: its table and its current row."""

    table: str
    row: dict[str, Any]


class Backend(abc.ABC):
    """Storage of one catalog: model, rows, vocabularies, snapshots and history."""

    # --- model ---------------------------------------------------------------------------
    @abc.abstractmethod
    def model_document(self, as_of: int | None = None) -> dict[str, Any]:
        """The model (current, or as of a snapshot) as a JSON-able document."""

    @abc.abstractmethod
    def create_vocabulary(self, name: str, comment: str | None, schema: str | None) -> None:
        """Create an empty vocabulary table."""

    @abc.abstractmethod
    def create_table(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        """Create a plain table."""

    @abc.abstractmethod
    def create_asset(
        self,
        name: str,
        column_defs: Sequence[ColumnDef],
        referenced_tables: Sequence[str],
        comment: str | None,
        schema: str | None,
    ) -> None:
        """Create an asset table, its association tables and its Asset_Type term."""

    @abc.abstractmethod
    def add_column(self, table: str, column: ColumnDef) -> None:
        """Add a user column to a table."""

    @abc.abstractmethod
    def apply_model(self, document: dict[str, Any]) -> list[str]:
        """Create what a (validated) model document describes; return what changed."""

    # --- rows ----------------------------------------------------------------------------
    @abc.abstractmethod
    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Insert checked rows in one transaction; return their RIDs in order."""

    @abc.abstractmethod
    def update(self, table: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Change rows (each names its RID) in one transaction, keeping old images."""

    @abc.abstractmethod
    def delete(self, table: str, rids: Sequence[str]) -> list[str]:
        """Delete rows by RID in one transaction; refused while any is referenced."""

    @abc.abstractmethod
    def resolve_rid(self, rid: str) -> ResolvedRID:
        """The table and current row of ``rid``."""

    @abc.abstractmethod
    def iter_rows(
        self,
        table: str,
        filters: Mapping[str, Any] | None = None,
        as_of: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``table`` ordered by RID, streamed in pages read at one snapshot."""

    @abc.abstractmethod
    def table_columns(self, table: str, as_of: int | None = None) -> list[tuple[str, str]]:
        """(name, type) of each column of ``table`` in model order."""

    @abc.abstractmethod
    def query_rows(
        self, table: str, conditions: list[tuple[str, str, Any]], limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Current rows of ``table`` meeting every condition, ordered by RID.

        Each condition is plain data, ``(column, op, value)`` with ``op`` one of ``==``,
        ``!=``, ``<``, ``>``, ``<=``, ``>=``, so it can travel over the wire. Values are
        checked against the column's type; RIDs (of ``RID`` and reference columns)
        compare case-insensitively; a vocabulary column accepts a term's name or synonym
        in any case. ``== None`` matches NULL; ``!=`` also matches NULL; ordering
        operators never do and refuse ``None``. json columns cannot be compared. Every
        problem (unknown column or operator, bad value) is reported together in one
        ``ValidationError``; an unknown table is ``TableNotFound``. Rows have every
        column of the table in model order; at most ``limit`` of them.
        """

    @abc.abstractmethod
    def search(self, text: str, tables: Sequence[str] | None, limit: int) -> list[dict[str, Any]]:
        """Rows whose text columns contain every word of ``text`` (case-insensitive)."""

    @abc.abstractmethod
    def snapshot(self) -> int:
        """The latest committed snapshot number."""

    @abc.abstractmethod
    def history(self, rid: str) -> list[dict[str, Any]]:
        """Every version of the row ``rid``, oldest first."""

    # --- vocabularies --------------------------------------------------------------------
    @abc.abstractmethod
    def add_term(
        self,
        table: str,
        term_name: str,
        description: str | None,
        synonyms: Sequence[str] | None,
        exists_ok: bool,
    ) -> Term:
        """Add a term to a vocabulary."""

    @abc.abstractmethod
    def lookup_term(self, table: str, term_name: str) -> Term:
        """A term by name or synonym, ignoring case."""

    @abc.abstractmethod
    def list_terms(self, table: str) -> list[Term]:
        """Every term of a vocabulary, by name."""

    @abc.abstractmethod
    def change_term(self, table: str, term_name: str, action: str, **values: Any) -> Term | None:
        """Change a term: ``action`` is add_synonym, remove_synonym, update or delete."""

    # --- lifecycle -----------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def settings(self) -> dict[str, str]:
        """The catalog's recorded settings (RID prefix, store location, schema names)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""
