"""Contract fixes (API.md sections 1, 2, 4 and 9): bad input is a clear error naming what
was wrong, on every engine, and nothing already stored is lost."""

from __future__ import annotations

import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assetry import (
    Catalog,
    ColumnDef,
    NotFoundError,
    StoreError,
    TableDef,
    TermNotFound,
    ValidationError,
)
from assetry.sql import names
from tests.conftest import PgDatabases, pg_url


def tables(cat: Catalog) -> set[str]:
    return set(cat.list_tables())


# --- 1. table names that clash with columns -----------------------------------------------


@pytest.mark.parametrize("name", ["RID", "RCT", "RMT", "RCB", "RMB", "rid", "Rmb"])
def test_system_column_names_are_not_table_names(catalog: Catalog, name: str) -> None:
    before = tables(catalog)
    for make in (
        lambda: catalog.create_table(TableDef(name)),
        lambda: catalog.create_vocabulary(name),
        lambda: catalog.create_asset(name),
    ):
        with pytest.raises(ValidationError, match="system column") as err:
            make()
        assert repr(name) in str(err.value)
    assert tables(catalog) == before


@pytest.mark.parametrize(
    "standard", ["Description", "URL", "Filename", "Length", "MD5", "SHA256", "url"]
)
def test_an_asset_cannot_reference_a_table_named_like_a_standard_column(
    catalog: Catalog, standard: str
) -> None:
    catalog.create_vocabulary(standard)
    catalog.add_term(standard, "kept")
    before = tables(catalog)
    with pytest.raises(ValidationError) as err:
        catalog.create_asset("Scan", referenced_tables=[standard])
    message = str(err.value)
    assert "'Scan'" in message and repr(standard) in message and "standard column" in message
    assert "catalog write failed" not in message
    assert tables(catalog) == before
    # the vocabulary and its term are untouched, and stay usable from plain tables
    assert catalog.lookup_term(standard, "kept").name == "kept"
    catalog.create_table(TableDef("Sample", referenced_tables=[standard]))
    catalog.insert("Sample", [{standard: "kept"}])


def test_a_vocabulary_named_like_a_vocabulary_column_can_be_referenced(
    catalog: Catalog,
) -> None:
    # Name/ID/URI/Synonyms are columns of vocabularies, which reference nothing: a plain
    # table or an asset referencing such a table has no clash.
    catalog.create_vocabulary("Synonyms")
    catalog.add_term("Synonyms", "x")
    catalog.create_table(TableDef("Holder", referenced_tables=["Synonyms"]))
    catalog.create_asset("Scan", referenced_tables=["Synonyms"])
    catalog.insert("Holder", [{"Synonyms": "x"}])


def test_a_column_named_like_a_referenced_table_is_refused(catalog: Catalog) -> None:
    catalog.create_vocabulary("Species")
    with pytest.raises(ValidationError, match="Species"):
        catalog.create_table(
            TableDef("Sample", column_defs=[ColumnDef("species")], referenced_tables=["Species"])
        )
    catalog.create_table(TableDef("Sample", referenced_tables=["Species"]))
    with pytest.raises(ValidationError, match="Species"):
        catalog.add_column("Sample", ColumnDef("SPECIES"))


# --- 2. every name a table will derive must fit -------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda cat, n: cat.create_table(TableDef(n)),
        lambda cat, n: cat.create_vocabulary(n),
    ],
)
def test_a_table_whose_dataset_link_would_be_too_long_is_refused(
    catalog: Catalog, make: Any
) -> None:
    name = "T" * 56  # Dataset_<T> would be 64 bytes
    before = tables(catalog)
    with pytest.raises(ValidationError) as err:
        make(catalog, name)
    message = str(err.value)
    assert f"Dataset_{name}" in message and "64 bytes" in message and "63" in message
    assert "Dataset_Dataset_" not in message
    assert tables(catalog) == before


def test_an_asset_whose_association_would_be_too_long_is_refused(catalog: Catalog) -> None:
    name = "A" * 53
    with pytest.raises(ValidationError) as err:
        catalog.create_asset(name)
    assert f"{name}_Asset_Type" in str(err.value)
    assert name not in tables(catalog)


def test_short_constraint_names_are_unchanged() -> None:
    # Names that fit keep their spelling: existing catalogs recreate them.
    assert names.fkey_name("Subject", "Species") == "Subject_Species_fkey"
    long = names.fkey_name("Dataset_" + "T" * 30, "T" * 30)
    assert long.startswith("Dataset_" + "T" * 30 + "_") and len(long) <= 63
    longer = names.index_name("Dataset_" + "T" * 55, "T" * 55)
    assert len(longer.encode()) == 63 and longer.endswith("_idx")
    assert longer != names.index_name("Dataset_" + "T" * 55, "Dataset")


# --- 3. opening a database catalog that is not there --------------------------------------


def test_opening_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(NotFoundError) as err:
        Catalog(f"sqlite:///{path}")
    assert str(path) in str(err.value)
    assert not path.exists()
    with pytest.raises(NotFoundError):
        Catalog.upgrade(f"sqlite:///{path}")
    assert not path.exists()


def test_opening_a_missing_postgres_database_is_not_found(
    pg_databases: PgDatabases, pg_admin: sa.Engine
) -> None:
    name = f"assetry_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(NotFoundError) as err:
        Catalog(pg_url(name))
    assert repr(name) in str(err.value) and "create" in str(err.value)
    with pytest.raises(NotFoundError):
        Catalog.upgrade(pg_url(name))
    with pg_admin.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
    assert found is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_an_unreachable_database_server_is_a_store_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assetry.client import transport

    monkeypatch.setattr(transport, "RETRIES", 1)  # no need to wait out the real back-off
    port = _free_port()
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{port}/catalog"
    with pytest.raises(StoreError) as err:
        Catalog(url)
    message = str(err.value)
    assert f"127.0.0.1:{port}" in message and "secret" not in message
    # as for a catalog server that cannot be reached
    with pytest.raises(StoreError):
        Catalog(f"http://127.0.0.1:{port}")


# --- 4. NUL and other text no column can hold ---------------------------------------------


# --- 5. built-in terms cannot be deleted or renamed ---------------------------------------

BUILTIN = [
    ("Execution_Status", "Running"),
    ("Execution_Status", "Completed"),
    ("Upload_Status", "Uploaded"),
    ("Asset_Role", "Input"),
    ("Asset_Role", "Output"),
    ("Asset_Type", "Runtime_Env"),
    ("Asset_Type", "Execution_Metadata"),
    ("Workflow_Type", "Ingest"),
]


@pytest.mark.parametrize(("vocabulary", "term"), BUILTIN)
def test_builtin_terms_cannot_be_deleted_or_renamed(
    catalog: Catalog, vocabulary: str, term: str
) -> None:
    rid = catalog.lookup_term(vocabulary, term).rid
    assert rid is not None
    refusals = [
        lambda: catalog.delete_term(vocabulary, term),
        lambda: catalog.delete_term(vocabulary, term.lower()),
        lambda: catalog.update_term(vocabulary, term, name="Renamed"),
        lambda: catalog.update_term(vocabulary, term, name=term.upper()),
        lambda: catalog.delete(vocabulary, [rid]),
        lambda: catalog.delete(vocabulary, [rid.lower()]),
        lambda: catalog.update(vocabulary, [{"RID": rid, "Name": "Renamed"}]),
    ]
    for refuse in refusals:
        with pytest.raises(ValidationError, match="built in") as err:
            refuse()
        assert repr(term) in str(err.value) and repr(vocabulary) in str(err.value)
    assert catalog.lookup_term(vocabulary, term).name == term
    # descriptions and synonyms may change
    catalog.update_term(vocabulary, term, description="changed")
    catalog.add_synonym(vocabulary, term, f"{term}_alias")
    catalog.update(vocabulary, [{"RID": rid, "Description": "again", "Name": term}])
    assert catalog.lookup_term(vocabulary, f"{term}_alias").description == "again"


def test_an_asset_tables_own_type_is_built_in(catalog: Catalog) -> None:
    catalog.create_asset("Scan")
    with pytest.raises(ValidationError, match="default type"):
        catalog.delete_term("Asset_Type", "Scan")
    rid = catalog.lookup_term("Asset_Type", "Scan").rid
    assert rid is not None
    with pytest.raises(ValidationError, match="default type"):
        catalog.delete("Asset_Type", [rid])
    # user terms are not built in
    catalog.add_term("Asset_Type", "Mine")
    catalog.update_term("Asset_Type", "Mine", name="Ours")
    catalog.delete_term("Asset_Type", "Ours")
    catalog.add_term("Execution_Status", "Paused")
    catalog.delete_term("Execution_Status", "Paused")


def test_refused_term_changes_leave_executions_working(catalog: Catalog, tmp_path: Path) -> None:
    input_rid = catalog.lookup_term("Asset_Role", "Input").rid
    assert input_rid is not None
    for refuse in (
        lambda: catalog.delete_term("Execution_Status", "Running"),
        lambda: catalog.update_term("Asset_Role", "Output", name="Out"),
        lambda: catalog.delete("Asset_Role", [input_rid]),
    ):
        with pytest.raises(ValidationError):
            refuse()
    path = tmp_path / "a.txt"
    path.write_text("hello")
    [asset] = catalog.upload_assets("Execution_Asset", [path])
    assert catalog.resolve_rid(asset["RID"]).table == "Execution_Asset"


# --- 6. lists of names, and the term a TermNotFound names ---------------------------------


def test_referenced_tables_must_be_a_list() -> None:
    with pytest.raises(ValidationError, match=r"must be a list of table names.*\['Species'\]"):
        TableDef("T", referenced_tables="Species")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="must be a list of ColumnDef"):
        TableDef("T", column_defs=ColumnDef("X"))  # type: ignore[arg-type]
    assert TableDef("T", referenced_tables=("A", "B")).referenced_tables == ["A", "B"]


def test_create_asset_refuses_a_single_name(catalog: Catalog) -> None:
    catalog.create_vocabulary("Species")
    with pytest.raises(ValidationError, match="must be a list of table names") as err:
        catalog.create_asset("Scan", referenced_tables="Species")  # type: ignore[arg-type]
    assert "'S'" not in str(err.value)
    assert "Scan" not in tables(catalog)


def test_remove_synonym_names_the_term(catalog: Catalog) -> None:
    with pytest.raises(TermNotFound) as err:
        catalog.remove_synonym("Asset_Type", "model_file", "nope")
    assert err.value.term == "Model_File"
    assert err.value.vocabulary == "Asset_Type"


def test_remove_synonym_message_names_the_synonym(catalog: Catalog) -> None:
    with pytest.raises(TermNotFound) as err:
        catalog.remove_synonym("Asset_Type", "Model_File", "nope")
    assert "'nope'" in str(err.value) and "'Model_File'" in str(err.value)
    assert "synonym" in str(err.value)
