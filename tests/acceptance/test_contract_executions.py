"""API.md §5 (workflows and executions) and §6 (lineage), as a user reads them.

Every scenario goes through the public surface only (``from assetry import ...``) on a
plain embedded catalog.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assetry import (
    BuiltinType,
    Catalog,
    ChecksumMismatch,
    ColumnDef,
    DatasetBag,
    DatasetSpec,
    ExecutionConfiguration,
    IntegrityError,
    StateError,
    ValidationError,
    Workflow,
)

ASSET_DICT_KEYS = {"RID", "URL", "Filename", "Length", "MD5", "SHA256", "Description"}


@pytest.fixture
def cat(sqlite_catalog: Catalog) -> Catalog:
    """A fresh embedded catalog (a copy of one made by ``Catalog.create``)."""
    c = sqlite_catalog
    c.create_asset("Image", column_defs=[ColumnDef("Width", BuiltinType.int4)])
    c.add_term("Asset_Type", "Segmentation_Mask", synonyms=["mask"])
    c.add_dataset_element_type("Image")
    return c


@pytest.fixture
def wf(cat: Catalog) -> Workflow:
    return cat.create_workflow("train-unet", workflow_type="Training", description="unet")


def _file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- the §5 example, as written ------------------------------------------------------------


def test_the_section_5_example_runs_as_written(cat: Catalog, tmp_path: Path) -> None:
    [model] = cat.upload_assets("Image", [_file(tmp_path / "model.bin", b"weights")])
    model_rid = model["RID"]
    ds_rid = cat.create_dataset(dataset_types=["Training"], description="train", version="1.0.0")
    other_ds = cat.create_dataset(dataset_types=["Testing"], description="test")
    wf = cat.create_workflow("train-unet", workflow_type="Training", description="...")
    assert isinstance(wf, Workflow) and isinstance(wf.rid, str)
    cfg = ExecutionConfiguration(
        workflow=wf,
        datasets=[DatasetSpec(ds_rid, version="1.0.0")],
        assets=[model_rid],
        description="...",
        parameters={"lr": 1e-3},
    )
    with cat.create_execution(cfg) as exe:
        assert isinstance(exe.rid, str)
        assert exe.working_dir.is_dir()
        assert [type(b) for b in exe.datasets] == [DatasetBag]
        assert exe.datasets[0].dataset_rid == ds_rid
        assert exe.datasets[0].version == "1.0.0"
        [input_path] = exe.asset_paths["Image"]
        assert isinstance(input_path, Path) and input_path.read_bytes() == b"weights"
        p = exe.asset_file_path(
            "Image",
            "mask.png",
            asset_types=["Segmentation_Mask"],
            copy_file=False,
            rename_file=None,
            description=None,
            Width=512,
        )
        p.write_bytes(b"mask bytes")
        exe.update_status("Running", "epoch 3")
        bag = exe.download_dataset_bag(DatasetSpec(other_ds))
        assert isinstance(bag, DatasetBag) and bag.dataset_rid == other_ds
    out = exe.upload_execution_outputs(clean_folder=True)
    assert list(out) == ["Image"]
    [asset] = out["Image"]
    assert ASSET_DICT_KEYS | {"Width", "Asset_Type"} <= set(asset)
    assert asset["Width"] == 512 and asset["Asset_Type"] == ["Segmentation_Mask"]
    assert asset["Filename"] == "mask.png" and asset["Length"] == len(b"mask bytes")
    assert not exe.working_dir.exists()  # clean_folder
    row = cat.resolve_rid(exe.rid).row
    assert (row["Status"], row["Upload_Status"]) == ("Completed", "Uploaded")
    assert row["Parameters"] == {"lr": 1e-3}
    # both datasets are recorded as inputs of the execution
    used = {(f, t) for f, t, r in cat.lineage(exe.rid, depth=1).edges if r == "used"}
    assert {(exe.rid, ds_rid), (exe.rid, other_ds), (exe.rid, model_rid)} <= used


# --- workflows -------------------------------------------------------------------------------


def test_workflow_source_is_detected_from_the_calling_scripts_git_repository(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.email=u@example.org", "-c", "user.name=u"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    subprocess.run(
        [*git, "remote", "add", "origin", "https://github.com/acme/unet.git"], cwd=repo, check=True
    )
    (repo / "train.py").write_text(
        textwrap.dedent(
            """
            import json, sys
            from assetry import Catalog
            cat = Catalog.create(sys.argv[1])
            wf = cat.create_workflow("train-unet", workflow_type="Training", description="...")
            print(json.dumps({"url": wf.url, "checksum": wf.checksum, "version": wf.version}))
            """
        )
    )
    subprocess.run([*git, "add", "train.py"], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "init"], cwd=repo, check=True)
    subprocess.run([*git, "tag", "v1.2.0"], cwd=repo, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.strip()
    done = subprocess.run(
        [sys.executable, "train.py", str(tmp_path / "cat")],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert "github.com/acme/unet" in info["url"] and commit in info["url"]
    assert info["url"].endswith("train.py")
    assert info["checksum"]
    assert info["version"] == "v1.2.0"


def test_a_workflow_rid_is_accepted_wherever_a_workflow_is(
    cat: Catalog, wf: Workflow, tmp_path: Path
) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf.rid, description="by rid"))
    assert cat.resolve_rid(exe.rid).row["Workflow"] == wf.rid
    assert [e["RID"] for e in cat.list_executions(workflow=wf.rid)] == [exe.rid]
    assert [e["RID"] for e in cat.list_executions(workflow=wf)] == [exe.rid]
    ingest = cat.create_workflow("loader", workflow_type="Ingest", url="x", checksum="y")
    [asset] = cat.upload_assets("Image", [_file(tmp_path / "a.png", b"a")], workflow=ingest.rid)
    [run] = cat.list_asset_executions(asset["RID"], role="Output")
    assert run["Workflow"] == ingest.rid


# --- staging ---------------------------------------------------------------------------------


def test_an_existing_file_is_staged_by_a_link_and_read_when_uploading(
    cat: Catalog, wf: Workflow, tmp_path: Path
) -> None:
    mine = _file(tmp_path / "user" / "weights.bin", b"version 1")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        staged = exe.asset_file_path("Image", str(mine))
        assert staged.name == "weights.bin"
        assert exe.working_dir in staged.parents
    mine.write_bytes(b"version 2, longer")
    [asset] = exe.upload_execution_outputs()["Image"]
    assert asset["Length"] == len(b"version 2, longer")
    assert mine.read_bytes() == b"version 2, longer"  # the user's file is left alone


def test_copy_file_stages_a_copy(cat: Catalog, wf: Workflow, tmp_path: Path) -> None:
    mine = _file(tmp_path / "user" / "weights.bin", b"original")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        staged = exe.asset_file_path("Image", mine, copy_file=True)
        assert not staged.is_symlink() and staged.read_bytes() == b"original"
    mine.write_bytes(b"changed later")
    [asset] = exe.upload_execution_outputs()["Image"]
    assert asset["Length"] == len(b"original")
    assert mine.read_bytes() == b"changed later"


def test_an_existing_file_relative_to_the_current_directory_is_staged(
    cat: Catalog, wf: Workflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "here"
    _file(work / "result.png", b"relative")
    monkeypatch.chdir(work)
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        exe.asset_file_path("Image", "result.png", rename_file="renamed/result.png")
    [asset] = exe.upload_execution_outputs()["Image"]
    assert asset["Filename"] == "result.png"
    assert asset["Length"] == len(b"relative")


def test_a_new_name_with_sub_folders_is_where_to_write(
    cat: Catalog, wf: Workflow, tmp_path: Path
) -> None:
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        p = exe.asset_file_path("Image", "masks/a.png")
        assert not p.exists()
        assert exe.working_dir in p.parents
        assert p.as_posix().endswith("masks/a.png")
        p.write_bytes(b"A")
        q = exe.asset_file_path("Image", "plain.png", rename_file="named.png")
        assert q.name == "named.png"
        q.write_bytes(b"Q")
    out = exe.upload_execution_outputs()
    assert sorted(a["Filename"] for a in out["Image"]) == ["a.png", "named.png"]


@pytest.mark.parametrize(
    ("file_name", "rename"),
    [
        ("../outside.png", None),
        ("/tmp/absolute-new-name-xyz/out.png", None),
        ("a/../../outside.png", None),
        ("fine.png", "../outside.png"),
        ("fine.png", "/etc/outside.png"),
    ],
)
def test_a_staged_name_leaving_the_staging_directory_is_a_validation_error(
    cat: Catalog, wf: Workflow, file_name: str, rename: str | None
) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    with pytest.raises(ValidationError):
        exe.asset_file_path("Image", file_name, rename_file=rename)


def test_extra_keywords_are_the_tables_columns_checked_at_staging(
    cat: Catalog, wf: Workflow
) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    with pytest.raises(ValidationError, match="Width"):
        exe.asset_file_path("Image", "a.png", Width="wide")
    with pytest.raises(ValidationError, match="Colour"):
        exe.asset_file_path("Image", "a.png", Colour="red")
    with exe:
        exe.asset_file_path("Image", "a.png", Width=7).write_bytes(b"a")
    [asset] = exe.upload_execution_outputs()["Image"]
    assert asset["Width"] == 7


def test_asset_types_default_to_the_tables_term_and_accept_synonyms(
    cat: Catalog, wf: Workflow
) -> None:
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        exe.asset_file_path("Image", "plain.png").write_bytes(b"p")
        exe.asset_file_path("Image", "masked.png", asset_types=["MASK"]).write_bytes(b"m")
    out = {a["Filename"]: a for a in exe.upload_execution_outputs()["Image"]}
    assert out["plain.png"]["Asset_Type"] == ["Image"]
    assert out["masked.png"]["Asset_Type"] == ["Segmentation_Mask"]
    assert [a["Filename"] for a in cat.list_assets("Image", asset_type="mask")] == ["masked.png"]
    exe2 = cat.create_execution(ExecutionConfiguration(workflow=wf))
    with pytest.raises(ValidationError, match="Asset_Type"):
        exe2.asset_file_path("Image", "x.png", asset_types=["No_Such_Type"])


# --- statuses --------------------------------------------------------------------------------


def test_the_run_status_moves_as_the_contract_draws_it(cat: Catalog, wf: Workflow) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    row = cat.resolve_rid(exe.rid).row
    assert (row["Status"], row["Upload_Status"]) == ("Created", "Not_Started")
    exe.update_status("Running")
    exe.update_status("Running", "epoch 3")
    assert cat.resolve_rid(exe.rid).row["Status_Detail"] == "epoch 3"
    exe.update_status("Completed")
    with pytest.raises(StateError):
        exe.update_status("Running")
    with pytest.raises(StateError):
        exe.update_status("Failed")
    exe.update_status("Aborted")  # from any state
    assert cat.resolve_rid(exe.rid).row["Status"] == "Aborted"
    with pytest.raises(StateError):
        exe.update_status("Running")

    failed = cat.create_execution(ExecutionConfiguration(workflow=wf))
    failed.update_status("Running")
    failed.update_status("Failed", "out of memory")
    with pytest.raises(StateError):
        failed.update_status("Completed")
    created = cat.create_execution(ExecutionConfiguration(workflow=wf))
    created.update_status("Aborted")
    assert cat.list_executions(status="Aborted")[-1]["RID"] == created.rid


def test_an_exception_inside_with_marks_failed_and_its_outputs_can_still_be_uploaded(
    cat: Catalog, wf: Workflow
) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    with pytest.raises(ZeroDivisionError), exe:
        exe.asset_file_path("Image", "partial.png").write_bytes(b"half")
        _ = 1 / 0
    row = cat.resolve_rid(exe.rid).row
    assert row["Status"] == "Failed"
    assert "division by zero" in row["Status_Detail"]
    out = exe.upload_execution_outputs()
    assert [a["Filename"] for a in out["Image"]] == ["partial.png"]
    row = cat.resolve_rid(exe.rid).row
    assert (row["Status"], row["Upload_Status"]) == ("Failed", "Uploaded")


def test_a_failed_upload_can_be_retried_and_records_each_entry_once(
    cat: Catalog, wf: Workflow
) -> None:
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        exe.asset_file_path("Image", "written.png").write_bytes(b"w")
        missing = exe.asset_file_path("Image", "forgotten.png")
    with pytest.raises(Exception, match="forgotten.png"):
        exe.upload_execution_outputs(clean_folder=False)
    assert cat.resolve_rid(exe.rid).row["Upload_Status"] == "Failed"
    missing.write_bytes(b"f")
    out = exe.upload_execution_outputs(clean_folder=False)
    assert cat.resolve_rid(exe.rid).row["Upload_Status"] == "Uploaded"
    assert sorted(a["Filename"] for a in out["Image"]) == ["forgotten.png", "written.png"]
    again = exe.upload_execution_outputs()
    assert sorted(a["RID"] for a in again["Image"]) == sorted(a["RID"] for a in out["Image"])
    outputs = cat.list_execution_assets(exe.rid, role="Output")
    assert sorted(a["Filename"] for a in outputs) == ["forgotten.png", "written.png"]


def test_same_bytes_under_two_names_are_two_asset_records(cat: Catalog, wf: Workflow) -> None:
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        exe.asset_file_path("Image", "one.png").write_bytes(b"same")
        exe.asset_file_path("Image", "two.png").write_bytes(b"same")
    one, two = sorted(exe.upload_execution_outputs()["Image"], key=lambda a: a["Filename"])
    assert one["RID"] != two["RID"]
    assert one["SHA256"] == two["SHA256"]
    assert len(cat.list_assets("Image")) == 2


def test_restore_execution_finishes_an_upload_another_process_left(
    cat: Catalog, wf: Workflow, tmp_path: Path
) -> None:
    script = tmp_path / "crashy.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os
            from assetry import Catalog, ExecutionConfiguration
            cat = Catalog({cat.location!r})
            exe = cat.create_execution(ExecutionConfiguration(workflow={wf.rid!r}))
            exe.update_status("Running")
            exe.asset_file_path("Image", "out/a.png").write_bytes(b"AAAA")
            exe.asset_file_path("Image", "out/b.png", Width=3).write_bytes(b"BB")
            print(exe.rid, flush=True)
            os._exit(9)  # dies before uploading
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr
    rid = done.stdout.strip()
    exe = cat.restore_execution(rid)
    assert exe.rid == rid
    out = exe.upload_execution_outputs()
    got = {a["Filename"]: a for a in out["Image"]}
    assert set(got) == {"a.png", "b.png"}
    assert got["b.png"]["Width"] == 3 and got["a.png"]["Length"] == 4
    assert cat.resolve_rid(rid).row["Upload_Status"] == "Uploaded"


# --- environment, ingest, inputs -------------------------------------------------------------


def test_every_execution_records_its_environment_once_per_content(
    cat: Catalog, wf: Workflow, tmp_path: Path
) -> None:
    a = cat.create_execution(ExecutionConfiguration(workflow=wf))
    b = cat.create_execution(ExecutionConfiguration(workflow=wf))
    envs = []
    for exe in (a, b):
        [meta] = [
            x for x in cat.list_execution_assets(exe.rid) if x["Table"] == "Execution_Metadata"
        ]
        assert "Execution_Metadata" in meta["Asset_Type"]
        envs.append(meta)
    assert envs[0]["RID"] == envs[1]["RID"]  # stored once per distinct content
    doc = json.loads(cat.download_asset(envs[0]["RID"], tmp_path / "env").read_text())
    text = json.dumps(doc)
    assert "python" in doc and "platform" in doc and "argv" in doc and "git" in doc
    assert "packages" in doc and "sqlalchemy" in text.lower()


def test_upload_assets_ingests_with_provenance_and_returns_existing_assets(
    cat: Catalog, tmp_path: Path
) -> None:
    f = _file(tmp_path / "in" / "scan.png", b"scan bytes")
    first = cat.upload_assets("Image", [f], asset_types=["Segmentation_Mask"])
    assert isinstance(first, list) and len(first) == 1
    assert ASSET_DICT_KEYS | {"Asset_Type"} <= set(first[0])
    assert first[0]["Asset_Type"] == ["Segmentation_Mask"]
    [run] = cat.list_asset_executions(first[0]["RID"], role="Output")
    workflow = cat.resolve_rid(run["Workflow"]).row
    assert workflow["Workflow_Type"] == "Ingest"
    again = cat.upload_assets("Image", [f])
    assert again[0]["RID"] == first[0]["RID"]
    renamed = _file(tmp_path / "in" / "other.png", b"scan bytes")
    third = cat.upload_assets("Image", [renamed])
    assert third[0]["RID"] != first[0]["RID"]
    assert len(cat.list_assets("Image")) == 2


def test_input_assets_come_read_only_from_a_shared_cache(
    cat: Catalog, wf: Workflow, tmp_path: Path
) -> None:
    [asset] = cat.upload_assets("Image", [_file(tmp_path / "big.bin", b"x" * 4096)])
    cfg = ExecutionConfiguration(workflow=wf, assets=[asset["RID"]])
    one, two = cat.create_execution(cfg), cat.create_execution(cfg)
    [p1], [p2] = one.asset_paths["Image"], two.asset_paths["Image"]
    assert p1.read_bytes() == b"x" * 4096
    assert not p1.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert os.stat(p1).st_ino == os.stat(p2).st_ino  # not copied again
    inputs = cat.list_execution_assets(one.rid, role="Input")
    assert asset["RID"] in [a["RID"] for a in inputs]


def test_a_corrupted_input_is_refused(cat: Catalog, wf: Workflow, tmp_path: Path) -> None:
    [asset] = cat.upload_assets("Image", [_file(tmp_path / "a.bin", b"good bytes")])
    assert cat.store_location is not None
    [obj] = [
        p
        for p in Path(cat.store_location).rglob("*")
        if p.is_file() and asset["SHA256"][4:] in p.name
    ]
    obj.chmod(0o644)
    obj.write_bytes(b"evil bytes")
    with pytest.raises(ChecksumMismatch) as err:
        cat.create_execution(ExecutionConfiguration(workflow=wf, assets=[asset["RID"]]))
    assert isinstance(err.value, IntegrityError)
    with pytest.raises(ChecksumMismatch):
        cat.download_asset(asset["RID"], tmp_path / "dl")


def test_execution_queries_return_the_documented_shapes(
    cat: Catalog, wf: Workflow, tmp_path: Path
) -> None:
    [inp] = cat.upload_assets("Image", [_file(tmp_path / "in.png", b"in")])
    cfg = ExecutionConfiguration(workflow=wf, assets=[inp["RID"]], description="a run")
    with cat.create_execution(cfg) as exe:
        exe.update_status("Running", "halfway")
        exe.asset_file_path("Image", "out.png", asset_types="mask").write_bytes(b"out")
    [out] = exe.upload_execution_outputs()["Image"]
    rows = cat.list_executions(status="Completed", workflow=wf)
    assert [r["RID"] for r in rows] == [exe.rid]
    keys = {"RID", "Workflow", "Status", "Status_Detail", "Upload_Status", "Description"}
    assert keys <= set(rows[0])
    assert rows[0]["Description"] == "a run"
    assert any("Start" in k for k in rows[0]) and any("Stop" in k for k in rows[0])
    assert cat.list_executions(status="Running") == []
    assert [r["RID"] for r in cat.list_executions(status="Stopped", workflow=wf.rid)] == [exe.rid]

    both = cat.list_execution_assets(exe, role=None)
    roles = {(a["Table"], a["RID"]): a["Asset_Role"] for a in both}
    assert roles[("Image", inp["RID"])] == "Input"
    assert roles[("Image", out["RID"])] == "Output"
    assert all(ASSET_DICT_KEYS | {"Asset_Type"} <= set(a) for a in both)
    assert [a["RID"] for a in cat.list_execution_assets(exe.rid, role="Output")] == [out["RID"]]

    users = cat.list_asset_executions(inp["RID"], role="Input")
    assert [u["RID"] for u in users] == [exe.rid]
    assert [u["RID"] for u in cat.list_asset_executions(out["RID"])] == [exe.rid]

    path = cat.download_asset(out["RID"], tmp_path / "downloads")
    assert isinstance(path, Path) and path.read_bytes() == b"out"
    assert [a["RID"] for a in cat.list_assets("Image", asset_type="Segmentation_Mask")] == [
        out["RID"]
    ]
    assert {a["RID"] for a in cat.list_assets("Image")} == {inp["RID"], out["RID"]}


def test_create_execution_refuses_a_row_that_is_not_an_asset(cat: Catalog, wf: Workflow) -> None:
    ds = cat.create_dataset(dataset_types=["Training"], description="d")
    with pytest.raises(ValidationError, match=ds):
        cat.create_execution(ExecutionConfiguration(workflow=wf, assets=[ds]))


# --- §6 lineage ------------------------------------------------------------------------------


@pytest.fixture
def chain(cat: Catalog, wf: Workflow, tmp_path: Path) -> dict[str, str]:
    """raw (ingested) -member_of-> ds -used-> exe1 -generated-> mid -used-> exe2 -> final."""
    [raw] = cat.upload_assets("Image", [_file(tmp_path / "raw.png", b"raw")])
    ds = cat.create_dataset(dataset_types=["Training"], description="raw set")
    cat.add_dataset_members(ds, [raw["RID"]])
    with cat.create_execution(ExecutionConfiguration(workflow=wf, datasets=[ds])) as exe1:
        exe1.asset_file_path("Image", "mid.png").write_bytes(b"mid")
    [mid] = exe1.upload_execution_outputs()["Image"]
    with cat.create_execution(ExecutionConfiguration(workflow=wf, assets=[mid["RID"]])) as exe2:
        exe2.asset_file_path("Image", "final.png").write_bytes(b"final")
    [final] = exe2.upload_execution_outputs()["Image"]
    return {
        "raw": raw["RID"],
        "ds": ds,
        "exe1": exe1.rid,
        "mid": mid["RID"],
        "exe2": exe2.rid,
        "final": final["RID"],
        "wf": wf.rid,
    }


def test_upstream_of_an_asset_walks_back_to_its_sources(
    cat: Catalog, chain: dict[str, str]
) -> None:
    g = cat.lineage(chain["final"], direction="upstream")
    for node in g.nodes:
        assert {"rid", "kind", "table", "label"} <= set(node)
    kinds = {n["rid"]: n["kind"] for n in g.nodes}
    assert kinds[chain["final"]] == "asset"
    assert kinds[chain["exe2"]] == "execution"
    assert kinds[chain["mid"]] == "asset"
    assert kinds[chain["exe1"]] == "execution"
    assert kinds[chain["ds"]] == "dataset"
    assert kinds[chain["raw"]] == "asset"
    assert kinds[chain["wf"]] == "workflow"
    [ds_node] = [n for n in g.nodes if n["rid"] == chain["ds"]]
    assert ds_node["version"]
    assert ds_node["table"] == "Dataset"
    edges = set(g.edges)
    assert all(isinstance(e, tuple) and len(e) == 3 for e in g.edges)
    assert (chain["exe2"], chain["final"], "generated") in edges
    assert (chain["exe2"], chain["mid"], "used") in edges
    assert (chain["exe1"], chain["mid"], "generated") in edges
    assert (chain["exe1"], chain["ds"], "used") in edges
    assert (chain["raw"], chain["ds"], "member_of") in edges
    assert (chain["exe2"], chain["wf"], "executed") in edges
    assert {r for _, _, r in g.edges} <= {"used", "generated", "member_of", "executed"}


def test_downstream_both_and_depth(cat: Catalog, chain: dict[str, str]) -> None:
    down = cat.lineage(chain["raw"], direction="downstream")
    rids = {n["rid"] for n in down.nodes}
    assert {chain["ds"], chain["exe1"], chain["mid"], chain["exe2"], chain["final"]} <= rids
    near = cat.lineage(chain["final"], direction="upstream", depth=1)
    assert {n["rid"] for n in near.nodes} == {chain["final"], chain["exe2"]}
    both = cat.lineage(chain["mid"], direction="both", depth=1)
    assert {chain["exe1"], chain["exe2"]} <= {n["rid"] for n in both.nodes}
    assert chain["final"] not in {n["rid"] for n in both.nodes}
    default = cat.lineage(chain["final"])
    assert {n["rid"] for n in default.nodes} == {
        n["rid"] for n in cat.lineage(chain["final"], direction="upstream").nodes
    }


def test_lineage_renders_as_dot_mermaid_and_prov(cat: Catalog, chain: dict[str, str]) -> None:
    g = cat.lineage(chain["final"], direction="upstream")
    dot = g.to_dot()
    assert isinstance(dot, str) and "digraph" in dot and chain["final"] in dot
    mermaid = g.to_mermaid()
    assert isinstance(mermaid, str) and mermaid.split()[0] in ("flowchart", "graph")
    prov = g.to_prov()
    doc = json.loads(prov) if isinstance(prov, str) else prov
    assert "prefix" in doc
    entities, activities = json.dumps(doc.get("entity", {})), json.dumps(doc.get("activity", {}))
    assert chain["final"] in entities and chain["exe2"] in activities
    assert "wasGeneratedBy" in doc and "used" in doc


def test_lineage_refuses_bad_arguments(cat: Catalog, chain: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="direction"):
        cat.lineage(chain["final"], direction="sideways")
    with pytest.raises(ValidationError, match="depth"):
        cat.lineage(chain["final"], depth=-1)
