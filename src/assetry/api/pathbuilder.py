"""The entry of deriva-py's data paths: ``cat.pathBuilder`` (also called:
``cat.pathBuilder()``), its schemas, their tables and the tables' columns.

Tables are found by attribute or by ``schema.tables[name]`` (names that are not Python
identifiers, such as a vocabulary ``"My term set"``, only so), columns by attribute or by
``table.columns[name]``. A table starts paths (``table.path``, or ``filter``, ``link``,
``entities``, ``attributes`` on it, each a new path: the table itself never changes) and
writes rows (``insert``, ``update``). Paths, conditions and results are in
``assetry.api.datapath``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assetry.api.datapath import (
    AttributeNotFound,
    Column,
    ColumnPair,
    DataPath,
    EntitySet,
    Filter,
)
from assetry.errors import TableNotFound, ValidationError

if TYPE_CHECKING:
    from assetry.backend import Backend

# Rows read back per query after insert or update.
_CHUNK = 1000

# What a Table offers besides its columns (a column with one of these names is reached
# through ``table.columns[...]``).
_METHODS = ("alias", "attributes", "columns", "column_definitions", "entities", "filter",
            "insert", "link", "name", "path", "schema", "update")  # fmt: skip


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


class Table:
    """A table of the catalog in path queries: columns by attribute or ``.columns[name]``."""

    def __init__(self, builder: PathBuilder, name: str, schema: str) -> None:
        self._builder = builder
        self.name = name
        self.schema = schema

    @property
    def columns(self) -> ColumnMap:
        """The table's columns by name."""
        return ColumnMap(self)

    column_definitions = columns  # deriva-py's name

    @property
    def path(self) -> DataPath:
        """A new path over every row of this table."""
        return DataPath(self)

    def alias(self, name: str) -> TableAlias:
        """This table under another name, to link it (again) into a path."""
        if not isinstance(name, str) or not name:
            raise ValidationError(f"a table alias must be non-empty text, got {name!r}")
        return TableAlias(self, name)

    def filter(self, condition: Filter) -> DataPath:
        """A new path over the rows of this table that meet ``condition``."""
        return self.path.filter(condition)

    def link(self, right: Any, on: ColumnPair | None = None, join_type: str = "") -> DataPath:
        """A new path from this table linked to ``right`` (see ``DataPath.link``)."""
        return self.path.link(right, on, join_type)

    def entities(self) -> EntitySet:
        """Every row of this table."""
        return self.path.entities()

    def attributes(self, *columns: Any, **renamed: Column) -> EntitySet:
        """Some columns of every row of this table."""
        return self.path.attributes(*columns, **renamed)

    # --- writes ------------------------------------------------------------------------
    def insert(
        self, entities: Sequence[Mapping[str, Any]], defaults: Sequence[str] | None = None
    ) -> list[dict[str, Any]]:
        """Insert rows (one transaction, every value checked first) and return them as
        stored, with their RIDs and system columns. ``defaults`` names columns to leave
        to their defaults even when a row gives a value."""
        rows = _rows(entities, "insert")
        skip = set(defaults or ())
        rows = [{k: v for k, v in row.items() if k not in skip} for row in rows]
        rids = self._builder._backend.insert(self.name, rows)
        return self._read_back(rids)

    def update(
        self,
        entities: Sequence[Mapping[str, Any]],
        correlation: Sequence[Any] = ("RID",),
        targets: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Change rows, each found by its ``RID`` (the only correlation supported), and
        return them as stored. ``targets`` limits the columns changed."""
        keys = [str(c) for c in correlation]
        if keys != ["RID"]:
            raise ValidationError(f"update finds rows by RID only, got correlation {keys}")
        rows = _rows(entities, "update")
        if targets is not None:
            wanted = {str(t) for t in targets} | {"RID"}
            rows = [{k: v for k, v in row.items() if k in wanted} for row in rows]
        rids = self._builder._backend.update(self.name, rows)
        return self._read_back(rids)

    def _read_back(self, rids: list[str]) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(rids), _CHUNK):
            path = self.path.filter(self.RID.is_in(rids[start : start + _CHUNK]))
            found.update((row["RID"], row) for row in path.entities().fetch())
        return [found[rid] for rid in rids if rid in found]

    # --- columns -----------------------------------------------------------------------
    def _column_types(self) -> dict[str, str]:
        return self._builder._columns(self.name)

    def _column(self, name: str) -> Column:
        types_ = self._column_types()
        if not isinstance(name, str) or name not in types_:
            types_ = self._builder._columns(self.name, refresh=True)
            if not isinstance(name, str) or name not in types_:
                raise AttributeNotFound(
                    f"table {self.name!r} has no column {name!r}; its columns: "
                    f"{', '.join(types_)} (and methods: {', '.join(_METHODS)})"
                )
        return Column(self.name, name, types_[name])

    def __getattr__(self, name: str) -> Column:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._column(name)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._column_types()))

    def __repr__(self) -> str:
        return f"<Table {self.schema}.{self.name}>"


class TableAlias:
    """``table.alias(name)``: a table to link into a path under ``name``."""

    def __init__(self, table: Table, name: str) -> None:
        self.table = table
        self.alias_name = name

    @property
    def path(self) -> DataPath:
        """A new path rooted at this alias."""
        return DataPath(self.table, self.alias_name)

    def filter(self, condition: Filter) -> DataPath:
        return self.path.filter(condition)

    def link(self, right: Any, on: ColumnPair | None = None, join_type: str = "") -> DataPath:
        return self.path.link(right, on, join_type)

    def entities(self) -> EntitySet:
        return self.path.entities()

    def __getattr__(self, name: str) -> Column:
        if name.startswith("_"):
            raise AttributeError(name)
        found = self.table._column(name)
        return Column(found.table, found.name, found.type, self.alias_name)

    def __repr__(self) -> str:
        return f"<TableAlias {self.alias_name} of {self.table.name}>"


def _rows(entities: Any, what: str) -> list[dict[str, Any]]:
    if isinstance(entities, Mapping | str | bytes):
        raise ValidationError(
            f"{what} takes a list of rows (dicts), got one {type(entities).__name__}"
        )
    rows = list(entities)
    bad = [n for n, row in enumerate(rows) if not isinstance(row, Mapping)]
    if bad:
        raise ValidationError([f"{what}: row {n} is not a mapping" for n in bad])
    return [dict(row) for row in rows]


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
    schema. Calling a schema returns it (``cat.domain_path()`` as newer DerivaML writes
    it), or with a name the catalog's schema of that name."""

    def __init__(self, builder: PathBuilder, name: str) -> None:
        self._builder = builder
        self.name = name

    @property
    def tables(self) -> TableMap:
        """The catalog's tables by name."""
        return TableMap(self)

    def __call__(self, schema: str | None = None) -> Schema:
        return self if schema is None else self._builder.schemas[schema]

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

    Calling it returns it, so ``cat.pathBuilder`` and ``cat.pathBuilder()`` are the same.
    The model is read from the backend when first needed and read again when a table or
    column is not found, so tables created after the builder are still found.
    """

    def __init__(self, backend: Backend, ml_schema: str, domain_schema: str) -> None:
        self._backend = backend
        self.ml_schema = ml_schema
        self.domain_schema = domain_schema
        self._model: dict[str, dict[str, Any]] | None = None

    def __call__(self) -> PathBuilder:
        return self

    @property
    def schemas(self) -> SchemaMap:
        """The catalog's schemas by name."""
        return SchemaMap(self)

    def __getattr__(self, name: str) -> Schema:
        if name.startswith("_"):
            raise AttributeError(name)
        return self.schemas[name]

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
