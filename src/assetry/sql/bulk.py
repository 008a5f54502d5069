"""Fast multi-row INSERT on SQLite, COPY on PostgreSQL.

SQLAlchemy's executemany path processes every value of every row in Python, which costs
more than SQLite's own insert. Here the INSERT statement is still compiled by SQLAlchemy
from the table (no SQL text is assembled by hand), each column's bind processor is looked
up once, values that are the same for the whole call (system columns) are processed once,
and the rows, given a column at a time, go to the driver as tuples: SQLite's
``executemany``, PostgreSQL's ``COPY ... FROM STDIN`` (the bulk load it is built for).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
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
        # The statement's parameters in order (SQLite's are positional; COPY names the
        # table's columns in its own order).
        columns = tuple(compiled.positiontup or (c.name for c in table.columns))
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
    engine = conn.dialect.name
    if engine not in ("sqlite", "postgresql") or count < MIN_ROWS:
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
    rows = zip(*values, strict=True)
    if engine == "sqlite":
        conn.exec_driver_sql(plan.sql, list(rows))
    else:
        _copy(conn, table, plan.columns, rows)


def _copy(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """PostgreSQL: the rows sent by one COPY (a fraction of an INSERT per row: no
    statement per row, nothing returned), in the connection's transaction. The
    statement names only the table and its columns, quoted by the dialect; an error
    comes out as SQLAlchemy's, as from an INSERT."""
    import psycopg  # only with PostgreSQL, which needs it

    quote = conn.dialect.identifier_preparer.quote
    target = conn.dialect.identifier_preparer.format_table(table)
    statement = f"COPY {target} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as err:
        raise sa.exc.DBAPIError.instance(statement, (), err, psycopg.Error) from err


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
