"""Datasets consumed by executions: the Dataset_Execution link (with the version used).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

from assetry.migrations import helpers
from assetry.sql.model import (
    ColumnModel,
    ForeignKeyModel,
    TableModel,
    system_columns,
)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    snapshot = helpers.next_snapshot(conn)
    model = helpers.current_model(conn)
    link = TableModel(
        "Dataset_Execution",
        "association",
        model.ml_schema,
        system_columns()
        + [
            ColumnModel("Dataset", "text", nullok=False, comment="RID of Dataset"),
            ColumnModel("Execution", "text", nullok=False, comment="RID of Execution"),
            ColumnModel("Version", "text", comment="the dataset version the execution used"),
        ],
        foreign_keys=[
            ForeignKeyModel("Dataset", "Dataset"),
            ForeignKeyModel("Execution", "Execution"),
        ],
        unique=[["Dataset", "Execution"]],
        comment="Datasets executions used as inputs",
    )
    helpers.create_tables([link], model)
    model.tables[link.name] = link
    helpers.record_model(conn, model, snapshot)


def downgrade() -> None:
    conn = op.get_bind()
    model = helpers.current_model(conn)
    op.drop_table("Dataset_Execution")
    model.tables.pop("Dataset_Execution", None)
    helpers.record_model(conn, model, helpers.next_snapshot(conn))
