"""The end of an execution's upload: statuses around the upload driver, feature values,
the asset dicts returned, and the final status of a restored run whose process is gone."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.executions import features, owner, upload
from assetry.records.assets import AssetRecord, UploadedAssets

if TYPE_CHECKING:
    from assetry.executions.execution import Execution


def upload_outputs(
    exe: Execution, clean_folder: bool, progress: bool | None, dedupe: bool
) -> UploadedAssets:
    """Store and record what ``exe`` staged (``Execution.upload_execution_outputs``)."""
    backend = exe._backend
    current = exe.upload_status
    # Read before the upload (which may remove the folder): who ran it, and how.
    state = exe._work.state() if exe._restored else None
    if current != "Uploaded":
        backend.set_status(exe.rid, "Upload_Status", "Pending")
    store = exe._store()
    try:
        report = upload.run(
            execution=exe.rid,
            work=exe._work,
            store=store,
            record=lambda entries: backend.record_outputs(exe.rid, entries, dedupe),
            already=backend.recorded_outputs(exe.rid),
            move=clean_folder,
            progress=progress,
        )
    except BaseException:
        if current != "Uploaded":
            backend.set_status(exe.rid, "Upload_Status", "Failed")
        raise
    if report.missing:
        backend.set_status(exe.rid, "Upload_Status", "Failed")
        raise upload.missing_error(exe.rid, report.missing)
    try:
        features.record(exe._work, backend, exe.rid, report.recorded)
    except BaseException:
        if current != "Uploaded":
            backend.set_status(exe.rid, "Upload_Status", "Failed")
        raise
    if current != "Uploaded":
        backend.set_status(exe.rid, "Upload_Status", "Uploaded")
    exe._stager.uploaded = True
    by_table: dict[str, list[str]] = defaultdict(list)
    for table, rid in report.recorded.values():
        by_table[table].append(rid)
    result = UploadedAssets(
        {
            table: [
                AssetRecord(row, table)
                for row in backend.asset_dicts(table, list(dict.fromkeys(rids)))
            ]
            for table, rids in sorted(by_table.items())
        }
    )
    if state is not None:
        _finish_stale_run(exe, state)
    if clean_folder:
        remove_tree(exe._work.path)
    return result


def _finish_stale_run(exe: Execution, state: dict[str, Any]) -> None:
    """A restored run whose process is gone gets its final status: Completed when
    its work was the upload (an ingest), Failed when it died while running, Aborted
    when it never started."""
    if not owner.is_gone(state):
        return
    status = exe.status
    where = f"pid {state.get('pid')} on {state.get('host')}"
    if status == "Created":
        exe.update_status("Aborted", f"its process ({where}) ended before it started")
    elif status == "Running" and state.get("finishes_with_upload"):
        exe.update_status("Completed", "upload finished by restore_execution")
    elif status == "Running":
        exe._backend.set_status(
            exe.rid,
            "Status",
            "Failed",
            f"its process ({where}) ended while it was running; restore_execution "
            "uploaded what it had staged",
        )


def remove_tree(path: Path) -> None:
    # Read-only files (inputs) go with their writable directories.
    if path.is_dir():
        shutil.rmtree(path)
