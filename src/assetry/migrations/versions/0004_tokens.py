"""Server tokens: hashed bearer tokens bound to a user, a role and an optional expiry.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assetry.sql import types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assetry_token",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("created", types.UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Text, nullable=True),
        sa.Column("expires", types.UTCDateTime, nullable=True),
        sa.Column("revoked", types.UTCDateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("assetry_token")
