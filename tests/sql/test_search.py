"""Text search through the search indexes (SQLite FTS5 trigram tables, PostgreSQL trigram
GIN indexes): the same results as a scan (every word anywhere in some text column,
ignoring case, wildcards taken literally), kept in the transaction of every insert,
update and delete, covering columns added later, made for existing catalogs by
migration 0012; an asset table's URL and checksums are not searched (0013)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from assetry import Catalog, ColumnDef, TableDef, TableNotFound, ValidationError
from assetry.sql import migrate, search_index
from assetry.sql.engine import make_engine

ENGINES = pytest.mark.parametrize("db_catalog", ["sqlite", "postgres"], indirect=True)


def found(cat: Catalog, text: str, **kwargs: Any) -> list[str]:
    return [h["Name"] for h in cat.search(text, tables=["Sample"], **kwargs)]


def index_is_whole(cat: Catalog, table: str) -> None:
    """The search index of ``table`` agrees with its rows (SQLite: FTS5's own check of
    an external-content table; PostgreSQL: the index exists and is valid)."""
    engine = cat._backend.engine
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            fts = sa.table(search_index.fts_name(table), sa.column(search_index.fts_name(table)))
            conn.execute(fts.insert().values({search_index.fts_name(table): "integrity-check"}))
        else:
            valid = conn.execute(
                sa.text(
                    "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                    " WHERE c.relname = :name"
                ),
                {"name": search_index.gin_name(table)},
            ).scalar_one()
            assert valid


@pytest.fixture
def samples(db_catalog: Catalog) -> Catalog:
    db_catalog.create_table(
        TableDef(
            "Sample",
            column_defs=[
                ColumnDef("Name", nullok=False),
                ColumnDef("Note", "markdown"),
                ColumnDef("Meta", "json"),
                ColumnDef("Depth", "int4"),
            ],
        )
    )
    db_catalog.insert(
        "Sample",
        [
            {"Name": "liver sample 100%", "Note": "Mouse LIVER, left lobe"},
            {"Name": "kidney", "Note": "rat", "Meta": {"site": "Cortex"}},
            {"Name": "heart_1", "Note": 'said "hello"', "Depth": 7},
            {"Name": "a", "Note": None},
        ],
    )
    return db_catalog


@ENGINES
def test_results_are_those_of_a_scan(samples: Catalog) -> None:
    cat = samples
    assert found(cat, "LIVER 100%") == ["liver sample 100%"]
    assert found(cat, "mouse liv") == ["liver sample 100%"]  # words in different columns
    assert found(cat, "kid") == ["kidney"]  # inside a word
    assert found(cat, "idne") == ["kidney"]
    assert found(cat, "cortex") == ["kidney"]  # json values
    assert found(cat, "liver kidney") == []  # every word must match one row
    assert found(cat, "%") == ["liver sample 100%"]  # wildcards are literal
    assert found(cat, "t_1") == ["heart_1"]
    assert found(cat, "x_1") == []
    assert found(cat, '"hello"') == ["heart_1"]  # quotes are text too
    short = [h["RID"] for h in cat.search("a", tables=["Sample"])]  # a scan, by RID
    assert short == sorted(short) and len(short) == 4
    assert len(found(cat, "e", limit=2)) == 2
    # Other tables' rows come too, each with its table.
    hits = cat.search("kidney")
    assert [(h["Table"], h["Name"]) for h in hits] == [("Sample", "kidney")]
    index_is_whole(cat, "Sample")


@ENGINES
def test_the_index_follows_every_change(samples: Catalog) -> None:
    cat = samples
    [rid] = [r["RID"] for r in cat.get_table_as_dict("Sample") if r["Name"] == "kidney"]
    before = cat.snapshot()
    cat.update("Sample", [{"RID": rid, "Note": "spleen"}])
    assert found(cat, "spleen") == ["kidney"]
    assert found(cat, "rat") == []
    assert found(cat, "rat", as_of=before) == ["kidney"]
    cat.delete("Sample", [rid])
    assert found(cat, "kidney") == []
    assert found(cat, "kidney", as_of=before) == ["kidney"]
    # A refused change leaves the index as the rows are.
    with pytest.raises(ValidationError):
        cat.insert("Sample", [{"Name": "pancreas"}, {"Name": None}])
    assert found(cat, "pancreas") == []
    many = [{"Name": f"bulk {i} tissue"} for i in range(200)]
    cat.insert("Sample", many)
    assert len(found(cat, "tissue", limit=1000)) == 200
    index_is_whole(cat, "Sample")


@ENGINES
def test_added_columns_are_searched(samples: Catalog) -> None:
    cat = samples
    cat.add_column("Sample", ColumnDef("Site", "text"))
    cat.add_column("Sample", ColumnDef("Weight", "float8"))
    [rid] = cat.insert("Sample", [{"Name": "lung", "Site": "Upper lobe"}])
    assert found(cat, "upper") == ["lung"]
    cat.update("Sample", [{"RID": rid, "Site": "lower"}])
    assert found(cat, "upper") == []
    assert found(cat, "mouse") == ["liver sample 100%"]  # rows from before the column
    index_is_whole(cat, "Sample")


def test_a_rebuilt_table_keeps_its_index(sqlite_catalog: Catalog) -> None:
    """SQLite rebuilds a table to add a NOT NULL column without a default (allowed while
    it is empty); its search index comes back with it."""
    cat = sqlite_catalog
    cat.create_table(TableDef("Sample", column_defs=[ColumnDef("Name")]))
    cat.add_column("Sample", ColumnDef("Code", nullok=False))
    [rid] = cat.insert("Sample", [{"Name": "x", "Code": "alpha"}])
    assert found(cat, "alpha") == ["x"]
    cat.update("Sample", [{"RID": rid, "Code": "beta"}])
    assert found(cat, "alpha") == [] and found(cat, "beta") == ["x"]
    index_is_whole(cat, "Sample")


def indexed(engine: sa.Engine, table: str) -> str:
    """What the search index of ``table`` is made of: SQLite, its FTS table's columns;
    PostgreSQL, its index's definition."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            fts = search_index.fts_name(table)
            return " ".join(r[1] for r in conn.exec_driver_sql(f'PRAGMA table_info("{fts}")'))
        return str(
            conn.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                {"name": search_index.gin_name(table)},
            ).scalar_one()
        )


def upload_scan(cat: Catalog, tmp_path: Path, name: str) -> dict[str, Any]:
    path = tmp_path / name
    path.write_bytes(name.encode() * 50)
    [asset] = cat.upload_assets("Scan", [path])
    return asset


@ENGINES
def test_asset_checksums_and_addresses_are_not_searched(
    db_catalog: Catalog, tmp_path: Path
) -> None:
    """An asset is found by its file name, description and own columns, not by its URL,
    MD5 or SHA256 (hex digits, found by exact filters); a plain table's URL column is
    searched like any other."""
    cat = db_catalog
    cat.create_asset("Scan", column_defs=[ColumnDef("Site")])
    asset = upload_scan(cat, tmp_path, "brainscan.nii")
    cat.update("Scan", [{"RID": asset["RID"], "Site": "cortex", "Description": "Axial T1"}])
    for words in ("brainscan", "CORTEX", "axial t1"):
        assert [h["RID"] for h in cat.search(words, tables=["Scan"])] == [asset["RID"]]
    for digest in (asset["MD5"], asset["SHA256"][8:30], asset["URL"]):
        assert cat.search(digest, tables=["Scan"]) == []
    [row] = cat.get_table_as_dict("Scan", filters={"MD5": asset["MD5"]})
    assert row["RID"] == asset["RID"]
    cat.create_table(TableDef("Link", column_defs=[ColumnDef("URL", "uri")]))
    cat.insert("Link", [{"URL": "https://example.org/atlas/v2"}])
    assert [h["URL"] for h in cat.search("atlas", tables=["Link"])] == [
        "https://example.org/atlas/v2"
    ]
    engine = cat._backend.engine
    assert "MD5" not in indexed(engine, "Scan") and "URL" in indexed(engine, "Link")
    index_is_whole(cat, "Scan")


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_an_upgraded_catalog_drops_checksums_from_asset_indexes(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Migration 0013 remakes asset tables' indexes without URL, MD5 and SHA256 (a
    catalog taken back to 0012 has them); rows from before are found, and inserts keep
    the new index whole."""
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'c.db'}"
    else:
        url = request.getfixturevalue("pg_databases").empty()
    with Catalog.create(url, store=str(tmp_path / "objects")) as cat:
        cat.create_asset("Scan")
        old = upload_scan(cat, tmp_path, "oldscan.nii")
    engine = make_engine(url)
    migrate.run(engine, "0012", downgrade=True)
    assert "MD5" in indexed(engine, "Scan")
    Catalog.upgrade(url)
    assert "MD5" not in indexed(engine, "Scan") and "SHA256" not in indexed(engine, "Scan")
    engine.dispose()
    with Catalog(url) as cat:
        assert [h["RID"] for h in cat.search("oldscan", tables=["Scan"])] == [old["RID"]]
        assert cat.search(old["MD5"], tables=["Scan"]) == []
        new = upload_scan(cat, tmp_path, "newscan.nii")
        assert [h["RID"] for h in cat.search("newscan")] == [new["RID"]]
        index_is_whole(cat, "Scan")
        index_is_whole(cat, "Execution")


@ENGINES
def test_bad_searches_are_refused(samples: Catalog) -> None:
    cat = samples
    for text in ["", "   ", None, "a\x00b", 3]:
        with pytest.raises(ValidationError):
            cat.search(text)  # type: ignore[arg-type]
    for limit in [0, -1, "3", 2.5, True]:
        with pytest.raises(ValidationError, match="limit"):
            cat.search("liver", limit=limit)  # type: ignore[arg-type]
    with pytest.raises(TableNotFound, match="Nope"):
        cat.search("liver", tables=["Sample", "Nope"])
    assert found(cat, "liver") == ["liver sample 100%"]


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_an_upgraded_catalog_is_indexed(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Rows written before the indexes (a catalog taken back to 0011) are found once
    migration 0012 has indexed them, and later changes keep the index."""
    if engine_name == "sqlite":
        url = f"sqlite:///{tmp_path / 'c.db'}"
    else:
        url = request.getfixturevalue("pg_databases").empty()
    with Catalog.create(url, store=str(tmp_path / "objects")) as cat:
        cat.create_table(TableDef("Sample", column_defs=[ColumnDef("Name")]))
        cat.insert("Sample", [{"Name": "old liver"}])
    engine = make_engine(url)
    migrate.run(engine, "0011", downgrade=True)
    with engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
    assert not [t for t in tables if t.startswith("assetry_fts_")]
    engine.dispose()
    Catalog.upgrade(url)
    with Catalog(url) as cat:
        assert found(cat, "LIVER") == ["old liver"]
        cat.insert("Sample", [{"Name": "new liver"}])
        assert set(found(cat, "liver")) == {"old liver", "new liver"}
        index_is_whole(cat, "Sample")
        index_is_whole(cat, "Execution")


@ENGINES
def test_pages_of_results(samples: Catalog) -> None:
    cat = samples
    cat.insert("Sample", [{"Name": f"tissue {i}"} for i in range(25)])
    cat.create_vocabulary("Tissue_Kind")
    cat.add_term("Tissue_Kind", "tissue of the liver")
    everything = cat.search("tissue", limit=1000)
    assert len(everything) == 26 and {h["Table"] for h in everything} == {"Sample", "Tissue_Kind"}
    pages: list[list[dict[str, Any]]] = []
    after: Any = None
    while True:
        page = cat.search("tissue", limit=7, after=after)
        if not page:
            break
        pages.append(page)
        after = page[-1]
    assert [len(p) for p in pages] == [7, 7, 7, 5]
    assert [h["RID"] for p in pages for h in p] == [h["RID"] for h in everything]
    # A cursor as (Table, RID) works the same; as of a snapshot too.
    first = everything[9]
    assert (
        cat.search("tissue", limit=3, after=(first["Table"], first["RID"].lower()))
        == (everything[10:13])
    )
    snapshot = cat.snapshot()
    cat.insert("Sample", [{"Name": "tissue late"}])
    then = cat.search("tissue", limit=100, as_of=snapshot, after=everything[20])
    assert [h["RID"] for h in then] == [h["RID"] for h in everything[21:]]


@ENGINES
def test_bad_cursors_are_refused(samples: Catalog) -> None:
    cat = samples
    bad: list[object] = ["Sample", ("Sample",), ("Sample", 3), ("Nope", "X-1"), ("Sample", " ")]
    for after in bad:
        with pytest.raises(ValidationError, match="after"):
            cat.search("liver", after=after)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not one of the tables searched"):
        cat.search("liver", tables=["Sample"], after={"Table": "Asset_Type", "RID": "X-1"})


def test_indexes_search_and_rids_through_a_server(remote_server: Any) -> None:
    """``create_index``, paged ``search`` and ``resolve_rid`` over the wire; the index is a
    curator's change."""
    cat = remote_server.catalog("curator")
    cat.create_table(TableDef("Sample", column_defs=[ColumnDef("Name"), ColumnDef("Code")]))
    cat.create_index("Sample", ["Code", "Name"])
    cat.create_index("Sample", ["Code", "Name"])
    with pytest.raises(ValidationError, match="no column 'Nope'"):
        cat.create_index("Sample", "Nope")
    rids = cat.insert("Sample", [{"Name": f"tissue {i}", "Code": str(i)} for i in range(5)])
    first = cat.search("tissue", tables=["Sample"], limit=2)
    rest = cat.search("tissue", tables=["Sample"], limit=10, after=first[-1])
    assert [h["RID"] for h in first + rest] == sorted(rids)
    assert cat.resolve_rid(rids[0]).table == "Sample"
    [doc] = [t for t in cat.model["tables"] if t["name"] == "Sample"]
    assert doc["indexes"] == [["Code", "Name"]]
    from assetry import PermissionDenied

    with pytest.raises(PermissionDenied):
        remote_server.catalog("writer").create_index("Sample", "Code")
