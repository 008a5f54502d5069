"""The ``assetry`` command line, run in-process through ``main(argv)``."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assetry import BuiltinType, Catalog, ColumnDef, TableDef, __version__
from assetry.cli.main import main
from tests.conftest import BuildCatalog, NewCatalog


class Result:
    """What one run of the command produced."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def json(self) -> Any:
        return json.loads(self.out)

    def assert_one_line_error(self, *fragments: str) -> None:
        assert self.code == 1, (self.out, self.err)
        assert self.err.startswith("assetry: error: "), self.err
        assert self.err.count("\n") == 1 and self.err.endswith("\n"), self.err
        assert "Traceback" not in self.err
        for fragment in fragments:
            assert fragment in self.err


def make_runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """A function that runs ``main(argv)`` in-process and returns what it produced."""

    def runner(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return runner


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    return make_runner(capsys)


@pytest.fixture
def location(new_catalog: NewCatalog, tmp_path: Path) -> str:
    """An empty catalog."""
    path = tmp_path / "cat"
    new_catalog(path).close()
    return str(path)


def study_model(cat: Catalog) -> list[str]:
    """A Species vocabulary and two Subject rows (S1 updated once); returns their RIDs."""
    cat.create_vocabulary("Species", comment="species of a subject")
    cat.add_term("Species", "Mus musculus", description="mouse", synonyms=["mouse"])
    cat.add_term("Species", "Danio rerio", synonyms=["zebrafish"])
    cat.create_table(
        TableDef(
            "Subject",
            column_defs=[
                ColumnDef("Name", BuiltinType.text, nullok=False),
                ColumnDef("Age", BuiltinType.int4),
            ],
            referenced_tables=["Species"],
            comment="a subject",
        )
    )
    rids = cat.insert(
        "Subject",
        [
            {"Name": "S1", "Species": "mouse", "Age": 3},
            {"Name": "S2", "Species": "zebrafish", "Age": 5},
        ],
    )
    cat.update("Subject", [{"RID": rids[0], "Age": 4}])
    return rids


@pytest.fixture
def study(built_catalog: BuildCatalog) -> tuple[str, list[str]]:
    """A catalog holding ``study_model`` (copied from one built once); (location, RIDs)."""
    cat, rids = built_catalog(study_model)
    cat.close()
    return cat.location, rids


# --- global behaviour ------------------------------------------------------------------------


def test_version(run: Any) -> None:
    result = run("--version")
    assert result.code == 0
    assert result.out.strip() == f"assetry {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["no-such-command"],
        ["table"],
        ["table", "rows"],
        ["table", "rows", "Subject", "--limit", "-1"],
        ["table", "rows", "Subject", "--filter", "no-equals-sign"],
        ["table", "list", "--kind", "nonsense"],
        ["vocab", "lookup", "Species"],
    ],
)
def test_usage_errors_exit_2(run: Any, argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2
    assert "usage:" in result.err


def test_help_exits_0(run: Any) -> None:
    result = run("--help")
    assert result.code == 0
    for command in ("init", "upgrade", "model", "vocab", "table", "history", "demo", "assets"):
        assert command in result.out


def test_missing_catalog_is_one_line_error(run: Any, tmp_path: Path) -> None:
    result = run("--catalog", str(tmp_path / "nowhere"), "table", "list")
    result.assert_one_line_error("no catalog at", "assetry init")
    assert result.out == ""


def test_global_options_after_the_subcommand(run: Any, location: str) -> None:
    result = run("table", "list", "--catalog", location, "--json")
    assert result.code == 0
    assert "Asset_Type" in [t["name"] for t in result.json()]


def test_catalog_from_environment(run: Any, location: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETRY_CATALOG", location)
    result = run("--json", "table", "list", "--kind", "vocabulary")
    assert result.code == 0
    assert "Asset_Role" in [t["name"] for t in result.json()]


def test_default_location_is_dot_assetry(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSETRY_CATALOG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run("init").code == 0
    assert (tmp_path / ".assetry" / "catalog.db").is_file()
    assert run("table", "list").code == 0


# --- init, upgrade ---------------------------------------------------------------------------


def test_init_text_and_json(run: Any, tmp_path: Path) -> None:
    result = run("--catalog", str(tmp_path / "a"), "init")
    assert result.code == 0
    assert "Created catalog at" in result.out and str(tmp_path / "a") in result.out
    store = tmp_path / "store"
    result = run(
        "--json", "--catalog", str(tmp_path / "b"), "init", "--store", str(store),
        "--domain-schema", "lab",
    )  # fmt: skip
    assert result.code == 0
    info = result.json()
    assert info["domain_schema"] == "lab"
    assert Path(info["store"]) == store.resolve()
    assert info["rid_prefix"]
    with Catalog(tmp_path / "b") as cat:
        assert cat.domain_schema == "lab"


def test_init_twice_is_an_error(run: Any, location: str) -> None:
    run("--catalog", location, "init").assert_one_line_error("already exists")


def test_init_unknown_store_scheme(run: Any, tmp_path: Path) -> None:
    result = run("--catalog", str(tmp_path / "c"), "init", "--store", "ftp://x/y")
    result.assert_one_line_error("unknown object store scheme")


def test_upgrade(run: Any, location: str) -> None:
    result = run("--catalog", location, "--json", "upgrade")
    assert result.code == 0
    assert result.json()["schema_version"]
    assert "schema version" in run("--catalog", location, "upgrade").out


def test_upgrade_without_catalog_creates_nothing(run: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    run("--catalog", str(empty), "upgrade").assert_one_line_error("no catalog at")
    assert list(empty.iterdir()) == []


# --- model -----------------------------------------------------------------------------------


def test_model_show(run: Any, study: tuple[str, list[str]]) -> None:
    loc, _ = study
    doc = run("--catalog", loc, "--json", "model", "show").json()
    with Catalog(loc) as cat:
        assert doc == json.loads(json.dumps(cat.model))
    text = run("--catalog", loc, "model", "show").out
    assert "Domain tables:" in text and "System tables:" in text
    assert "Species -> Species" in text
    assert "vocabulary" in text


def _model_file(tmp_path: Path, doc: Any, name: str = "model.json") -> str:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


NEW_TABLE = {
    "tables": [
        {
            "name": "Sample",
            "kind": "table",
            "columns": [{"name": "Label", "type": "text", "nullok": False}],
        }
    ]
}


def test_model_apply(run: Any, location: str, tmp_path: Path) -> None:
    file = _model_file(tmp_path, NEW_TABLE)
    result = run("--catalog", location, "model", "apply", file)
    assert result.code == 0, result.err
    assert "Applied" in result.out
    assert run("--catalog", location, "table", "show", "Sample").code == 0
    again = run("--catalog", location, "--json", "model", "apply", file)
    assert again.code == 0
    assert again.json() == {"changes": []}


def test_model_apply_from_stdin(run: Any, location: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(NEW_TABLE)))
    assert run("--catalog", location, "model", "apply", "-").code == 0
    with Catalog(location) as cat:
        assert "Sample" in cat.list_tables(kind="table")


def test_model_apply_invalid_json(run: Any, location: str, tmp_path: Path) -> None:
    file = _model_file(tmp_path, '{"tables": [', name="broken.json")
    run("--catalog", location, "model", "apply", file).assert_one_line_error(
        "broken.json", "not valid JSON", "line 1"
    )


def test_model_apply_schema_violation(run: Any, location: str, tmp_path: Path) -> None:
    file = _model_file(tmp_path, {"tables": [{"name": "X"}]})
    run("--catalog", location, "model", "apply", file).assert_one_line_error(
        "model document", "'kind' is a required property"
    )
    file = _model_file(tmp_path, [1, 2], name="list.json")
    run("--catalog", location, "model", "apply", file).assert_one_line_error("JSON object")


def test_model_apply_missing_file(run: Any, location: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.json")
    run("--catalog", location, "model", "apply", missing).assert_one_line_error(
        "absent.json", "does not exist"
    )


# --- vocab -----------------------------------------------------------------------------------


def test_vocab_commands(run: Any, location: str) -> None:
    c = ["--catalog", location]
    created = run(*c, "vocab", "create", "Tissue", "--comment", "x")
    assert "Created vocabulary 'Tissue'" in created.out
    added = run(
        *c, "--json", "vocab", "add-term", "Tissue", "Liver", "--description", "an organ",
        "--synonym", "hepar", "--synonym", "jecur",
    )  # fmt: skip
    assert added.code == 0, added.err
    term = added.json()
    assert term["name"] == "Liver" and term["synonyms"] == ["hepar", "jecur"]
    assert term["description"] == "an organ" and term["rid"] and term["id"]

    found = run(*c, "--json", "vocab", "lookup", "Tissue", "HEPAR").json()
    assert found["name"] == "Liver"
    text = run(*c, "vocab", "lookup", "Tissue", "liver").out
    assert "Liver" in text and "hepar, jecur" in text

    assert run(*c, "vocab", "add-term", "Tissue", "Heart", "--synonym", "cor", "cardia").code == 0
    listed = run(*c, "--json", "vocab", "list", "Tissue").json()
    assert [t["name"] for t in listed] == ["Heart", "Liver"]
    assert listed[0]["synonyms"] == ["cor", "cardia"]
    assert "Heart" in run(*c, "vocab", "list", "Tissue").out

    updated = run(*c, "--json", "vocab", "add-synonym", "Tissue", "Heart", "kardia").json()
    assert "kardia" in updated["synonyms"]

    deleted = run(*c, "--json", "vocab", "delete-term", "Tissue", "cor")
    assert deleted.json() == {"vocabulary": "Tissue", "deleted": "Heart"}
    run(*c, "vocab", "lookup", "Tissue", "Heart").assert_one_line_error("Heart")


def test_vocab_add_existing_term(run: Any, study: tuple[str, list[str]]) -> None:
    c = ["--catalog", study[0]]
    run(*c, "vocab", "add-term", "Species", "mus MUSCULUS").assert_one_line_error("already")
    again = run(*c, "--json", "vocab", "add-term", "Species", "Mus musculus", "--exists-ok")
    assert again.code == 0 and again.json()["name"] == "Mus musculus"


def test_vocab_errors(run: Any, study: tuple[str, list[str]]) -> None:
    c = ["--catalog", study[0]]
    run(*c, "vocab", "lookup", "Species", "hamster").assert_one_line_error("'Species'", "'hamster'")
    run(*c, "vocab", "lookup", "Nope", "x").assert_one_line_error("'Nope'")
    run(*c, "vocab", "delete-term", "Species", "mouse").assert_one_line_error("still used")
    run(*c, "vocab", "list", "Subject").assert_one_line_error("not a vocabulary")


# --- table -----------------------------------------------------------------------------------


def test_table_list(run: Any, study: tuple[str, list[str]]) -> None:
    c = ["--catalog", study[0]]
    tables = run(*c, "--json", "table", "list").json()
    kinds = {t["name"]: t["kind"] for t in tables}
    assert kinds["Subject"] == "table" and kinds["Species"] == "vocabulary"
    assert kinds["Dataset"] == "system"
    only = run(*c, "--json", "table", "list", "--kind", "table").json()
    assert [t["name"] for t in only] == ["Subject"]
    text = run(*c, "table", "list", "--kind", "vocabulary").out
    assert "Species" in text and "Subject" not in text
    assets = run(*c, "table", "list", "--kind", "asset").out
    assert "Execution_Metadata" in assets and "Subject" not in assets


def test_table_show(run: Any, study: tuple[str, list[str]]) -> None:
    c = ["--catalog", study[0]]
    table = run(*c, "--json", "table", "show", "Subject").json()
    assert table["kind"] == "table"
    assert {"column": "Species", "table": "Species", "referenced_column": "Name"} in table[
        "foreign_keys"
    ]
    text = run(*c, "table", "show", "Subject").out
    assert "Subject (table table" in text
    name_line = next(line for line in text.splitlines() if line.startswith("Name "))
    assert name_line.split()[:3] == ["Name", "text", "no"]
    assert "Species.Name" in text
    run(*c, "table", "show", "Nope").assert_one_line_error("'Nope'")


def test_table_rows_text(run: Any, study: tuple[str, list[str]]) -> None:
    loc, rids = study
    result = run("--catalog", loc, "table", "rows", "Subject")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["RID", "Name", "Age", "Species"]
    assert rids[0] in lines[2] and "Mus musculus" in lines[2]
    assert len(lines) == 4
    full = run("--catalog", loc, "table", "rows", "Subject", "--all-columns").out
    assert "RCT" in full.splitlines()[0]


def test_table_rows_json(run: Any, study: tuple[str, list[str]]) -> None:
    loc, rids = study
    rows = run("--catalog", loc, "--json", "table", "rows", "Subject").json()
    assert [r["RID"] for r in rows] == sorted(rids)
    assert rows[0]["Species"] == "Mus musculus" and rows[0]["Age"] == 4
    created = dt.datetime.fromisoformat(rows[0]["RCT"])
    assert created.tzinfo is not None


def test_table_rows_paging_filters_and_as_of(run: Any, study: tuple[str, list[str]]) -> None:
    loc, rids = study
    c = ["--catalog", loc, "--json", "table", "rows", "Subject"]
    assert [r["RID"] for r in run(*c, "--limit", "1").json()] == [rids[0]]
    assert [r["RID"] for r in run(*c, "--limit", "1", "--offset", "1").json()] == [rids[1]]
    assert run(*c, "--offset", "5").json() == []
    assert [r["Name"] for r in run(*c, "--filter", "Species=MOUSE").json()] == ["S1"]
    assert [r["Name"] for r in run(*c, "--filter", "Age=5").json()] == ["S2"]
    both = run(*c, "--filter", "Name=S1", "--filter", "Name=S2").json()
    assert [r["Name"] for r in both] == ["S1", "S2"]
    assert run(*c, "--filter", "Name=S1", "--filter", "Age=5").json() == []
    history = run("--catalog", loc, "--json", "history", rids[0]).json()
    first = history[0]["snapshot"]
    old = run(*c, "--as-of", str(first), "--filter", f"RID={rids[0]}").json()
    assert old[0]["Age"] == 3
    empty = run("--catalog", loc, "table", "rows", "Subject", "--filter", "Name=none")
    assert empty.out.strip() == "(no rows)"


def test_table_rows_errors(run: Any, study: tuple[str, list[str]]) -> None:
    c = ["--catalog", study[0], "--json", "table", "rows"]
    unknown = run(*c, "Nope")
    unknown.assert_one_line_error("table 'Nope' does not exist")
    assert unknown.out == ""
    run(*c, "Subject", "--filter", "Age=old").assert_one_line_error("Age", "integer")
    run(*c, "Subject", "--filter", "Colour=red").assert_one_line_error("Colour")


# --- history ---------------------------------------------------------------------------------


def test_history(run: Any, study: tuple[str, list[str]]) -> None:
    loc, rids = study
    versions = run("--catalog", loc, "--json", "history", rids[0].lower()).json()
    assert [v["action"] for v in versions] == ["insert", "update"]
    assert versions[1]["row"]["Age"] == 4
    dt.datetime.fromisoformat(versions[0]["time"])
    text = run("--catalog", loc, "history", rids[0]).out
    assert f"History of {rids[0]} (table Subject)" in text
    assert "Age: 3 -> 4" in text
    run("--catalog", loc, "history", "ZZZZ-ZZZZ").assert_one_line_error("ZZZZ-ZZZZ")


# --- demo ------------------------------------------------------------------------------------


def test_demo(run: Any, tmp_path: Path) -> None:
    folder = tmp_path / "build" / "demo"
    result = run("demo", "--dir", str(folder))
    assert result.code == 0, result.err
    assert 'Species "mouse": the catalog stored "Mus musculus"' in result.out
    assert "Age: 8 -> 9" in result.out
    assert "not a term of vocabulary 'Species'" in result.out
    assert 'cat.upload_assets("Image", paths)' in result.out
    assert "--format dot" in result.out
    with Catalog(folder / "catalog") as cat:
        raw = cat.list_assets("Image", asset_type="Image")
        derived = cat.list_assets("Image", asset_type="Processed_Image")
        assert len(raw) == 3 and len(derived) == 3
        for image in raw + derived:
            path = cat.download_asset(image["RID"], tmp_path / "down" / image["RID"])
            assert path.stat().st_size == image["Length"]
            assert image["Subject"] and image["Width"] and image["Height"]
        assert {a["Filename"] for a in raw} == {p.name for p in (folder / "files").iterdir()}
        [run_row] = cat.list_executions(status="Completed", workflow=_demo_workflow(cat))
        assert run_row["Upload_Status"] == "Uploaded"
        assert run_row["Parameters"]["operation"] == "invert"
        assets = cat.list_execution_assets(run_row["RID"])
        inputs = {a["RID"] for a in assets if a["Asset_Role"] == "Input"}
        assert {a["RID"] for a in raw} <= inputs
        outputs = {a["RID"]: a for a in assets if a["Asset_Role"] == "Output"}
        assert {a["RID"] for a in derived} < set(outputs)
        [metrics] = [a for a in outputs.values() if a["Table"] == "Execution_Asset"]
        assert metrics["Asset_Type"] == ["Metrics_File"]
        report = json.loads(cat.download_asset(metrics["RID"], tmp_path / "m").read_text())
        assert len(report["images"]) == 3
        root = derived[0]["RID"]
        graph = cat.lineage(root)
        assert {a["RID"] for a in raw} | {run_row["RID"]} <= set(graph.rids())
    # The tour prints the lineage of one derived file as text.
    assert any(line.strip().startswith("generated by ") for line in result.out.splitlines())


def _demo_workflow(cat: Catalog) -> str:
    [wf] = [w for w in cat.get_table_as_dict("Workflow") if w["Name"] == "demo-processing"]
    assert wf["URL"] == "assetry:demo" and wf["Workflow_Type"] == "Feature_Creation"
    return str(wf["RID"])


def test_demo_suggested_commands_work(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("demo", "--dir", "demo")
    assert result.code == 0, result.err
    suggested = [
        shlex.split(line)[1:]
        for line in result.out.splitlines()
        if line.startswith("  assetry --catalog ") and "|" not in line
    ]
    assert len(suggested) >= 8
    for argv in suggested:
        done = run(*argv)
        assert done.code == 0, (argv, done.err)
        assert done.out.strip(), argv
    assert (tmp_path / "downloaded").is_dir()


def test_demo_refuses_a_non_empty_folder(run: Any, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    run("demo", "--dir", str(tmp_path)).assert_one_line_error(str(tmp_path), "not empty")
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_demo_json_and_default_folder(
    run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("--json", "demo")
    assert result.code == 0, result.err
    summary = result.json()
    assert (tmp_path / "assetry-demo" / "catalog" / "catalog.db").is_file()
    assert {s["Species"] for s in summary["subjects"]} == {"Mus musculus", "Danio rerio"}
    assert [v["action"] for v in summary["history"]["versions"]] == ["insert", "update"]
    assert summary["execution"]["status"] == "Completed"
    assert summary["execution"]["upload_status"] == "Uploaded"
    assert summary["workflow"]["url"] == "assetry:demo"
    assert len(summary["raw"]) == 3 and len(summary["outputs"]["Image"]) == 3
    assert len(summary["images"]) == 6
    assert summary["lineage"]["root"] == summary["derived"]
    edges = {tuple(e) for e in summary["lineage"]["edges"]}
    assert (summary["execution"]["rid"], summary["derived"], "generated") in edges


# --- the installed entry points --------------------------------------------------------------


def _script() -> str:
    found = shutil.which("assetry", path=str(Path(sys.executable).parent)) or shutil.which(
        "assetry"
    )
    if found is None:
        pytest.fail("the assetry console script is not installed (pip install -e .)")
    return found


def test_console_script(location: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ASSETRY_CATALOG"}
    done = subprocess.run(
        [_script(), "--catalog", location, "--json", "table", "list", "--kind", "vocabulary"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "Asset_Type" in [t["name"] for t in json.loads(done.stdout)]
    failed = subprocess.run(
        [sys.executable, "-m", "assetry", "--catalog", location, "table", "show", "Nope"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert failed.returncode == 1
    assert failed.stderr == "assetry: error: table 'Nope' does not exist\n"


def test_cloud_libraries_retry_noise_stays_off_the_terminal(tmp_path: Path) -> None:
    """gcsfs logs each failed attempt with its traceback; a command reports one line. In
    a child process, where no test harness holds the log records."""
    child = textwrap.dedent(
        """
        import logging, sys
        from assetry.cli.main import main
        chosen = logging.getLogger("adlfs")
        chosen.setLevel(logging.ERROR)  # a level the user chose is kept
        code = main(["--catalog", sys.argv[1], "init"])
        logging.getLogger("gcsfs").error("_request out of retries on exception: refused")
        chosen.error("adlfs speaks")
        sys.exit(code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child, str(tmp_path / "c")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "out of retries" not in done.stderr
    assert "adlfs speaks" in done.stderr
