"""The catalog's internal bookkeeping tables (not part of the user-visible model).

- ``assetry_settings``: key/value settings recorded in the catalog (RID prefix, store, ...).
- ``assetry_counter``: the snapshot counter and the RID sequence.
- ``assetry_model``: one row per model version: the model document and the snapshot at
  which it took effect.
- ``assetry_history``: previous images of changed and deleted rows, each valid for the
  snapshot range ``[snap_from, snap_to)``.
- ``assetry_edge``: the provenance graph (``used``, ``generated``, ``member_of``,
  ``executed``), one edge per link row, written in the link's transaction; an edge whose
  link is deleted gets ``snap_to`` (it is kept, so the graph can be read as of a snapshot).
- ``assetry_upload``: which staged file of which execution became which asset, so an
  interrupted upload records each staged entry exactly once.
- ``assetry_token``: the server's bearer tokens: only a hash of each secret, the user
  name it acts as, its role, expiry and revocation time.
- ``assetry_import``: who imported a bag's rows, and when, by the import's snapshot
  (imported rows keep their source's ``RCB``/``RCT``/...).
- ``assetry_store`` and ``assetry_store_rule``: the catalog's object stores besides the
  one it was created with (setting ``store``, named ``default``) and the rules choosing
  one for each new object, in order (setting ``default_store`` names where the others
  go).
- ``assetry_rid``: the table of every RID ever inserted (kept when the row is deleted, so
  its history still resolves), written in the transaction of each insert: resolving a
  RID is one primary-key probe instead of a look in every table.

They are created by the packaged migrations; these declarations must match them (a test
compares the two).
"""

from __future__ import annotations

import sqlalchemy as sa

from assetry.sql import types
from assetry.sql.types import UTCDateTime

metadata = sa.MetaData()

settings = sa.Table(
    "assetry_settings",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=True),
)

counter = sa.Table(
    "assetry_counter",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

model_versions = sa.Table(
    "assetry_model",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("snapshot", sa.BigInteger, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
)

history = sa.Table(
    "assetry_history",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("rid", types.rid_type(), nullable=False),
    sa.Column("snap_from", sa.BigInteger, nullable=False),
    sa.Column("snap_to", sa.BigInteger, nullable=False),
    sa.Column("row", sa.Text, nullable=False),
    sa.Column("ended_by", sa.Text, nullable=True),
    sa.Column("ended_at", UTCDateTime, nullable=False),
    sa.Column("ended_op", sa.Text, nullable=False),
    sa.Index("assetry_history_rid_idx", "rid"),
    sa.Index("assetry_history_table_idx", "table_name", "snap_to"),
)

SNAPSHOT = "snapshot"
RID_SEQUENCE = "rid"

edges = sa.Table(
    "assetry_edge",
    metadata,
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
    sa.Index("assetry_edge_from_idx", "from_rid"),
    sa.Index("assetry_edge_to_idx", "to_rid"),
    sa.Index("assetry_edge_link_idx", "link_rid"),
)

uploads = sa.Table(
    "assetry_upload",
    metadata,
    sa.Column("execution", types.rid_type(), primary_key=True),
    sa.Column("staged_name", sa.Text, primary_key=True),
    sa.Column("table_name", sa.Text, nullable=False),
    sa.Column("asset_rid", types.rid_type(), nullable=False),
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("created", UTCDateTime, nullable=False),
)

tokens = sa.Table(
    "assetry_token",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("secret_hash", sa.Text, nullable=False),
    sa.Column("user_name", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
    sa.Column("expires", UTCDateTime, nullable=True),
    sa.Column("revoked", UTCDateTime, nullable=True),
)

imports = sa.Table(
    "assetry_import",
    metadata,
    sa.Column("snapshot", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("user_name", sa.Text, nullable=False),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
)

stores = sa.Table(
    "assetry_store",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("created", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=True),
)

store_rules = sa.Table(
    "assetry_store_rule",
    metadata,
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("store", sa.Text, nullable=False),
    sa.Column("table_name", sa.Text, nullable=True),
    sa.Column("size_over", sa.BigInteger, nullable=True),
)

rid_registry = sa.Table(
    "assetry_rid",
    metadata,
    sa.Column("rid", types.rid_type(), primary_key=True),
    sa.Column("table_name", sa.Text, nullable=False),
    # A key and a value: one b-tree on SQLite, not a rowid table plus its key's index.
    sqlite_with_rowid=False,
)
