"""deriva-py's data paths over any Backend: columns, conditions, paths and their results.

::

    pb = cat.pathBuilder                       # or cat.pathBuilder(), as in newer DerivaML
    ml = pb.schemas[cat.ml_schema]
    path = ml.Execution.path                   # a path rooted at a table
    path.filter(ml.Execution.Status == "Completed")      # filters the path in place...
    path.link(ml.Execution_Asset_Execution).link(ml.Execution_Asset)   # ...and so do links
    rows = path.entities().fetch()             # Execution_Asset rows (the path's context)
    rows = path.attributes(path.Execution.RID, path.Execution_Asset.Filename).fetch()

As in deriva-py, ``filter`` and ``link`` change the path they are called on and return
it; on a table they start a new path (the table is never changed). A path's *context*
is its last linked table instance: ``entities()`` and ``attributes()`` read its rows;
``path.<instance name>`` (or ``path.table_instances[name]``) reads or links from
another. Conditions combine with ``&``, ``|`` and ``~``; a condition on a table's column
applies to the path's instance of that table (the context when it is one, else the
latest linked).

Nothing is sent until ``fetch``: the path travels as plain data (``Backend.path_query``),
so embedded and remote catalogs answer it alike, in one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from assetry.errors import ValidationError

if TYPE_CHECKING:
    from assetry.api.pathbuilder import Table

#: The comparison operators of conditions.
OPERATORS: tuple[str, ...] = ("==", "!=", "<", ">", "<=", ">=")

# deriva-py's join types: "" (inner) or "left".
_JOINS = {"": "inner", "inner": "inner", "left": "left"}


class AttributeNotFound(ValidationError, AttributeError):
    """A table (or table instance) has no column of that name. Also an
    ``AttributeError``, so ``hasattr`` and ``getattr(..., default)`` work."""


class Filter:
    """A condition on a path's rows: combine with ``&``, ``|`` and negate with ``~``.

    A condition is not a truth value: pass it to ``filter``."""

    def __and__(self, other: Filter) -> Filter:
        return Junction("and", (self, _filter(other)))

    def __or__(self, other: Filter) -> Filter:
        return Junction("or", (self, _filter(other)))

    def __invert__(self) -> Filter:
        return Negation(self)

    def __bool__(self) -> bool:
        raise TypeError(
            f"{self!r} is a query condition, not a truth value; combine conditions with "
            "& | ~ (not and/or/not) and pass them to .filter(...)"
        )

    def columns(self) -> Iterator[Column]:
        """Every column this condition compares."""
        raise NotImplementedError

    def to_data(self, resolve: Callable[[Column], str]) -> dict[str, Any]:
        """The condition as ``Backend.path_query`` takes it; ``resolve`` gives the path's
        instance alias of a column."""
        raise NotImplementedError


def _filter(value: object) -> Filter:
    if not isinstance(value, Filter):
        raise ValidationError(
            f"a condition such as table.Column == value was expected, got "
            f"{type(value).__name__} {value!r:.60}"
        )
    return value


class Condition(Filter):
    """``column op value``, made by comparing a :class:`Column` with a value."""

    def __init__(self, column: Column, op: str, value: Any) -> None:
        self.column = column
        self.op = op
        self.value = value

    @property
    def table(self) -> str:
        return self.column.table

    def as_triple(self) -> tuple[str, str, Any]:
        """``(column, op, value)``, as ``Backend.query_rows`` takes it."""
        return (self.column.name, self.op, self.value)

    def columns(self) -> Iterator[Column]:
        yield self.column

    def to_data(self, resolve: Callable[[Column], str]) -> dict[str, Any]:
        value = list(self.value) if self.op == "in" else self.value
        return {"alias": resolve(self.column), "column": self.column.name, "op": self.op,
                "value": value}  # fmt: skip

    def __repr__(self) -> str:
        return f"<Condition {self.column.table}.{self.column.name} {self.op} {self.value!r}>"


class Junction(Filter):
    """Conditions joined by ``&`` (and) or ``|`` (or)."""

    def __init__(self, kind: str, parts: tuple[Filter, ...]) -> None:
        self.kind = kind
        self.parts = parts

    def columns(self) -> Iterator[Column]:
        for part in self.parts:
            yield from part.columns()

    def to_data(self, resolve: Callable[[Column], str]) -> dict[str, Any]:
        return {self.kind: [part.to_data(resolve) for part in self.parts]}

    def __repr__(self) -> str:
        joiner = " & " if self.kind == "and" else " | "
        return "(" + joiner.join(repr(p) for p in self.parts) + ")"


class Negation(Filter):
    """``~condition``: the rows the condition does not match (NULLs included)."""

    def __init__(self, inner: Filter) -> None:
        self.inner = inner

    def columns(self) -> Iterator[Column]:
        return self.inner.columns()

    def to_data(self, resolve: Callable[[Column], str]) -> dict[str, Any]:
        return {"not": self.inner.to_data(resolve)}

    def __repr__(self) -> str:
        return f"~{self.inner!r}"


class ColumnPair:
    """``left == right`` of two columns: the ``on=`` of a link. As a truth value it tells
    whether both are the same column, so ``column in [columns]`` still works."""

    def __init__(self, left: Column, right: Column) -> None:
        self.left = left
        self.right = right

    def __bool__(self) -> bool:
        return self.left._key() == self.right._key()

    def __repr__(self) -> str:
        return f"<{self.left.table}.{self.left.name} == {self.right.table}.{self.right.name}>"


class Column:
    """A column of a table (or of a table instance in a path): compare it with a value to
    make a condition; ``alias(name)`` renames it in ``attributes``."""

    def __init__(self, table: str, name: str, type_: str, instance: str | None = None) -> None:
        self.table = table
        self.name = name
        self.type = type_
        self.instance = instance  # the path alias it belongs to, or None for the table's
        self.output_name = name

    def _condition(self, op: str, value: object) -> Condition:
        return Condition(self, op, value)

    @overload  # type: ignore[override]
    def __eq__(self, value: Column) -> ColumnPair: ...  # type: ignore[overload-overlap]
    @overload
    def __eq__(self, value: object) -> Condition: ...
    def __eq__(self, value: object) -> Condition | ColumnPair:
        if isinstance(value, Column):
            return ColumnPair(self, value)
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
        return self._condition("<", _not_column(value))

    def __gt__(self, value: object) -> Condition:
        return self._condition(">", _not_column(value))

    def __le__(self, value: object) -> Condition:
        return self._condition("<=", _not_column(value))

    def __ge__(self, value: object) -> Condition:
        return self._condition(">=", _not_column(value))

    def is_in(self, values: Sequence[Any]) -> Condition:
        """The rows whose value is one of ``values`` (``None`` among them matches NULL)."""
        if isinstance(values, str | bytes) or not isinstance(values, Sequence | set | frozenset):
            raise ValidationError(f"is_in needs a list of values, got {values!r:.60}")
        return self._condition("in", list(values))

    def alias(self, name: str) -> Column:
        """This column, named ``name`` in the rows ``attributes`` returns."""
        if not isinstance(name, str) or not name:
            raise ValidationError(f"a column's alias must be non-empty text, got {name!r}")
        renamed = Column(self.table, self.name, self.type, self.instance)
        renamed.output_name = name
        return renamed

    def _key(self) -> tuple[str, str, str | None]:
        return (self.table, self.name, self.instance)

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        where = f"{self.instance}:" if self.instance and self.instance != self.table else ""
        return f"<Column {where}{self.table}.{self.name} ({self.type})>"


def _not_column(value: object) -> object:
    if isinstance(value, Column):
        raise ValidationError(
            "comparing two columns is not a condition (only == makes a link's on=); "
            "compare a column with a value"
        )
    return value


class DataPath:
    """Table instances linked through foreign keys, conditions on their rows, and a
    context (the instance whose rows ``entities`` reads). ``filter`` and ``link`` change
    this path and return it."""

    def __init__(self, root: Table, alias: str | None = None) -> None:
        self._builder = root._builder
        name = alias or root.name
        self._instances: list[dict[str, Any]] = [{"alias": name, "table": root.name}]
        self._filters: list[Filter] = []
        self._context = name

    # --- building ---------------------------------------------------------------------
    def filter(self, condition: Filter) -> DataPath:
        """Add ``condition`` (ANDed with the path's others) to this path; return it."""
        condition = _filter(condition)
        for column in condition.columns():
            self._alias_of(column)  # a column of a table not in the path fails here
        self._filters.append(condition)
        return self

    def link(self, right: Any, on: ColumnPair | None = None, join_type: str = "") -> DataPath:
        """Link table ``right`` (or ``table.alias(name)``) to the context through their
        foreign key (or the one ``on=(left column == right column)`` names), make it the
        context, and return this path. ``join_type="left"`` keeps context rows that have
        no linked row."""
        from assetry.api.pathbuilder import Table, TableAlias

        if join_type not in _JOINS:
            raise ValidationError(f"join_type must be '' (inner) or 'left', got {join_type!r}")
        if isinstance(right, TableAlias):
            table, alias = right.table, right.alias_name
            if self._has(alias):
                raise ValidationError(f"the path already has a table instance named {alias!r}")
        elif isinstance(right, Table | TableInstance):
            table = right if isinstance(right, Table) else right._table
            alias = self._free_alias(table.name)
        else:
            raise ValidationError(f"link needs a table, got {type(right).__name__} {right!r:.60}")
        source = self._context
        link: dict[str, Any] = {"from": source, "on": None, "join": _JOINS[join_type]}
        if on is not None:
            if not isinstance(on, ColumnPair):
                raise ValidationError("on= must be (left table's column == right table's column)")
            left, other = on.left, on.right
            if left.table == table.name and other.table != table.name:
                left, other = other, left
            if other.table != table.name:
                raise ValidationError(
                    f"on= must compare a column of {table.name!r} with one of the path; got {on!r}"
                )
            link.update({"from": self._alias_of(left), "on": [left.name, other.name]})
        self._instances.append({"alias": alias, "table": table.name, "link": link})
        self._context = alias
        return self

    # --- reading ----------------------------------------------------------------------
    @property
    def context(self) -> TableInstance:
        """The table instance whose rows ``entities`` reads."""
        return self.table_instances[self._context]

    @property
    def table_instances(self) -> dict[str, TableInstance]:
        """The path's table instances by name."""
        return {i["alias"]: self._instance(i["alias"]) for i in self._instances}

    def entities(self) -> EntitySet:
        """The context's rows this path selects (fetched when asked for)."""
        return EntitySet(self, self._context, None)

    def attributes(self, *columns: Any, **renamed: Column) -> EntitySet:
        """Only the given columns (of any instance; a table or instance stands for all
        its columns; keyword arguments rename): one row per context row when all are the
        context's, else one per linked row."""
        chosen: list[dict[str, Any]] = []
        for item in columns:
            chosen += self._attribute_data(item)
        for name, column in renamed.items():
            chosen += self._attribute_data(
                column.alias(name) if isinstance(column, Column) else column
            )
        if not chosen:
            raise ValidationError("attributes needs at least one column")
        return EntitySet(self, self._context, chosen)

    def delete(self) -> None:
        """Delete the context's rows this path selects (refused while any is referenced)."""
        rows = EntitySet(self, self._context, [{"alias": self._context, "column": "RID",
                                                "name": "RID"}]).fetch()  # fmt: skip
        if rows:
            table = self._table_of(self._context)
            self._builder._backend.delete(table, [r["RID"] for r in rows])

    def to_query(self, context: str, attributes: list[dict[str, Any]] | None,
                 limit: int | None) -> dict[str, Any]:  # fmt: skip
        """The plain data ``Backend.path_query`` takes for this path."""
        where: dict[str, Any] | None = None
        if self._filters:
            parts = [f.to_data(self._alias_of) for f in self._filters]
            where = parts[0] if len(parts) == 1 else {"and": parts}
        return {
            "instances": [dict(i) for i in self._instances],
            "where": where,
            "context": context,
            "attributes": attributes,
            "limit": limit,
        }

    # --- instances --------------------------------------------------------------------
    def _has(self, alias: str) -> bool:
        return any(i["alias"] == alias for i in self._instances)

    def _table_of(self, alias: str) -> str:
        return next(str(i["table"]) for i in self._instances if i["alias"] == alias)

    def _free_alias(self, base: str) -> str:
        alias, number = base, 2
        while self._has(alias):
            alias, number = f"{base}{number}", number + 1
        return alias

    def _instance(self, alias: str) -> TableInstance:
        return TableInstance(self, alias, self._builder._table(self._table_of(alias)))

    def _alias_of(self, column: Column) -> str:
        """The path's instance a column belongs to: its own, or for a table's column the
        context when it is of that table, else the latest instance of that table."""
        if column.instance is not None:
            if not self._has(column.instance) or self._table_of(column.instance) != column.table:
                raise ValidationError(
                    f"column {column.name!r} belongs to instance {column.instance!r}, which is "
                    f"not in this path ({', '.join(self._names())})"
                )
            return column.instance
        if self._table_of(self._context) == column.table:
            return self._context
        for instance in reversed(self._instances):
            if instance["table"] == column.table:
                return str(instance["alias"])
        raise ValidationError(
            f"column {column.table}.{column.name} is not of a table in this path "
            f"({', '.join(self._names())}); link {column.table!r} first"
        )

    def _names(self) -> list[str]:
        return [f"{i['alias']}" for i in self._instances]

    def _attribute_data(self, item: Any) -> list[dict[str, Any]]:
        from assetry.api.pathbuilder import Table

        if isinstance(item, TableInstance | Table):
            alias = item._alias if isinstance(item, TableInstance) else None
            columns = [item.columns[name] for name in list(item.columns)]
            if alias is None:
                columns = [Column(c.table, c.name, c.type, self._alias_of(c)) for c in columns]
            return [self._attribute_data(c)[0] for c in columns]
        if not isinstance(item, Column):
            raise ValidationError(
                f"attributes takes columns, tables or table instances, got "
                f"{type(item).__name__} {item!r:.60}"
            )
        return [{"alias": self._alias_of(item), "column": item.name, "name": item.output_name}]

    def __getattr__(self, name: str) -> TableInstance:
        if name.startswith("_"):
            raise AttributeError(name)
        if not self._has(name):
            raise AttributeNotFound(
                f"the path has no table instance {name!r}; its instances: "
                f"{', '.join(self._names())}"
            )
        return self._instance(name)

    def __repr__(self) -> str:
        names = " / ".join(self._names())
        return f"<DataPath {names} (context {self._context}, {len(self._filters)} filters)>"


class TableInstance:
    """A table as bound in a path (under its alias): its columns refer to this instance;
    ``link``, ``filter``, ``entities`` and ``attributes`` work on the path from it."""

    def __init__(self, path: DataPath, alias: str, table: Table) -> None:
        self._path = path
        self._alias = alias
        self._table = table

    @property
    def name(self) -> str:
        """The instance's name (alias) in the path."""
        return self._alias

    @property
    def path(self) -> DataPath:
        """The path, with this instance as its context."""
        self._path._context = self._alias
        return self._path

    @property
    def columns(self) -> _InstanceColumns:
        """This instance's columns by name."""
        return _InstanceColumns(self)

    column_definitions = columns

    def filter(self, condition: Filter) -> DataPath:
        return self.path.filter(condition)

    def link(self, right: Any, on: ColumnPair | None = None, join_type: str = "") -> DataPath:
        return self.path.link(right, on, join_type)

    def entities(self) -> EntitySet:
        return self.path.entities()

    def attributes(self, *columns: Any, **renamed: Column) -> EntitySet:
        return self.path.attributes(*columns, **renamed)

    def _column(self, name: str) -> Column:
        found = self._table._column(name)
        return Column(found.table, found.name, found.type, self._alias)

    def __getattr__(self, name: str) -> Column:
        if name.startswith("_"):
            raise AttributeError(name)
        return self._column(name)

    def __repr__(self) -> str:
        return f"<TableInstance {self._alias} of {self._table.name}>"


class _InstanceColumns:
    def __init__(self, instance: TableInstance) -> None:
        self._instance = instance

    def __getitem__(self, name: str) -> Column:
        return self._instance._column(name)

    def keys(self) -> list[str]:
        return self._instance._table.columns.keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


class EntitySet:
    """The rows a path selects: ``fetch(limit=None)`` reads them as a list of dicts.

    Iterating, indexing or taking ``len`` fetches once and keeps the result; ``fetch``
    always reads again."""

    def __init__(
        self, path: DataPath, context: str, attributes: list[dict[str, Any]] | None
    ) -> None:
        self.path = path
        self._context = context
        self._attributes = attributes
        self._rows: list[dict[str, Any]] | None = None

    def fetch(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The rows (ordered by the context's RID), at most ``limit`` of them."""
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
        ):
            raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
        query = self.path.to_query(self._context, self._attributes, limit)
        rows = self.path._builder._backend.path_query(query)
        self._rows = rows
        return rows

    def _all(self) -> list[dict[str, Any]]:
        if self._rows is None:
            self.fetch()
        assert self._rows is not None
        return self._rows

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, index: int) -> dict[str, Any]:
        return self._all()[index]

    def __repr__(self) -> str:
        return f"<EntitySet of {self._context} in {self.path!r}>"
