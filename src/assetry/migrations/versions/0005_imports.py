"""Bag imports: who imported the rows of each import's snapshot.

Imported rows keep the system columns their source catalog recorded (``RCB``, ``RCT``,
...): that is the bag's provenance. Who brought them into this catalog, and when, is
recorded here, one row per import, keyed by the snapshot the import committed at, and
``history`` shows it as the first version's author.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assetry.sql import types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assetry_import",
        sa.Column("snapshot", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("created", types.UTCDateTime, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assetry_import")
