"""Row history: the previous image of every updated or deleted row.

Each history entry holds one row image and the snapshot range ``[snap_from, snap_to)`` in
which it was the row's current image. Reading "as of S" is: current rows written at or
before S, plus history images valid at S.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.sql import internal, names
from assetry.sql.model import TableModel
from assetry.sql.session import Session


def _encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def encode_row(row: Mapping[str, Any]) -> str:
    """A row image as JSON (without the internal snapshot column)."""
    return json.dumps(
        {k: _encode_value(v) for k, v in row.items() if k != names.SNAPSHOT_COLUMN},
        sort_keys=True,
        separators=(",", ":"),
    )


def decode_row(table: TableModel, text: str) -> dict[str, Any]:
    """A row image read back, with dates and timestamps restored to Python values."""
    raw = json.loads(text)
    row: dict[str, Any] = {}
    for col in table.columns:
        if col.name not in raw:
            continue
        value = raw[col.name]
        if value is not None:
            kind = col.builtin_type.value
            if kind == "timestamptz":
                value = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
            elif kind == "timestamp":
                value = dt.datetime.fromisoformat(value)
            elif kind == "date":
                value = dt.date.fromisoformat(value)
        row[col.name] = value
    return row


# Built once: its cache key would otherwise be computed again on every change.
_INSERT = internal.history.insert()


def record(
    session: Session, table: str, old_rows: Iterable[Mapping[str, Any]], operation: str
) -> None:
    """Keep the images in ``old_rows`` (current until now) before they change or go."""
    snapshot = session.snapshot()
    entries = [
        {
            "table_name": table,
            "rid": row["RID"],
            "snap_from": row[names.SNAPSHOT_COLUMN],
            "snap_to": snapshot,
            "row": encode_row(row),
            "ended_by": session.user,
            "ended_at": session.now,
            "ended_op": operation,
        }
        for row in old_rows
    ]
    if entries:
        session.conn.execute(_INSERT, entries)


def valid_at(
    session: Session,
    table: TableModel,
    snapshot: int,
    after_rid: str | None = None,
    limit: int | None = None,
    only: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """History images of ``table`` valid at ``snapshot``, ordered by RID (only the RIDs
    in ``only``, when given)."""
    h = internal.history
    query = (
        sa.select(h.c.row)
        .where(h.c.table_name == table.name, h.c.snap_to > snapshot, h.c.snap_from <= snapshot)
        .order_by(h.c.rid)
    )
    if after_rid is not None:
        query = query.where(h.c.rid > after_rid)
    if only is not None:
        query = query.where(h.c.rid.in_(only))
    if limit is not None:
        query = query.limit(limit)
    return [decode_row(table, text) for (text,) in session.conn.execute(query)]


def rids_valid_at(session: Session, table: TableModel, snapshot: int) -> set[str]:
    """RIDs of ``table`` with a history image valid at ``snapshot``: the rows changed or
    deleted since (usually none, and then a read as of ``snapshot`` needs no images)."""
    h = internal.history
    query = sa.select(h.c.rid).where(
        h.c.table_name == table.name, h.c.snap_to > snapshot, h.c.snap_from <= snapshot
    )
    return set(session.conn.execute(query).scalars())


def entries_for(session: Session, rid: str) -> list[sa.Row[Any]]:
    """Every history entry of ``rid``, oldest first."""
    h = internal.history
    return list(
        session.conn.execute(
            sa.select(
                h.c.table_name,
                h.c.snap_from,
                h.c.snap_to,
                h.c.row,
                h.c.ended_by,
                h.c.ended_at,
                h.c.ended_op,
            )
            .where(h.c.rid == rid)
            .order_by(h.c.snap_from)
        )
    )
