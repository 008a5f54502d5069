"""User-facing building blocks of a model: column types, column and table definitions."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assetry.errors import ValidationError


class BuiltinType(enum.StrEnum):
    """The column types a catalog supports on every engine.

    DerivaML's type names are accepted as aliases of the matching type.
    """

    text = "text"
    markdown = "markdown"
    int2 = "int2"
    int4 = "int4"
    int8 = "int8"
    float4 = "float4"
    float8 = "float8"
    boolean = "boolean"
    date = "date"
    timestamp = "timestamp"
    timestamptz = "timestamptz"
    json = "json"
    uri = "uri"
    # DerivaML / ERMrest names: aliases of the types above.
    jsonb = "json"
    longtext = "text"
    ermrest_uri = "uri"
    ermrest_curie = "text"
    ermrest_rid = "text"
    ermrest_rcb = "text"
    ermrest_rmb = "text"
    ermrest_rct = "timestamptz"
    ermrest_rmt = "timestamptz"
    serial4 = "int4"
    color_rgb_hex = "text"  # "#rrggbb"

    @classmethod
    def parse(cls, value: BuiltinType | str) -> BuiltinType:
        """Return the type named by ``value`` (a member, its value or a DerivaML alias)."""
        if isinstance(value, BuiltinType):
            return value
        if isinstance(value, str):
            if value in cls.__members__:
                return cls.__members__[value]
            try:
                return cls(value)
            except ValueError:
                pass
        known = ", ".join(sorted(cls.__members__))
        raise ValidationError(f"unknown column type {value!r}; known types: {known}")


@dataclass(frozen=True)
class ColumnDef:
    """One user column: name, type, whether NULL is allowed, default, comment, and
    whether the column gets an index of its own (``index=True``: for columns that reads
    filter on; foreign keys and the asset columns Filename, MD5 and SHA256 always
    have one)."""

    name: str
    type: BuiltinType | str = BuiltinType.text
    nullok: bool = True
    default: Any = None
    comment: str | None = None
    index: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", BuiltinType.parse(self.type))
        problems: list[str] = []
        if not isinstance(self.nullok, bool):
            problems.append(f"column {self.name!r}: nullok must be True or False")
        if self.comment is not None and not isinstance(self.comment, str):
            problems.append(f"column {self.name!r}: comment must be text")
        if not isinstance(self.index, bool):
            problems.append(f"column {self.name!r}: index must be True or False")
        if problems:
            raise ValidationError(problems)

    @property
    def builtin_type(self) -> BuiltinType:
        """The column's type as a ``BuiltinType`` member."""
        return BuiltinType.parse(self.type)

    def to_dict(self) -> dict[str, Any]:
        """The column as it appears in a model document."""
        doc: dict[str, Any] = {
            "name": self.name,
            "type": self.builtin_type.value,
            "nullok": self.nullok,
        }
        if self.default is not None:
            doc["default"] = self.default
        if self.comment:
            doc["comment"] = self.comment
        if self.index:
            doc["index"] = True
        return doc


@dataclass(frozen=True)
class TableDef:
    """A plain (non-asset) table: its user columns, the tables it references, a comment."""

    name: str
    column_defs: list[ColumnDef] = field(default_factory=list)
    referenced_tables: list[str] = field(default_factory=list)
    comment: str | None = None

    def __post_init__(self) -> None:
        check_comment(self.comment, f"table {self.name!r}")
        object.__setattr__(
            self,
            "column_defs",
            listed(self.column_defs, f"table {self.name!r}: column_defs", "ColumnDef"),
        )
        object.__setattr__(
            self,
            "referenced_tables",
            listed(self.referenced_tables, f"table {self.name!r}: referenced_tables", "table name"),
        )


@dataclass(frozen=True)
class ForeignKeyDefinition:
    """DerivaML's foreign key: column ``colnames[0]`` holds a value of
    ``pk_tname.pk_colnames[0]`` (``RID``, or ``Name`` of a vocabulary term)."""

    colnames: list[str]
    pk_sname: str | None
    pk_tname: str
    pk_colnames: list[str] = field(default_factory=lambda: ["RID"])
    constraint_names: list[Any] = field(default_factory=list)
    on_update: str = "NO ACTION"
    on_delete: str = "NO ACTION"
    comment: str | None = None


# What a reference does when its row is deleted: assetry refuses the delete while any
# row references it, which is what these say.
_REFUSING = ("NO ACTION", "RESTRICT")


@dataclass(frozen=True)
class TableDefinition(TableDef):
    """DerivaML's table definition: a ``TableDef`` whose foreign keys are given as
    ``fkey_defs``. A reference is a column named after the table it references (as
    ``referenced_tables`` makes it), holding a RID of that table or a term's name: each
    foreign key must name such a column, and its column definition (if given) becomes
    the reference."""

    fkey_defs: list[ForeignKeyDefinition] = field(default_factory=list)
    key_defs: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        what = f"table {self.name!r}"
        fkeys = listed(self.fkey_defs, f"{what}: fkey_defs", "ForeignKeyDefinition")
        problems: list[str] = []
        if listed(self.key_defs, f"{what}: key_defs", "KeyDefinition"):
            problems.append(f"{what}: key_defs (unique keys) are not supported; RID is the key")
        references: list[str] = []
        for n, fk in enumerate(fkeys):
            where = f"{what}: fkey_defs[{n}]"
            if not isinstance(fk, ForeignKeyDefinition):
                problems.append(f"{where} must be a ForeignKeyDefinition, got {fk!r:.60}")
                continue
            columns, targets = list(fk.colnames), list(fk.pk_colnames)
            if len(columns) != 1 or len(targets) != 1 or targets[0] not in ("RID", "Name"):
                problems.append(
                    f"{where}: a reference is one column holding the RID (or a term's Name) "
                    f"of {fk.pk_tname!r}, got {columns} -> {targets}"
                )
            elif columns[0] != fk.pk_tname:
                problems.append(
                    f"{where}: a reference column is named after the table it references: "
                    f"name column {columns[0]!r} {fk.pk_tname!r}"
                )
            elif str(fk.on_delete).upper() not in _REFUSING:
                problems.append(
                    f"{where}: on_delete={fk.on_delete!r} is not supported: a referenced row "
                    "cannot be deleted while referenced (NO ACTION)"
                )
            else:
                references.append(fk.pk_tname)
        if problems:
            raise ValidationError(problems)
        columns = listed(self.column_defs, f"{what}: column_defs", "ColumnDef")
        kept = [c for c in columns if getattr(c, "name", None) not in references]
        object.__setattr__(self, "column_defs", kept)
        given = listed(self.referenced_tables, f"{what}: referenced_tables", "table name")
        object.__setattr__(
            self, "referenced_tables", given + [r for r in references if r not in given]
        )
        super().__post_init__()


def listed(value: object, what: str, item: str) -> list[Any]:
    """``value`` (any iterable but a string) as a list. A single string or ColumnDef is a
    ``ValidationError``: iterating it would give its characters, not one name."""
    if value is None:
        return []
    if isinstance(value, str | ColumnDef):
        shown = "the string" if isinstance(value, str) else "a single ColumnDef"
        raise ValidationError(
            f"{what} must be a list of {item}s, got {shown} {value!r} (write [{value!r}])"
        )
    if not isinstance(value, Iterable):
        raise ValidationError(f"{what} must be a list of {item}s, got {type(value).__name__}")
    return list(value)


def check_comment(comment: object, what: str) -> None:
    """A comment is text or None."""
    if comment is not None and not isinstance(comment, str):
        raise ValidationError(f"{what}: comment must be text, got {type(comment).__name__}")


# DerivaML's older names, kept so its documented code runs unchanged.
ColumnDefinition = ColumnDef
BuiltinTypes = BuiltinType
