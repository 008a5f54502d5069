"""Watched folders (API §13): files created or changed while an execution runs are staged
once stable, typed, uploaded with the outputs (or at once); rewritten files are captured
again; files still written at the end are reported, never uploaded half-written; bad
paths and vanishing files are reported by name; no thread outlives the execution."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, ExecutionConfiguration, StateError, TableNotFound, ValidationError
from assetry.executions import filecapture, watch

SETTLE = 0.05


@pytest.fixture(params=["watchdog", "polling"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with watchdog's events and with the polling fallback."""
    if request.param == "polling":
        monkeypatch.setattr(watch.FolderWatcher, "_schedule", _poll_only)
    return str(request.param)


def _poll_only(self: watch.FolderWatcher, folder: watch.WatchedFolder) -> None:
    self._polling = True


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's working tree (the current directory)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def config(cat: Catalog, **values: Any) -> ExecutionConfiguration:
    wf = cat.create_workflow("train", "Training", url="u", checksum="c")
    return ExecutionConfiguration(
        workflow=wf, **{"watch_settle": SETTLE, "watch_wait": 5.0, **values}
    )


def wait_for(condition: Callable[[], bool], what: str, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {limit} s for {what}")
        time.sleep(0.01)


def assets_by_name(cat: Catalog, rid: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for asset in sorted(cat.list_execution_assets(rid, role="Output"), key=lambda a: a["RID"]):
        found.setdefault(asset["Filename"], []).append(asset)
    return found


def test_files_that_appear_are_captured_typed_and_uploaded(
    catalog: Catalog, here: Path, mode: str
) -> None:
    (here / "checkpoints").mkdir()
    (here / "checkpoints" / "old.ckpt").write_bytes(b"before the run")
    with catalog.create_execution(config(catalog, watch=["checkpoints", "plots"])) as exe:
        (here / "checkpoints" / "epoch=1.ckpt").write_bytes(b"weights 1")
        (here / "checkpoints" / "sub").mkdir()
        (here / "checkpoints" / "sub" / "metrics.json").write_text('{"loss": 0.5}')
        (here / "plots" / "curve.png").write_bytes(b"\x89PNG\r\n\x1a\n rest")
        (here / "plots" / ".hidden.tmp").write_bytes(b"partial")
    assert exe.watch_report is not None
    assert sorted(exe.watch_report.captured) == [
        "Execution_Asset/checkpoints/epoch=1.ckpt",
        "Execution_Asset/checkpoints/sub/metrics.json",
        "Execution_Asset/plots/curve.png",
    ]
    uploaded = exe.upload_execution_outputs()
    by_name = {a["Filename"]: a for a in uploaded["Execution_Asset"]}
    assert set(by_name) == {"epoch=1.ckpt", "metrics.json", "curve.png"}
    assert by_name["epoch=1.ckpt"]["Asset_Type"] == ["Model_File"]
    assert by_name["epoch=1.ckpt"]["Description"].startswith("checkpoint, from watched folder")
    assert by_name["metrics.json"]["Asset_Type"] == ["Metrics_File"]
    assert by_name["curve.png"]["Description"].startswith("image")
    path = catalog.download_asset(by_name["epoch=1.ckpt"]["RID"], here / "down")
    assert path.read_bytes() == b"weights 1"
    # The user's files are left where they are.
    assert (here / "checkpoints" / "epoch=1.ckpt").read_bytes() == b"weights 1"


def test_a_rewritten_file_is_captured_again_as_a_new_asset(
    catalog: Catalog, here: Path, mode: str
) -> None:
    with catalog.create_execution(config(catalog, watch=["out"])) as exe:
        target = here / "out" / "last.ckpt"
        target.write_bytes(b"epoch 1")
        wait_for(lambda: len(exe.watch_report_so_far()) == 1, "the first capture")
        target.write_bytes(b"epoch 2, longer")
    exe.upload_execution_outputs()
    [first, second] = assets_by_name(catalog, exe.rid)["last.ckpt"]
    assert {first["Length"], second["Length"]} == {7, 15}


def test_upload_while_running_stores_each_file_before_the_end(
    catalog: Catalog, here: Path, mode: str
) -> None:
    cfg = config(catalog, watch=["ckpt"], upload_while_running=True)
    with catalog.create_execution(cfg) as exe:
        (here / "ckpt" / "step=100.ckpt").write_bytes(b"early weights")
        wait_for(
            lambda: len(catalog.list_execution_assets(exe.rid, role="Output")) == 1,
            "the checkpoint's upload while the run goes on",
        )
        assert exe.status == "Running" and exe.upload_status == "Pending"
        (here / "ckpt" / "step=200.ckpt").write_bytes(b"late weights")
    result = exe.upload_execution_outputs()
    names = sorted(a["Filename"] for a in result["Execution_Asset"])
    assert names == ["step=100.ckpt", "step=200.ckpt"]
    assert exe.upload_status == "Uploaded"


def test_a_file_open_for_writing_is_not_taken_until_closed(
    catalog: Catalog, here: Path, mode: str
) -> None:
    with catalog.create_execution(config(catalog, watch=["out"])) as exe:
        handle = open(here / "out" / "model.bin", "wb")  # noqa: SIM115
        handle.write(b"half")
        handle.flush()
        time.sleep(SETTLE * 4)  # stable size and mtime, but still open
        assert exe.watch_report_so_far() == []
        handle.write(b" and the rest")
        handle.close()
    [asset] = exe.upload_execution_outputs()["Execution_Asset"]
    assert asset["Length"] == len(b"half and the rest")


def test_a_file_still_written_at_the_end_is_waited_for_then_reported(
    catalog: Catalog, here: Path, mode: str
) -> None:
    cfg = config(catalog, watch=["out"])
    cfg.watch_wait = 0.2
    with (
        pytest.warns(UserWarning, match="still being written.*out/huge.bin"),
        catalog.create_execution(cfg) as exe,
    ):
        writer = open(here / "out" / "huge.bin", "wb")  # noqa: SIM115
        writer.write(b"partial bytes")
        writer.flush()
    try:
        assert exe.watch_report is not None and exe.watch_report.unfinished == ["out/huge.bin"]
        assert "huge.bin" in catalog.resolve_rid(exe.rid).row["Status_Detail"]
        assert exe.upload_execution_outputs() == {}
    finally:
        writer.close()


def test_the_file_taken_at_the_end_is_waited_for_until_closed(
    catalog: Catalog, here: Path, mode: str
) -> None:
    cfg = config(catalog, watch=["out"])
    (here / "out").mkdir()
    writer = open(here / "out" / "late.bin", "wb")  # noqa: SIM115
    writer.write(b"first half ")
    writer.flush()

    def finish() -> None:
        time.sleep(0.1)
        writer.write(b"second half")
        writer.close()

    with catalog.create_execution(cfg) as exe:
        os.utime(here / "out" / "late.bin")  # changed during the run
        closer = threading.Thread(target=finish)
        closer.start()
    closer.join()
    [asset] = exe.upload_execution_outputs()["Execution_Asset"]
    assert asset["Length"] == len(b"first half second half")


def test_exe_watch_adds_a_folder_into_an_asset_table(catalog: Catalog, here: Path) -> None:
    catalog.create_asset("Plot")
    with catalog.create_execution(config(catalog)) as exe:
        folder = exe.watch("figures", asset_table="Plot")
        assert folder == here / "figures" and folder.is_dir()
        (folder / "loss.svg").write_text("<svg/>")
        with pytest.raises(TableNotFound, match="Nope"):
            exe.watch("more", asset_table="Nope")
    [asset] = exe.upload_execution_outputs()["Plot"]
    assert asset["Filename"] == "loss.svg"
    with pytest.raises(StateError):
        exe.watch("figures")


def test_a_missing_folder_outside_the_working_tree_is_refused(
    catalog: Catalog, here: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "does-not-exist"
    before = len(catalog.list_executions())
    with pytest.raises(ValidationError, match=f"watched folder '{elsewhere}' does not exist"):
        catalog.create_execution(config(catalog, watch=[str(elsewhere)]))
    assert not elsewhere.exists()
    (here / "a-file").write_text("x")
    with pytest.raises(ValidationError, match="not a folder"):
        catalog.create_execution(config(catalog, watch=["a-file"]))
    with pytest.raises(ValidationError, match="watch_settle"):
        catalog.create_execution(config(catalog, watch_settle=-1))
    assert len(catalog.list_executions()) == before  # nothing recorded


def test_a_watched_folder_deleted_during_the_run_is_reported(
    catalog: Catalog, here: Path, mode: str
) -> None:
    with (
        pytest.warns(UserWarning, match="deleted during the run: gone"),
        catalog.create_execution(config(catalog, watch=["gone", "kept"])) as exe,
    ):
        (here / "gone" / "a.txt").write_text("captured first")
        (here / "kept" / "b.txt").write_text("kept")
        wait_for(lambda: len(exe.watch_report_so_far()) == 2, "both files")
        shutil.rmtree(here / "gone")
    uploaded = exe.upload_execution_outputs()["Execution_Asset"]
    assert sorted(a["Filename"] for a in uploaded) == ["a.txt", "b.txt"]
    assert exe.status == "Completed"


def test_a_file_removed_between_stable_and_copy_is_reported_by_name(
    catalog: Catalog, here: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    take = filecapture.FileCapture.take

    def vanish_first(self: Any, source: Path, *args: Any, **kwargs: Any) -> Any:
        if source.name == "doomed.bin":
            os.unlink(source)  # after the watcher found it stable, before the copy
        return take(self, source, *args, **kwargs)

    monkeypatch.setattr(filecapture.FileCapture, "take", vanish_first)
    with (
        pytest.warns(UserWarning, match="removed before they could be copied: out/doomed.bin"),
        catalog.create_execution(config(catalog, watch=["out"])) as exe,
    ):
        (here / "out" / "doomed.bin").write_bytes(b"x")
        (here / "out" / "fine.bin").write_bytes(b"y")
    assert [a["Filename"] for a in exe.upload_execution_outputs()["Execution_Asset"]] == [
        "fine.bin"
    ]


def test_no_watcher_thread_outlives_its_execution(catalog: Catalog, here: Path, mode: str) -> None:
    before = set(threading.enumerate())
    with pytest.raises(RuntimeError), catalog.create_execution(config(catalog, watch=["o"])):
        (here / "o" / "x.txt").write_text("x")
        assert set(threading.enumerate()) - before
        raise RuntimeError("the run fails")
    assert set(threading.enumerate()) - before == set()


@pytest.fixture(autouse=True)
def _report_so_far(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``exe.watch_report_so_far()``: the names captured until now (tests only)."""

    def so_far(exe: Any) -> list[str]:
        watcher = exe._watcher
        return list(watcher.report.captured) if watcher is not None else []

    from assetry.executions.execution import Execution

    monkeypatch.setattr(Execution, "watch_report_so_far", so_far, raising=False)
    yield


def test_many_files_written_at_once_are_all_captured(
    catalog: Catalog, here: Path, mode: str
) -> None:
    count = watch.PARALLEL_FROM * 3  # copied on several threads, joined before the end
    with catalog.create_execution(config(catalog, watch=["batch"])) as exe:
        for n in range(count):
            (here / "batch" / f"part-{n:03d}.bin").write_bytes(n.to_bytes(4, "big") * 100)
    uploaded = exe.upload_execution_outputs()["Execution_Asset"]
    assert sorted(a["Filename"] for a in uploaded) == [f"part-{n:03d}.bin" for n in range(count)]
    assert len({a["SHA256"] for a in uploaded}) == count


def test_a_watched_folder_on_a_remote_catalog(remote_catalog: Catalog, here: Path) -> None:
    cfg = config(remote_catalog, watch=["ckpt"], upload_while_running=True)
    with remote_catalog.create_execution(cfg) as exe:
        (here / "ckpt" / "epoch=1.ckpt").write_bytes(b"remote weights")
        wait_for(
            lambda: len(remote_catalog.list_execution_assets(exe.rid, role="Output")) == 1,
            "the upload through the server while the run goes on",
        )
    [asset] = exe.upload_execution_outputs()["Execution_Asset"]
    path = remote_catalog.download_asset(asset["RID"], here / "down")
    assert path.read_bytes() == b"remote weights"
