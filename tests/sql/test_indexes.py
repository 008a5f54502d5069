"""Indexes: every foreign key of every table (system and user) leads an index on both
engines, the asset columns a lookup uses are indexed, and users declare their own
(``ColumnDef(index=True)``, ``cat.create_index``), with bad input refused and nothing
changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from assetry import (
    BuiltinType,
    Catalog,
    ColumnDef,
    TableDef,
    TableNotFound,
    ValidationError,
)
from assetry.sql import migrate
from assetry.sql.engine import make_engine
from tests.helpers import subject_image_model

ENGINES = pytest.mark.parametrize("db_catalog", ["sqlite", "postgres"], indirect=True)


def leading_columns(inspector: sa.Inspector, table: str) -> set[tuple[str, ...]]:
    """Column lists of every index, unique constraint and the primary key of ``table``."""
    out = {tuple(i["column_names"]) for i in inspector.get_indexes(table) if i["column_names"]}
    out |= {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
    out.add(tuple(inspector.get_pk_constraint(table)["constrained_columns"]))
    return out


def missing_indexes(engine: sa.Engine) -> list[str]:
    """Every foreign-key column (of any table) that leads no index, as ``table.column``."""
    inspector = sa.inspect(engine)
    missing = []
    for table in inspector.get_table_names():
        leading = {columns[0] for columns in leading_columns(inspector, table) if columns}
        for fk in inspector.get_foreign_keys(table):
            if fk["constrained_columns"][0] not in leading:
                missing.append(f"{table}.{fk['constrained_columns'][0]}")
    return missing


def indexed(cat: Catalog, table: str) -> set[tuple[str, ...]]:
    return leading_columns(sa.inspect(cat._backend.engine), table)


@ENGINES
def test_no_foreign_key_lacks_an_index(db_catalog: Catalog) -> None:
    subject_image_model(db_catalog, element_types=["Subject", "Image"])
    db_catalog.create_table(TableDef("Visit", referenced_tables=["Subject", "Species"]))
    engine = db_catalog._backend.engine
    assert missing_indexes(engine) == []
    # The asset columns a lookup uses, on user and system asset tables alike.
    for table in ("Image", "Execution_Metadata", "Execution_Asset"):
        assert {("Filename",), ("MD5",), ("SHA256",)} <= indexed(db_catalog, table)
    assert ("Time_Partition",) in indexed(db_catalog, "Artifact_Version")


@ENGINES
def test_declared_indexes(db_catalog: Catalog) -> None:
    cat = db_catalog
    cat.create_table(
        TableDef(
            "Sample",
            column_defs=[
                ColumnDef("Code", BuiltinType.text, index=True),
                ColumnDef("Depth", BuiltinType.float8),
                ColumnDef("Taken", BuiltinType.date),
            ],
        )
    )
    assert ("Code",) in indexed(cat, "Sample")
    cat.create_index("Sample", "Depth")
    cat.create_index("Sample", ["Taken", "Code"])
    cat.add_column("Sample", ColumnDef("Site", BuiltinType.text, index=True))
    found = indexed(cat, "Sample")
    assert {("Depth",), ("Taken", "Code"), ("Site",)} <= found
    # The model document carries them; applying it again changes nothing.
    [doc] = [t for t in cat.model["tables"] if t["name"] == "Sample"]
    flagged = {c["name"] for c in doc["columns"] if c.get("index")}
    assert flagged == {"Code", "Depth", "Site"}
    assert doc["indexes"] == [["Taken", "Code"]]
    assert cat.apply_model(cat.model) == []
    # Idempotent: an index that exists (declared, a foreign key's, a unique key's, the
    # primary key) is left as it is, and no model version is spent on it.
    version = cat.model["version"]
    for table, columns in (
        ("Sample", "Depth"),
        ("Sample", ["Taken", "Code"]),
        ("Sample", "RID"),
        ("Execution", "Workflow"),
        ("Asset_Type", "Name"),
    ):
        cat.create_index(table, columns)
    assert cat.model["version"] == version
    cat.insert("Sample", [{"Code": "a", "Depth": 1.5, "Site": "x"}])
    rows = list(cat.get_table_as_dict("Sample", filters={"Site": "x"}))
    assert [r["Code"] for r in rows] == ["a"]


@ENGINES
def test_model_documents_carry_indexes_to_another_catalog(
    db_catalog: Catalog, new_catalog: object, tmp_path: Path
) -> None:
    cat = db_catalog
    cat.create_table(
        TableDef("Sample", column_defs=[ColumnDef("Code", index=True), ColumnDef("Depth", "int4")])
    )
    cat.create_index("Sample", ["Depth", "Code"])
    other = new_catalog(tmp_path / "other")  # type: ignore[operator]
    other.apply_model(cat.model)
    assert {("Code",), ("Depth", "Code")} <= indexed(other, "Sample")
    # An index added to a table the other catalog already has.
    cat.create_index("Sample", "Depth")
    assert "Sample(Depth)" in other.apply_model(cat.model)
    assert ("Depth",) in indexed(other, "Sample")


@ENGINES
def test_bad_indexes_are_refused_and_change_nothing(db_catalog: Catalog) -> None:
    cat = db_catalog
    cat.create_table(TableDef("Sample", column_defs=[ColumnDef("Code"), ColumnDef("Depth")]))
    before = (cat.model, indexed(cat, "Sample"))
    with pytest.raises(TableNotFound, match="Nope"):
        cat.create_index("Nope", "Code")
    cases: list[tuple[object, str]] = [
        ("Nope", "no column 'Nope'"),
        (["Code", "Nope", "Other"], "no column 'Other'"),
        (["Code", "Code"], "'Code' is listed more than once"),
        ([], "at least one column"),
        (3, "column name or a list"),
        ([3], "columns\\[0\\]"),
        (None, "column name or a list"),
    ]
    for columns, message in cases:
        with pytest.raises(ValidationError, match=message):
            cat.create_index("Sample", columns)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="'Flag': index must be True or False"):
        ColumnDef("Flag", index="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="index"):
        cat.apply_model(
            {
                "tables": [
                    {
                        "name": "Other",
                        "kind": "table",
                        "columns": [{"name": "A", "type": "text", "index": "yes"}],
                    }
                ]
            }
        )
    assert (cat.model, indexed(cat, "Sample")) == before


def test_upgrade_adds_missing_indexes(tmp_path: Path) -> None:
    """A catalog at 0009 whose tables lack indexes (as made before they were part of the
    definitions) gets them from migration 0010."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.run(engine, "0009", rid_prefix="AAAAAAAA", store="objects")
    with engine.begin() as conn:
        for name in ("Execution_Workflow_idx", "Execution_Metadata_MD5_idx"):
            conn.execute(sa.text(f'DROP INDEX "{name}"'))
    assert "Execution.Workflow" in missing_indexes(engine)
    engine.dispose()
    assert Catalog.upgrade(url) == migrate.head_revision()
    engine = make_engine(url)
    assert missing_indexes(engine) == []
    inspector = sa.inspect(engine)
    assert ("MD5",) in leading_columns(inspector, "Execution_Metadata")
    assert ("Time_Partition",) in leading_columns(inspector, "Artifact_Version")
    engine.dispose()
