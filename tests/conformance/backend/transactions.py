"""Transactions: a change that fails leaves nothing behind (no row, no snapshot, no
history), references hold, and an upload killed halfway finishes on restore with every
staged file recorded exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from assetry import Catalog, ColumnDef, ConflictError, RIDNotFound, ValidationError
from tests.helpers import (
    catalog_state,
    refused,
    rid_of,
    stored_file,
)

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


def killed_upload_finishes_on_restore(catalog: Catalog, point: str, clean: str) -> None:
    """A child process stages FILES files and is killed (SIGKILL) at ``point`` of their
    upload; restoring the execution finishes it, each file recorded once."""
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


class AbstractTransactionTests:
    def test_a_failed_change_takes_no_snapshot_and_keeps_no_history(
        self, subject_image: Catalog
    ) -> None:
        catalog = subject_image
        [rid] = catalog.insert("Subject", [{"Name": "a"}])
        before = catalog.snapshot()
        with pytest.raises(ValidationError):
            catalog.update("Subject", [{"RID": rid, "Age": "old"}])
        assert catalog.snapshot() == before
        assert len(catalog.history(rid)) == 1

    def test_empty_insert_changes_nothing(self, subject_image: Catalog) -> None:
        catalog = subject_image
        snapshot = catalog.snapshot()
        assert catalog.insert("Subject", []) == []
        assert catalog.snapshot() == snapshot

    def test_unknown_rids(self, stocked: Catalog) -> None:
        subject = rid_of(stocked, "Subject")
        sample = rid_of(stocked, "Sample")
        before = catalog_state(stocked)
        for rid in ["ZZZZZZZZ-1", "nope", "X'; DROP TABLE Subject;--", sample]:
            err = refused(
                rid, lambda r=rid: stocked.update("Subject", [{"RID": r, "Age": 9}]), RIDNotFound
            )
            assert rid.upper() in str(err).upper(), str(err)
        # one unknown RID among known ones: no row changes
        with pytest.raises(RIDNotFound, match="ZZZZZZZZ-1"):
            stocked.update("Subject", [{"RID": subject, "Age": 9}, {"RID": "ZZZZZZZZ-1", "Age": 9}])
        with pytest.raises(RIDNotFound, match="ZZZZZZZZ-1"):
            stocked.delete("Sample", [sample, "ZZZZZZZZ-1"])
        assert catalog_state(stocked) == before

    def test_foreign_keys_are_enforced(self, subject_image: Catalog) -> None:
        catalog = subject_image
        [subject] = catalog.insert("Subject", [{"Name": "S1"}])
        image = {**stored_file(catalog, b"abc"), "Subject": subject.lower()}
        [rid] = catalog.insert("Image", [image])
        assert catalog.resolve_rid(rid).row["Subject"] == subject
        missing = {**stored_file(catalog, b"abc"), "Subject": "ZZZZZZZZ-9"}
        with pytest.raises(ValidationError, match="no row of 'Subject'"):
            catalog.insert("Image", [missing])
        with pytest.raises(ConflictError, match="still referenced"):
            catalog.delete("Subject", [subject])
        catalog.delete("Image", [rid])
        catalog.delete("Subject", [subject])
        assert catalog.get_table_as_dataframe("Subject").empty

    def test_deleting_what_is_still_referenced_is_conflict(self, stocked: Catalog) -> None:
        subject = rid_of(stocked, "Subject")
        mouse = stocked.lookup_term("Species", "Mouse")
        before = catalog_state(stocked)
        with pytest.raises(ConflictError, match="Sample"):
            stocked.delete("Subject", [subject])
        with pytest.raises(ConflictError, match="Subject"):
            stocked.delete_term("Species", "mus")
        with pytest.raises(ConflictError, match="Subject"):
            stocked.delete("Species", [mouse.rid])
        assert catalog_state(stocked) == before

    @pytest.mark.parametrize(
        "point", ["upload.before_object:7", "upload.after_object:7", "upload.after_rows:2"]
    )
    def test_killed_upload_finishes_on_restore(self, catalog: Catalog, point: str) -> None:
        killed_upload_finishes_on_restore(catalog, point, "clean")
