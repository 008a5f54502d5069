"""Text-search indexes for every table of existing catalogs (``sql.search_index``).

SQLite: an FTS5 trigram table per table, kept by triggers and filled here from the rows
already there; PostgreSQL: the ``pg_trgm`` extension and a trigram GIN index per table.
Tables made from now on get theirs from the DDL.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

from assetry.migrations import helpers
from assetry.sql import model, search_index

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    current = helpers.current_model(conn)
    metadata = model.build_metadata(current)
    for table in current.tables.values():
        search_index.drop(conn, table.name)
        t = metadata.tables[table.name]
        search_index.create(conn, table, t, columns=search_index.all_text_columns(table))


def downgrade() -> None:
    conn = op.get_bind()
    for name in helpers.current_model(conn).tables:
        search_index.drop(conn, name)
