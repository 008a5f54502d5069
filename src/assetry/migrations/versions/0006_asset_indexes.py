"""Indexes on the content columns of every asset table (Filename, MD5, SHA256).

``upload_assets`` looks for the same bytes under the same file name before adding an
asset, and checksums are what users search by; without an index that look-up read the
whole table (18 s for 100 files into a table of a million assets). Tables created from
now on get them with the table (``model.indexed_columns``); this adds them to the asset
tables of existing catalogs.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assetry.migrations import helpers
from assetry.sql import model, names

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _asset_indexes(conn: sa.Connection) -> list[sa.Index]:
    current = helpers.current_model(conn)
    metadata = model.build_metadata(current)
    return [
        index
        for table in current.tables.values()
        if table.kind == "asset"
        for index in metadata.tables[table.name].indexes
        if index.name in {names.index_name(table.name, c) for c in model.ASSET_INDEXED}
    ]


def upgrade() -> None:
    conn = op.get_bind()
    for index in _asset_indexes(conn):
        index.create(conn, checkfirst=True)


def downgrade() -> None:
    conn = op.get_bind()
    for index in _asset_indexes(conn):
        index.drop(conn, checkfirst=True)
