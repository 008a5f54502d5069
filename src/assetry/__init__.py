"""assetry: a schema-driven data catalog for machine-learning and scientific data."""

from assetry.api.datasets import Dataset
from assetry.artifacts.materializers.base import Materializer
from assetry.artifacts.tracelet import ArtifactType
from assetry.bags.reader import DatasetBag
from assetry.capture import autolog, pipeline, step, use
from assetry.catalog import Catalog
from assetry.compat.flyte import Artifact
from assetry.errors import (
    AssetryError,
    AuthenticationError,
    AuthError,
    BagChecksumMismatch,
    BagError,
    ChecksumMismatch,
    ConfigError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    PermissionDenied,
    RIDNotFound,
    SchemaVersionError,
    StateError,
    StoreError,
    TableNotFound,
    TermNotFound,
    ValidationError,
)
from assetry.executions.execution import Execution
from assetry.executions.workflow import ExecutionConfiguration, Workflow
from assetry.records.artifacts import ArtifactVersion, Reference
from assetry.records.datasets import DatasetHistory, DatasetSpec, DatasetVersion, VersionPart
from assetry.records.definitions import (
    BuiltinType,
    BuiltinTypes,
    ColumnDef,
    ColumnDefinition,
    ForeignKeyDefinition,
    TableDef,
    TableDefinition,
)
from assetry.records.derivaml import (
    RID,
    DerivaSystemColumns,
    ExecAssetType,
    ExecMetadataType,
    FileSpec,
    MLAsset,
    MLVocab,
    Status,
)
from assetry.records.features import Feature, FeatureRecord
from assetry.records.rows import ResolvedRID
from assetry.records.terms import Term

#: DerivaML's root error: every assetry error is one.
DerivaMLException = AssetryError

__version__ = "0.1.0"

__all__ = [
    "Artifact",
    "ArtifactType",
    "ArtifactVersion",
    "AssetryError",
    "AuthError",
    "AuthenticationError",
    "BagChecksumMismatch",
    "BagError",
    "BuiltinType",
    "BuiltinTypes",
    "Catalog",
    "ChecksumMismatch",
    "ColumnDef",
    "ColumnDefinition",
    "ConfigError",
    "ConflictError",
    "Dataset",
    "DatasetBag",
    "DatasetHistory",
    "DatasetSpec",
    "DatasetVersion",
    "DerivaMLException",
    "DerivaSystemColumns",
    "ExecAssetType",
    "ExecMetadataType",
    "Execution",
    "ExecutionConfiguration",
    "Feature",
    "FeatureRecord",
    "FileSpec",
    "ForeignKeyDefinition",
    "IntegrityError",
    "MLAsset",
    "MLVocab",
    "Materializer",
    "NotFoundError",
    "PermissionDenied",
    "RID",
    "RIDNotFound",
    "Reference",
    "ResolvedRID",
    "SchemaVersionError",
    "StateError",
    "Status",
    "StoreError",
    "TableDef",
    "TableDefinition",
    "TableNotFound",
    "Term",
    "TermNotFound",
    "ValidationError",
    "VersionPart",
    "Workflow",
    "autolog",
    "pipeline",
    "step",
    "use",
]
