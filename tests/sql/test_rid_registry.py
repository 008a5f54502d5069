"""The RID registry: every row of every kind of table (written by any operation: rows,
terms, assets and their links, executions, datasets, artifacts, bag imports) is in it, in
the transaction that wrote the row; ``resolve_rid`` and ``history`` use it, also for
deleted rows; a catalog upgraded from before the registry resolves its old rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assetry import Catalog, DatasetSpec, RIDNotFound, ValidationError
from assetry.sql import internal, migrate, registry
from assetry.sql.engine import make_engine
from assetry.sql.model import Model, build_metadata
from tests.conftest import NewCatalog
from tests.helpers import counting_statements, dataset_study

ENGINES = pytest.mark.parametrize("db_catalog", ["sqlite", "postgres"], indirect=True)


def unregistered(cat: Catalog) -> list[tuple[str, str]]:
    """(table, RID) of every current row the registry lacks or puts in another table."""
    engine = cat._backend.engine
    missing = []
    with engine.connect() as conn:
        known = {rid: table for rid, table in conn.execute(sa.select(internal.rid_registry))}
        for table in build_metadata(Model.from_doc(cat.model)).tables.values():
            for (rid,) in conn.execute(sa.select(table.c.RID)):
                if known.get(rid) != table.name:
                    missing.append((table.name, rid))
    return missing


def one_rid_of_each_table(cat: Catalog) -> dict[str, str]:
    out = {}
    for name in cat.list_tables():
        for row in cat.get_table_as_dict(name, limit=1):
            out[name] = row["RID"]
    return out


@ENGINES
def test_every_row_resolves_through_the_registry(db_catalog: Catalog) -> None:
    cat = db_catalog
    dataset_study(cat)
    cat.create_workflow("wf", workflow_type="Training")
    cat.artifacts.register("model", artifact_type="Model", data={"a": 1}, tags={"stage": "dev"})
    assert unregistered(cat) == []
    samples = one_rid_of_each_table(cat)
    kinds = {t["kind"] for t in cat.model["tables"] if t["name"] in samples}
    assert {"table", "asset", "vocabulary", "association", "system"} <= kinds
    for table, rid in samples.items():
        found = cat.resolve_rid(rid.lower())
        assert found.table == table
        assert found.row["RID"] == rid
        assert cat.history(rid)[-1]["table"] == table


@ENGINES
def test_deleted_rows_keep_their_history(db_catalog: Catalog) -> None:
    cat = db_catalog
    cat.create_vocabulary("Color")
    [red] = [cat.add_term("Color", "red").rid]
    [row] = cat.insert("Color", [{"Name": "blue"}])
    cat.update("Color", [{"RID": row, "Description": "sky"}])
    before = cat.snapshot()
    cat.delete("Color", [row])
    with pytest.raises(RIDNotFound, match="was deleted"):
        cat.resolve_rid(row)
    assert [v["action"] for v in cat.history(row)] == ["insert", "update", "delete"]
    old = cat.resolve_rid(row, as_of=before)
    assert (old.table, old.row["Description"]) == ("Color", "sky")
    assert cat.resolve_rid(red).row["Name"] == "red"
    # A RID of no row, and not a RID at all.
    unknown = cat.rid_prefix + "-ZZZZZZ"
    with pytest.raises(RIDNotFound):
        cat.resolve_rid(unknown)
    with pytest.raises(RIDNotFound):
        cat.history(unknown)
    with pytest.raises(RIDNotFound):
        cat.resolve_rid(unknown, as_of=before)
    with pytest.raises(ValidationError):
        cat.resolve_rid("a\x00b")


@ENGINES
def test_a_failed_insert_registers_nothing(db_catalog: Catalog) -> None:
    cat = db_catalog
    cat.create_vocabulary("Color")
    with pytest.raises(ValidationError):
        cat.insert("Color", [{"Name": "ok"}, {"Name": None}])
    engine = cat._backend.engine
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).where(internal.rid_registry.c.table_name == "Color")
        ).scalar_one()
    assert count == 0


def test_resolving_is_one_probe_and_one_row(sqlite_catalog: Catalog) -> None:
    cat = sqlite_catalog
    cat.create_vocabulary("Color")
    [rid] = cat.insert("Color", [{"Name": "red"}])
    with counting_statements(cat) as statements:
        cat.resolve_rid(rid)
    touched = [s for s in statements if "assetry_rid" in s or '"Color"' in s or "Color" in s]
    assert len(touched) == 2, statements
    assert not any("UNION" in s for s in statements)


def test_imported_rows_are_registered(
    built_catalog: Any, new_catalog: NewCatalog, tmp_path: Path
) -> None:
    source, (ds, _) = built_catalog(dataset_study)
    bag = source.download_dataset_bag(DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "bags")
    target = new_catalog(tmp_path / "target")
    target.import_bag(bag)
    assert unregistered(target) == []
    assert target.resolve_rid(ds).table == "Dataset"


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_an_upgraded_catalog_resolves_old_rows(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Rows written before the registry (here: a catalog taken back to 0010, which drops
    it) resolve once migration 0011 has filled it, deleted ones included."""
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'c.db'}"
        cat = Catalog.create(url, store=str(tmp_path / "objects"))
    else:
        url = request.getfixturevalue("pg_databases").empty()
        cat = Catalog.create(url, store=str(tmp_path / "objects"))
    cat.create_vocabulary("Color")
    kept, gone = cat.insert("Color", [{"Name": "red"}, {"Name": "blue"}])
    cat.delete("Color", [gone])
    cat.close()
    engine = make_engine(url)
    migrate.run(engine, "0010", downgrade=True)
    assert not sa.inspect(engine).has_table("assetry_rid")
    engine.dispose()
    assert Catalog.upgrade(url) == migrate.head_revision()
    with Catalog(url) as cat:
        assert cat.resolve_rid(kept).row["Name"] == "red"
        assert [v["action"] for v in cat.history(gone)] == ["insert", "delete"]
        assert unregistered(cat) == []
        with cat._backend.engine.connect() as conn:
            assert registry.table_of(conn, gone) == "Color"
