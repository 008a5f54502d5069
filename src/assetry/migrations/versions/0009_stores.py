"""Several object stores per catalog: named stores and the rules routing new objects.

The store a catalog was created with stays in the settings (``store``) and is named
``default``; ``assetry_store`` holds the others (name, URL, who added it and when) and
``assetry_store_rule`` the rules, in order; the setting ``default_store`` names the
store that objects no rule matches go to.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assetry.sql import internal, types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assetry_store",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("created", types.UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Text, nullable=True),
    )
    op.create_table(
        "assetry_store_rule",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("store", sa.Text, nullable=False),
        sa.Column("table_name", sa.Text, nullable=True),
        sa.Column("size_over", sa.BigInteger, nullable=True),
    )
    op.bulk_insert(internal.settings, [{"key": "default_store", "value": "default"}])


def downgrade() -> None:
    op.drop_table("assetry_store_rule")
    op.drop_table("assetry_store")
    settings = internal.settings
    op.get_bind().execute(settings.delete().where(settings.c.key == "default_store"))
