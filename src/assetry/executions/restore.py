"""Which executions of a working tree are unfinished: what ``restore_execution()``
without a RID picks from (DerivaML restores "the" execution of its working folder)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assetry.errors import NotFoundError, RIDNotFound, ValidationError
from assetry.executions.staging import STAGING_JOURNAL, STATE_FILE, WorkingDir

if TYPE_CHECKING:
    from assetry.backend import Backend

#: The RID of a dry run (DerivaML's ``DRY_RUN_RID``): it names no row.
DRY_RUN_RID = "0000"
#: Where dry runs keep their folders, beside the executions' (never restored).
DRY_RUNS = "dry-runs"


def unfinished(root: Path, catalog: str, backend: Backend) -> list[tuple[str, str, str]]:
    """``(RID, Status, Upload_Status)`` of each execution of catalog ``catalog`` with a
    folder under ``root`` that is still to finish: its run is Created or Running, or its
    upload is not done (Not_Started with staged files, Pending, Failed)."""
    found = []
    folders = sorted(root.iterdir()) if root.is_dir() else []
    for folder in folders:
        if folder.name == DRY_RUNS or not (folder / STATE_FILE).is_file():
            continue
        state = WorkingDir(folder).state() or {}
        if state.get("catalog") != catalog or not isinstance(state.get("execution"), str):
            continue
        try:
            row = backend.get_row("Execution", state["execution"])
        except RIDNotFound:
            continue  # a folder of an execution this catalog no longer has
        # Files staged by reference are only in the journal.
        staged = (folder / STAGING_JOURNAL).is_file() or any((folder / "assets").rglob("*"))
        upload = row["Upload_Status"]
        if (
            row["Status"] in ("Created", "Running")
            or upload in ("Pending", "Failed")
            or (upload == "Not_Started" and staged)
        ):
            found.append((str(row["RID"]), str(row["Status"]), str(upload)))
    return found


def only_unfinished(root: Path, catalog: str, backend: Backend) -> str:
    """The RID of the one unfinished execution under ``root``; else an error saying
    which there are (``NotFoundError`` when none, ``ValidationError`` when several)."""
    found = unfinished(root, catalog, backend)
    if not found:
        raise NotFoundError(f"no unfinished execution in {root}; give restore_execution a RID")
    if len(found) > 1:
        listed = ", ".join(f"{rid} ({status}, upload {upload})" for rid, status, upload in found)
        raise ValidationError(
            f"{len(found)} unfinished executions in {root}: {listed}; give restore_execution "
            "the RID of one"
        )
    return found[0][0]
