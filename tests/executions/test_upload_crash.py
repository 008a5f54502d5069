"""An upload killed (SIGKILL) at each named fault point finishes on restore, with every
staged file recorded exactly once and every recorded object intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from assetry import Catalog, ColumnDef

FILES = 20

CHILD = textwrap.dedent(
    """
    import sys
    from assetry import Catalog, ExecutionConfiguration
    from assetry.executions import upload

    upload.BATCH_SIZE = 5
    cat = Catalog(sys.argv[1])
    wf = cat.create_workflow("crash", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    print(exe.rid, flush=True)
    for i in range(int(sys.argv[3])):
        exe.asset_file_path("Image", f"out/{i:03d}.bin", Width=i).write_bytes(b"x%d" % i)
    exe.upload_execution_outputs(clean_folder=sys.argv[2] == "clean")
    """
)


@pytest.mark.parametrize(
    "point", ["upload.before_object:7", "upload.after_object:7", "upload.after_rows:2"]
)
@pytest.mark.parametrize("clean", ["clean", "keep"])
def test_killed_upload_finishes_on_restore(catalog: Catalog, point: str, clean: str) -> None:
    catalog.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    env = {**os.environ, "ASSETRY_FAULT_POINT": point}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, catalog.location, clean, str(FILES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    rid = child.stdout.split()[0]
    before = catalog.list_assets("Image")
    assert len(before) < FILES

    exe = catalog.restore_execution(rid)
    assert exe.upload_status == "Pending"
    out = exe.upload_execution_outputs(clean_folder=clean == "clean")
    assert exe.upload_status == "Uploaded"

    assets = catalog.list_assets("Image")
    assert len(assets) == FILES
    assert sorted(a["Filename"] for a in assets) == [f"{i:03d}.bin" for i in range(FILES)]
    assert {a["RID"] for a in out["Image"]} == {a["RID"] for a in assets}
    assert sorted(a["Width"] for a in assets) == list(range(FILES))
    outputs = catalog.list_execution_assets(rid, role="Output")
    assert len(outputs) == FILES
    report = catalog.fsck()
    assert report.ok, report.to_dict()
    assert report.unreferenced == []
