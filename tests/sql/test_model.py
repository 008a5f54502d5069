"""Model: tables of every kind, columns of every type, model documents."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assetry import BuiltinType, Catalog, ColumnDef, TableDef, ValidationError

ALL_TYPES = [
    ("text", "héllo, wörld"),
    ("markdown", "# Title\n\n*body*"),
    ("int2", -32768),
    ("int4", 2**31 - 1),
    ("int8", -(2**63)),
    ("float4", 0.5),
    ("float8", 1.0e-300),
    ("boolean", False),
    ("date", dt.date(1999, 12, 31)),
    ("timestamp", dt.datetime(2024, 2, 29, 23, 59, 59, 123456)),
    ("timestamptz", dt.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=dt.UTC)),
    ("json", {"a": [1, 2.5, None, True], "b": {"c": "d"}}),
    ("uri", "https://example.org/x?y=1"),
]


def define_basic(cat: Catalog) -> None:
    cat.create_vocabulary("Species", comment="Species of subjects")
    cat.add_term("Species", "Mus musculus", synonyms=["mouse"])
    cat.create_table(
        TableDef(
            "Subject",
            column_defs=[
                ColumnDef("Name", BuiltinType.text, nullok=False),
                ColumnDef("Age", BuiltinType.int4),
            ],
            referenced_tables=["Species"],
            comment="A subject",
        )
    )
    cat.create_asset(
        "Image",
        column_defs=[ColumnDef("Width", BuiltinType.int4)],
        referenced_tables=["Subject"],
        comment="An image",
    )


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
    }
    assert catalog.ml_schema == "deriva-ml"
    assert catalog.domain_schema == "domain"


def test_tables_of_every_kind(catalog: Catalog) -> None:
    define_basic(catalog)
    assert catalog.list_tables("table") == ["Subject"]
    assert catalog.list_tables("asset") == ["Execution_Metadata", "Execution_Asset", "Image"]
    assert "Species" in catalog.list_tables("vocabulary")
    assert {"Image_Asset_Type", "Image_Execution"} <= set(catalog.list_tables("association"))

    image = table_doc(catalog, "Image")
    names = [c["name"] for c in image["columns"]]
    assert names == [
        "RID", "RCT", "RMT", "RCB", "RMB",
        "URL", "Filename", "Length", "MD5", "SHA256", "Description",
        "Width", "Subject",
    ]  # fmt: skip
    assert image["schema"] == "domain"
    assert {"column": "Subject", "table": "Subject", "referenced_column": "RID"} in image[
        "foreign_keys"
    ]
    subject = table_doc(catalog, "Subject")
    assert {"column": "Species", "table": "Species", "referenced_column": "Name"} in subject[
        "foreign_keys"
    ]
    link = table_doc(catalog, "Image_Execution")
    assert {fk["table"] for fk in link["foreign_keys"]} == {"Image", "Execution", "Asset_Role"}
    assert catalog.lookup_term("Asset_Type", "Image").name == "Image"


def test_model_is_json_and_carries_comments(catalog: Catalog) -> None:
    define_basic(catalog)
    doc = json.loads(json.dumps(catalog.model))
    assert table_doc(catalog, "Subject")["comment"] == "A subject"
    assert doc["format"] == 1
    assert doc["version"] >= 2


@pytest.mark.parametrize(("kind", "value"), ALL_TYPES, ids=[k for k, _ in ALL_TYPES])
def test_every_builtin_type_round_trips(catalog: Catalog, kind: str, value: object) -> None:
    catalog.create_table(TableDef("Typed", column_defs=[ColumnDef("V", kind)]))
    [rid] = catalog.insert("Typed", [{"V": value}])
    [row] = catalog.get_table_as_dict("Typed")
    assert row["RID"] == rid
    assert row["V"] == value
    assert type(row["V"]) is type(value)


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


def test_defaults_and_not_null(catalog: Catalog) -> None:
    catalog.create_table(
        TableDef(
            "Run",
            column_defs=[
                ColumnDef("Name", "text", nullok=False),
                ColumnDef("Epochs", "int4", default=10),
            ],
        )
    )
    catalog.insert("Run", [{"Name": "a"}])
    [row] = catalog.get_table_as_dict("Run")
    assert row["Epochs"] == 10


def test_add_column(catalog: Catalog) -> None:
    define_basic(catalog)
    rid = catalog.insert("Subject", [{"Name": "S1"}])[0]
    catalog.add_column("Subject", ColumnDef("Weight", BuiltinType.float8))
    catalog.add_column("Subject", ColumnDef("Cohort", "text", nullok=False, default="A"))
    catalog.update("Subject", [{"RID": rid, "Weight": 21.5}])
    [row] = catalog.get_table_as_dict("Subject")
    assert row["Weight"] == 21.5
    assert row["Cohort"] == "A"
    with pytest.raises(ValidationError, match="has rows"):
        catalog.add_column("Subject", ColumnDef("Strict", "int4", nullok=False))
    # An empty table accepts a NOT NULL column without a default.
    catalog.add_column("Image", ColumnDef("Height", "int4", nullok=False))
    with pytest.raises(ValidationError, match="Height"):
        catalog.insert(
            "Image", [{"URL": "u", "Length": 1, "MD5": "m", "SHA256": "s", "Subject": rid}]
        )


def test_add_column_refuses_system_tables(catalog: Catalog) -> None:
    with pytest.raises(ValidationError, match="system"):
        catalog.add_column("Dataset_Version", ColumnDef("X", "text"))


def test_apply_model_is_idempotent_and_recreates_a_model(
    catalog: Catalog, sqlite_template, tmp_path
) -> None:
    define_basic(catalog)
    catalog.add_column("Subject", ColumnDef("Weight", "float8"))
    before = catalog.model
    snapshot = catalog.snapshot()
    assert catalog.apply_model(before) == []
    assert catalog.snapshot() == snapshot
    assert catalog.model == before

    other = Catalog.create(tmp_path / "other")
    changed = other.apply_model(json.loads(json.dumps(before)))
    assert {"Species", "Subject", "Image"} <= set(changed)
    assert other.model["tables"] == before["tables"]
    assert other.apply_model(before) == []
    other.close()


def test_apply_model_adds_missing_columns(catalog: Catalog) -> None:
    define_basic(catalog)
    doc = catalog.model
    for table in doc["tables"]:
        if table["name"] == "Subject":
            table["columns"].append({"name": "Sex", "type": "text", "nullok": True})
    assert catalog.apply_model(doc) == ["Subject.Sex"]
    assert "Sex" in [c["name"] for c in table_doc(catalog, "Subject")["columns"]]


def test_model_change_is_seen_by_another_catalog_object(catalog: Catalog) -> None:
    other = Catalog(catalog.location)
    other.list_tables()  # warm its model cache
    catalog.create_table(TableDef("Late", column_defs=[ColumnDef("X", "int4")]))
    other.insert("Late", [{"X": 1}])
    assert [r["X"] for r in other.get_table_as_dict("Late")] == [1]
    other.close()


def test_every_type_round_trips_through_the_bulk_insert(catalog: Catalog) -> None:
    columns = [ColumnDef(f"C_{kind}", kind) for kind, _ in ALL_TYPES]
    catalog.create_table(TableDef("Wide", column_defs=columns))
    row = {f"C_{kind}": value for kind, value in ALL_TYPES}
    rows = [row] * 40 + [dict.fromkeys(row)] * 40  # past the bulk threshold, NULLs too
    catalog.insert("Wide", rows)
    got = list(catalog.get_table_as_dict("Wide"))
    assert len(got) == 80
    full = [g for g in got if g["C_text"] is not None]
    empty = [g for g in got if g["C_text"] is None]
    assert len(full) == 40 and len(empty) == 40
    for g in full:
        for kind, value in ALL_TYPES:
            assert g[f"C_{kind}"] == value and type(g[f"C_{kind}"]) is type(value), kind
    assert all(g[f"C_{kind}"] is None for g in empty for kind, _ in ALL_TYPES)
    assert full[0]["RCT"].tzinfo is not None
