"""The RID registry ``assetry_rid``: the table of every RID, current or deleted.

Resolving a RID (``resolve_rid``, ``history``) asked every table of the catalog for it;
with the registry it is one primary-key probe. From now on every insert records its
rows (``bulk.insert``); this fills it for the rows already there: every row of every
model table, then every RID known only from history (rows deleted since).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

from assetry.migrations import helpers
from assetry.sql import internal, model

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _insert_missing(conn: sa.Connection, rows: sa.Select[Any]) -> None:
    maker = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    registry = internal.rid_registry
    # SQLite needs a WHERE in an INSERT ... SELECT with an ON CONFLICT clause (its
    # parser could otherwise read ON as a join constraint).
    statement = maker(registry).from_select(["rid", "table_name"], rows.where(sa.true()))
    conn.execute(statement.on_conflict_do_nothing(index_elements=[registry.c.rid]))


def upgrade() -> None:
    op.create_table(
        "assetry_rid",
        sa.Column("rid", internal.rid_registry.c.rid.type, primary_key=True),
        sa.Column("table_name", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )
    conn = op.get_bind()
    metadata = model.build_metadata(helpers.current_model(conn))
    for table in metadata.tables.values():
        _insert_missing(conn, sa.select(table.c.RID, sa.literal(table.name, sa.Text)))
    h = internal.history
    # The latest entry of a RID names the table it was last in (SQLite inserts the rows
    # of INSERT ... SELECT in the order selected; the first of a RID stays).
    latest = sa.select(h.c.rid, h.c.table_name).order_by(h.c.rid, h.c.snap_to.desc())
    if conn.dialect.name == "postgresql":
        latest = latest.distinct(h.c.rid)
    _insert_missing(conn, latest)


def downgrade() -> None:
    op.drop_table("assetry_rid")
