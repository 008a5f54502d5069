"""Fast multi-row INSERT on SQLite.

SQLAlchemy's executemany path processes every value of every row in Python, which costs
more than SQLite's own insert. Here the INSERT statement is still compiled by SQLAlchemy
from the table (no SQL text is assembled by hand), each column's bind processor is looked
up once, values that are the same for the whole call (system columns) are processed once,
and the rows, given a column at a time, go to the driver's ``executemany`` as tuples.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetry.sql import registry, search_index

# Below this many rows SQLAlchemy's own path is as fast and simpler.
MIN_ROWS = 32


@dataclass(frozen=True)
class _Plan:
    sql: str
    columns: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]


_PLANS: weakref.WeakKeyDictionary[sa.Table, _Plan] = weakref.WeakKeyDictionary()


def _plan(conn: sa.Connection, table: sa.Table) -> _Plan:
    plan = _PLANS.get(table)
    if plan is None:
        dialect = conn.dialect
        compiled = table.insert().compile(dialect=dialect)
        columns = tuple(compiled.positiontup or ())
        processors = tuple(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
        )
        plan = _Plan(str(compiled), columns, processors)
        _PLANS[table] = plan
    return plan


def insert(
    conn: sa.Connection,
    table: sa.Table,
    count: int,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any],
    searched: Sequence[str],
) -> None:
    """Insert ``count`` rows of a model table in one executemany, and record their RIDs
    in the RID registry (``registry``) and their ``searched`` columns (its model's
    ``search_index.searchable_columns``) in the table's search index in the same
    transaction.

    ``columns`` maps a column to its value in each row (``RID`` among them),
    ``constants`` a column to its value in every row; the other columns of ``table``
    are NULL.
    """
    _insert(conn, table, count, columns, constants)
    registry.register(conn, table.name, columns["RID"])
    search_index.add_rows(conn, table, columns["RID"], searched)


def _insert(
    conn: sa.Connection,
    table: sa.Table,
    count: int,
    columns: Mapping[str, Sequence[Any]],
    constants: Mapping[str, Any],
) -> None:
    if conn.dialect.name != "sqlite" or count < MIN_ROWS:
        conn.execute(table.insert(), as_rows(count, columns, constants))
        return
    plan = _plan(conn, table)
    values: list[Sequence[Any]] = []
    for name, proc in zip(plan.columns, plan.processors, strict=True):
        if name in constants:
            value = constants[name]
            if proc is not None and value is not None:
                value = proc(value)
            values.append([value] * count)
        elif name in columns:
            given = columns[name]
            if proc is not None:
                given = [None if value is None else proc(value) for value in given]
            values.append(given)
        else:
            values.append([None] * count)
    # Built a column at a time: a comprehension per column, not a loop per value.
    conn.exec_driver_sql(plan.sql, list(zip(*values, strict=True)))


def as_rows(
    count: int, columns: Mapping[str, Sequence[Any]], constants: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The rows of ``columns`` and ``constants`` (as ``insert`` takes them) as dicts."""
    names = list(columns)
    listed = [columns[name] for name in names]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*listed, strict=True)]
    if len(rows) != count:
        raise ValueError(f"{len(rows)} rows of values for {count} rows")
    for row in rows:
        row.update(constants)
    return rows
