"""DerivaML's import names, for scripts written for DerivaML: change
``from deriva_ml import ...`` to ``from assetry.compat.derivaml import ...`` and the
connection (``DerivaML(hostname, catalog_id)`` becomes ``DerivaML(location)``, a
``Catalog``); the rest of the classic API (v1.14-v1.30) keeps its names."""

from __future__ import annotations

from assetry.api.datasets import Dataset
from assetry.bags.reader import DatasetBag
from assetry.catalog import Catalog
from assetry.errors import AssetryError
from assetry.executions.execution import Execution
from assetry.executions.workflow import ExecutionConfiguration, Workflow
from assetry.records.datasets import DatasetSpec, DatasetVersion, VersionPart
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
from assetry.records.terms import Term

#: DerivaML's catalog class is assetry's ``Catalog``.
DerivaML = Catalog
#: DerivaML's root error: every assetry error is one.
DerivaMLException = AssetryError
#: DerivaML's name for a vocabulary term.
VocabularyTerm = Term

__all__ = [
    "RID",
    "BuiltinType",
    "BuiltinTypes",
    "ColumnDef",
    "ColumnDefinition",
    "Dataset",
    "DatasetBag",
    "DatasetSpec",
    "DatasetVersion",
    "DerivaML",
    "DerivaMLException",
    "DerivaSystemColumns",
    "ExecAssetType",
    "ExecMetadataType",
    "Execution",
    "ExecutionConfiguration",
    "FileSpec",
    "ForeignKeyDefinition",
    "MLAsset",
    "MLVocab",
    "Status",
    "TableDef",
    "TableDefinition",
    "VersionPart",
    "VocabularyTerm",
    "Workflow",
]
