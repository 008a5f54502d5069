"""Interrupted and mistyped ingests: nothing is left Running forever, nothing staged is
collected as stray, a typo creates nothing, and asset tables are indexed by content."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assetry import (
    Catalog,
    ColumnDef,
    ConflictError,
    DatasetSpec,
    ExecutionConfiguration,
    SchemaVersionError,
    TableNotFound,
    ValidationError,
)
from tests.conftest import NewCatalog
from tests.helpers import insert_as_operations_do, stored_file

INGEST = textwrap.dedent(
    """
    import sys
    from assetry import Catalog
    from assetry.executions import upload

    upload.BATCH_SIZE = 2
    Catalog(sys.argv[1]).upload_assets("Doc", sys.argv[2:])
    """
)

RUN = textwrap.dedent(
    """
    import sys
    from assetry import Catalog, ExecutionConfiguration

    cat = Catalog(sys.argv[1])
    wf = cat.create_workflow("train", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    print(exe.rid, flush=True)
    with exe:
        exe.asset_file_path("Doc", "model.bin").write_bytes(b"weights")
        exe.asset_file_path("Doc", "late.bin").write_bytes(b"more weights")
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def files(folder: Path, n: int) -> list[str]:
    folder.mkdir(exist_ok=True)
    out = []
    for i in range(n):
        path = folder / f"f{i}.txt"
        path.write_bytes(f"file {i}".encode())
        out.append(str(path))
    return out


def killed(code: str, *args: str, point: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if point:
        env["ASSETRY_FAULT_POINT"] = point
    child = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    return child


@pytest.fixture
def cat(sqlite_catalog: Catalog) -> Catalog:
    sqlite_catalog.create_asset("Doc", column_defs=[ColumnDef("Pages", "int4")])
    return sqlite_catalog


def test_a_killed_ingest_is_stale_kept_by_fsck_and_completed_by_restore(
    cat: Catalog, tmp_path: Path
) -> None:
    paths = files(tmp_path / "in", 5)
    killed(INGEST, cat.location, *paths, point="upload.after_object:3")
    [exe] = cat.list_executions()
    assert (exe["Status"], exe["Upload_Status"]) == ("Running", "Pending")
    assert [e["RID"] for e in cat.list_executions(stale=True)] == [exe["RID"]]

    # The objects the killed upload stored are its staged entries': fsck keeps them,
    # even with no grace period (journaled or not yet: the staged files are hashed).
    stored = {info.sha256 for info in cat._context.store().iter_objects()}
    repaired = cat.fsck(repair=True, grace_seconds=0)
    assert repaired.removed == [] and repaired.unreferenced == []
    assert {info.sha256 for info in cat._context.store().iter_objects()} == stored

    restored = cat.restore_execution(exe["RID"])
    out = restored.upload_execution_outputs()
    assert sorted(a["Filename"] for a in out["Doc"]) == [f"f{i}.txt" for i in range(5)]
    row = cat.resolve_rid(exe["RID"]).row
    assert (row["Status"], row["Upload_Status"]) == ("Completed", "Uploaded")
    assert cat.list_executions(stale=True) == []
    assert cat.fsck().ok


def test_a_run_killed_while_running_fails_when_restored(cat: Catalog) -> None:
    child = killed(RUN, cat.location)
    rid = child.stdout.split()[0]
    assert [e["RID"] for e in cat.list_executions(stale=True)] == [rid]
    restored = cat.restore_execution(rid)
    out = restored.upload_execution_outputs()
    assert sorted(a["Filename"] for a in out["Doc"]) == ["late.bin", "model.bin"]
    row = cat.resolve_rid(rid).row
    assert row["Status"] == "Failed" and "ended while it was running" in row["Status_Detail"]
    assert row["Upload_Status"] == "Uploaded"


def test_a_live_run_is_not_stale_and_abort_ends_a_stale_one(cat: Catalog) -> None:
    wf = cat.create_workflow("w", "Training", url="u", checksum="c")
    live = cat.create_execution(ExecutionConfiguration(workflow=wf))
    with live:
        assert cat.list_executions(stale=True) == []  # this process runs it
    child = killed(RUN, cat.location)
    rid = child.stdout.split()[0]
    assert cat.abort_execution(rid, "gave up") == rid
    row = cat.resolve_rid(rid).row
    assert (row["Status"], row["Status_Detail"]) == ("Aborted", "gave up")
    assert cat.list_executions(stale=True) == []
    with pytest.raises(ValidationError, match="not an Execution"):
        cat.abort_execution(wf.rid)


def test_a_typo_in_an_ingest_creates_nothing(cat: Catalog, tmp_path: Path) -> None:
    paths = files(tmp_path / "in", 1)
    before = cat.list_executions()
    with pytest.raises(TableNotFound):
        cat.upload_assets("Dco", paths)
    with pytest.raises(ValidationError, match="Nope"):
        cat.upload_assets("Doc", paths, asset_types=["Nope"])
    with pytest.raises(ValidationError, match="Pagez"):
        cat.upload_assets("Doc", paths, columns={"Pagez": 3})
    with pytest.raises(ValidationError, match="Pages"):
        cat.upload_assets("Doc", paths, columns={"Pages": "many"})
    assert cat.list_executions() == before
    [asset] = cat.upload_assets("Doc", paths, columns={"Pages": 3})
    assert asset["Pages"] == 3


def test_a_failed_import_leaves_no_stray_objects(
    cat: Catalog, sqlite_catalog: Catalog, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    source = new_catalog(tmp_path / "source")
    source.create_asset("Doc", column_defs=[ColumnDef("Pages", "int4")])
    source.add_dataset_element_type("Doc")
    [asset] = source.upload_assets("Doc", files(tmp_path / "in", 1))
    ds = source.create_dataset(["Training"])
    source.add_dataset_members(ds, [asset["RID"]])
    bag = source.export_dataset_bag(DatasetSpec(ds), dest=tmp_path / "bag")
    # This catalog holds one of the bag's RIDs with other content: a conflict.
    cat.add_dataset_element_type("Doc")
    clash = {**stored_file(cat, b"other"), "RID": asset["RID"], "Pages": 9}
    insert_as_operations_do(cat, "Doc", [clash], keep_system=True)
    objects_before = {info.sha256 for info in cat._context.store().iter_objects()}
    with pytest.raises(ConflictError):
        cat.import_bag(bag)
    assert {info.sha256 for info in cat._context.store().iter_objects()} == objects_before
    assert cat.fsck().ok


def test_asset_tables_are_indexed_by_content_also_after_an_upgrade(tmp_path: Path) -> None:
    cat = Catalog.create(tmp_path / "c")
    cat.create_asset("Doc")
    cat.close()
    db = sqlite3.connect(tmp_path / "c" / "catalog.db")
    listed = "SELECT name FROM sqlite_master WHERE tbl_name = 'Doc' AND type = 'index'"
    names = [r[0] for r in db.execute(listed)]
    content = [n for n in names if any(c in n for c in ("SHA256", "MD5", "Filename"))]
    assert len(content) == 3
    # an older catalog (before 0006): the indexes are missing until `assetry upgrade`
    from assetry.sql import migrate
    from assetry.sql.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'c' / 'catalog.db'}")
    migrate.run(engine, "0006", downgrade=True)
    engine.dispose()
    for name in content:
        db.execute(f'DROP INDEX "{name}"')
    db.execute("UPDATE alembic_version SET version_num = '0005'")
    db.commit()
    with pytest.raises(SchemaVersionError, match="assetry upgrade"):
        Catalog(tmp_path / "c")
    Catalog.upgrade(tmp_path / "c")
    assert sorted(r[0] for r in db.execute(listed)) == sorted(names)
    plan = " ".join(
        str(r) for r in db.execute(
            "EXPLAIN QUERY PLAN SELECT RID FROM Doc WHERE SHA256 = ? AND Filename = ?", ("a", "b")
        )
    )  # fmt: skip
    assert "USING INDEX" in plan
    db.close()


def test_an_object_put_then_deleted_is_not_vouched_for(cat: Catalog) -> None:
    store = cat._context.store()
    digests = store.put_stream(io.BytesIO(b"short-lived"))
    store.delete(digests.sha256)
    row = {
        "URL": f"/objects/{digests.sha256}", "Length": digests.length,
        "MD5": digests.md5, "SHA256": digests.sha256,
    }  # fmt: skip
    with pytest.raises(ValidationError, match="no object"):
        cat.insert("Doc", [row])


def test_cli_a_killed_ingest_is_listed_stale_restored_or_aborted(
    cat: Catalog, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli.test_cli import make_runner

    run = make_runner(capsys)
    files(tmp_path / "in", 4)
    env = {**os.environ, "ASSETRY_FAULT_POINT": "upload.after_object:2"}
    child = subprocess.run(
        [sys.executable, "-m", "assetry", "--catalog", cat.location, "assets", "ingest", "Doc",
         str(tmp_path / "in")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr
    listed = run("--catalog", cat.location, "--json", "exec", "list", "--stale")
    assert listed.code == 0, listed.err
    [stale] = listed.json()
    assert stale["Status"] == "Running"
    shown = run("--catalog", cat.location, "exec", "list", "--stale")
    assert stale["RID"] in shown.out and "exec restore" in shown.out

    restored = run("--catalog", cat.location, "exec", "restore", stale["RID"])
    assert restored.code == 0, restored.err
    assert "Completed" in restored.out
    assert run("--catalog", cat.location, "--json", "exec", "list", "--stale").json() == []
    assert len(cat.list_assets("Doc")) == 4

    # a run killed again, this time ended by hand
    child = killed(RUN, cat.location)
    rid = child.stdout.split()[0]
    aborted = run("--catalog", cat.location, "exec", "abort", rid, "--detail", "power cut")
    assert aborted.code == 0, aborted.err
    assert f"Execution {rid}: Aborted" in aborted.out
    assert cat.resolve_rid(rid).row["Status_Detail"] == "power cut"
    wrong = run("--catalog", cat.location, "exec", "abort", cat.list_assets("Doc")[0]["RID"])
    assert wrong.code == 1 and "not an Execution" in wrong.err
