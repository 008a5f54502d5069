"""Initial system schema: bookkeeping tables, built-in vocabularies, workflows,
executions, datasets and dataset versions.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assetry.migrations import helpers
from assetry.sql import internal, rids, types
from assetry.sql.model import (
    ColumnModel,
    ForeignKeyModel,
    Model,
    TableModel,
    reference_column,
    reference_key,
    system_columns,
    vocabulary_columns,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

VOCABULARIES: dict[str, tuple[str, list[tuple[str, str, list[str]]]]] = {
    "Asset_Type": (
        "Kinds of assets",
        [
            ("Execution_Config", "Configuration of an execution", []),
            ("Runtime_Env", "Runtime environment of an execution", []),
            ("Execution_Metadata", "Metadata recorded by an execution", []),
            ("Execution_Asset", "A file produced by an execution", []),
            ("Metrics_File", "Metrics written by an execution", []),
            ("Model_File", "A trained model", []),
            ("Input_File", "A file an execution read", []),
            ("Output_File", "A file an execution wrote", []),
        ],
    ),
    "Asset_Role": (
        "Role of an asset in an execution",
        [
            ("Input", "The execution read the asset", []),
            ("Output", "The execution wrote the asset", []),
        ],
    ),
    "Execution_Status": (
        "Status of an execution",
        [
            ("Created", "Created, not yet started", []),
            ("Running", "Running", []),
            ("Completed", "Finished successfully", ["Stopped"]),
            ("Failed", "Finished with an error", []),
            ("Aborted", "Stopped before it finished", []),
        ],
    ),
    "Upload_Status": (
        "Status of the upload of an execution's outputs",
        [
            ("Not_Started", "Nothing uploaded yet", []),
            ("Pending", "Upload in progress", []),
            ("Uploaded", "Every output uploaded", []),
            ("Failed", "The upload failed", []),
        ],
    ),
    "Workflow_Type": (
        "Kinds of workflows",
        [
            ("Training", "Trains a model", []),
            ("Testing", "Tests a model", []),
            ("Prediction", "Applies a model", []),
            ("Feature_Creation", "Computes features", []),
            ("Visualization", "Makes figures", []),
            ("Analysis", "Analyses data", []),
            ("Ingest", "Loads files into the catalog", []),
            ("Data_Cleaning", "Cleans data", []),
            ("Dataset_Management", "Builds or changes datasets", []),
        ],
    ),
    "Dataset_Type": (
        "Kinds of datasets",
        [
            ("Complete", "A complete dataset", []),
            ("File", "A dataset of files", []),
            ("Directory", "A dataset mirroring a directory", []),
            ("Training", "For training", []),
            ("Testing", "For testing", []),
            ("Validation", "For validation", []),
            ("Split", "A split of another dataset", []),
            ("Labeled", "With labels", []),
            ("Unlabeled", "Without labels", []),
        ],
    ),
}


def _system_tables(ml: str) -> list[TableModel]:
    vocabs = {
        name: TableModel(
            name,
            "vocabulary",
            ml,
            system_columns() + vocabulary_columns(),
            unique=[["Name"]],
            comment=comment,
        )
        for name, (comment, _terms) in VOCABULARIES.items()
    }

    def ref(target: TableModel, nullok: bool = True) -> tuple[ColumnModel, ForeignKeyModel]:
        return reference_column(target, nullok), reference_key(target)

    wf_type_col, wf_type_fk = ref(vocabs["Workflow_Type"])
    workflow = TableModel(
        "Workflow",
        "system",
        ml,
        system_columns()
        + [
            ColumnModel("Name", "text", nullok=False),
            ColumnModel("Description", "markdown"),
            ColumnModel("URL", "uri", comment="where the workflow's code lives"),
            ColumnModel("Checksum", "text", comment="checksum of the workflow's code"),
            ColumnModel("Version", "text"),
            wf_type_col,
        ],
        foreign_keys=[wf_type_fk],
        comment="A program that executions run",
    )
    wf_col, wf_fk = ref(workflow)
    status_col = ColumnModel("Status", "text", nullok=False, comment="term of Execution_Status")
    status_fk = ForeignKeyModel("Status", "Execution_Status", "Name")
    upload_col, upload_fk = ref(vocabs["Upload_Status"], nullok=False)
    execution = TableModel(
        "Execution",
        "system",
        ml,
        system_columns()
        + [
            wf_col,
            ColumnModel("Description", "markdown"),
            status_col,
            ColumnModel("Status_Detail", "text"),
            upload_col,
            ColumnModel("Start_Time", "timestamptz"),
            ColumnModel("Stop_Time", "timestamptz"),
            ColumnModel("Parameters", "json"),
        ],
        foreign_keys=[wf_fk, status_fk, upload_fk],
        comment="One run of a workflow",
    )
    dataset = TableModel(
        "Dataset",
        "system",
        ml,
        system_columns()
        + [
            ColumnModel("Description", "markdown"),
            ColumnModel("Deleted", "boolean"),
        ],
        comment="A named, versioned collection of rows",
    )
    ds_col, ds_fk = ref(dataset, nullok=False)
    dstype_col, dstype_fk = ref(vocabs["Dataset_Type"], nullok=False)
    dataset_type = TableModel(
        "Dataset_Dataset_Type",
        "association",
        ml,
        system_columns() + [ds_col, dstype_col],
        foreign_keys=[ds_fk, dstype_fk],
        unique=[["Dataset", "Dataset_Type"]],
    )
    nested = TableModel(
        "Dataset_Dataset",
        "association",
        ml,
        system_columns()
        + [
            reference_column(dataset, nullok=False),
            ColumnModel("Nested_Dataset", "text", nullok=False, comment="RID of Dataset"),
        ],
        foreign_keys=[reference_key(dataset), ForeignKeyModel("Nested_Dataset", "Dataset")],
        unique=[["Dataset", "Nested_Dataset"]],
    )
    exe_col, exe_fk = ref(execution)
    version = TableModel(
        "Dataset_Version",
        "system",
        ml,
        system_columns()
        + [
            reference_column(dataset, nullok=False),
            ColumnModel("Version", "text", nullok=False, comment="semantic version"),
            ColumnModel("Description", "markdown"),
            ColumnModel("Snapshot", "int8", nullok=False, comment="catalog snapshot"),
            exe_col,
        ],
        foreign_keys=[reference_key(dataset), exe_fk],
        unique=[["Dataset", "Version"]],
        comment="An immutable version of a dataset",
    )
    return [*vocabs.values(), workflow, execution, dataset, dataset_type, nested, version]


def upgrade() -> None:
    attrs = helpers.migration_attributes()
    op.create_table(
        "assetry_settings",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=True),
    )
    op.create_table(
        "assetry_counter",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "assetry_model",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("snapshot", sa.BigInteger, nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created", types.UTCDateTime, nullable=False),
        sa.Column("created_by", sa.Text, nullable=True),
    )
    op.create_table(
        "assetry_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("rid", types.rid_type(), nullable=False),
        sa.Column("snap_from", sa.BigInteger, nullable=False),
        sa.Column("snap_to", sa.BigInteger, nullable=False),
        sa.Column("row", sa.Text, nullable=False),
        sa.Column("ended_by", sa.Text, nullable=True),
        sa.Column("ended_at", types.UTCDateTime, nullable=False),
        sa.Column("ended_op", sa.Text, nullable=False),
    )
    op.create_index("assetry_history_rid_idx", "assetry_history", ["rid"])
    op.create_index("assetry_history_table_idx", "assetry_history", ["table_name", "snap_to"])

    conn = op.get_bind()
    prefix = attrs.get("rid_prefix") or rids.new_prefix()
    ml = attrs.get("ml_schema", "deriva-ml")
    domain = attrs.get("domain_schema", "domain")
    op.bulk_insert(
        internal.settings,
        [
            {"key": "rid_prefix", "value": prefix},
            {"key": "curie_prefix", "value": attrs.get("curie_prefix") or prefix.lower()},
            {"key": "store", "value": attrs.get("store")},
            {"key": "ml_schema", "value": ml},
            {"key": "domain_schema", "value": domain},
        ],
    )
    op.bulk_insert(
        internal.counter,
        [{"name": internal.SNAPSHOT, "value": 0}, {"name": internal.RID_SEQUENCE, "value": 0}],
    )
    snapshot = helpers.next_snapshot(conn)

    tables = _system_tables(ml)
    helpers.create_tables(tables)
    system_model = Model(ml, domain, {t.name: t for t in tables})
    helpers.record_model(conn, system_model, snapshot)
    for table in tables:
        if table.kind == "vocabulary":
            helpers.insert_terms(conn, table, VOCABULARIES[table.name][1], snapshot)


def downgrade() -> None:
    # Tables were created in dependency order, so dropping in reverse never breaks a key;
    # user tables go too, since they may reference the built-in vocabularies.
    for name in reversed(list(helpers.current_model(op.get_bind()).tables)):
        op.drop_table(name)
    for name in ("assetry_history", "assetry_model", "assetry_counter", "assetry_settings"):
        op.drop_table(name)
