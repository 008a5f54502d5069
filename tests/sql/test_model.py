"""Model: tables of every kind, columns of every type, model documents."""

from __future__ import annotations

import json

import pytest

from assetry import BuiltinType, Catalog, ColumnDef, TableDef, ValidationError
from tests.helpers import subject_image_model


def table_doc(cat: Catalog, name: str) -> dict:
    [doc] = [t for t in cat.model["tables"] if t["name"] == name]
    return doc


def test_fresh_catalog_has_the_system_tables(catalog: Catalog) -> None:
    tables = catalog.list_tables()
    for name in ("Workflow", "Execution", "Dataset", "Dataset_Version", "Asset_Type"):
        assert name in tables
    assert set(catalog.list_tables("vocabulary")) == {
        "Asset_Type",
        "Asset_Role",
        "Execution_Status",
        "Upload_Status",
        "Workflow_Type",
        "Dataset_Type",
        "Artifact_Type",
        "Feature_Name",
    }
    assert catalog.ml_schema == "deriva-ml"
    assert catalog.domain_schema == "domain"


def test_model_is_json_and_carries_comments(catalog: Catalog) -> None:
    subject_image_model(catalog)
    doc = json.loads(json.dumps(catalog.model))
    assert table_doc(catalog, "Subject")["comment"] == "A subject"
    assert doc["format"] == 1
    assert doc["version"] >= 2


def test_derivaml_type_names_are_accepted(catalog: Catalog) -> None:
    cols = [
        ColumnDef("A", "jsonb"),
        ColumnDef("B", BuiltinType.longtext),
        ColumnDef("C", BuiltinType.ermrest_uri),
        ColumnDef("D", "serial4"),
        ColumnDef("E", "ermrest_rid"),
    ]
    catalog.create_table(TableDef("Old", column_defs=cols))
    types = {c["name"]: c["type"] for c in table_doc(catalog, "Old")["columns"]}
    assert [types[n] for n in "ABCDE"] == ["json", "text", "uri", "int4", "text"]


def test_add_column_refuses_system_tables(catalog: Catalog) -> None:
    with pytest.raises(ValidationError, match="system"):
        catalog.add_column("Dataset_Version", ColumnDef("X", "text"))
