"""Reads of rows: filters, pages ordered by RID, rows as of a snapshot, by RID or by
column value, and which table holds a RID.

Reads as of a snapshot combine current rows unchanged since the snapshot with history
images valid at it (see ``history``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetry.errors import ValidationError
from assetry.sql import history, names, rids, types
from assetry.sql.model import TableModel
from assetry.sql.rows import CHUNK, chunks, raise_problems
from assetry.sql.session import Session
from assetry.sql.vocab import resolve


def checked_rid(value: object) -> str:
    """``value`` if it can be a RID (text that is not blank and could be stored); a
    ``ValidationError`` saying it is not a RID otherwise. Whether a row has it is for the
    caller to find out (``RIDNotFound``)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{value!r} is not a RID")
    why = names.unstorable_text(value)
    if why is not None:
        raise ValidationError(f"{value!r} is not a RID: it {why}")
    return value


def normalize_filters(
    session: Session, table: TableModel, filters: Mapping[str, Any] | None
) -> dict[str, list[Any]]:
    """Filters as column -> accepted values, with RIDs and term spellings canonical."""
    if not filters:
        return {}
    if not isinstance(filters, Mapping):
        raise ValidationError("filters must be a dict of column name -> value")
    out: dict[str, list[Any]] = {}
    problems = []
    for column, wanted in filters.items():
        if not table.has_column(column):
            problems.append(f"table {table.name!r} has no column {column!r}")
            continue
        values = list(wanted) if isinstance(wanted, list | tuple | set) else [wanted]
        kind = table.column(column).builtin_type.value
        if kind == "json":
            problems.append(f"column {column!r} holds json and cannot be filtered on")
            continue
        check = types.checker(kind)
        checked = []
        for value in values:
            try:
                checked.append(None if value is None else check(value))
            except ValueError as err:
                problems.append(f"filter on column {column!r}: {err}")
        values = checked
        fk = table.foreign_key(column)
        if column == "RID" or (fk is not None and fk.referenced_column == "RID"):
            values = [rids.normalize(v) if isinstance(v, str) else v for v in values]
        elif fk is not None:
            terms = resolve.term_map(session, fk.table)
            values = [terms.get(v.casefold(), v) if isinstance(v, str) else v for v in values]
        out[column] = values
    raise_problems(problems)
    return out


def select_page(
    session: Session,
    table: TableModel,
    *,
    snapshot: int | None,
    filters: Mapping[str, list[Any]],
    after_rid: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``table`` ordered by RID, current or as of ``snapshot``.

    ``table`` is the table's model at that snapshot, so later columns are not shown.
    """
    t = session.table(table.name)
    columns = [t.c[name] for name in table.column_names]
    query = sa.select(*columns).order_by(t.c.RID)
    for column, values in filters.items():
        col = t.c[column]
        if table.column(column).builtin_type.value == "float4":
            # PostgreSQL compares a real column with a double parameter in double
            # precision; compare as the column's own type.
            values = [sa.cast(sa.literal(v, col.type), col.type) for v in values]
        query = query.where(col == values[0]) if len(values) == 1 else query.where(col.in_(values))
    if after_rid is not None:
        query = query.where(t.c.RID > after_rid)
    if snapshot is not None:
        query = query.where(t.c[names.SNAPSHOT_COLUMN] <= snapshot)
    if limit is not None:
        query = query.limit(limit)
    current = [dict(row) for row in session.conn.execute(query).mappings()]
    if snapshot is None:
        return current
    old = [
        row
        for row in history.valid_at(session, table, snapshot, after_rid, None if filters else limit)
        if all(row.get(c) in values for c, values in filters.items())
    ]
    if not old:
        return current
    for row in old:
        for name in table.column_names:
            row.setdefault(name, None)
    merged = sorted(current + old, key=lambda r: r["RID"])
    return merged[:limit] if limit is not None else merged


def fetch_as_of(
    session: Session, table: TableModel, wanted: Iterable[str], snapshot: int | None
) -> dict[str, dict[str, Any]]:
    """Rows of ``table`` (its model at ``snapshot``) with RIDs in ``wanted``, as they were
    at ``snapshot`` (current rows when None), keyed by RID."""
    ordered = sorted(set(wanted))
    found = fetch_unchanged(session, table, "RID", ordered, snapshot)
    if snapshot is not None and ordered:
        column_names = table.column_names
        changed = sorted(history.rids_valid_at(session, table, snapshot).intersection(ordered))
        for chunk in chunks(changed):
            for old in history.valid_at(session, table, snapshot, only=list(chunk)):
                found[old["RID"]] = {name: old.get(name) for name in column_names}
    return found


def fetch_unchanged(
    session: Session,
    table: TableModel,
    column: str,
    values: Iterable[Any],
    snapshot: int | None,
) -> dict[str, dict[str, Any]]:
    """Current rows of ``table`` (the columns of its model at ``snapshot``) whose
    ``column`` holds one of ``values``, keyed by RID; with ``snapshot``, only those not
    changed since (with the history images valid at ``snapshot`` they make the table as of
    it)."""
    ordered = sorted(set(values))
    column_names = table.column_names
    t = session.table(table.name)
    at = column_names.index("RID")
    conn = session.conn
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(ordered):
        size = next(n for n in _IN_SIZES if n >= len(chunk))
        statement = _in_statement(t, column_names, column, snapshot is not None, size)
        params = dict(zip(_IN_PARAMS, chunk, strict=False))
        for name in _IN_PARAMS[len(chunk) : size]:
            params[name] = chunk[-1]
        if snapshot is not None:
            params["snapshot"] = snapshot
        plan = _read_plan(conn, statement)
        if plan is None:
            for current in conn.execute(statement, params).all():  # one fetchall
                found[current[at]] = dict(zip(column_names, current, strict=True))
            continue
        got = conn.exec_driver_sql(plan.sql, tuple(params[k] for k in plan.positions)).all()
        if not got:
            continue
        by_column: list[Sequence[Any]] = list(zip(*got, strict=True))
        for i, process in plan.processors:
            by_column[i] = list(map(process, by_column[i]))
        for values in zip(*by_column, strict=True):
            found[values[at]] = dict(zip(column_names, values, strict=True))
    return found


@dataclass(frozen=True)
class _ReadPlan:
    sql: str
    positions: tuple[str, ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, processor)


_READ_PLANS: weakref.WeakKeyDictionary[sa.Select[Any], _ReadPlan | None]
_READ_PLANS = weakref.WeakKeyDictionary()


def _read_plan(conn: sa.Connection, statement: sa.Select[Any]) -> _ReadPlan | None:
    """On SQLite, ``statement`` compiled once by SQLAlchemy, to run through the driver
    with each column's result processor applied column by column: SQLAlchemy's own path
    builds a ``Row`` per row and calls the processors per value, which costs more than
    SQLite's reading. None elsewhere (other drivers' processors depend on the cursor's
    column types), or when a parameter would need a bind processor."""
    if conn.dialect.name != "sqlite":
        return None
    if statement in _READ_PLANS:
        return _READ_PLANS[statement]
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect)
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
        plan = _ReadPlan(str(compiled), tuple(compiled.positiontup), tuple(processors))
    _READ_PLANS[statement] = plan
    return plan


def plain_rows(session: Session, statement: sa.Select[Any] | sa.CompoundSelect[Any]) -> list[Any]:
    """The rows of ``statement`` as plain tuples. On SQLite, when no value needs a bind
    or result processor (text, numbers), straight from the driver's cursor: a long
    result (a lineage walk's 40,000 edges) then costs what SQLite's reading costs, with
    no ``Row`` built per row. Elsewhere through SQLAlchemy."""
    conn = session.conn
    if conn.dialect.name == "sqlite":
        dialect = conn.dialect
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        processed = any(
            bind.type.dialect_impl(dialect).bind_processor(dialect) is not None
            for bind in compiled.binds.values()
        ) or any(
            column.type.dialect_impl(dialect).result_processor(dialect, None) is not None
            for column in statement.selected_columns
        )
        if compiled.positiontup is not None and not processed:
            params = tuple(compiled.params[name] for name in compiled.positiontup)
            result = conn.exec_driver_sql(str(compiled), params)
            # The cursor's own fetchall: tuples, no Row objects.
            cursor = result.cursor
            assert cursor is not None
            try:
                return list(cursor.fetchall())
            finally:
                result.close()
    return [tuple(row) for row in conn.execute(statement)]


# ``IN`` lists of a few fixed lengths, each statement built once per table and shape, so
# that every chunk reuses a compiled statement (a fresh ``IN`` list would be rendered and
# keyed again for each chunk). A short chunk repeats its last value: ``IN`` ignores that.
_IN_SIZES = (8, 64, CHUNK)
_IN_PARAMS = tuple(f"in_{i}" for i in range(CHUNK))
_StatementKey = tuple[tuple[str, ...], str, bool, int]
_IN_STATEMENTS: weakref.WeakKeyDictionary[sa.Table, dict[_StatementKey, sa.Select[Any]]]
_IN_STATEMENTS = weakref.WeakKeyDictionary()


def _in_statement(
    t: sa.Table, column_names: Sequence[str], column: str, as_of: bool, size: int
) -> sa.Select[Any]:
    """``SELECT columns WHERE column IN (:in_0 .. :in_<size-1>)``, and ``AND _snapshot <=
    :snapshot`` when ``as_of``."""
    statements = _IN_STATEMENTS.setdefault(t, {})
    key = (tuple(column_names), column, as_of, size)
    statement = statements.get(key)
    if statement is None:
        where = t.c[column].in_([sa.bindparam(name) for name in _IN_PARAMS[:size]])
        statement = sa.select(*(t.c[name] for name in column_names)).where(where)
        if as_of:
            statement = statement.where(t.c[names.SNAPSHOT_COLUMN] <= sa.bindparam("snapshot"))
        statements[key] = statement
    return statement


def tables_of(session: Session, wanted: Iterable[str]) -> dict[str, str]:
    """The table of each existing RID in ``wanted`` (one query per chunk)."""
    out: dict[str, str] = {}
    ordered = sorted(set(wanted))
    for chunk in chunks(ordered, 500):
        queries = [
            sa.select(sa.literal(name).label("t"), session.table(name).c.RID).where(
                session.table(name).c.RID.in_(chunk)
            )
            for name in session.model.tables
        ]
        for table, rid in session.conn.execute(sa.union_all(*queries)):
            out[rid] = table
    return out
