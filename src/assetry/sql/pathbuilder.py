"""DerivaML-style path queries: ``cat.pathBuilder()``.

::

    pb = cat.pathBuilder()
    t = pb.schemas[cat.ml_schema].Image_Execution
    rows = t.filter(t.Execution == exe_rid).filter(t.Asset_Role == "Output").entities().fetch()

Tables are found by attribute or by ``schema.tables[name]``, columns by attribute or by
``table.columns[name]``. Comparing a column with a value (``==``, ``!=``, ``<``, ``>``,
``<=``, ``>=``) makes a :class:`Condition`; ``filter`` returns a new, immutable
:class:`DataPath` whose conditions are ANDed. Nothing is sent to the database until
``entities().fetch()``.

Conditions travel to the backend as plain data, ``(column, operator, value)`` triples, so
a remote backend can send them over the wire; :func:`sql_conditions` turns them into
SQLAlchemy Core expressions with bound parameters on the database side (no SQL text is
ever built from values). There, values are checked against the column's type, RIDs are
compared case-insensitively and vocabulary columns accept synonyms.

Comparisons follow Python, not SQL, for missing values: ``col == None`` matches NULL and
``col != value`` also matches rows where the column is NULL. Ordering comparisons never
match NULL, and comparing with ``None`` by ``<`` and friends is a ``ValidationError``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import sqlalchemy as sa

from assetry.errors import TableNotFound, ValidationError
from assetry.sql import rids, types
from assetry.sql.vocab import resolve

if TYPE_CHECKING:
    from assetry.backend import Backend
    from assetry.sql.model import TableModel
    from assetry.sql.session import Session

#: The comparison operators a condition may use.
OPERATORS: tuple[str, ...] = ("==", "!=", "<", ">", "<=", ">=")

_ORDERING: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Condition:
    """``column op value`` on one table, made by comparing a :class:`Column` with a value.

    A condition is not a boolean: pass it to ``filter``. ``as_triple()`` is the plain data
    that travels to the backend.
    """

    table: str
    column: str
    op: str
    value: Any

    def as_triple(self) -> tuple[str, str, Any]:
        """``(column, op, value)``, as ``Backend.query_rows`` takes it."""
        return (self.column, self.op, self.value)

    def __bool__(self) -> bool:
        raise TypeError(
            f"{self!r} is a query condition, not a truth value; pass it to .filter(...)"
        )

    def __repr__(self) -> str:
        return f"<Condition {self.table}.{self.column} {self.op} {self.value!r}>"


class Column:
    """A column of a table in a path query; compare it with a value to make a condition."""

    def __init__(self, table: str, name: str, type_: str) -> None:
        self.table = table
        self.name = name
        self.type = type_

    def _condition(self, op: str, value: object) -> Condition:
        return Condition(self.table, self.name, op, value)

    # Comparing two columns is not a query (joins are not supported): it tells whether they
    # are the same column, so `col in [cols]` and dict keys work.
    @overload  # type: ignore[override]
    def __eq__(self, value: Column) -> bool: ...  # type: ignore[overload-overlap]
    @overload
    def __eq__(self, value: object) -> Condition: ...
    def __eq__(self, value: object) -> Condition | bool:
        if isinstance(value, Column):
            return self._key() == value._key()
        return self._condition("==", value)

    @overload  # type: ignore[override]
    def __ne__(self, value: Column) -> bool: ...  # type: ignore[overload-overlap]
    @overload
    def __ne__(self, value: object) -> Condition: ...
    def __ne__(self, value: object) -> Condition | bool:
        if isinstance(value, Column):
            return self._key() != value._key()
        return self._condition("!=", value)

    def __lt__(self, value: object) -> Condition:
        if isinstance(value, Column):
            return NotImplemented
        return self._condition("<", value)

    def __gt__(self, value: object) -> Condition:
        if isinstance(value, Column):
            return NotImplemented
        return self._condition(">", value)

    def __le__(self, value: object) -> Condition:
        if isinstance(value, Column):
            return NotImplemented
        return self._condition("<=", value)

    def __ge__(self, value: object) -> Condition:
        if isinstance(value, Column):
            return NotImplemented
        return self._condition(">=", value)

    def _key(self) -> tuple[str, str]:
        return (self.table, self.name)

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"<Column {self.table}.{self.name} ({self.type})>"


class ColumnMap:
    """``table.columns``: the columns of one table by name, in model order."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def __getitem__(self, name: str) -> Column:
        return self._table._column(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._table._column_types()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._table._column_types()))

    def __len__(self) -> int:
        return len(self._table._column_types())

    def keys(self) -> list[str]:
        """Column names in model order."""
        return list(self._table._column_types())

    def __repr__(self) -> str:
        return f"<columns of {self._table.name}: {', '.join(self.keys())}>"


class DataPath:
    """A table plus the conditions its rows must meet (all of them); immutable."""

    def __init__(self, table: Table, conditions: tuple[Condition, ...] = ()) -> None:
        self.table = table
        self.conditions = conditions

    def filter(self, condition: Condition) -> DataPath:
        """A new path with ``condition`` added (ANDed to the ones already here)."""
        if not isinstance(condition, Condition):
            raise ValidationError(
                f"filter needs a condition such as table.Column == value, got "
                f"{type(condition).__name__} {condition!r:.60}"
            )
        if condition.table != self.table.name:
            raise ValidationError(
                f"condition on {condition.table}.{condition.column} cannot filter table "
                f"{self.table.name!r}; use a column of {self.table.name!r}"
            )
        self.table._column(condition.column)
        return DataPath(self.table, (*self.conditions, condition))

    def entities(self) -> EntitySet:
        """The rows of this path (fetched when asked for)."""
        return EntitySet(self)

    def __repr__(self) -> str:
        where = " AND ".join(f"{c.column} {c.op} {c.value!r}" for c in self.conditions)
        return f"<DataPath {self.table.name}{' WHERE ' + where if where else ''}>"


class EntitySet:
    """The rows a path selects: ``fetch(limit=None)`` reads them as a list of dicts.

    Iterating or taking ``len`` fetches once and keeps the result; ``fetch`` always
    reads again.
    """

    def __init__(self, path: DataPath) -> None:
        self.path = path
        self._rows: list[dict[str, Any]] | None = None

    def fetch(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Rows (every column, in model order) ordered by RID, at most ``limit`` of them."""
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
        table = self.path.table
        rows = table._builder._backend.query_rows(
            table.name, [c.as_triple() for c in self.path.conditions], limit
        )
        if limit is None:
            self._rows = rows
        return rows

    def _all(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self._rows = self.fetch()
        return self._rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"<EntitySet of {self.path!r}>"


class Table:
    """A table in a path query: columns by attribute or ``.columns[name]``.

    ``filter`` and ``entities`` start a :class:`DataPath` on this table. A column whose
    name is also an attribute of this class (``name``, ``schema``, ``columns``,
    ``filter``, ``entities``, ``path``) is reached through ``.columns[...]``.
    """

    def __init__(self, builder: PathBuilder, name: str, schema: str) -> None:
        self._builder = builder
        self.name = name
        self.schema = schema

    @property
    def columns(self) -> ColumnMap:
        """The table's columns by name."""
        return ColumnMap(self)

    @property
    def path(self) -> DataPath:
        """A path over every row of this table."""
        return DataPath(self)

    def filter(self, condition: Condition) -> DataPath:
        """A path over the rows of this table that meet ``condition``."""
        return self.path.filter(condition)

    def entities(self) -> EntitySet:
        """Every row of this table."""
        return EntitySet(self.path)

    def _column_types(self) -> dict[str, str]:
        return self._builder._columns(self.name)

    def _column(self, name: str) -> Column:
        types_ = self._column_types()
        if not isinstance(name, str) or name not in types_:
            types_ = self._builder._columns(self.name, refresh=True)
            if not isinstance(name, str) or name not in types_:
                raise ValidationError(f"table {self.name!r} has no column {name!r}")
        return Column(self.name, name, types_[name])

    def __getattr__(self, name: str) -> Column:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._column(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._column_types()))

    def __repr__(self) -> str:
        return f"<Table {self.schema}.{self.name}>"


class TableMap:
    """``schema.tables``: any table of the catalog by name; iterates this schema's tables."""

    def __init__(self, schema: Schema) -> None:
        self._schema = schema

    def __getitem__(self, name: str) -> Table:
        return self._schema._builder._table(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._schema._builder._tables()

    def keys(self) -> list[str]:
        """Names of the tables of this schema, in model order."""
        tables = self._schema._builder._tables()
        return [name for name, doc in tables.items() if doc["schema"] == self._schema.name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __repr__(self) -> str:
        return f"<tables of {self._schema.name}: {', '.join(self.keys())}>"


class Schema:
    """One of the catalog's two schemas; tables by attribute or ``.tables[name]``.

    Table names are unique across the catalog, so every table is found through either
    schema.
    """

    def __init__(self, builder: PathBuilder, name: str) -> None:
        self._builder = builder
        self.name = name

    @property
    def tables(self) -> TableMap:
        """The catalog's tables by name."""
        return TableMap(self)

    def __getattr__(self, name: str) -> Table:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._builder._table(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.tables.keys()))

    def __repr__(self) -> str:
        return f"<Schema {self.name}>"


class SchemaMap:
    """``pb.schemas``: the catalog's two schemas by name."""

    def __init__(self, builder: PathBuilder) -> None:
        self._builder = builder

    def keys(self) -> list[str]:
        """The schema names: the ML (system) schema, then the domain schema."""
        return [self._builder.ml_schema, self._builder.domain_schema]

    def __getitem__(self, name: str) -> Schema:
        if name not in self.keys():
            known = ", ".join(repr(k) for k in self.keys())
            raise ValidationError(f"the catalog has no schema {name!r}; its schemas are {known}")
        return Schema(self._builder, name)

    def __contains__(self, name: object) -> bool:
        return name in self.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return 2

    def __repr__(self) -> str:
        return f"<schemas {', '.join(self.keys())}>"


class PathBuilder:
    """Entry point of path queries over one catalog: ``pb.schemas[name].Table``.

    The model is read from the backend when first needed and read again when a table or
    column is not found, so tables created after the builder are still found.
    """

    def __init__(self, backend: Backend, ml_schema: str, domain_schema: str) -> None:
        self._backend = backend
        self.ml_schema = ml_schema
        self.domain_schema = domain_schema
        self._model: dict[str, dict[str, Any]] | None = None

    @property
    def schemas(self) -> SchemaMap:
        """The catalog's schemas by name."""
        return SchemaMap(self)

    def _tables(self, refresh: bool = False) -> dict[str, dict[str, Any]]:
        if self._model is None or refresh:
            document = self._backend.model_document()
            self._model = {t["name"]: t for t in document["tables"]}
        return self._model

    def _table(self, name: str) -> Table:
        tables = self._tables()
        if not isinstance(name, str) or name not in tables:
            tables = self._tables(refresh=True)
            if not isinstance(name, str) or name not in tables:
                raise TableNotFound(str(name))
        return Table(self, name, tables[name]["schema"])

    def _columns(self, table: str, refresh: bool = False) -> dict[str, str]:
        tables = self._tables(refresh)
        if table not in tables:
            raise TableNotFound(table)
        return {c["name"]: c["type"] for c in tables[table]["columns"]}

    def __repr__(self) -> str:
        return f"<PathBuilder {self.ml_schema}, {self.domain_schema}>"


# --- the database side ------------------------------------------------------------------


def sql_conditions(
    session: Session, table: TableModel, conditions: Sequence[tuple[str, str, Any]]
) -> list[sa.ColumnElement[bool]]:
    """SQLAlchemy Core expressions (bound parameters) for ``(column, op, value)`` triples.

    Every value is checked against its column's type; RIDs are made canonical and term
    names or synonyms of a vocabulary column become the canonical term name (an unknown
    term is left as given, so it matches nothing). Every problem found is reported
    together in one ``ValidationError``.
    """
    t = session.table(table.name)
    clauses: list[sa.ColumnElement[bool]] = []
    problems: list[str] = []
    term_maps: dict[str, dict[str, str]] = {}
    if isinstance(conditions, str | bytes) or not isinstance(conditions, Sequence):
        raise ValidationError("conditions must be a list of (column, operator, value)")
    for i, condition in enumerate(conditions):
        where = f"condition {i}"
        if not isinstance(condition, Sequence) or len(condition) != 3:
            problems.append(f"{where}: expected (column, operator, value), got {condition!r:.60}")
            continue
        name, op, value = condition
        if op not in OPERATORS:
            problems.append(f"{where}: unknown operator {op!r}; operators: {', '.join(OPERATORS)}")
            continue
        if not isinstance(name, str) or not table.has_column(name):
            problems.append(f"{where}: table {table.name!r} has no column {name!r}")
            continue
        col = table.column(name)
        what = f"{where}: column {table.name}.{name}"
        if col.type == "json":
            problems.append(f"{what}: json columns cannot be compared")
            continue
        if value is None:
            if op in _ORDERING:
                problems.append(f"{what}: cannot compare None with {op!r}")
                continue
        else:
            try:
                value = types.checker(col.builtin_type)(value)
            except ValueError as err:
                problems.append(f"{what}: {err}")
                continue
            fk = table.foreign_key(name)
            if name == "RID" or (fk is not None and fk.referenced_column == "RID"):
                value = rids.normalize(value)
            elif fk is not None:
                terms = term_maps.get(fk.table)
                if terms is None:
                    terms = term_maps[fk.table] = resolve.term_map(session, fk.table)
                value = terms.get(value.lower(), value)
        column = t.c[name]
        if col.type == "float4" and value is not None:
            # PostgreSQL compares real with a double parameter in double precision, where
            # a stored real 0.1 is not 0.1: round the parameter to the column's precision.
            value = sa.cast(value, column.type)
        if op == "==":
            clauses.append(column.is_(None) if value is None else column == value)
        elif op == "!=":
            clauses.append(column.is_distinct_from(value))
        else:
            clauses.append(_ORDERING[op](column, value))
    if problems:
        raise ValidationError(problems)
    return clauses
