"""Listings of a table's rows: pages ordered by RID, read as columns of plain values.

A listing compiles its statement once (``RID > :after ... LIMIT :limit``, with its filters
and snapshot) and reads every page through it. On SQLite the compiled SQL runs straight on
the driver's cursor and each column's result processor is applied to the whole column,
so no ``Row`` or dict is built per row; a caller that wants dicts zips them itself and a
DataFrame takes the columns as they are. Elsewhere the statement runs through SQLAlchemy.
Rows as of a snapshot merge the history images valid at it (see ``history``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetry.sql import history, names
from assetry.sql.model import TableModel
from assetry.sql.session import Session

# Rows per page read inside one listing: large, so a listing of a million rows is a
# hundred statements, and small enough that a page's values stay a few MiB.
LISTING_PAGE = 10_000

Columns = list[Sequence[Any]]  # one sequence per column, in the table's model order


@dataclass(frozen=True)
class Listing:
    """The compiled page statement of one listing."""

    table: TableModel
    statement: sa.Select[Any]
    snapshot: int | None
    filters: Mapping[str, list[Any]]
    plan: _DriverPlan | None

    @property
    def column_names(self) -> list[str]:
        return self.table.column_names


@dataclass(frozen=True)
class _DriverPlan:
    sql: str
    positions: tuple[str, ...]
    params: dict[str, Any]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, processor)


def prepare(
    session: Session,
    table: TableModel,
    *,
    snapshot: int | None,
    filters: Mapping[str, list[Any]],
) -> Listing:
    """The listing of ``table`` (its model at ``snapshot``) with ``filters`` (checked and
    canonical, as ``reads.normalize_filters`` gives them)."""
    t = session.table(table.name)
    query = (
        sa.select(*(t.c[name] for name in table.column_names))
        .where(t.c.RID > sa.bindparam("after", "", type_=sa.Text()))
        .order_by(t.c.RID)
        .limit(sa.bindparam("limit", 1, type_=sa.Integer()))
    )
    for column, values in filters.items():
        col = t.c[column]
        if table.column(column).builtin_type.value == "float4":
            # PostgreSQL compares a real column with a double parameter in double
            # precision; compare as the column's own type.
            values = [sa.cast(sa.literal(v, col.type), col.type) for v in values]
        query = query.where(col == values[0]) if len(values) == 1 else query.where(col.in_(values))
    if snapshot is not None:
        query = query.where(t.c[names.SNAPSHOT_COLUMN] <= snapshot)
    return Listing(table, query, snapshot, dict(filters), _driver_plan(session.conn, query))


def page(session: Session, listing: Listing, after: str | None, limit: int) -> Columns:
    """At most ``limit`` rows with RID > ``after`` (from the first when None), as
    columns."""
    found = _current(session, listing, after, limit)
    if listing.snapshot is None:
        return found
    old = [
        row
        for row in history.valid_at(
            session, listing.table, listing.snapshot, after, None if listing.filters else limit
        )
        if all(row.get(c) in values for c, values in listing.filters.items())
    ]
    if not old:
        return found
    names_ = listing.column_names
    rows = list(zip(*found, strict=True)) if found and found[0] else []
    rows += [tuple(row.get(name) for name in names_) for row in old]
    rows.sort(key=lambda r: r[0])
    del rows[limit:]
    return list(zip(*rows, strict=True)) if rows else _empty(listing)


def pages(
    session: Session,
    listing: Listing,
    after: str | None = None,
    size: int | None = None,
) -> Iterator[Columns]:
    """Every page of the listing after ``after``, each at most ``size`` rows
    (``LISTING_PAGE`` when None), all read in ``session`` (one transaction, so at one
    moment)."""
    size = LISTING_PAGE if size is None else size
    rid_at = listing.column_names.index("RID")
    while True:
        columns = page(session, listing, after, size)
        count = len(columns[0]) if columns else 0
        if not count:
            return
        yield columns
        if count < size:
            return
        after = columns[rid_at][-1]


def as_dicts(column_names: Sequence[str], columns: Columns) -> list[dict[str, Any]]:
    """The rows of ``columns`` as dicts."""
    return list(map(dict, map(zip, itertools.repeat(column_names), zip(*columns, strict=True))))


def _empty(listing: Listing) -> Columns:
    return [[] for _ in listing.column_names]


def _current(session: Session, listing: Listing, after: str | None, limit: int) -> Columns:
    # "" sorts before every RID: the first page.
    params = {"after": "" if after is None else after, "limit": limit}
    columns = _run(session.conn, listing.statement, listing.plan, params)
    return columns if columns else _empty(listing)


def columns_of(
    session: Session, statement: sa.Select[Any], params: dict[str, Any] | None = None
) -> Columns:
    """The result of ``statement`` (with ``params`` for its bound parameters) as columns
    (an empty list when it has no row), read as a listing's pages are. A statement used
    again is compiled once."""
    return _run(session.conn, statement, _driver_plan(session.conn, statement), params or {})


def _run(
    conn: sa.Connection,
    statement: sa.Select[Any],
    plan: _DriverPlan | None,
    params: dict[str, Any],
) -> Columns:
    if plan is None:
        rows: Sequence[Any] = conn.execute(statement, params).all()
    else:
        values = {**plan.params, **params}
        result = conn.exec_driver_sql(plan.sql, tuple(values[k] for k in plan.positions))
        cursor = result.cursor
        assert cursor is not None
        try:
            rows = cursor.fetchall()  # the driver's tuples: no Row per row
        finally:
            result.close()
    if not rows:
        return []
    columns: Columns = list(zip(*rows, strict=True))
    del rows
    if plan is not None:
        for i, process in plan.processors:
            columns[i] = _processed(columns[i], process)
    return columns


_IMMUTABLE = (str, int, float, bool, dt.date, dt.datetime, decimal.Decimal, type(None))


def _processed(column: Sequence[Any], process: Callable[[Any], Any]) -> list[Any]:
    """``process`` applied to every value of ``column``. A column of few distinct values
    (timestamps of rows written together) is converted once per value, when what
    ``process`` makes cannot be changed in place (so rows sharing it cannot notice)."""
    distinct = dict.fromkeys(column)
    if len(distinct) * 2 > len(column):
        return list(map(process, column))
    converted = {raw: process(raw) for raw in distinct}
    if not all(isinstance(value, _IMMUTABLE) for value in converted.values()):
        return list(map(process, column))
    return list(map(converted.__getitem__, column))


_PLANS: weakref.WeakKeyDictionary[sa.Select[Any], _DriverPlan | None]
_PLANS = weakref.WeakKeyDictionary()


def _driver_plan(conn: sa.Connection, statement: sa.Select[Any]) -> _DriverPlan | None:
    """On SQLite, ``statement`` compiled once, to run on the driver's cursor with each
    column's result processor applied column by column (SQLAlchemy's own path builds a
    ``Row`` per row and calls the processors per value, which costs more than SQLite's
    reading). None elsewhere (other drivers' processors depend on the cursor's column
    types), or when a parameter needs a bind processor."""
    if conn.dialect.name != "sqlite":
        return None
    if statement in _PLANS:
        return _PLANS[statement]
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    plan = None
    needs_binding = any(
        bind.type.dialect_impl(dialect).bind_processor(dialect) is not None
        for bind in compiled.binds.values()
    )
    if compiled.positiontup is not None and not needs_binding:
        processors = []
        for i, column in enumerate(statement.selected_columns):
            # SQLite's cursor reports no column types, so SQLAlchemy passes None too.
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                processors.append((i, process))
        plan = _DriverPlan(
            str(compiled), tuple(compiled.positiontup), dict(compiled.params), tuple(processors)
        )
    _PLANS[statement] = plan
    return plan
