"""Indexes for every foreign key and every column the API filters on, on every table.

Tables made by the DDL get their indexes with them (``model.table_indexes``: foreign
keys, the asset columns Filename, MD5 and SHA256, columns declared ``index=True``); this
makes sure the tables of existing catalogs have every one of them (a table made before
an index was part of its definition lacks it), and declares an index on the one system
column the API filters on that had none: ``Artifact_Version.Time_Partition``
(``cat.artifacts.query(..., time_partition=...)`` and ``time_range``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

from assetry.migrations import helpers
from assetry.sql import model

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# System columns the API filters on, beyond foreign keys and unique keys: (table, column).
FILTERED = (("Artifact_Version", "Time_Partition"),)


def _declared(current: model.Model, flag: bool) -> bool:
    """Set the ``index`` flag of the ``FILTERED`` columns; True if any changed."""
    changed = False
    for table, column in FILTERED:
        found = current.tables.get(table)
        if found is not None and found.has_column(column):
            col = found.column(column)
            changed |= col.index != flag
            col.index = flag
    return changed


def upgrade() -> None:
    conn = op.get_bind()
    current = helpers.current_model(conn)
    if _declared(current, True):
        helpers.record_model(conn, current, helpers.next_snapshot(conn))
    metadata = model.build_metadata(current)
    for table in metadata.tables.values():
        for index in table.indexes:
            index.create(conn, checkfirst=True)


def downgrade() -> None:
    conn = op.get_bind()
    current = helpers.current_model(conn)
    metadata = model.build_metadata(current)
    for table_name, column in FILTERED:
        table = metadata.tables.get(table_name)
        if table is None:
            continue
        name = model.index_name(table_name, [column])
        for index in list(table.indexes):
            if index.name == name:
                index.drop(conn, checkfirst=True)
    if _declared(current, False):
        helpers.record_model(conn, current, helpers.next_snapshot(conn))
