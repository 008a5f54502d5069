"""Fast multi-row INSERT on SQLite.

SQLAlchemy's executemany path processes every value of every row in Python, which costs
more than SQLite's own insert. Here the INSERT statement is still compiled by SQLAlchemy
from the table (no SQL text is assembled by hand), each column's bind processor is looked
up once, values that are the same for the whole call (system columns) are processed once,
and the rows go to the driver's ``executemany`` as tuples.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

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
    rows: Sequence[dict[str, Any]],
    constants: Collection[str] = (),
) -> None:
    """Insert ``rows`` (dicts with every column of ``table``) in one executemany.

    ``constants`` names columns whose value is the same object in every row.
    """
    if conn.dialect.name != "sqlite" or len(rows) < MIN_ROWS:
        conn.execute(table.insert(), list(rows))
        return
    plan = _plan(conn, table)
    first = rows[0]
    columns: list[list[Any]] = []
    for name, proc in zip(plan.columns, plan.processors, strict=True):
        if name in constants:
            value = first.get(name)
            if proc is not None and value is not None:
                value = proc(value)
            columns.append([value] * len(rows))
            continue
        values = [row.get(name) for row in rows]
        if proc is not None:
            values = [None if value is None else proc(value) for value in values]
        columns.append(values)
    # Built a column at a time: a comprehension per column, not a loop per value.
    conn.exec_driver_sql(plan.sql, list(zip(*columns, strict=True)))
