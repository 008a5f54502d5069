"""The browsing reads of ``SqlBackend``: sorted keyset pages and counts (one query each).

A page sorted by any column is read with keyset pagination: the next page starts after
the last row's ``(value, RID)``, so no page costs more than its own rows, however deep
into a large table it is. NULL sorts before every value (``NULLS FIRST`` ascending,
``NULLS LAST`` descending) on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa

from assetry.backend import PAGE_SIZE
from assetry.errors import ValidationError
from assetry.sql.model import TableModel
from assetry.sql.names import MAX_COUNT
from assetry.sql.session import Session

# Values per column ``value_counts`` returns at most.
MAX_VALUES = 1000


class SqlBrowseMixin:
    """Sorted pages and counts, written once over ``session()``."""

    def session(self, write: bool = False) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def sorted_rows(
        self,
        table: str,
        conditions: list[tuple[str, str, Any]],
        sort: str,
        descending: bool,
        after: list[Any] | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        from assetry.sql.pathbuilder import sql_conditions

        _check_limit(limit, PAGE_SIZE)
        with self.session() as s:
            model_table = s.model.table(table)
            _check_sort(model_table, sort)
            t = s.table(model_table.name)
            where = sql_conditions(s, model_table, conditions)
            if after is not None:
                where.append(_after(s, model_table, sort, descending, after))
            column, rid = t.c[sort], t.c.RID
            if sort == "RID":
                order = [rid.desc() if descending else rid]
            elif descending:
                order = [column.desc().nulls_last(), rid.desc()]
            else:
                order = [column.asc().nulls_first(), rid]
            query = (
                sa.select(*(t.c[name] for name in model_table.column_names))
                .where(*where)
                .order_by(*order)
                .limit(limit)
            )
            return [dict(row) for row in s.conn.execute(query).mappings()]

    def count_rows(self, table: str, conditions: list[tuple[str, str, Any]]) -> int:
        from assetry.sql.pathbuilder import sql_conditions

        with self.session() as s:
            model_table = s.model.table(table)
            t = s.table(model_table.name)
            where = sql_conditions(s, model_table, conditions)
            query = sa.select(sa.func.count()).select_from(t).where(*where)
            return int(s.conn.execute(query).scalar_one())

    def value_counts(
        self, table: str, column: str, conditions: list[tuple[str, str, Any]], limit: int
    ) -> list[tuple[Any, int]]:
        from assetry.sql.pathbuilder import sql_conditions

        _check_limit(limit, MAX_VALUES)
        with self.session() as s:
            model_table = s.model.table(table)
            _check_sort(model_table, column)
            t = s.table(model_table.name)
            where = sql_conditions(s, model_table, conditions)
            count = sa.func.count().label("n")
            query = (
                sa.select(t.c[column], count)
                .where(*where)
                .group_by(t.c[column])
                .order_by(count.desc(), t.c[column].asc().nulls_first())
                .limit(limit)
            )
            return [(value, int(n)) for value, n in s.conn.execute(query).all()]


def _check_limit(limit: object, most: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_COUNT:
        raise ValidationError(f"limit must be a non-negative integer, got {limit!r}")
    if limit > most:
        raise ValidationError(f"limit must be at most {most}, got {limit}")


def _check_sort(table: TableModel, column: object) -> None:
    if not isinstance(column, str) or not table.has_column(column):
        raise ValidationError(f"table {table.name!r} has no column {column!r}")
    if table.column(column).type == "json":
        raise ValidationError(f"json column {table.name}.{column} cannot be sorted or counted")


def _after(
    s: Session, table: TableModel, sort: str, descending: bool, after: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """The rows that come after ``(value, RID)`` in the page's order."""
    from assetry.sql.pathbuilder import sql_conditions

    if isinstance(after, str | bytes) or not isinstance(after, Sequence) or len(after) != 2:
        raise ValidationError(f"after must be [value of {sort}, RID], got {after!r:.80}")
    value, rid = after
    later = "<" if descending else ">"
    (rid_after,) = sql_conditions(s, table, [("RID", later, rid)])
    if sort == "RID":
        return rid_after
    column = s.table(table.name).c[sort]
    if value is None:
        if descending:  # NULLs come last: only NULLs with a smaller RID remain
            return sa.and_(column.is_(None), rid_after)
        return sa.or_(sa.and_(column.is_(None), rid_after), column.is_not(None))
    same, beyond, bound = sql_conditions(
        s, table, [(sort, "==", value), (sort, later, value), (sort, later + "=", value)]
    )
    if descending:
        return sa.or_(sa.and_(same, rid_after), beyond, column.is_(None))
    # ``bound`` repeats the range so that an index on the column can serve it.
    return sa.and_(bound, sa.or_(sa.and_(same, rid_after), beyond))
