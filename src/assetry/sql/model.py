"""The catalog model: tables, columns, keys and foreign keys, as data.

The model is stored in the catalog as a JSON document (one row per model version), and the
SQLAlchemy ``MetaData`` used for every query is built from it. Building table models for
new user tables (plain, asset, vocabulary, association) also happens here, so every kind
of table gets the same system columns, constraint names and indexes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from assetry.errors import TableNotFound, ValidationError
from assetry.records.definitions import BuiltinType, ColumnDef
from assetry.sql import names, types

MODEL_FORMAT = 1

KINDS = ("table", "asset", "vocabulary", "association", "system")


@dataclass
class ColumnModel:
    """One column of a table."""

    name: str
    type: str
    nullok: bool = True
    default: Any = None
    comment: str | None = None
    system: bool = False
    # An index of its own, declared by the user (``ColumnDef(index=True)``).
    index: bool = False

    @property
    def builtin_type(self) -> BuiltinType:
        return BuiltinType.parse(self.type)

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type, "nullok": self.nullok}
        if self.default is not None:
            doc["default"] = self.default
        if self.comment:
            doc["comment"] = self.comment
        if self.system:
            doc["system"] = True
        if self.index:
            doc["index"] = True
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ColumnModel:
        return cls(
            name=doc["name"],
            type=BuiltinType.parse(doc.get("type", "text")).value,
            nullok=doc.get("nullok", True),
            default=doc.get("default"),
            comment=doc.get("comment"),
            system=doc.get("system", False),
            index=doc.get("index", False),
        )


@dataclass
class ForeignKeyModel:
    """A single-column foreign key: ``column`` holds a value of ``table.referenced_column``.

    ``referenced_column`` is ``RID`` for an ordinary reference and ``Name`` for a
    vocabulary term.
    """

    column: str
    table: str
    referenced_column: str = "RID"

    def to_doc(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "table": self.table,
            "referenced_column": self.referenced_column,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ForeignKeyModel:
        return cls(doc["column"], doc["table"], doc.get("referenced_column", "RID"))


@dataclass
class TableModel:
    """One table: its kind, schema, columns in order, unique keys and foreign keys."""

    name: str
    kind: str
    schema: str
    columns: list[ColumnModel]
    foreign_keys: list[ForeignKeyModel] = field(default_factory=list)
    unique: list[list[str]] = field(default_factory=list)
    comment: str | None = None
    # Indexes of several columns added by ``create_index`` (one column: ``ColumnModel.index``).
    indexes: list[list[str]] = field(default_factory=list)

    def column(self, name: str) -> ColumnModel:
        for col in self.columns:
            if col.name == name:
                return col
        raise ValidationError(f"table {self.name!r} has no column {name!r}")

    def has_column(self, name: str) -> bool:
        return any(col.name == name for col in self.columns)

    @property
    def column_names(self) -> list[str]:
        return [col.name for col in self.columns]

    def foreign_key(self, column: str) -> ForeignKeyModel | None:
        for fk in self.foreign_keys:
            if fk.column == column:
                return fk
        return None

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "schema": self.schema,
            "kind": self.kind,
            "columns": [col.to_doc() for col in self.columns],
            "foreign_keys": [fk.to_doc() for fk in self.foreign_keys],
            "unique": [list(u) for u in self.unique],
        }
        if self.indexes:
            doc["indexes"] = [list(i) for i in self.indexes]
        if self.comment:
            doc["comment"] = self.comment
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> TableModel:
        return cls(
            name=doc["name"],
            kind=doc["kind"],
            schema=doc["schema"],
            columns=[ColumnModel.from_doc(c) for c in doc["columns"]],
            foreign_keys=[ForeignKeyModel.from_doc(f) for f in doc.get("foreign_keys", [])],
            unique=[list(u) for u in doc.get("unique", [])],
            comment=doc.get("comment"),
            indexes=[list(i) for i in doc.get("indexes", [])],
        )


@dataclass
class Model:
    """The whole model of a catalog at one model version."""

    ml_schema: str
    domain_schema: str
    tables: dict[str, TableModel]
    version: int = 0

    def table(self, name: str) -> TableModel:
        """The table called ``name`` (exact spelling), or ``TableNotFound``."""
        try:
            return self.tables[name]
        except (KeyError, TypeError):
            raise TableNotFound(str(name)) from None

    def find_ci(self, name: str) -> str | None:
        """The existing table whose name equals ``name`` ignoring case, if any."""
        lowered = name.lower()
        for existing in self.tables:
            if existing.lower() == lowered:
                return existing
        return None

    def referencing(self, table: str) -> Iterator[tuple[TableModel, ForeignKeyModel]]:
        """Every (table, foreign key) that points at ``table``."""
        for other in self.tables.values():
            for fk in other.foreign_keys:
                if fk.table == table:
                    yield other, fk

    def to_doc(self) -> dict[str, Any]:
        """The model document; with features, also ``features``: each feature's name,
        target, table and columns by role (derived from the tables, so ``apply_model``
        and ``from_doc`` ignore it)."""
        from assetry.records.features import features_of_model

        doc: dict[str, Any] = {
            "format": MODEL_FORMAT,
            "version": self.version,
            "ml_schema": self.ml_schema,
            "domain_schema": self.domain_schema,
            "tables": [t.to_doc() for t in self.tables.values()],
        }
        found = features_of_model(doc)
        if found:
            doc["features"] = [f.to_doc() for f in found]
        return doc

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Model:
        tables = [TableModel.from_doc(t) for t in doc.get("tables", [])]
        return cls(
            ml_schema=doc["ml_schema"],
            domain_schema=doc["domain_schema"],
            tables={t.name: t for t in tables},
            version=doc.get("version", 0),
        )

    def copy(self) -> Model:
        return copy.deepcopy(self)


# --- building tables -----------------------------------------------------------------


def system_columns() -> list[ColumnModel]:
    """RID, RCT, RMT, RCB, RMB: present on every table."""
    return [
        ColumnModel("RID", "text", nullok=False, system=True, comment="resource id"),
        ColumnModel("RCT", "timestamptz", nullok=False, system=True, comment="created at"),
        ColumnModel("RMT", "timestamptz", nullok=False, system=True, comment="modified at"),
        ColumnModel("RCB", "text", system=True, comment="created by"),
        ColumnModel("RMB", "text", system=True, comment="modified by"),
    ]


def asset_columns() -> list[ColumnModel]:
    """The standard columns of an asset table."""
    return [
        ColumnModel("URL", "uri", nullok=False, comment="where the bytes are"),
        ColumnModel("Filename", "text", comment="the file's name"),
        ColumnModel("Length", "int8", nullok=False, comment="size in bytes"),
        ColumnModel("MD5", "text", nullok=False, comment="MD5 of the bytes, hex"),
        ColumnModel("SHA256", "text", nullok=False, comment="SHA-256 of the bytes, hex"),
        ColumnModel("Description", "markdown"),
    ]


def vocabulary_columns() -> list[ColumnModel]:
    """The standard columns of a vocabulary table."""
    return [
        ColumnModel("Name", "text", nullok=False, comment="the term, unique ignoring case"),
        ColumnModel("Description", "markdown"),
        ColumnModel("Synonyms", "json", comment="other names of the term"),
        ColumnModel("ID", "text", comment="CURIE of the term"),
        ColumnModel("URI", "uri", comment="URI of the term"),
    ]


def user_columns(defs: Iterable[ColumnDef]) -> list[ColumnModel]:
    return [
        ColumnModel(
            name=d.name,
            type=d.builtin_type.value,
            nullok=d.nullok,
            default=d.default,
            comment=d.comment,
            index=d.index,
        )
        for d in defs
    ]


def reference_column(target: TableModel, nullok: bool = True) -> ColumnModel:
    """A column named after ``target`` holding a RID of it (or a term name)."""
    what = "term of" if target.kind == "vocabulary" else "RID of"
    return ColumnModel(target.name, "text", nullok=nullok, comment=f"{what} {target.name}")


def reference_key(target: TableModel) -> ForeignKeyModel:
    column = "Name" if target.kind == "vocabulary" else "RID"
    return ForeignKeyModel(target.name, target.name, column)


# Kinds of tables whose rows may become dataset members (``add_dataset_element_type``);
# association and system tables never do, so no ``Dataset_<T>`` is made for them.
ELEMENT_KINDS = ("table", "asset", "vocabulary")


def identifiers(table: TableModel) -> list[str]:
    """Every identifier the database holds for ``table``: its name, its foreign keys,
    indexes and unique constraints (PostgreSQL names the primary key itself)."""
    out = [table.name]
    out += [names.fkey_name(table.name, fk.column) for fk in table.foreign_keys]
    out += relation_names(table)[1:]
    return out


# Asset columns looked up by content (``upload_assets`` finds the same bytes under the
# same name; checksums are searched): indexed on every asset table.
ASSET_INDEXED = ("Filename", "MD5", "SHA256")


def indexed_columns(table: TableModel) -> list[str]:
    """The columns of ``table`` with an index of their own: its foreign keys, on an
    asset table ``ASSET_INDEXED``, and the columns declared with ``index=True``."""
    out = [fk.column for fk in table.foreign_keys]
    if table.kind == "asset":
        out += [c for c in ASSET_INDEXED if c not in out]
    out += [c.name for c in table.columns if c.index and c.name not in out]
    return out


def table_indexes(table: TableModel) -> list[tuple[str, ...]]:
    """Every index of ``table`` besides its primary key and unique constraints, as the
    columns it covers: one per ``indexed_columns`` and one per ``table.indexes``."""
    out: list[tuple[str, ...]] = [(column,) for column in indexed_columns(table)]
    out += [tuple(i) for i in table.indexes if tuple(i) not in out]
    return out


def index_name(table: str, columns: Iterable[str]) -> str:
    """The name of the index of ``table`` on ``columns``."""
    return names.index_name(table, "_".join(columns))


def has_index(table: TableModel, columns: Sequence[str]) -> bool:
    """True if an index, unique constraint or the primary key of ``table`` covers exactly
    ``columns`` in this order."""
    wanted = tuple(columns)
    return (
        wanted == ("RID",)
        or wanted in table_indexes(table)
        or wanted in {tuple(u) for u in table.unique}
    )


def relation_names(table: TableModel) -> list[str]:
    """The names ``table`` takes in the schema's one namespace of tables and indexes:
    its own, its indexes' and its unique constraints' (each backed by an index)."""
    out = [table.name]
    out += [index_name(table.name, columns) for columns in table_indexes(table)]
    out += [names.unique_name(table.name, "_".join(u)) for u in table.unique]
    out.append(names.search_index_name(table.name))
    return out


def dataset_link_name(element: str) -> str:
    """The membership table of dataset element type ``element``."""
    return f"Dataset_{element}"


def dataset_link_model(element: str, schema: str = "") -> TableModel:
    """The keys of the ``Dataset_<element>`` table ``add_dataset_element_type`` creates
    (a reference to Dataset and one to ``element``, unique together): enough to know
    every identifier it will take."""
    return TableModel(
        dataset_link_name(element),
        "association",
        schema,
        [],
        foreign_keys=[ForeignKeyModel("Dataset", "Dataset"), ForeignKeyModel(element, element)],
        unique=[["Dataset", element]],
    )


# --- SQLAlchemy metadata -------------------------------------------------------------


def sa_table(table: TableModel, metadata: sa.MetaData) -> sa.Table:
    """The SQLAlchemy table for ``table`` in ``metadata``."""
    cols: list[sa.Column[Any]] = []
    rid_columns = {"RID"} | {
        fk.column for fk in table.foreign_keys if fk.referenced_column == "RID"
    }
    for col in table.columns:
        cols.append(
            sa.Column(
                col.name,
                types.rid_type() if col.name in rid_columns else types.sql_type(col.builtin_type),
                primary_key=col.name == "RID",
                nullable=col.nullok and col.name != "RID",
            )
        )
    cols.append(sa.Column(names.SNAPSHOT_COLUMN, sa.BigInteger, nullable=False))
    constraints: list[Any] = [
        sa.ForeignKeyConstraint(
            [fk.column],
            [f"{fk.table}.{fk.referenced_column}"],
            name=names.fkey_name(table.name, fk.column),
        )
        for fk in table.foreign_keys
    ]
    constraints += [
        sa.UniqueConstraint(*u, name=names.unique_name(table.name, "_".join(u)))
        for u in table.unique
    ]
    indexes = [
        sa.Index(index_name(table.name, columns), *columns) for columns in table_indexes(table)
    ]
    return sa.Table(table.name, metadata, *cols, *constraints, *indexes)


def build_metadata(model: Model) -> sa.MetaData:
    """SQLAlchemy ``MetaData`` holding every table of ``model``."""
    metadata = sa.MetaData()
    for table in model.tables.values():
        sa_table(table, metadata)
    return metadata
