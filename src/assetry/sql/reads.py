"""Reads of rows: filters, pages ordered by RID, rows as of a snapshot, by RID or by
column value, and which table holds a RID.

Reads as of a snapshot combine current rows unchanged since the snapshot with history
images valid at it (see ``history``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import ValidationError
from assetry.sql import history, listing, names, rids, types, valuelists
from assetry.sql.model import TableModel
from assetry.sql.rows import chunks, raise_problems
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
    Without ``limit``, every row (read in pages of ``listing.LISTING_PAGE``).
    """
    prepared = listing.prepare(session, table, snapshot=snapshot, filters=filters)
    if limit is not None:
        columns = listing.page(session, prepared, after_rid, limit)
        return listing.as_dicts(prepared.column_names, columns)
    out: list[dict[str, Any]] = []
    for columns in listing.pages(session, prepared, after_rid):
        out += listing.as_dicts(prepared.column_names, columns)
    return out


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
    it). The values travel as one JSON parameter when they are text."""
    ordered = sorted(set(values))
    if not ordered:
        return {}
    column_names = table.column_names
    t = session.table(table.name)
    at = column_names.index("RID")
    if all(isinstance(v, str) for v in ordered):
        groups: Iterable[Sequence[Any]] = [ordered]
    else:
        groups = chunks(ordered)
    found: dict[str, dict[str, Any]] = {}
    for group in groups:
        wanted = (
            valuelists.json_values(group) if group is ordered else [sa.literal(v) for v in group]
        )
        statement = sa.select(*(t.c[name] for name in column_names)).where(t.c[column].in_(wanted))
        if snapshot is not None:
            statement = statement.where(t.c[names.SNAPSHOT_COLUMN] <= snapshot)
        columns = listing.columns_of(session, statement)
        if columns:
            found.update(zip(columns[at], listing.as_dicts(column_names, columns), strict=True))
    return found


def plain_columns(session: Session, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as tuples of processed values: on SQLite straight from
    the driver's cursor with each column's result processor applied column by column (no
    ``Row`` per row), elsewhere through SQLAlchemy."""
    return list(zip(*listing.columns_of(session, statement), strict=True))


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


def tables_of(
    session: Session, wanted: Iterable[str], likely: Iterable[str] = ()
) -> dict[str, str]:
    """The table of each existing RID in ``wanted``.

    The RIDs travel as one JSON parameter. The tables in ``likely`` (e.g. the dataset
    element types) are probed first, and only the RIDs not found there are looked for in
    every other table: each probe is one index look-up per RID, so probing every table
    with every RID would cost the number of tables times more."""
    out: dict[str, str] = {}
    left = sorted(set(wanted))
    tables = session.model.tables
    first = [name for name in dict.fromkeys(likely) if name in tables]
    rest = [name for name in tables if name not in set(first)]
    for group in (first, rest):
        if not left or not group:
            continue
        queries = [
            sa.select(sa.literal(name).label("t"), session.table(name).c.RID).where(
                session.table(name).c.RID.in_(valuelists.json_values(left))
            )
            for name in group
        ]
        for table, rid in plain_rows(session, sa.union_all(*queries)):
            out[rid] = table
        left = [rid for rid in left if rid not in out]
    return out
