"""Executions: workflows, statuses, staging in every mode, uploads, inputs, listings."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from assetry import (
    Catalog,
    ChecksumMismatch,
    ColumnDef,
    ExecutionConfiguration,
    NotFoundError,
    StateError,
    TableNotFound,
    ValidationError,
)
from tests.conftest import BuildCatalog


def images_and_masks(cat: Catalog) -> None:
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    cat.add_term("Asset_Type", "Segmentation_Mask", synonyms=["mask"])


@pytest.fixture
def cat(built_catalog: BuildCatalog) -> Catalog:
    return built_catalog(images_and_masks)[0]


def workflow(cat: Catalog, name: str = "train") -> str:
    return cat.create_workflow(name, "Training", url="https://x/y.py", checksum="sha256:1").rid


def test_workflow_is_registered_once(cat: Catalog) -> None:
    a = cat.create_workflow("train", "training", url="https://x/y.py", checksum="c1")
    b = cat.create_workflow("train", "Training", url="https://x/y.py", checksum="c1")
    c = cat.create_workflow("train", "Training", url="https://x/y.py", checksum="c2")
    assert a.rid == b.rid != c.rid
    assert a.workflow_type == "Training"


def test_workflow_detects_its_source(cat: Catalog, tmp_path: Path) -> None:
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    wf = cat.create_workflow("train", "Training", source=script)
    assert wf.checksum == "sha256:" + hashlib.sha256(script.read_bytes()).hexdigest()
    assert wf.url is not None


def test_statuses_through_a_run(cat: Catalog) -> None:
    cfg = ExecutionConfiguration(workflow=workflow(cat), description="run", parameters={"lr": 1})
    exe = cat.create_execution(cfg)
    assert (exe.status, exe.upload_status) == ("Created", "Not_Started")
    for illegal in ("Completed", "Failed"):  # a run ends only after it has started
        with pytest.raises(StateError, match=f"from Created to {illegal}"):
            exe.update_status(illegal)
    with exe:
        assert exe.status == "Running"
        exe.update_status("Running", "epoch 3")
        assert cat.resolve_rid(exe.rid).row["Status_Detail"] == "epoch 3"
    row = cat.resolve_rid(exe.rid).row
    assert row["Status"] == "Completed"
    assert row["Start_Time"] <= row["Stop_Time"]
    assert row["Parameters"] == {"lr": 1}
    with pytest.raises(StateError, match="Completed to Running"):
        exe.update_status("Running")
    exe.update_status("Aborted")
    assert exe.status == "Aborted"


def test_an_exception_marks_the_execution_failed(cat: Catalog) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    with pytest.raises(RuntimeError, match="boom"), exe:
        exe.asset_file_path("Image", "partial.png").write_bytes(b"half")
        raise RuntimeError("boom")
    row = cat.resolve_rid(exe.rid).row
    assert row["Status"] == "Failed"
    assert "RuntimeError: boom" in row["Status_Detail"]
    out = exe.upload_execution_outputs()
    assert [a["Filename"] for a in out["Image"]] == ["partial.png"]
    assert exe.status == "Failed"
    assert exe.upload_status == "Uploaded"


def test_staging_modes_and_upload(cat: Catalog, tmp_path: Path) -> None:
    user_file = tmp_path / "mine.png"
    user_file.write_bytes(b"user bytes")
    other = tmp_path / "other.png"
    other.write_bytes(b"other bytes")
    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        new = exe.asset_file_path("Image", "masks/a.png", asset_types=["mask"], Width=512)
        assert new.is_relative_to(exe.working_dir)
        new.write_bytes(b"new bytes")
        linked = exe.asset_file_path("Image", str(user_file), description="linked")
        copied = exe.asset_file_path("Image", other, copy_file=True, rename_file="renamed.png")
        assert linked.is_symlink() and not copied.is_symlink()
    work = exe.working_dir
    out = exe.upload_execution_outputs()
    user_file.write_bytes(b"changed later")  # must not affect the stored object
    assets = {a["Filename"]: a for a in out["Image"]}
    assert set(assets) == {"a.png", "mine.png", "renamed.png"}
    assert assets["a.png"]["Asset_Type"] == ["Segmentation_Mask"]
    assert assets["a.png"]["Width"] == 512
    assert assets["mine.png"]["Asset_Type"] == ["Image"]
    assert assets["mine.png"]["Description"] == "linked"
    for data, name in ((b"new bytes", "a.png"), (b"user bytes", "mine.png")):
        asset = assets[name]
        assert asset["SHA256"] == hashlib.sha256(data).hexdigest()
        assert asset["MD5"] == hashlib.md5(data).hexdigest()
        assert asset["Length"] == len(data)
        assert asset["URL"] == f"/objects/{asset['SHA256']}"
        got = cat.download_asset(asset["RID"], tmp_path / "down")
        assert got.read_bytes() == data and got.name == name
    assert not work.exists()  # clean_folder
    assert exe.upload_status == "Uploaded"
    outputs = cat.list_execution_assets(exe, role="Output")
    assert {a["RID"] for a in outputs} == {a["RID"] for a in out["Image"]}
    assert {(a["Table"], a["Asset_Role"]) for a in outputs} == {("Image", "Output")}
    made_by = cat.list_asset_executions(assets["a.png"]["RID"])
    assert [(e["RID"], e["Asset_Role"]) for e in made_by] == [(exe.rid, "Output")]


def test_upload_again_records_nothing_twice(cat: Catalog) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    exe.asset_file_path("Image", "a.png").write_bytes(b"a")
    first = exe.upload_execution_outputs(clean_folder=False)
    second = exe.upload_execution_outputs(clean_folder=False)
    assert first == second
    assert len(cat.list_assets("Image")) == 1


def test_identical_bytes_are_separate_assets_sharing_one_object(cat: Catalog) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    exe.asset_file_path("Image", "a.png").write_bytes(b"same")
    exe.asset_file_path("Image", "b.png").write_bytes(b"same")
    out = exe.upload_execution_outputs()["Image"]
    assert len({a["RID"] for a in out}) == 2
    assert len({a["URL"] for a in out}) == 1
    assert len(list(cat._context.store().iter_objects())) == 2  # the bytes + the environment


@pytest.mark.parametrize("name", ["../x.png", "a/../../x.png", "/tmp/abs.png", "", "a/./b"])
def test_staged_names_may_not_escape(cat: Catalog, name: str) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    with pytest.raises(ValidationError, match="staging folder|file name|'\\.'"):
        exe.asset_file_path("Image", name)


@pytest.mark.parametrize("rename", ["../x.png", "a/../../x.png", "/etc/passwd"])
def test_rename_may_not_escape(cat: Catalog, tmp_path: Path, rename: str) -> None:
    source = tmp_path / "f.png"
    source.write_bytes(b"x")
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    with pytest.raises(ValidationError):
        exe.asset_file_path("Image", source, rename_file=rename)
    assert not (tmp_path / "x.png").exists()


def test_staging_checks_table_types_and_columns(cat: Catalog) -> None:
    cat.create_vocabulary("Species")
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    with pytest.raises(TableNotFound):
        exe.asset_file_path("Nope", "x.png")
    with pytest.raises(ValidationError, match="not an asset table"):
        exe.asset_file_path("Species", "x.png")
    with pytest.raises(ValidationError, match="'Blurry' is not a term"):
        exe.asset_file_path("Image", "x.png", asset_types=["Blurry"])
    with pytest.raises(ValidationError, match="Width") as caught:
        exe.asset_file_path("Image", "x.png", Width="wide", Height=3)
    assert len(caught.value.problems) == 2
    with pytest.raises(ValidationError, match="set by the upload"):
        exe.asset_file_path("Image", "x.png", MD5="abc")


def test_a_deleted_staged_file_is_named_and_the_rest_uploaded(cat: Catalog) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    kept = exe.asset_file_path("Image", "kept.png")
    kept.write_bytes(b"kept")
    lost = exe.asset_file_path("Image", "lost.png")
    lost.write_bytes(b"lost")
    lost.unlink()
    with pytest.raises(NotFoundError, match="Image/lost.png"):
        exe.upload_execution_outputs()
    assert exe.upload_status == "Failed"
    assert [a["Filename"] for a in cat.list_assets("Image")] == ["kept.png"]
    lost.write_bytes(b"back again")
    out = exe.upload_execution_outputs()
    assert sorted(a["Filename"] for a in out["Image"]) == ["kept.png", "lost.png"]
    assert exe.upload_status == "Uploaded"
    assert len(cat.list_assets("Image")) == 2


def test_inputs_are_downloaded_verified_read_only_and_linked(cat: Catalog, tmp_path: Path) -> None:
    src = tmp_path / "raw.png"
    src.write_bytes(b"raw pixels")
    [raw] = cat.upload_assets("Image", [src])
    cfg = ExecutionConfiguration(workflow=workflow(cat), assets=[raw["RID"].lower()])
    exe = cat.create_execution(cfg)
    [path] = exe.asset_paths["Image"]
    assert path.read_bytes() == b"raw pixels"
    assert path.is_relative_to(exe.working_dir)
    assert not os.access(path, os.W_OK) or os.geteuid() == 0
    assert path.stat().st_mode & 0o222 == 0
    inputs = cat.list_execution_assets(exe.rid, role="Input")
    assert raw["RID"] in {a["RID"] for a in inputs}
    again = cat.create_execution(cfg)
    assert again.asset_paths["Image"][0].read_bytes() == b"raw pixels"


def test_a_corrupt_stored_object_is_caught(cat: Catalog, tmp_path: Path) -> None:
    src = tmp_path / "raw.png"
    src.write_bytes(b"good bytes")
    [asset] = cat.upload_assets("Image", [src])
    if cat.location.startswith("http"):  # corrupt it in the store behind the server
        from assetry.store.local import LocalStore

        stored = LocalStore(tmp_path / "served" / "objects").path_of(asset["SHA256"])
    else:
        stored = cat._context.store().local_path(asset["SHA256"])
    stored.chmod(0o644)
    stored.write_bytes(b"evil bytes")
    with pytest.raises(ChecksumMismatch) as caught:
        cat.download_asset(asset["RID"], tmp_path / "out")
    assert asset["RID"] in caught.value.path
    assert caught.value.expected == asset["SHA256"]
    assert not (tmp_path / "out" / "raw.png").exists()
    with pytest.raises(ChecksumMismatch):
        cat.create_execution(ExecutionConfiguration(workflow=workflow(cat), assets=[asset["RID"]]))


def test_upload_assets_returns_the_existing_asset_for_the_same_file(
    cat: Catalog, tmp_path: Path
) -> None:
    a = tmp_path / "a.png"
    a.write_bytes(b"alpha")
    b = tmp_path / "sub" / "a.png"
    b.parent.mkdir()
    b.write_bytes(b"beta")
    first = cat.upload_assets("Image", [a, b], asset_types="mask")
    assert [x["Filename"] for x in first] == ["a.png", "a.png"]
    again = cat.upload_assets("Image", [a])
    assert again[0]["RID"] == first[0]["RID"]
    assert len(cat.list_assets("Image")) == 2
    assert len(cat.list_assets("Image", asset_type="Segmentation_Mask")) == 2
    ingests = cat.list_executions(
        workflow=cat.list_asset_executions(first[0]["RID"])[0]["Workflow"]
    )
    assert len(ingests) == 2


def test_environment_is_captured_once_per_content(cat: Catalog) -> None:
    e1 = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    e2 = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    env1 = [a for a in cat.list_execution_assets(e1, "Input") if a["Table"] == "Execution_Metadata"]
    env2 = [a for a in cat.list_execution_assets(e2, "Input") if a["Table"] == "Execution_Metadata"]
    assert len(env1) == 1 and env1[0]["RID"] == env2[0]["RID"]
    assert "Runtime_Env" in env1[0]["Asset_Type"]
    assert len(cat.list_assets("Execution_Metadata")) == 1


def _environment_of(cat: Catalog, exe: object, dest: Path) -> tuple[str, dict]:
    inputs = cat.list_execution_assets(exe, "Input")
    [env] = [a for a in inputs if a["Table"] == "Execution_Metadata"]
    return env["RID"], json.loads(cat.download_asset(env["RID"], dest / env["RID"]).read_text())


def test_parameters_live_in_the_execution_row_and_filter_listings(
    cat: Catalog, tmp_path: Path
) -> None:
    wf = workflow(cat)
    runs = [
        cat.create_execution(ExecutionConfiguration(workflow=wf, parameters=p))
        for p in ({"lr": 0.001, "epochs": 3}, {"lr": 0.001, "epochs": 3}, {"lr": 0.01}, None)
    ]
    envs = [_environment_of(cat, e, tmp_path) for e in runs]
    assert {"python", "platform", "packages", "git", "argv"} <= envs[0][1].keys()
    assert "parameters" not in envs[0][1]
    assert len({rid for rid, _ in envs}) == 1  # one environment asset, whatever the parameters
    rows = {r["RID"]: r for r in cat.list_executions()}
    assert rows[runs[0].rid]["Parameters"] == {"lr": 0.001, "epochs": 3}
    assert rows[runs[3].rid]["Parameters"] is None

    def found(**wanted: object) -> set[str]:
        return {r["RID"] for r in cat.list_executions(parameters=wanted)}

    assert found(lr=0.001) == {runs[0].rid, runs[1].rid}
    assert found(lr=0.001, epochs=3.0) == {runs[0].rid, runs[1].rid}  # 3 == 3.0
    assert found(lr=0.01) == {runs[2].rid}
    assert found(lr=0.01, epochs=3) == set()
    assert found(missing=True) == set()
    assert {r["RID"] for r in cat.list_executions(workflow=wf, parameters={})} == {
        e.rid for e in runs
    }
    with pytest.raises(ValidationError, match="parameters must be a dict"):
        cat.list_executions(parameters=[("lr", 0.01)])  # type: ignore[arg-type]
    before = cat.snapshot()
    with pytest.raises(ValidationError, match="parameters cannot be stored as JSON"):
        cat.create_execution(ExecutionConfiguration(workflow=wf, parameters={"x": object()}))
    assert cat.snapshot() == before


def test_a_catalog_restored_from_a_copy_records_its_environment_again(tmp_path: Path) -> None:
    import shutil

    cat = Catalog.create(tmp_path / "c")
    wf = workflow(cat)
    cat.close()
    shutil.copytree(tmp_path / "c", tmp_path / "backup")
    with Catalog(tmp_path / "c") as cat:  # stores the environment; this process remembers it
        cat.create_execution(ExecutionConfiguration(workflow=wf))
    shutil.rmtree(tmp_path / "c")
    shutil.copytree(tmp_path / "backup", tmp_path / "c")
    with Catalog(tmp_path / "c") as cat:  # the remembered asset is not in this copy
        exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
        rid, _ = _environment_of(cat, exe, tmp_path / "dl")
        assert cat.list_assets("Execution_Metadata")[0]["RID"] == rid
        assert cat.fsck().ok


def test_update_keeps_asset_files_and_statuses(cat: Catalog, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"A")
    [a] = cat.upload_assets("Image", [tmp_path / "a.png"])
    before = cat.snapshot()
    with pytest.raises(ValidationError) as err:
        cat.update("Image", [{"RID": a["RID"], "SHA256": "0" * 64, "Length": 9, "Width": 3}])
    assert "column 'Length' cannot change" in str(err.value)
    assert "column 'SHA256' cannot change (an asset row describes one immutable file" in str(
        err.value
    )
    for column, value in [("URL", "/elsewhere"), ("Filename", "b.png"), ("MD5", "0" * 32)]:
        with pytest.raises(ValidationError, match=f"column {column!r} cannot change"):
            cat.update("Image", [{"RID": a["RID"], column: value}])
    assert cat.snapshot() == before
    # Its own columns and description change; the file columns may be given unchanged.
    cat.update("Image", [{**{c: a[c] for c in ("RID", "URL", "SHA256", "Length")}, "Width": 3}])
    assert cat.download_asset(a["RID"], tmp_path / "d").read_bytes() == b"A"

    with cat.create_execution(ExecutionConfiguration(workflow=workflow(cat))) as exe:
        pass
    with pytest.raises(ValidationError, match="column 'Status' cannot change .*update_status"):
        cat.update("Execution", [{"RID": exe.rid, "Status": "Created"}])
    with pytest.raises(ValidationError, match="column 'Upload_Status' cannot change"):
        cat.update("Execution", [{"RID": exe.rid, "Upload_Status": "Uploaded"}])
    cat.update("Execution", [{"RID": exe.rid, "Status": "Completed", "Description": "kept"}])
    assert exe.status == "Completed"


def test_list_executions(cat: Catalog) -> None:
    wf = workflow(cat)
    other = workflow(cat, "other")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)):
        pass
    cat.create_execution(ExecutionConfiguration(workflow=other))
    assert len(cat.list_executions(workflow=wf)) == 1
    assert [e["Status"] for e in cat.list_executions(status="stopped")] == ["Completed"]
    assert len(cat.list_executions()) == 2


def test_restore_execution_finishes_an_upload(cat: Catalog) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    exe.asset_file_path("Image", "late.png").write_bytes(b"late")
    again = Catalog(cat.location).restore_execution(exe.rid)
    out = again.upload_execution_outputs()
    assert [a["Filename"] for a in out["Image"]] == ["late.png"]
    with pytest.raises(ValidationError, match="not an Execution"):
        cat.restore_execution(cat.list_assets("Image")[0]["RID"])


def test_staging_after_upload_is_refused(cat: Catalog) -> None:
    exe = cat.create_execution(ExecutionConfiguration(workflow=workflow(cat)))
    exe.asset_file_path("Image", "a.png").write_bytes(b"a")
    exe.upload_execution_outputs(clean_folder=False)
    with pytest.raises(StateError, match="already uploaded"):
        exe.asset_file_path("Image", "b.png")


def test_a_failed_status_session_leaves_the_connection_durable(sqlite_catalog: Catalog) -> None:
    backend = sqlite_catalog._backend
    seen = []
    with pytest.raises(RuntimeError), backend.session(write=True, durable=False) as s:
        driver = s.conn.connection.driver_connection
        seen.append(driver)
        assert driver.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL inside
        raise RuntimeError("fail inside")
    assert seen[0].execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL again
