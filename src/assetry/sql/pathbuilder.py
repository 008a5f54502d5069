"""Conditions of path queries, on the database side.

A condition arrives as plain data (the client-side classes are in ``assetry.api.datapath``):
``(column, operator, value)`` triples for one table (``sql_conditions``), or the
comparisons of a path query's condition tree (``assetry.sql.pathquery``). Both become
SQLAlchemy Core expressions with bound parameters here: no SQL text is ever built from a
value or a name a user gave. Values are checked against the column's type, RIDs are
compared case-insensitively and vocabulary columns accept synonyms.

Comparisons follow Python, not SQL, for missing values: ``col == None`` matches NULL and
``col != value`` also matches rows where the column is NULL. Ordering comparisons never
match NULL, and comparing with ``None`` by ``<`` and friends is a ``ValidationError``.
Every comparison is true or false, never SQL's unknown, so negating one (``~``) gives
exactly the other rows.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import ValidationError
from assetry.sql import rids, types
from assetry.sql.model import TableModel
from assetry.sql.session import Session
from assetry.sql.vocab import resolve

#: The comparison operators a condition may use.
OPERATORS: tuple[str, ...] = ("==", "!=", "<", ">", "<=", ">=")

#: Values an ``in`` comparison may list at most.
MAX_IN_VALUES = 10_000

_ORDERING: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


class Comparer:
    """Builds the comparisons of one query, reading each vocabulary's terms once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._terms: dict[str, dict[str, str]] = {}

    def compare(
        self,
        table: TableModel,
        column: sa.ColumnElement[Any],
        name: object,
        op: object,
        value: Any,
        where: str,
        problems: list[str],
    ) -> sa.ColumnElement[bool] | None:
        """``column op value`` for column ``name`` of ``table`` (``column`` is that
        column in the query, perhaps of an alias), or None with the problem appended.
        ``op`` is one of ``OPERATORS`` or ``in`` (``value``: a list of values)."""
        if op not in (*OPERATORS, "in"):
            problems.append(
                f"{where}: unknown operator {op!r}; operators: {', '.join(OPERATORS)}, in"
            )
            return None
        if not isinstance(name, str) or not table.has_column(name):
            problems.append(
                f"{where}: table {table.name!r} has no column {name!r}; its columns: "
                f"{', '.join(table.column_names)}"
            )
            return None
        what = f"{where}: column {table.name}.{name}"
        if table.column(name).type == "json":
            problems.append(f"{what}: json columns cannot be compared")
            return None
        if op == "in":
            return self._in(table, column, name, value, what, problems)
        if value is None:
            if op in _ORDERING:
                problems.append(f"{what}: cannot compare None with {op!r}")
                return None
            return column.is_(None) if op == "==" else column.is_not(None)
        checked = self._value(table, column, name, value, what, problems)
        if checked is _BAD:
            return None
        if op == "==":
            return sa.and_(column.is_not(None), column == checked)
        if op == "!=":
            return sa.or_(column.is_(None), column != checked)
        return sa.and_(column.is_not(None), _ORDERING[str(op)](column, checked))

    def _in(
        self,
        table: TableModel,
        column: sa.ColumnElement[Any],
        name: str,
        values: Any,
        what: str,
        problems: list[str],
    ) -> sa.ColumnElement[bool] | None:
        if isinstance(values, str | bytes) or not isinstance(values, Sequence):
            problems.append(f"{what}: 'in' needs a list of values, got {values!r:.60}")
            return None
        if len(values) > MAX_IN_VALUES:
            problems.append(f"{what}: 'in' takes at most {MAX_IN_VALUES} values")
            return None
        checked = [self._value(table, column, name, v, what, problems) for v in values]
        if any(v is _BAD for v in checked):
            return None
        present = [v for v in checked if v is not None]
        clauses: list[sa.ColumnElement[bool]] = []
        if present:
            clauses.append(sa.and_(column.is_not(None), column.in_(present)))
        if len(present) < len(checked):
            clauses.append(column.is_(None))
        return sa.or_(*clauses) if clauses else sa.false()

    def _value(
        self,
        table: TableModel,
        column: sa.ColumnElement[Any],
        name: str,
        value: Any,
        what: str,
        problems: list[str],
    ) -> Any:
        """``value`` checked and made canonical for the column, or ``_BAD``."""
        if value is None:
            return None
        col = table.column(name)
        try:
            value = types.checker(col.builtin_type)(value)
        except ValueError as err:
            problems.append(f"{what}: {err}")
            return _BAD
        fk = table.foreign_key(name)
        if name == "RID" or (fk is not None and fk.referenced_column == "RID"):
            value = rids.normalize(value)
        elif fk is not None:
            terms = self._terms.get(fk.table)
            if terms is None:
                terms = self._terms[fk.table] = resolve.term_map(self.session, fk.table)
            value = terms.get(value.lower(), value)
        if col.type == "float4":
            # PostgreSQL compares real with a double parameter in double precision, where
            # a stored real 0.1 is not 0.1: round the parameter to the column's precision.
            return sa.cast(value, column.type)
        return value


_BAD = object()


def sql_conditions(
    session: Session, table: TableModel, conditions: Sequence[tuple[str, str, Any]]
) -> list[sa.ColumnElement[bool]]:
    """SQLAlchemy Core expressions (bound parameters) for ``(column, op, value)`` triples
    on ``table``.

    Every value is checked against its column's type; RIDs are made canonical and term
    names or synonyms of a vocabulary column become the canonical term name (an unknown
    term is left as given, so it matches nothing). Every problem found is reported
    together in one ``ValidationError``.
    """
    t = session.table(table.name)
    clauses: list[sa.ColumnElement[bool]] = []
    problems: list[str] = []
    if isinstance(conditions, str | bytes) or not isinstance(conditions, Sequence):
        raise ValidationError("conditions must be a list of (column, operator, value)")
    comparer = Comparer(session)
    for i, condition in enumerate(conditions):
        where = f"condition {i}"
        if (
            isinstance(condition, str | bytes)
            or not isinstance(condition, Sequence)
            or len(condition) != 3
        ):
            problems.append(f"{where}: expected (column, operator, value), got {condition!r:.60}")
            continue
        name, op, value = condition
        column = t.c[name] if isinstance(name, str) and table.has_column(name) else t.c.RID
        clause = comparer.compare(table, column, name, op, value, where, problems)
        if clause is not None:
            clauses.append(clause)
    if problems:
        raise ValidationError(problems)
    return clauses
