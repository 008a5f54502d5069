"""Features (DerivaML's labelling model): the ``Feature_Name`` vocabulary.

A feature is an association table ``Execution_<Target>_<Feature>`` created by
``create_feature`` (a model change); its ``Feature_Name`` column holds a term of this
vocabulary, which names the feature (one term may name features of several tables).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

from assetry.migrations import helpers
from assetry.sql.model import TableModel, system_columns, vocabulary_columns

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

FEATURE_NAME = "Feature_Name"


def upgrade() -> None:
    conn = op.get_bind()
    snapshot = helpers.next_snapshot(conn)
    model = helpers.current_model(conn)
    vocabulary = TableModel(
        FEATURE_NAME,
        "vocabulary",
        model.ml_schema,
        system_columns() + vocabulary_columns(),
        unique=[["Name"]],
        comment="Names of features (each a term; create_feature adds them)",
    )
    helpers.create_tables([vocabulary], model)
    model.tables[vocabulary.name] = vocabulary
    helpers.record_model(conn, model, snapshot)


def downgrade() -> None:
    conn = op.get_bind()
    model = helpers.current_model(conn)
    op.drop_table(FEATURE_NAME)
    model.tables.pop(FEATURE_NAME, None)
    helpers.record_model(conn, model, helpers.next_snapshot(conn))
