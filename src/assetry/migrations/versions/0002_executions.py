"""Executions: execution asset tables, the provenance edge table, the upload ledger.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assetry.migrations import helpers
from assetry.sql import types
from assetry.sql.ddl import asset_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ASSET_TABLES = {
    "Execution_Metadata": "Metadata recorded by executions (environment, configuration)",
    "Execution_Asset": "Files produced by executions that belong to no other asset table",
}


def upgrade() -> None:
    op.create_table(
        "assetry_edge",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("from_rid", types.rid_type(), nullable=False),
        sa.Column("from_table", sa.Text, nullable=False),
        sa.Column("to_rid", types.rid_type(), nullable=False),
        sa.Column("to_table", sa.Text, nullable=False),
        sa.Column("relation", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("link_rid", types.rid_type(), nullable=False),
        sa.Column("snapshot", sa.BigInteger, nullable=False),
        sa.Column("snap_to", sa.BigInteger, nullable=True),
    )
    op.create_index("assetry_edge_from_idx", "assetry_edge", ["from_rid"])
    op.create_index("assetry_edge_to_idx", "assetry_edge", ["to_rid"])
    op.create_index("assetry_edge_link_idx", "assetry_edge", ["link_rid"])
    op.create_table(
        "assetry_upload",
        sa.Column("execution", types.rid_type(), primary_key=True),
        sa.Column("staged_name", sa.Text, primary_key=True),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("asset_rid", types.rid_type(), nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("created", types.UTCDateTime, nullable=False),
    )

    conn = op.get_bind()
    snapshot = helpers.next_snapshot(conn)
    model = helpers.current_model(conn)
    new_tables = []
    for name, comment in ASSET_TABLES.items():
        new_tables += asset_tables(model, name, [], [], comment, model.ml_schema)
    helpers.create_tables(new_tables, model)
    for table in new_tables:
        model.tables[table.name] = table
    helpers.record_model(conn, model, snapshot)


def downgrade() -> None:
    conn = op.get_bind()
    model = helpers.current_model(conn)
    for name in ASSET_TABLES:
        for table in (f"{name}_Execution", f"{name}_Asset_Type", name):
            op.drop_table(table)
            model.tables.pop(table, None)
    helpers.record_model(conn, model, helpers.next_snapshot(conn))
    op.drop_table("assetry_upload")
    op.drop_table("assetry_edge")
