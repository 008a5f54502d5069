"""The RID registry: the table of every RID, written in the transaction of each insert.

A RID names one row of one table in the whole catalog; without the registry, finding
that table meant asking every table in turn (a UNION over all of them). Every insert
passes through ``bulk.insert``, which records the new rows here; a deleted row keeps
its entry, so its history still resolves. Rows imported with RIDs of their own may
bring a RID whose row was deleted here before: its entry then names the table it is in
now.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from assetry.sql import internal

_REGISTRY = internal.rid_registry
# Bound parameters per IN (...) list: well under SQLite's limit.
_CHUNK = 900
_LOOKUP = sa.select(_REGISTRY.c.table_name).where(_REGISTRY.c.rid == sa.bindparam("rid"))


def register(conn: sa.Connection, table: str, rids: Sequence[str]) -> None:
    """Record that ``rids`` are rows of ``table`` (in the caller's transaction)."""
    if not rids:
        return
    if conn.dialect.name == "sqlite":
        # One statement reading the RIDs from one JSON parameter: an executemany costs
        # more per row in the driver than SQLite's insert does.
        each = sa.func.json_each(sa.bindparam("rids", json.dumps(list(rids))))
        value = each.table_valued("value").c.value
        rows = sa.select(value, sa.literal(table, sa.Text)).where(sa.true())
        conn.execute(_upserting(sqlite.insert(_REGISTRY).from_select(["rid", "table_name"], rows)))
    else:
        # The same on PostgreSQL: the RIDs as one array parameter, unnested.
        listed = sa.bindparam("rids", list(rids), type_=postgresql.ARRAY(sa.Text))
        unnested = sa.func.unnest(listed).column_valued("rid")
        listing = sa.select(unnested, sa.literal(table, sa.Text))
        insert = postgresql.insert(_REGISTRY).from_select(["rid", "table_name"], listing)
        conn.execute(_upserting(insert))


def _upserting(statement: Any) -> Any:
    """``statement`` (an INSERT into the registry) with a RID already there taking the
    new table (a row imported again after its deletion)."""
    return statement.on_conflict_do_update(
        index_elements=[_REGISTRY.c.rid], set_={"table_name": statement.excluded.table_name}
    )


def table_of(conn: sa.Connection, rid: str) -> str | None:
    """The table ``rid`` was inserted into (it may have been deleted since), or None."""
    found: str | None = conn.execute(_LOOKUP, {"rid": rid}).scalar()
    return found


def tables_of(conn: sa.Connection, rids: Iterable[str]) -> dict[str, str]:
    """The table of each RID of ``rids`` that the registry knows."""
    out: dict[str, str] = {}
    ordered = sorted(set(rids))
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        query = sa.select(_REGISTRY.c.rid, _REGISTRY.c.table_name).where(_REGISTRY.c.rid.in_(chunk))
        out.update({rid: table for rid, table in conn.execute(query)})
    return out
