"""Crash safety: a child process kills itself (SIGKILL) at a named fault point inside an
upload, a bag export, a bag import, a dataset version and a migration. After each kill
the catalog opens, fsck finds nothing missing or corrupt, and running the operation
again completes with nothing lost or duplicated.

``make test`` runs a bounded sample (the first and last hit of every point);
``make crash`` (``ASSETRY_CRASH_SWEEP=full``) kills at every hit of every point and
writes one line per kill to ``$ASSETRY_FIGURES_DIR/crash-points.jsonl``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assetry import (
    Catalog,
    ColumnDef,
    DatasetSpec,
    ExecutionConfiguration,
    SchemaVersionError,
)
from assetry.bags.reader import DatasetBag
from tests.conftest import NewCatalog
from tests.helpers import tree

FULL = os.environ.get("ASSETRY_CRASH_SWEEP") == "full"
FILES = 8  # staged files of the upload; assets of the dataset
BATCH = 3

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from assetry import Catalog, DatasetSpec, ExecutionConfiguration
    from assetry.executions import upload

    operation, location = sys.argv[1], sys.argv[2]
    if operation == "migrate":
        Catalog.upgrade(location)
        sys.exit(0)
    cat = Catalog(location)
    if operation == "upload":
        upload.BATCH_SIZE = int(sys.argv[4])
        exe = cat.restore_execution(sys.argv[3])
        exe.upload_execution_outputs()
    elif operation == "export":
        cat.export_dataset_bag(DatasetSpec(sys.argv[3], "0.2.0"), dest=sys.argv[4])
    elif operation == "import":
        cat.import_bag(sys.argv[3])
    elif operation == "version":
        cat.increment_dataset_version(sys.argv[3], "major", description="crash")
    """
)

# point -> how many times the operation reaches it
POINTS = {
    "upload": {"upload.before_object": FILES, "upload.after_object": FILES,
               "upload.after_rows": -(-FILES // BATCH)},
    "export": {"export.after_asset": FILES, "export.before_rename": 1},
    "import": {"import.after_object": FILES, "import.before_rows": 1,
               "import.before_commit": 1},
    "version": {"version.before_commit": 1},
    "migrate": {"migrate.after_step": 2, "migrate.before_commit": 1},
}  # fmt: skip


def kill_points() -> list[tuple[str, str, int]]:
    """(operation, point, hit) to try: every hit in a full sweep, else first and last."""
    found = []
    for operation, points in POINTS.items():
        for point, hits in points.items():
            chosen = range(1, hits + 1) if FULL else sorted({1, hits})
            found += [(operation, point, n) for n in chosen]
    return found


def run_child(*args: str, point: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if point:
        env["ASSETRY_FAULT_POINT"] = point
    return subprocess.run(
        [sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def record(operation: str, point: str, hit: int, engine: str) -> None:
    folder = os.environ.get("ASSETRY_FIGURES_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        line = {"operation": operation, "point": point, "hit": hit, "engine": engine,
                "survived": True}  # fmt: skip
        with open(Path(folder) / "crash-points.jsonl", "a") as out:
            out.write(json.dumps(line) + "\n")


def consistent(location: str) -> Catalog:
    cat = Catalog(location)
    report = cat.fsck()
    assert report.ok, report.to_dict()
    return cat


def dataset_with_assets(cat: Catalog, tmp: Path) -> str:
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    cat.add_dataset_element_type("Image")
    files = []
    for i in range(FILES):
        path = tmp / f"src{i}.bin"
        path.write_bytes(f"image {i} ".encode() * 50)
        files.append(path)
    images = cat.upload_assets("Image", files)
    ds = cat.create_dataset([], description="crash")
    assert cat.add_dataset_members(ds, [i["RID"] for i in images]) == "0.2.0"
    return ds


@pytest.fixture(params=["sqlite", "postgres"] if FULL else ["sqlite"])
def crash_catalog(request: pytest.FixtureRequest) -> Catalog:
    request.node.engine = request.param
    return request.getfixturevalue(f"{request.param}_catalog")  # type: ignore[no-any-return]


@pytest.mark.parametrize(("operation", "point", "hit"), kill_points())
def test_killed_operation_completes_when_run_again(
    crash_catalog: Catalog,
    new_catalog: NewCatalog,
    tmp_path: Path,
    operation: str,
    point: str,
    hit: int,
    request: pytest.FixtureRequest,
) -> None:
    cat, loc = crash_catalog, crash_catalog.location
    fault = f"{point}:{hit}"
    if operation == "upload":
        cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
        wf = cat.create_workflow("crash", "Training", url="u", checksum="c")
        exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
        for i in range(FILES):
            exe.asset_file_path("Image", f"{i:03d}.bin", Width=i).write_bytes(b"x%d" % i)
        child = run_child("upload", loc, exe.rid, str(BATCH), point=fault)
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        after = consistent(loc)
        assert len(after.list_assets("Image")) <= FILES
        after.restore_execution(exe.rid).upload_execution_outputs()
        assets = after.list_assets("Image")
        assert sorted(a["Filename"] for a in assets) == [f"{i:03d}.bin" for i in range(FILES)]
        assert len(after.list_execution_assets(exe.rid, role="Output")) == FILES
    elif operation == "export":
        ds = dataset_with_assets(cat, tmp_path)
        reference = cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=tmp_path / "ref")
        dest = tmp_path / "out"
        child = run_child("export", loc, ds, str(dest), point=fault)
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        assert not (dest / reference.name).exists()  # never a half bag under its name
        after = consistent(loc)
        again = after.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=dest)
        assert tree(again) == tree(reference)
        DatasetBag(again).validate()
    elif operation == "import":
        ds = dataset_with_assets(cat, tmp_path)
        bag = cat.export_dataset_bag(DatasetSpec(ds, "0.2.0"), dest=tmp_path / "bag")
        target = new_catalog(tmp_path / "target")
        target.close()
        child = run_child("import", str(tmp_path / "target"), str(bag), point=fault)
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        after = consistent(str(tmp_path / "target"))
        assert "Image" not in after.list_tables()  # all of the bag, or none of it
        loaded = after.import_bag(bag)
        assert loaded.get("Image") == FILES
        assert after.import_bag(bag) == {} or not any(after.import_bag(bag).values())
        assert len(after.list_dataset_members(ds)["Image"]) == FILES
    elif operation == "version":
        ds = dataset_with_assets(cat, tmp_path)
        before = [v.version for v in cat.dataset_history(ds)]
        child = run_child("version", loc, ds, point=fault)
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        after = consistent(loc)
        assert [v.version for v in after.dataset_history(ds)] == before
        assert after.increment_dataset_version(ds, "major") == "1.0.0"
        assert [v.version for v in after.dataset_history(ds)] == [*before, "1.0.0"]
    else:  # migrate
        from assetry.sql import migrate
        from assetry.sql.engine import make_engine

        cat.close()
        engine = make_engine(cat._location.database_url)
        migrate.run(engine, "0002", downgrade=True)
        engine.dispose()
        child = run_child("migrate", loc, point=fault)
        assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
        with pytest.raises(SchemaVersionError, match="assetry upgrade"):
            Catalog(loc)  # still the old schema, whole: the migration rolled back
        assert Catalog.upgrade(loc) == migrate.head_revision()
        consistent(loc)
    record(operation, point, hit, getattr(request.node, "engine", "sqlite"))
