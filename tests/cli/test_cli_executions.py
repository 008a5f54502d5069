"""The ``assets``, ``exec``, ``lineage`` and ``fsck`` subcommands, run in-process through
``main(argv)`` (helpers shared with ``test_cli.py``)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, ColumnDef, ExecutionConfiguration
from tests.cli.test_cli import make_runner
from tests.conftest import clone_sqlite


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    return make_runner(capsys)


@dataclass
class Lab:
    """A catalog with ingested raw images, one finished run and one with a pending upload."""

    loc: str
    raw: list[str]  # RIDs of the ingested images (a.png, b.png)
    workflow: str
    run: str  # the finished execution
    derived: str  # its Image output
    metrics: str  # its Execution_Asset output
    pending: str  # an execution whose staged file is not uploaded yet
    subject: str  # a RID of a plain table

    def c(self, *argv: str) -> list[str]:
        return ["--catalog", self.loc, *argv]

    def object_path(self, sha256: str) -> Path:
        return Path(self.loc) / "objects" / sha256[:2] / sha256[2:]


@pytest.fixture
def lab(sqlite_template: Path, tmp_path: Path) -> Lab:
    files = tmp_path / "files"
    files.mkdir()
    (files / "a.png").write_bytes(b"alpha pixels")
    (files / "b.png").write_bytes(b"beta pixels")
    with clone_sqlite(sqlite_template, tmp_path / "lab") as cat:
        cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
        cat.add_term("Asset_Type", "Segmentation_Mask", synonyms=["mask"])
        cat.create_vocabulary("Species")
        subject = cat.add_term("Species", "Mus musculus").rid
        raw = [a["RID"] for a in cat.upload_assets("Image", [files / "a.png", files / "b.png"])]
        wf = cat.create_workflow("segment", "Feature_Creation", url="test:wf", checksum="c1")
        cfg = ExecutionConfiguration(
            workflow=wf, assets=raw, description="segment them", parameters={"k": 3}
        )
        with cat.create_execution(cfg) as exe:
            mask = exe.asset_file_path("Image", "masks/a-mask.png", asset_types=["mask"], Width=2)
            mask.write_bytes(b"mask pixels")
            metrics = exe.asset_file_path("Execution_Asset", "metrics.json", ["Metrics_File"])
            metrics.write_text('{"dice": 0.9}')
        out = exe.upload_execution_outputs()
        pending = cat.create_execution(ExecutionConfiguration(workflow=wf, description="later"))
        pending.asset_file_path("Image", "late.png").write_bytes(b"late pixels")
    return Lab(
        loc=str(tmp_path / "lab"),
        raw=raw,
        workflow=wf.rid,
        run=exe.rid,
        derived=out["Image"][0]["RID"],
        metrics=out["Execution_Asset"][0]["RID"],
        pending=pending.rid,
        subject=subject,
    )


def test_help_lists_the_new_commands(run: Any) -> None:
    result = run("--help")
    for command in ("assets", "exec", "lineage", "fsck"):
        assert command in result.out
    assert "restore" in run("exec", "--help").out


@pytest.mark.parametrize(
    "argv",
    [
        ["assets"],
        ["assets", "ingest", "Image"],
        ["assets", "download", "RID"],
        ["exec", "show"],
        ["lineage"],
        ["lineage", "X", "--format", "svg"],
        ["lineage", "X", "--direction", "sideways"],
        ["lineage", "X", "--depth", "-1"],
        ["fsck", "--grace", "-5"],
        ["fsck", "--grace", "soon"],
    ],
)
def test_usage_errors_exit_2(run: Any, argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2
    assert "usage:" in result.err


# --- assets ----------------------------------------------------------------------------------


def test_assets_list(run: Any, lab: Lab) -> None:
    listed = run(*lab.c("--json", "assets", "list", "Image"))
    assert listed.code == 0, listed.err
    assets = {a["RID"]: a for a in listed.json()}
    assert set(assets) == {*lab.raw, lab.derived}
    assert assets[lab.derived]["Asset_Type"] == ["Segmentation_Mask"]
    assert assets[lab.derived]["Filename"] == "a-mask.png"
    assert assets[lab.raw[0]]["SHA256"] == hashlib.sha256(b"alpha pixels").hexdigest()

    masks = run(*lab.c("--json", "assets", "list", "Image", "--type", "MASK")).json()
    assert [a["RID"] for a in masks] == [lab.derived]

    text = run(*lab.c("assets", "list", "Image")).out.splitlines()
    assert text[0].split() == ["RID", "FILENAME", "LENGTH", "SHA256", "ASSET_TYPE", "DESCRIPTION"]
    row = next(line for line in text if line.startswith(lab.raw[0]))
    sha = hashlib.sha256(b"alpha pixels").hexdigest()
    assert row.split()[1:4] == ["a.png", str(len(b"alpha pixels")), sha[:12] + "…"]

    empty = run(*lab.c("assets", "list", "Execution_Asset", "--type", "Model_File"))
    assert empty.code == 0 and empty.out.strip().startswith("(no assets in Execution_Asset")


def test_assets_list_errors(run: Any, lab: Lab) -> None:
    run(*lab.c("assets", "list", "Nope")).assert_one_line_error("'Nope'")
    run(*lab.c("assets", "list", "Image", "--type", "Blurry")).assert_one_line_error("'Blurry'")


def test_assets_ingest(run: Any, lab: Lab, tmp_path: Path) -> None:
    one, two = tmp_path / "one.png", tmp_path / "two.png"
    one.write_bytes(b"one")
    two.write_bytes(b"two two")
    result = run(
        *lab.c("--json", "assets", "ingest", "Image", str(one), str(two)),
        "--type", "mask", "--description", "manual masks",
    )  # fmt: skip
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["table"] == "Image"
    assert doc["rids"] == [a["RID"] for a in doc["assets"]]
    assert [a["Filename"] for a in doc["assets"]] == ["one.png", "two.png"]
    assert doc["assets"][0]["Asset_Type"] == ["Segmentation_Mask"]
    with Catalog(lab.loc) as cat:
        made_by = cat.list_asset_executions(doc["rids"][0])
        assert cat.resolve_rid(made_by[0]["RID"]).row["Description"] == "manual masks"

    three = tmp_path / "three.png"
    three.write_bytes(b"three!")
    text = run(*lab.c("assets", "ingest", "Image", str(three)))
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0] == "Ingested 1 file(s) into Image:"
    assert lines[1].split() == ["RID", "FILENAME", "LENGTH", "SHA256"]
    rid, name, length, sha = lines[3].split()
    assert (name, length) == ("three.png", "6")
    assert sha == hashlib.sha256(b"three!").hexdigest()[:12] + "…"
    again = run(*lab.c("--json", "assets", "ingest", "Image", str(three))).json()
    assert again["rids"] == [rid]  # same bytes, same name: the existing asset


def test_assets_ingest_errors(run: Any, lab: Lab, tmp_path: Path) -> None:
    missing = str(tmp_path / "absent.png")
    run(*lab.c("assets", "ingest", "Image", missing)).assert_one_line_error("absent.png")
    real = tmp_path / "real.png"
    real.write_bytes(b"x")
    run(*lab.c("assets", "ingest", "Nope", str(real))).assert_one_line_error("'Nope'")
    run(*lab.c("assets", "ingest", "Image", str(real), "--type", "Blurry")).assert_one_line_error(
        "'Blurry'"
    )
    with Catalog(lab.loc) as cat:
        assert len(cat.list_assets("Image")) == 3


def test_assets_download(run: Any, lab: Lab, tmp_path: Path) -> None:
    dest = tmp_path / "down"
    result = run(*lab.c("assets", "download", lab.raw[0].lower(), str(dest)))
    assert result.code == 0, result.err
    assert result.out.strip() == str(dest / "a.png")
    assert (dest / "a.png").read_bytes() == b"alpha pixels"
    doc = run(*lab.c("--json", "assets", "download", lab.derived, str(tmp_path / "d2"))).json()
    assert Path(doc["path"]).read_bytes() == b"mask pixels"
    assert doc["rid"] == lab.derived


def test_assets_download_errors(run: Any, lab: Lab, tmp_path: Path) -> None:
    dest = str(tmp_path / "down")
    run(*lab.c("assets", "download", "ZZZZ-ZZZZ", dest)).assert_one_line_error("ZZZZ-ZZZZ")
    run(*lab.c("assets", "download", lab.run, dest)).assert_one_line_error(lab.run, "not an asset")
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    run(*lab.c("assets", "download", lab.raw[0], str(a_file))).assert_one_line_error(
        "a-file", "not a directory"
    )
    assert a_file.read_text() == "mine"


def test_assets_download_of_a_tampered_object(run: Any, lab: Lab, tmp_path: Path) -> None:
    sha = hashlib.sha256(b"alpha pixels").hexdigest()
    stored = lab.object_path(sha)
    assert stored.is_file()
    stored.chmod(0o644)
    stored.write_bytes(b"evil pixels!")
    dest = tmp_path / "down"
    result = run(*lab.c("assets", "download", lab.raw[0], str(dest)))
    result.assert_one_line_error(lab.raw[0], "a.png", sha)
    assert result.out == ""
    assert not (dest / "a.png").exists()


# --- exec ------------------------------------------------------------------------------------


def test_exec_list(run: Any, lab: Lab) -> None:
    rows = run(*lab.c("--json", "exec", "list")).json()
    by_rid = {r["RID"]: r for r in rows}
    assert {lab.run, lab.pending} <= set(by_rid)
    assert len(rows) == 3  # plus the ingest
    assert by_rid[lab.run]["Status"] == "Completed"
    assert by_rid[lab.run]["Parameters"] == {"k": 3}
    done = run(*lab.c("--json", "exec", "list", "--status", "stopped")).json()
    assert lab.run in {r["RID"] for r in done} and lab.pending not in {r["RID"] for r in done}
    mine = run(*lab.c("--json", "exec", "list", "--workflow", lab.workflow.lower())).json()
    assert {r["RID"] for r in mine} == {lab.run, lab.pending}

    text = run(*lab.c("exec", "list", "--workflow", lab.workflow)).out.splitlines()
    assert text[0].split() == ["RID", "STATUS", "UPLOAD", "STARTED", "WORKFLOW", "DESCRIPTION"]
    line = next(x for x in text if x.startswith(lab.run))
    assert "Completed" in line and "Uploaded" in line
    assert f"{lab.workflow} (segment)" in line and "segment them" in line
    none = run(*lab.c("exec", "list", "--status", "Aborted"))
    assert none.code == 0 and none.out.strip() == "(no executions)"


def test_exec_list_errors(run: Any, lab: Lab) -> None:
    run(*lab.c("exec", "list", "--status", "Sleeping")).assert_one_line_error("'Sleeping'")
    run(*lab.c("exec", "list", "--workflow", "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")
    run(*lab.c("exec", "list", "--workflow", lab.run)).assert_one_line_error(
        lab.run, "not a Workflow"
    )


def test_exec_show(run: Any, lab: Lab) -> None:
    doc = run(*lab.c("--json", "exec", "show", lab.run.lower())).json()
    assert doc["execution"]["RID"] == lab.run
    assert doc["execution"]["Parameters"] == {"k": 3}
    assert doc["workflow"]["Name"] == "segment"
    inputs = {a["RID"]: a for a in doc["assets"]["Input"]}
    assert set(lab.raw) <= set(inputs)
    assert {a["Table"] for a in inputs.values()} == {"Image", "Execution_Metadata"}
    outputs = {a["RID"]: a["Table"] for a in doc["assets"]["Output"]}
    assert outputs == {lab.derived: "Image", lab.metrics: "Execution_Asset"}

    text = run(*lab.c("exec", "show", lab.run)).out
    assert text.startswith(f"Execution {lab.run}\n")
    assert f"Workflow:    {lab.workflow} segment (Feature_Creation)" in text
    assert "Status:      Completed" in text and '{"k": 3}' in text
    inputs_part, outputs_part = text.split("Output assets (2):")
    assert "Input assets (3):" in inputs_part and "a.png" in inputs_part
    assert "a-mask.png" in outputs_part and "metrics.json" in outputs_part
    assert "Segmentation_Mask" in outputs_part

    pending = run(*lab.c("exec", "show", lab.pending)).out
    assert "Status:      Created" in pending and "Output assets (0):" in pending
    assert "  (none)" in pending


def test_exec_show_errors(run: Any, lab: Lab) -> None:
    run(*lab.c("exec", "show", "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")
    wrong = run(*lab.c("--json", "exec", "show", lab.derived))
    wrong.assert_one_line_error(lab.derived, "'Image'", "not an Execution")
    assert wrong.out == ""
    run(*lab.c("exec", "show", lab.subject)).assert_one_line_error("'Species'")


def test_exec_restore_json(run: Any, lab: Lab) -> None:
    result = run(*lab.c("--json", "exec", "restore", lab.pending))
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["execution"] == lab.pending and doc["upload_status"] == "Uploaded"
    [late] = doc["uploaded"]["Image"]
    assert late["Filename"] == "late.png"
    assert late["SHA256"] == hashlib.sha256(b"late pixels").hexdigest()
    assert not (Path(lab.loc) / "executions" / lab.pending).exists()
    again = run(*lab.c("--json", "exec", "restore", lab.pending)).json()
    assert [a["RID"] for a in again["uploaded"]["Image"]] == [late["RID"]]
    with Catalog(lab.loc) as cat:
        outputs = cat.list_execution_assets(lab.pending, role="Output")
        assert [a["RID"] for a in outputs] == [late["RID"]]


def test_exec_restore_text_keeps_the_folder(run: Any, lab: Lab) -> None:
    result = run(*lab.c("exec", "restore", lab.pending, "--no-clean"))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"Execution {lab.pending} (Created): upload Uploaded, 1 output asset(s)"
    assert "late.png" in result.out
    work = Path(lab.loc) / "executions" / lab.pending
    assert work.is_dir()
    assert lines[-1] == f"Working directory kept: {work}"


def test_exec_restore_errors(run: Any, lab: Lab) -> None:
    run(*lab.c("exec", "restore", "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")
    run(*lab.c("exec", "restore", lab.raw[0])).assert_one_line_error(lab.raw[0], "not an Execution")
    assert not (Path(lab.loc) / "executions" / lab.raw[0]).exists()


# --- lineage ---------------------------------------------------------------------------------


def test_lineage_text(run: Any, lab: Lab) -> None:
    result = run(*lab.c("lineage", lab.derived))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"{lab.derived} (asset Image) a-mask.png"
    assert lines[1].strip().startswith(f"generated by {lab.run}")
    assert any(f"ran workflow {lab.workflow}" in line for line in lines)
    assert any(f"used {lab.raw[0]}" in line for line in lines)
    down = run(*lab.c("lineage", lab.raw[0], "--direction", "downstream")).out
    assert f"used by {lab.run}" in down and f"generated {lab.derived}" in down
    both = run(*lab.c("lineage", lab.run, "--direction", "both", "--depth", "1")).out
    assert "upstream:" in both and "downstream:" in both


def test_lineage_json(run: Any, lab: Lab) -> None:
    doc = run(*lab.c("--json", "lineage", lab.derived.lower())).json()
    assert doc["root"] == lab.derived and doc["direction"] == "upstream"
    kinds = {n["rid"]: n["kind"] for n in doc["nodes"]}
    assert kinds[lab.derived] == "asset" and kinds[lab.run] == "execution"
    assert kinds[lab.workflow] == "workflow"
    edges = {tuple(e) for e in doc["edges"]}
    assert (lab.run, lab.derived, "generated") in edges
    assert (lab.run, lab.raw[0], "used") in edges
    assert (lab.run, lab.workflow, "executed") in edges
    near = run(*lab.c("--json", "lineage", lab.derived, "--depth", "1")).json()
    assert {n["rid"] for n in near["nodes"]} == {lab.derived, lab.run}
    text_too = run(*lab.c("--json", "lineage", lab.derived, "--format", "text")).json()
    assert text_too == doc


@pytest.mark.parametrize(
    ("fmt", "marker"),
    [("text", "generated by"), ("dot", "digraph"), ("mermaid", "flowchart"), ("prov", "{")],
)
def test_lineage_formats(run: Any, lab: Lab, fmt: str, marker: str) -> None:
    result = run(*lab.c("lineage", lab.derived, "--format", fmt))
    assert result.code == 0, result.err
    assert marker in result.out
    assert result.out.endswith("\n")
    if fmt == "prov":
        doc = json.loads(result.out)
        assert f"assetry:{lab.run}" in doc["activity"]
        assert f"assetry:{lab.derived}" in doc["entity"]
        assert run(*lab.c("--json", "lineage", lab.derived, "--format", "prov")).json() == doc
    elif fmt in ("dot", "mermaid"):
        assert lab.derived in result.out and lab.run in result.out


def test_lineage_errors(run: Any, lab: Lab) -> None:
    run(*lab.c("lineage", "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")
    for fmt in ("dot", "mermaid"):
        run(*lab.c("--json", "lineage", lab.derived, "--format", fmt)).assert_one_line_error(
            "--json", f"--format {fmt}"
        )


# --- fsck ------------------------------------------------------------------------------------


def test_fsck_clean(run: Any, lab: Lab) -> None:
    result = run(*lab.c("fsck"))
    assert result.code == 0, result.err
    assert result.out.startswith("fsck: ") and ": OK" in result.out.splitlines()[0]
    doc = run(*lab.c("--json", "fsck")).json()
    assert doc["ok"] is True and doc["repair"] is False
    assert doc["missing"] == [] and doc["corrupt"] == [] and doc["unreferenced"] == []
    assert doc["assets"] >= 5 and doc["objects"] >= 5
    quick = run(*lab.c("fsck", "--no-verify"))
    assert quick.code == 0 and "not verified" in quick.out


def test_fsck_tampered_object(run: Any, lab: Lab) -> None:
    sha = hashlib.sha256(b"mask pixels").hexdigest()
    stored = lab.object_path(sha)
    stored.chmod(0o644)
    stored.write_bytes(b"mask pixelz")
    result = run(*lab.c("fsck"))
    result.assert_one_line_error("1 corrupt", f"Image/{lab.derived}")
    assert "PROBLEMS FOUND" in result.out
    assert f"Image/{lab.derived}  sha256 {sha}" in result.out
    doc = run(*lab.c("--json", "fsck"))
    assert doc.code == 1
    [corrupt] = doc.json()["corrupt"]
    assert (corrupt["rid"], corrupt["table"], corrupt["sha256"]) == (lab.derived, "Image", sha)
    assert doc.json()["ok"] is False
    # Without --no-verify only missing objects are found: this one exists.
    assert run(*lab.c("fsck", "--no-verify")).code == 0


def test_fsck_missing_object(run: Any, lab: Lab) -> None:
    sha = hashlib.sha256(b"beta pixels").hexdigest()
    lab.object_path(sha).unlink()
    result = run(*lab.c("--json", "fsck", "--no-verify"))
    result.assert_one_line_error("1 missing", f"Image/{lab.raw[1]}")
    assert result.json()["missing"] == [{"table": "Image", "rid": lab.raw[1], "sha256": sha}]
    assert "Missing objects (1)" in run(*lab.c("fsck")).out


def test_fsck_repair_removes_only_old_unreferenced_objects(run: Any, lab: Lab) -> None:
    stray = b"nobody refers to me"
    sha = hashlib.sha256(stray).hexdigest()
    path = lab.object_path(sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(stray)
    dry = run(*lab.c("fsck"))
    assert dry.code == 0, dry.err
    assert "Unreferenced objects (1)" in dry.out and sha in dry.out and "Dry run" in dry.out
    assert path.exists()
    young = run(*lab.c("--json", "fsck", "--repair")).json()
    assert young["unreferenced"] == [sha] and young["removed"] == []
    assert path.exists()
    old = time.time() - 7200
    os.utime(path, (old, old))
    repaired = run(*lab.c("fsck", "--repair", "--grace", "60"))
    assert repaired.code == 0, repaired.err
    assert f"{sha}  (removed)" in repaired.out and "Removed 1" in repaired.out
    assert not path.exists()
    assert run(*lab.c("--json", "fsck")).json()["unreferenced"] == []
