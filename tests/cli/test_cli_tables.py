"""``table create``, ``asset create``, ``rows insert|update``, folder ingest, summarized
outputs and the dataset element-type hint, run in-process through ``main(argv)``."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog
from assetry.cli.output import Output, aligned, summarized
from tests.cli.test_cli import make_runner
from tests.conftest import NewCatalog


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    return make_runner(capsys)


@pytest.fixture
def loc(new_catalog: NewCatalog, tmp_path: Path) -> str:
    path = tmp_path / "cat"
    with new_catalog(path) as cat:
        cat.create_vocabulary("Species")
        cat.add_term("Species", "Mus musculus", synonyms=["mouse"])
    return str(path)


def c(loc: str, *argv: str) -> list[str]:
    return ["--catalog", loc, *argv]


def column_types(loc: str, table: str) -> dict[str, tuple[str, bool]]:
    with Catalog(loc) as cat:
        [entry] = [t for t in cat.model["tables"] if t["name"] == table]
    return {col["name"]: (col["type"], col.get("nullok", True)) for col in entry["columns"]}


# --- table create, asset create ------------------------------------------------------------


def test_table_create_with_columns_refs_and_comment(run: Any, loc: str) -> None:
    result = run(
        *c(loc, "table", "create", "Subject", "--column", "Name:text!", "--column", "Age:int4"),
        "--column", "Notes:longtext", "--ref", "Species", "--comment", "a subject",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "Created table 'Subject'" in result.out
    types = column_types(loc, "Subject")
    assert types["Name"] == ("text", False)
    assert types["Age"] == ("int4", True)
    assert types["Notes"] == ("text", True)  # a DerivaML alias
    assert "Species" in types
    with Catalog(loc) as cat:
        [entry] = [t for t in cat.model["tables"] if t["name"] == "Subject"]
        assert entry["comment"] == "a subject"
        cat.insert("Subject", [{"Name": "S1", "Species": "mouse"}])


def test_table_create_json_and_errors(run: Any, loc: str) -> None:
    doc = run(*c(loc, "--json", "table", "create", "Plain", "--column", "X:float8")).json()
    assert doc["name"] == "Plain" and doc["kind"] == "table"
    bad_type = run(*c(loc, "table", "create", "Bad", "--column", "Age:intx"))
    bad_type.assert_one_line_error("unknown column type 'intx'", "int4")
    run(*c(loc, "table", "create", "Bad", "--column", "Age:")).assert_one_line_error("NAME:TYPE")
    run(*c(loc, "table", "create", "Bad2", "--ref", "Nope")).assert_one_line_error("Nope")
    run(*c(loc, "table", "create", "Plain")).assert_one_line_error("Plain")
    with Catalog(loc) as cat:
        assert "Bad" not in cat.list_tables() and "Bad2" not in cat.list_tables()


def test_asset_create(run: Any, loc: str) -> None:
    run(*c(loc, "table", "create", "Subject", "--column", "Name:text!"))
    result = run(
        *c(loc, "asset", "create", "Image", "--column", "Width:int4", "--ref", "Subject"),
        "--comment", "images",
    )  # fmt: skip
    assert result.code == 0, result.err
    with Catalog(loc) as cat:
        assert "Image" in cat.list_tables(kind="asset")
        assert cat.lookup_term("Asset_Type", "Image").name == "Image"
    types = column_types(loc, "Image")
    assert types["Width"] == ("int4", True) and "Subject" in types and "SHA256" in types


# --- rows insert, update ---------------------------------------------------------------------


@pytest.fixture
def subjects(run: Any, loc: str) -> str:
    result = run(
        *c(loc, "table", "create", "Subject", "--column", "Name:text!", "--column", "Age:int4"),
        "--column", "Weight:float8", "--column", "Alive:boolean", "--column", "Extra:json",
        "--ref", "Species",
    )  # fmt: skip
    assert result.code == 0, result.err
    return loc


def test_rows_insert_csv_types_and_nulls(run: Any, subjects: str, tmp_path: Path) -> None:
    data = tmp_path / "subjects.csv"
    data.write_text(
        'Name,Age,Weight,Alive,Extra,Species\nS1,3,1.5,true,"{""a"": 1}",mouse\nS2,,,,,\n',
        encoding="utf-8",
    )
    result = run(*c(subjects, "rows", "insert", "Subject", str(data)))
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "Inserted 2 row(s) of Subject:"
    with Catalog(subjects) as cat:
        rows = sorted(cat.get_table_as_dict("Subject"), key=lambda r: r["Name"])
    assert [r["RID"] in result.out for r in rows] == [True, True]
    one, two = rows
    assert (one["Age"], one["Weight"], one["Alive"], one["Extra"]) == (3, 1.5, True, {"a": 1})
    assert one["Species"] == "Mus musculus"
    assert (two["Age"], two["Weight"], two["Alive"], two["Extra"], two["Species"]) == (
        None,
        None,
        None,
        None,
        None,
    )


def test_rows_insert_json_and_update(run: Any, subjects: str, tmp_path: Path) -> None:
    data = tmp_path / "rows.json"
    data.write_text(json.dumps([{"Name": "J1", "Age": 7}, {"Name": "J2"}]))
    doc = run(*c(subjects, "--json", "rows", "insert", "Subject", str(data))).json()
    assert doc["table"] == "Subject" and len(doc["rids"]) == 2
    change = tmp_path / "change.csv"
    change.write_text(f"RID,Age\n{doc['rids'][0]},8\n{doc['rids'][1]},\n")
    updated = run(*c(subjects, "--json", "rows", "update", "subject", str(change))).json()
    assert updated["rids"] == doc["rids"]
    with Catalog(subjects) as cat:
        ages = {r["Name"]: r["Age"] for r in cat.get_table_as_dict("Subject")}
    assert ages == {"J1": 8, "J2": None}


def test_rows_insert_errors(run: Any, subjects: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"Name": "B1", "Age": "old"}, {"Age": 3}]))
    result = run(*c(subjects, "rows", "insert", "Subject", str(bad)))
    result.assert_one_line_error("Age", "Name")  # every problem at once, on one line
    csv = tmp_path / "bad.csv"
    csv.write_text("Name,Age\nB2,old\n")
    run(*c(subjects, "rows", "insert", "Subject", str(csv))).assert_one_line_error("'old'")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("Name,Age\nB3\n")
    run(*c(subjects, "rows", "insert", "Subject", str(ragged))).assert_one_line_error("line 2")
    obj = tmp_path / "obj.json"
    obj.write_text('{"Name": "B4"}')
    run(*c(subjects, "rows", "insert", "Subject", str(obj))).assert_one_line_error("list")
    txt = tmp_path / "rows.txt"
    txt.write_text("Name\nB5\n")
    run(*c(subjects, "rows", "insert", "Subject", str(txt))).assert_one_line_error("--format")
    assert run(*c(subjects, "rows", "insert", "Subject", str(txt), "--format", "csv")).code == 0
    run(*c(subjects, "rows", "insert", "Nope", str(csv))).assert_one_line_error("Nope")
    missing = str(tmp_path / "absent.csv")
    run(*c(subjects, "rows", "insert", "Subject", missing)).assert_one_line_error("absent.csv")
    with Catalog(subjects) as cat:
        assert [r["Name"] for r in cat.get_table_as_dict("Subject")] == ["B5"]


# --- assets ingest: folders, --glob, --set, already present, checks first ------------------


@pytest.fixture
def images(run: Any, loc: str) -> str:
    result = run(*c(loc, "asset", "create", "Image", "--column", "Width:int4"))
    assert result.code == 0, result.err
    return loc


def scans(tmp_path: Path) -> Path:
    folder = tmp_path / "scans"
    (folder / "day2").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"a")
    (folder / "day2" / "b.png").write_bytes(b"bb")
    (folder / "notes.txt").write_bytes(b"notes")
    return folder


def test_ingest_a_folder_with_glob_and_set(run: Any, images: str, tmp_path: Path) -> None:
    folder = scans(tmp_path)
    result = run(
        *c(images, "--json", "assets", "ingest", "Image", str(folder), "--glob", "*.png"),
        "--set", "Width=512",
    )  # fmt: skip
    assert result.code == 0, result.err
    doc = result.json()
    assert sorted(a["Filename"] for a in doc["assets"]) == ["a.png", "b.png"]
    assert doc["ingested"] == doc["rids"] and doc["already_present"] == []
    with Catalog(images) as cat:
        assert {a["Width"] for a in cat.list_assets("Image")} == {512}
    everything = run(*c(images, "--json", "assets", "ingest", "Image", str(folder))).json()
    assert sorted(a["Filename"] for a in everything["assets"]) == ["a.png", "b.png", "notes.txt"]
    assert len(everything["ingested"]) == 1 and len(everything["already_present"]) == 2


def test_reingesting_the_same_bytes_says_already_present(
    run: Any, images: str, tmp_path: Path
) -> None:
    folder = scans(tmp_path)
    first = run(*c(images, "assets", "ingest", "Image", str(folder)))
    assert first.code == 0 and first.out.startswith("Ingested 3 file(s) into Image:")
    again = run(*c(images, "assets", "ingest", "Image", str(folder)))
    assert again.code == 0, again.err
    assert "Ingested" not in again.out
    assert again.out.startswith("Already present in Image (3 file(s)")
    with Catalog(images) as cat:
        assert len(cat.list_assets("Image")) == 3


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["assets", "ingest", "Nope", "{folder}"], "Nope"),
        (["assets", "ingest", "Image", "{folder}", "--type", "Blurry"], "Blurry"),
        (["assets", "ingest", "Image", "{folder}", "--type", "Image", "--type", "X1"], "X1"),
        (["assets", "ingest", "Image", "{folder}", "--set", "Height=1"], "Height"),
        (["assets", "ingest", "Image", "{folder}", "--set", "Width=wide"], "Width"),
        (["assets", "ingest", "Species", "{folder}"], "not an asset table"),
        (["assets", "ingest", "Image", "{folder}", "--glob", "*.tif"], "no files"),
        (["assets", "ingest", "Image", "{folder}/absent.png"], "absent.png"),
    ],
)
def test_ingest_checks_before_creating_anything(
    run: Any, images: str, tmp_path: Path, argv: list[str], fragment: str
) -> None:
    folder = scans(tmp_path)
    with Catalog(images) as cat:
        before = cat.list_executions()
    result = run(*c(images, *[a.replace("{folder}", str(folder)) for a in argv]))
    result.assert_one_line_error(fragment)
    with Catalog(images) as cat:
        assert cat.list_executions() == before
        assert cat.list_assets("Image") == []


# --- summarized outputs ----------------------------------------------------------------------


def test_summarized_counts_past_the_limit() -> None:
    summary = summarized(iter(range(50)), show_all=False)
    assert summary.shown == list(range(20)) and summary.total == 50 and summary.hidden == 30
    assert "30 more" in (summary.more() or "") and "--all" in (summary.more() or "")
    everything = summarized(range(50), show_all=True)
    assert everything.shown == list(range(50)) and everything.more() is None
    assert summarized([1, 2], show_all=False, limit=5).more() is None


def test_columns_fit_rids_of_any_length() -> None:
    rows = [["1-A", "x"]] * 150 + [["ABCDEFGHIJKLMNOP-1234", "y"]]
    lines = list(aligned(["RID", "NAME"], rows))
    assert lines[-1] == "ABCDEFGHIJKLMNOP-1234  y"
    short = [["1-A", "x"], ["ABCDEFGHIJKLMNOP-1234", "y"]]
    first, rule, a, b = aligned(["RID", "NAME"], short)
    assert a.index("x") == b.index("y") == first.index("NAME")


def test_ingest_lists_the_first_20_unless_all(run: Any, images: str, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(25):
        (folder / f"f{n:02}.txt").write_text(f"file {n}")
    result = run(*c(images, "assets", "ingest", "Image", str(folder)))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == "Ingested 25 file(s) into Image:"
    assert len(lines) == 1 + 2 + 20 + 1 and "5 more" in lines[-1]
    again = run(*c(images, "assets", "ingest", "Image", str(folder), "--all"))
    assert len(again.out.splitlines()) == 1 + 2 + 25


def test_fsck_summarizes_unreferenced_objects(run: Any, images: str) -> None:
    with Catalog(images) as cat:
        for n in range(23):
            cat._context.store().put_stream(io.BytesIO(f"stray {n}".encode()))
    result = run(*c(images, "fsck"))
    assert result.code == 0, result.err
    assert "Unreferenced objects (23)" in result.out
    assert "3 more" in result.out
    full = run(*c(images, "fsck", "--all"))
    assert "more" not in full.out and len(full.out.splitlines()) > len(result.out.splitlines())


def test_output_summary_table(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output(False, sys.stdout)
    out.summary_table(["N"], ([n] for n in range(30)), empty="(none)", show_all=False, limit=3)
    lines = capsys.readouterr().out.splitlines()
    more = "... and 27 more (showing 3 of 30; --all shows every one)"
    assert lines == ["N", "-", "0", "1", "2", more]


# --- dataset add on a table that is not an element type ---------------------------------------


def test_dataset_add_names_the_element_type_command(run: Any, loc: str, tmp_path: Path) -> None:
    run(*c(loc, "table", "create", "Subject", "--column", "Name:text!"))
    with Catalog(loc) as cat:
        [rid] = cat.insert("Subject", [{"Name": "S1"}])
        dataset = cat.create_dataset()
    result = run(*c(loc, "dataset", "add", dataset, rid))
    result.assert_one_line_error("assetry dataset element-type Subject")
    assert run(*c(loc, "dataset", "element-type", "Subject")).code == 0
    assert run(*c(loc, "dataset", "add", dataset, rid)).code == 0


def test_table_index(run: Any, loc: str) -> None:
    assert run(*c(loc, "table", "create", "Subject", "--column", "Code", "--column", "Age:int4"))
    result = run(*c(loc, "table", "index", "Subject", "Age", "Code"))
    assert result.code == 0, result.err
    assert "Indexed Subject(Age, Code)" in result.out
    with Catalog(loc) as cat:
        [entry] = [t for t in cat.model["tables"] if t["name"] == "Subject"]
    assert entry["indexes"] == [["Age", "Code"]]
    result = run(*c(loc, "table", "index", "Subject", "Nope"))
    assert result.code == 1
    assert "no column 'Nope'" in result.err
