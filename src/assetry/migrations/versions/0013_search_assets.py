"""Asset tables' search indexes without ``URL``, ``MD5`` and ``SHA256``.

``search`` no longer looks in an asset's content address and checksums (hex digits, found
by exact filters through their own indexes), which made most of the trigrams an asset
row added to its table's index, and so most of the time of inserting it. The indexes
of asset tables are made again of the columns searched (``search_index``); other
tables' indexes are unchanged.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from alembic import op

from assetry.migrations import helpers
from assetry.sql import model, search_index
from assetry.sql.model import TableModel

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _remake(columns_of: Callable[[TableModel], Sequence[str]]) -> None:
    conn = op.get_bind()
    current = helpers.current_model(conn)
    metadata = model.build_metadata(current)
    for table in current.tables.values():
        if table.kind != "asset":
            continue
        search_index.drop(conn, table.name)
        t = metadata.tables[table.name]
        search_index.create(conn, table, t, columns=columns_of(table))


def upgrade() -> None:
    _remake(search_index.searchable_columns)


def downgrade() -> None:
    _remake(search_index.all_text_columns)
