"""Named artifacts (API §12): names, versions, tags, aliases, partitions, files, links.

- ``Artifact``: one row per name, with its type and declared partition keys.
- ``Artifact_Version``: one immutable version (numbered per name from 1), its producer
  execution, properties, objects (what materializers wrote), references, partition
  values and the digest of its content.
- ``Artifact_Tag`` (key/value per version), ``Artifact_Alias`` (one version per alias
  per name), ``Artifact_Partition`` (the partition values, indexed for ``query``).
- ``Artifact_File`` (an asset table: the version's files and materialized objects, with
  their types and execution links) and ``Artifact_Version_File`` (the file's path in
  the version).
- ``Artifact_Version_Execution`` (version, execution, role): the provenance of a version
  (``generated``) and its use as an input (``used``), as for assets.
- The ``Artifact_Type`` vocabulary (Tracelet's 13 types and flowyml's) and the workflow
  type ``Register`` (the implicit execution of a registration without one).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assetry.migrations import helpers
from assetry.sql import model as models
from assetry.sql.ddl import asset_tables
from assetry.sql.model import (
    ColumnModel,
    TableModel,
    reference_column,
    reference_key,
    system_columns,
    vocabulary_columns,
)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ARTIFACT_TYPES: list[tuple[str, str, list[str]]] = [
    ("Model", "A trained model", []),
    ("Checkpoint", "A training checkpoint", []),
    ("Weights", "Model weights", []),
    ("Dataset", "Data", ["Data"]),
    ("Sample", "Samples of data or of predictions", []),
    ("Image", "An image", []),
    ("Audio", "A sound recording", []),
    ("Video", "A video", []),
    ("Visualization", "A figure or plot", ["Plot", "Figure"]),
    ("Report", "A report", []),
    ("Config", "A configuration", ["Configuration"]),
    ("Code", "Source code", []),
    ("Custom", "Anything else", []),
    ("Metrics", "Measured values", []),
    ("Feature_Set", "Computed features", ["FeatureSet"]),
]
REGISTER: tuple[str, str, list[str]] = (
    "Register",
    "Registers named artifacts (a registration without an execution)",
    [],
)

TABLES = (
    "Artifact_Version_Execution",
    "Artifact_Version_File",
    "Artifact_Partition",
    "Artifact_Alias",
    "Artifact_Tag",
    "Artifact_Version",
    "Artifact",
)


def _tables(model: models.Model) -> list[TableModel]:
    ml = model.ml_schema
    vocab = TableModel(
        "Artifact_Type",
        "vocabulary",
        ml,
        system_columns() + vocabulary_columns(),
        unique=[["Name"]],
        comment="Kinds of named artifacts",
    )
    execution = model.table("Execution")
    artifact = TableModel(
        "Artifact",
        "system",
        ml,
        system_columns()
        + [
            ColumnModel("Name", "text", nullok=False, comment="the artifact's name"),
            reference_column(vocab, nullok=False),
            ColumnModel("Partition_Keys", "json", comment="declared partition keys"),
            ColumnModel("Time_Partitioned", "boolean", nullok=False, default=False),
            ColumnModel("Description", "markdown"),
        ],
        foreign_keys=[reference_key(vocab)],
        unique=[["Name"]],
        comment="A named artifact: its versions are Artifact_Version rows",
    )
    version = TableModel(
        "Artifact_Version",
        "system",
        ml,
        system_columns()
        + [
            reference_column(artifact, nullok=False),
            ColumnModel("Name", "text", nullok=False, comment="the artifact's name"),
            ColumnModel("Version", "int4", nullok=False, comment="1, 2, 3, ... per name"),
            reference_column(vocab, nullok=False),
            reference_column(execution, nullok=False),
            ColumnModel("Properties", "json"),
            ColumnModel("Partitions", "json", comment="partition key -> value"),
            ColumnModel("Time_Partition", "timestamptz"),
            ColumnModel("Objects", "json", comment="objects stored through materializers"),
            ColumnModel("References", "json", comment="bytes kept where they are"),
            ColumnModel("Content", "text", nullok=False, comment="SHA-256 of the content"),
            ColumnModel("Deleted", "boolean", nullok=False, default=False),
            ColumnModel("Description", "markdown"),
        ],
        foreign_keys=[reference_key(artifact), reference_key(vocab), reference_key(execution)],
        # (RCT, RID): the index that lists versions newest first without sorting them all.
        unique=[["Artifact", "Version"], ["RCT", "RID"]],
        comment="One immutable version of a named artifact",
    )
    tag = TableModel(
        "Artifact_Tag",
        "system",
        ml,
        system_columns()
        + [
            reference_column(version, nullok=False),
            ColumnModel("Key", "text", nullok=False),
            ColumnModel("Value", "text", nullok=False),
        ],
        foreign_keys=[reference_key(version)],
        unique=[["Artifact_Version", "Key"], ["Key", "Value", "Artifact_Version"]],
        comment="Key/value tags of artifact versions",
    )
    alias = TableModel(
        "Artifact_Alias",
        "system",
        ml,
        system_columns()
        + [
            reference_column(artifact, nullok=False),
            ColumnModel("Alias", "text", nullok=False),
            reference_column(version, nullok=False),
        ],
        foreign_keys=[reference_key(artifact), reference_key(version)],
        unique=[["Artifact", "Alias"]],
        comment="Aliases (production, staging, ...): each names one version of a name",
    )
    partition = TableModel(
        "Artifact_Partition",
        "system",
        ml,
        system_columns()
        + [
            reference_column(version, nullok=False),
            reference_column(artifact, nullok=False),
            ColumnModel("Key", "text", nullok=False),
            ColumnModel("Value", "text", nullok=False),
        ],
        foreign_keys=[reference_key(version), reference_key(artifact)],
        unique=[["Artifact_Version", "Key"], ["Artifact", "Key", "Value", "Artifact_Version"]],
        comment="Partition values of artifact versions, for queries",
    )
    return [vocab, artifact, version, tag, alias, partition]


def upgrade() -> None:
    conn = op.get_bind()
    snapshot = helpers.next_snapshot(conn)
    model = helpers.current_model(conn)
    vocab, artifact, version, tag, alias, partition = _tables(model)
    first = [vocab, artifact, version, tag, alias, partition]
    helpers.create_tables(first, model)
    for table in first:
        model.tables[table.name] = table
    files = asset_tables(
        model, "Artifact_File", [], [], "Files and stored objects of artifact versions",
        model.ml_schema,
    )  # fmt: skip
    helpers.create_tables(files, model)
    for table in files:
        model.tables[table.name] = table
    file_table = model.table("Artifact_File")
    links = [
        TableModel(
            "Artifact_Version_File",
            "association",
            model.ml_schema,
            system_columns()
            + [
                reference_column(version, nullok=False),
                reference_column(file_table, nullok=False),
                ColumnModel("Path", "text", nullok=False, comment="the file's path in the version"),
            ],
            foreign_keys=[reference_key(version), reference_key(file_table)],
            unique=[["Artifact_Version", "Path"]],
            comment="The files of each artifact version, by their path in it",
        ),
        TableModel(
            "Artifact_Version_Execution",
            "association",
            model.ml_schema,
            system_columns()
            + [
                reference_column(version, nullok=False),
                reference_column(model.table("Execution"), nullok=False),
                reference_column(model.table("Asset_Role"), nullok=False),
            ],
            foreign_keys=[
                reference_key(version),
                reference_key(model.table("Execution")),
                reference_key(model.table("Asset_Role")),
            ],
            unique=[["Artifact_Version", "Execution", "Asset_Role"]],
            comment="Executions that made (Output) or used (Input) artifact versions",
        ),
    ]
    helpers.create_tables(links, model)
    for table in links:
        model.tables[table.name] = table
    helpers.insert_terms(conn, vocab, ARTIFACT_TYPES, snapshot)
    helpers.insert_terms(conn, model.table("Asset_Type"), [("Artifact_File", "", [])], snapshot)
    helpers.insert_terms(conn, model.table("Workflow_Type"), [REGISTER], snapshot)
    helpers.record_model(conn, model, snapshot)


def downgrade() -> None:
    conn = op.get_bind()
    model = helpers.current_model(conn)
    for name in ("Artifact_Version_Execution", "Artifact_Version_File"):
        op.drop_table(name)
        model.tables.pop(name, None)
    for name in ("Artifact_File_Execution", "Artifact_File_Asset_Type", "Artifact_File"):
        op.drop_table(name)
        model.tables.pop(name, None)
    for name in TABLES[2:] + ("Artifact_Type",):
        op.drop_table(name)
        model.tables.pop(name, None)
    for vocabulary, term in (("Workflow_Type", "Register"), ("Asset_Type", "Artifact_File")):
        table = models.sa_table(model.table(vocabulary), sa.MetaData())
        conn.execute(table.delete().where(table.c.Name == term))
    helpers.record_model(conn, model, helpers.next_snapshot(conn))
