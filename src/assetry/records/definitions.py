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
    """One user column: name, type, whether NULL is allowed, default and comment."""

    name: str
    type: BuiltinType | str = BuiltinType.text
    nullok: bool = True
    default: Any = None
    comment: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", BuiltinType.parse(self.type))
        problems: list[str] = []
        if not isinstance(self.nullok, bool):
            problems.append(f"column {self.name!r}: nullok must be True or False")
        if self.comment is not None and not isinstance(self.comment, str):
            problems.append(f"column {self.name!r}: comment must be text")
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
