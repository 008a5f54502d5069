"""Long lists of values bound as one parameter.

``column IN (:p1, ..., :pN)`` with 100,000 values makes SQLAlchemy render, and the
driver bind, 100,000 parameters (most of an ``add_dataset_members`` of that size went
there). Here the whole list travels as one JSON text parameter that the database unpacks
itself: SQLite's ``json_each`` and PostgreSQL's ``jsonb_array_elements_text``. The values
are always bound, never written into the SQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles

from assetry.sql.types import rid_type


def json_values(values: Iterable[str], name: str = "values") -> sa.Select[Any]:
    """``SELECT value FROM <the JSON array of values>`` for ``column.in_(...)`` or a
    join: text values, compared as RIDs are (byte by byte on every engine)."""
    text = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    bound = sa.bindparam(name, text, type_=sa.Text(), unique=True)
    return sa.select(_JsonValues(bound).table_valued("value").c.value)


class _JsonValues(sa.sql.functions.GenericFunction[Any]):
    """The rows of a JSON array of text: ``json_each`` on SQLite,
    ``jsonb_array_elements_text`` on PostgreSQL (compiled per dialect below)."""

    name = "assetry_json_values"
    inherit_cache = True
    type = rid_type()


@compiles(_JsonValues, "postgresql")
def _postgres(element: _JsonValues, compiler: Any, **kw: Any) -> str:
    [argument] = list(element.clauses)
    cast = sa.cast(argument, postgresql.JSONB)
    return f"jsonb_array_elements_text({compiler.process(cast, **kw)})"


@compiles(_JsonValues)
def _sqlite(element: _JsonValues, compiler: Any, **kw: Any) -> str:
    return f"json_each({compiler.process(element.clauses, **kw)})"
