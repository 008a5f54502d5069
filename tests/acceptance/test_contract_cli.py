"""User-style scenarios for API.md section 10 (the ``assetry`` command), written from the
contract only: subcommands mirroring the API, ``--catalog`` / ``$ASSETRY_CATALOG``,
``--json`` machine output, exit codes 0 (ok), 1 (user error, one clear line), 2 (usage).

Most scenarios call the command's ``main(argv)`` in-process (fast); a few run the installed
``assetry`` entry point and ``python -m assetry`` as a user's shell would.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, ColumnDef, TableDef
from assetry.cli.main import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Runner = Callable[..., Result]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Runner:
    def call(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return call


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-template") / "cat"
    assert main(["init", "--catalog", str(path)]) == 0
    return path


@pytest.fixture
def loc(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A catalog made by ``assetry init`` (cloned), named by ``$ASSETRY_CATALOG``; the
    working directory is the test's temporary folder."""
    from tests.conftest import clone_sqlite

    clone_sqlite(template, tmp_path / "cat").close()
    monkeypatch.setenv("ASSETRY_CATALOG", str(tmp_path / "cat"))
    monkeypatch.chdir(tmp_path)
    yield str(tmp_path / "cat")


def one_error_line(result: Result, *words: str) -> None:
    assert result.code == 1, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    for word in words:
        assert word in lines[0], (word, lines[0])


def ingest(run, tmp_path: Path, *names: str) -> list[str]:
    files = []
    for name in names:
        (tmp_path / name).write_text(f"content of {name}\n")
        files.append(str(tmp_path / name))
    result = run("--json", "assets", "ingest", "Image", *files)
    assert result.code == 0, result.err
    doc = result.json()
    return [a["RID"] for a in doc["assets"]]


# --- the command surface -------------------------------------------------------------------

DOCUMENTED = [
    ["init"],
    ["upgrade"],
    ["model", "show"],
    ["model", "apply"],
    *[["vocab", s] for s in ("create", "add-term", "lookup", "list", "add-synonym", "delete-term")],
    *[["table", s] for s in ("list", "show", "rows")],
    *[["assets", s] for s in ("list", "ingest", "download")],
    *[["dataset", s] for s in ("create", "add", "remove", "members", "version", "history", "list")],
    *[["bag", s] for s in ("export", "download", "validate", "materialize", "import")],
    *[["exec", s] for s in ("list", "show", "restore")],
    ["lineage"],
    ["history"],
    ["serve"],
    *[["token", s] for s in ("create", "list", "revoke")],
    ["fsck"],
    ["demo"],
]


@pytest.mark.parametrize("command", DOCUMENTED, ids=" ".join)
def test_every_documented_subcommand_exists(run: Runner, command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.code == 0
    assert "--catalog" in result.out and "--json" in result.out


def test_documented_options(run: Runner) -> None:
    lineage = run("lineage", "--help").out
    for fmt in ("text", "dot", "mermaid", "prov"):
        assert fmt in lineage
    assert "--repair" in run("fsck", "--help").out
    serve = run("serve", "--help").out
    for option in ("--store", "--host", "--port"):
        assert option in serve
    token = run("token", "create", "--help").out
    for option in ("--role", "--user", "--expires-in"):
        assert option in token


def test_usage_errors_exit_2(run: Runner, loc: str) -> None:
    assert run().code == 2
    assert run("no-such-command").code == 2
    assert run("table").code == 2
    assert run("vocab", "add-term", "OnlyOneArgument").code == 2
    assert run("lineage", "X-1", "--format", "svg").code == 2
    assert run("table", "list", "--no-such-flag").code == 2


def test_entry_point_and_python_dash_m(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("assetry")
    cat = str(tmp_path / "cat")
    done = subprocess.run(
        [str(exe), "--json", "init", "--catalog", cat], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["location"]
    done = subprocess.run(
        [sys.executable, "-m", "assetry", "--catalog", cat, "table", "rows", "Nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Nope" in done.stderr
    done = subprocess.run([str(exe), "bogus"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2


# --- init, --catalog, $ASSETRY_CATALOG, upgrade ----------------------------------------------


def test_init_and_catalog_selection(
    run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETRY_CATALOG", raising=False)
    made = run("--json", "init", "--catalog", str(tmp_path / "a"))
    assert made.code == 0
    assert (tmp_path / "a" / "objects").is_dir()
    assert isinstance(made.json(), dict)

    # --catalog before or after the subcommand
    assert run("--catalog", str(tmp_path / "a"), "vocab", "create", "Species").code == 0
    listed = run(
        "table", "list", "--catalog", str(tmp_path / "a"), "--json", "--kind", "vocabulary"
    )
    assert "Species" in [t["name"] for t in listed.json()]

    # $ASSETRY_CATALOG, else ./.assetry
    monkeypatch.setenv("ASSETRY_CATALOG", str(tmp_path / "a"))
    assert run("vocab", "lookup", "Species", "x").code == 1
    assert run("--json", "vocab", "list", "Species").json() == []
    monkeypatch.delenv("ASSETRY_CATALOG")
    one_error_line(run("table", "list"), ".assetry")
    assert run("init").code == 0
    assert (tmp_path / ".assetry").is_dir()
    assert run("table", "list").code == 0

    one_error_line(run("init", "--catalog", str(tmp_path / "a")), str(tmp_path / "a"))
    one_error_line(run("init", "--catalog", str(tmp_path / "b"), "--store", "ftp://x"), "ftp")


def test_upgrade_an_older_catalog(run: Runner, tmp_path: Path) -> None:
    cat = tmp_path / "old"
    assert run("init", "--catalog", str(cat)).code == 0
    from assetry.sql import migrate
    from assetry.sql.engine import make_engine

    engine = make_engine(f"sqlite:///{cat / 'catalog.db'}")
    migrate.run(engine, "0006", downgrade=True)  # as the previous assetry left it
    engine.dispose()
    one_error_line(run("--catalog", str(cat), "table", "list"), "assetry upgrade")
    assert run("--catalog", str(cat), "upgrade").code == 0
    assert run("--catalog", str(cat), "table", "list").code == 0


# --- model, vocab, table, history ----------------------------------------------------------


def test_model_show_and_apply(run: Runner, loc: str, tmp_path: Path) -> None:
    with Catalog(loc) as cat:
        cat.create_vocabulary("Species")
        cat.create_table(TableDef("Subject", [ColumnDef("Name")], ["Species"]))
    shown = run("--json", "model", "show")
    assert shown.code == 0
    doc = shown.json()
    assert "Subject" in [t["name"] for t in doc["tables"]]
    assert "Subject" in run("model", "show").out

    (tmp_path / "model.json").write_text(shown.out)
    assert run("--catalog", str(tmp_path / "other"), "init").code == 0
    applied = run("--catalog", str(tmp_path / "other"), "model", "apply", "model.json")
    assert applied.code == 0
    with Catalog(tmp_path / "other") as other:
        assert {"Species", "Subject"} <= set(other.list_tables())
    again = run("--catalog", str(tmp_path / "other"), "--json", "model", "apply", "model.json")
    assert again.code == 0

    one_error_line(run("model", "apply", "missing.json"), "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    one_error_line(run("model", "apply", "bad.json"), "bad.json")
    (tmp_path / "invalid.json").write_text(
        json.dumps({"tables": [{"name": "bad name", "kind": "table", "columns": []}]})
    )
    one_error_line(run("model", "apply", "invalid.json"), "bad name")


def test_vocab_commands(run: Runner, loc: str) -> None:
    assert run("vocab", "create", "Species", "--comment", "kinds").code == 0
    added = run(
        "--json",
        "vocab",
        "add-term",
        "Species",
        "mouse",
        "--description",
        "Mus",
        "--synonym",
        "mus",
    )
    assert added.code == 0
    term = added.json()
    assert term["name"] == "mouse" and term["synonyms"] == ["mus"]
    for key in ("name", "description", "synonyms", "id", "uri", "rid"):
        assert key in term
    looked = run("--json", "vocab", "lookup", "Species", "MUS").json()
    assert looked["name"] == "mouse"
    assert "mouse" in run("vocab", "lookup", "Species", "mouse").out
    assert run("vocab", "add-synonym", "Species", "mouse", "Mus musculus").code == 0
    terms = run("--json", "vocab", "list", "Species").json()
    assert [(t["name"], t["synonyms"]) for t in terms] == [("mouse", ["mus", "Mus musculus"])]
    assert "mouse" in run("vocab", "list", "Species").out
    one_error_line(run("vocab", "add-term", "Species", "MOUSE"), "mouse")
    assert run("vocab", "delete-term", "Species", "mouse").code == 0
    one_error_line(run("vocab", "lookup", "Species", "mouse"), "Species", "mouse")
    one_error_line(run("vocab", "list", "Nope"), "Nope")
    one_error_line(run("vocab", "create", "bad name"), "bad name")


def test_vocab_delete_term_in_use_is_refused(run: Runner, loc: str) -> None:
    with Catalog(loc) as cat:
        cat.create_vocabulary("Species")
        cat.add_term("Species", "mouse")
        cat.create_table(TableDef("Subject", [ColumnDef("Name")], ["Species"]))
        cat.insert("Subject", [{"Name": "S1", "Species": "mouse"}])
    one_error_line(run("vocab", "delete-term", "Species", "mouse"), "mouse")


def test_table_commands(run: Runner, loc: str) -> None:
    with Catalog(loc) as cat:
        cat.create_table(
            TableDef("Subject", [ColumnDef("Name"), ColumnDef("Age", "int4")], comment="who")
        )
        rids = cat.insert("Subject", [{"Name": f"S{i}", "Age": i} for i in range(5)])
        before = cat.snapshot()
        cat.update("Subject", [{"RID": rids[0], "Age": 99}])
    tables = run("--json", "table", "list").json()
    assert {"Subject", "Asset_Type", "Execution"} <= {t["name"] for t in tables}
    kinds = run("--json", "table", "list", "--kind", "table").json()
    assert [t["name"] for t in kinds] == ["Subject"]
    assert "Subject" in run("table", "list").out

    shown = run("--json", "table", "show", "Subject").json()
    assert {"Name", "Age"} <= {c["name"] for c in shown["columns"]}
    assert "Age" in run("table", "show", "Subject").out

    rows = run("--json", "table", "rows", "Subject").json()
    assert sorted(r["RID"] for r in rows) == sorted(rids)
    page = run("--json", "table", "rows", "Subject", "--limit", "2", "--offset", "1").json()
    assert [r["RID"] for r in page] == [r["RID"] for r in rows[1:3]]
    only = run("--json", "table", "rows", "Subject", "--filter", "Age=3").json()
    assert [r["Name"] for r in only] == ["S3"]
    old = run("--json", "table", "rows", "Subject", "--as-of", str(before)).json()
    assert next(r["Age"] for r in old if r["RID"] == rids[0]) == 0
    assert "S4" in run("table", "rows", "Subject").out
    one_error_line(run("table", "rows", "Nope"), "Nope")
    one_error_line(run("table", "show", "Nope"), "Nope")


def test_history_command(run: Runner, loc: str) -> None:
    with Catalog(loc) as cat:
        cat.create_table(TableDef("Subject", [ColumnDef("Name"), ColumnDef("Age", "int4")]))
        rid = cat.insert("Subject", [{"Name": "S1", "Age": 1}])[0]
        cat.update("Subject", [{"RID": rid, "Age": 2}])
    versions = run("--json", "history", rid).json()
    assert [v["row"]["Age"] for v in versions] == [1, 2]
    text = run("history", rid.lower())
    assert text.code == 0 and rid in text.out
    one_error_line(run("history", "ZZZZ-1"), "ZZZZ-1")


# --- assets, exec, lineage, fsck -----------------------------------------------------------


def test_assets_exec_and_lineage_commands(run: Runner, loc: str, tmp_path: Path) -> None:
    with Catalog(loc) as cat:
        cat.create_asset("Image")
    first, second = ingest(run, tmp_path, "a.txt", "b.txt")
    listed = run("--json", "assets", "list", "Image").json()
    assert sorted(a["RID"] for a in listed) == sorted([first, second])
    assert all(a["Asset_Type"] == ["Image"] for a in listed)
    assert run("--json", "assets", "list", "Image", "--type", "Image").json() == listed
    assert "a.txt" in run("assets", "list", "Image").out

    got = run("assets", "download", first, "out")
    assert got.code == 0
    assert (tmp_path / "out" / "a.txt").read_text() == "content of a.txt\n"
    one_error_line(run("assets", "download", "ZZZZ-1", "out"), "ZZZZ-1")
    one_error_line(run("assets", "ingest", "Image", "no-such-file.txt"), "no-such-file.txt")

    executions = run("--json", "exec", "list").json()
    assert len(executions) == 1
    exe = executions[0]["RID"]
    assert executions[0]["Status"] == "Completed"
    assert run("--json", "exec", "list", "--status", "Failed").json() == []
    assert exe in run("exec", "show", exe).out
    assert run("--json", "exec", "show", exe).code == 0
    assert run("exec", "restore", exe).code == 0

    graph = run("--json", "lineage", first).json()
    assert {n["rid"] for n in graph["nodes"]} >= {first, exe}
    assert [exe, first, "generated"] in [list(e) for e in graph["edges"]]
    assert exe in run("lineage", first, "--format", "text").out
    assert "digraph" in run("lineage", first, "--format", "dot").out
    assert run("lineage", first, "--format", "mermaid").out.strip()
    prov = json.loads(run("lineage", first, "--format", "prov").out)
    assert "entity" in prov and "activity" in prov
    one_error_line(run("lineage", "ZZZZ-1"), "ZZZZ-1")


def test_fsck_is_a_dry_run_unless_repair(run: Runner, loc: str, tmp_path: Path) -> None:
    with Catalog(loc) as cat:
        cat.create_asset("Image")
    ingest(run, tmp_path, "a.txt")
    assert run("fsck").code == 0
    report = run("--json", "fsck").json()
    assert report["missing"] == [] and report["corrupt"] == []

    # An object no asset row refers to, old enough to be collected.
    stray_dir = Path(loc) / "objects" / "ab"
    stray_dir.mkdir(parents=True, exist_ok=True)
    stray = stray_dir / ("ab" * 31)
    stray.write_text("stray")
    old = time.time() - 3 * 86400
    import os

    os.utime(stray, (old, old))
    dry = run("--json", "fsck")
    assert dry.code == 0 and stray.exists()
    assert ("ab" * 32) in dry.json()["unreferenced"]
    assert run("fsck", "--repair").code == 0
    assert not stray.exists()
    assert run("fsck").code == 0


# --- datasets and bags ---------------------------------------------------------------------


def test_dataset_and_bag_commands(run: Runner, loc: str, tmp_path: Path) -> None:
    with Catalog(loc) as cat:
        cat.create_asset("Image")
        cat.add_dataset_element_type("Image")
    first, second = ingest(run, tmp_path, "a.txt", "b.txt")

    created = run("--json", "dataset", "create", "--type", "Training", "--description", "d")
    assert created.code == 0
    ds = created.json()["rid"]
    assert run("dataset", "add", ds, first, second).code == 0
    members = run("--json", "dataset", "members", ds).json()
    assert sorted(r["RID"] for r in members["members"]["Image"]) == sorted([first, second])
    assert run("dataset", "remove", ds, second).code == 0
    bumped = run("--json", "dataset", "version", ds, "major", "--description", "release")
    assert bumped.code == 0
    history = run("--json", "dataset", "history", ds).json()
    assert [v["version"] for v in history] == ["0.1.0", "0.2.0", "0.3.0", "1.0.0"]
    old = run("--json", "dataset", "members", ds, "--version", "0.2.0").json()
    assert len(old["members"]["Image"]) == 2
    listed = run("--json", "dataset", "list").json()
    assert [d["RID"] for d in listed] == [ds]
    assert run("--json", "dataset", "list", "--type", "Testing").json() == []
    assert ds in run("dataset", "list").out
    one_error_line(run("dataset", "add", "ZZZZ-1", first), "ZZZZ-1")

    exported = run("--json", "bag", "export", ds, "--dest", "bags")
    assert exported.code == 0
    bag = Path(exported.json()["path"])
    assert (bag / "bagit.txt").is_file()
    assert run("bag", "validate", str(bag)).code == 0
    assert run("bag", "materialize", str(bag)).code == 0
    zipped = run("--json", "bag", "export", ds, "--dest", "zips", "--archive", "zip")
    assert zipped.code == 0
    assert run("bag", "validate", zipped.json()["path"]).code == 0
    downloaded = run("--json", "bag", "download", ds, "--dest", "dl")
    assert downloaded.code == 0

    assert run("--catalog", str(tmp_path / "other"), "init").code == 0
    imported = run("--catalog", str(tmp_path / "other"), "bag", "import", str(bag))
    assert imported.code == 0, imported.err
    with Catalog(tmp_path / "other") as other:
        assert other.resolve_rid(first).table == "Image"
        assert other.resolve_rid(ds).table == "Dataset"

    (bag / "data" / "Image.csv").write_text("tampered\n")
    one_error_line(run("bag", "validate", str(bag)), str(bag.name))
    one_error_line(run("bag", "validate", "no-such-bag"), "no-such-bag")


# --- tokens, serve, demo -------------------------------------------------------------------


def test_token_commands(run: Runner, loc: str) -> None:
    made = run("--json", "token", "create", "--role", "writer", "--user", "alice")
    assert made.code == 0
    secret = made.json()["token"]
    assert isinstance(secret, str) and secret
    listed = run("--json", "token", "list")
    assert secret not in listed.out
    tokens = listed.json()
    assert [t["user"] for t in tokens] == ["alice"]
    expiring = run(
        "--json", "token", "create", "--role", "reader", "--user", "bob", "--expires-in", "30d"
    )
    assert expiring.code == 0
    token_id = tokens[0]["id"]
    assert run("token", "revoke", token_id).code == 0
    one_error_line(run("token", "revoke", "no-such-id"), "no-such-id")
    assert run("token", "create", "--role", "emperor", "--user", "x").code == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_then_use_the_catalog_remotely(
    run: Runner, loc: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("uvicorn")
    import requests

    with Catalog(loc) as cat:
        cat.create_table(TableDef("Subject", [ColumnDef("Name")]))
    token = run("--json", "token", "create", "--role", "writer", "--user", "alice").json()["token"]
    port = _free_port()
    exe = Path(sys.executable).with_name("assetry")
    server = subprocess.Popen(
        [str(exe), "serve", "--catalog", loc, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(url + "/openapi.json", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("the server did not start")
        with Catalog(url, token=token) as remote:
            rid = remote.insert("Subject", [{"Name": "S1"}])[0]
            assert remote.resolve_rid(rid).row["RCB"] == "alice"
        monkeypatch.setenv("ASSETRY_CREDENTIALS", str(tmp_path / "no-credentials.json"))
        one_error_line(run("--catalog", url, "table", "rows", "Subject"))  # no token
        monkeypatch.setenv("ASSETRY_TOKEN", token)
        rows = run("--catalog", url, "--json", "table", "rows", "Subject").json()
        assert [r["RID"] for r in rows] == [rid]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_demo(run: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETRY_CATALOG", raising=False)
    result = run("demo", "--dir", "tour")
    assert result.code == 0, result.err
    assert result.out.strip()
    assert (tmp_path / "tour").is_dir()
    one_error_line(run("demo", "--dir", "tour"), "tour")
