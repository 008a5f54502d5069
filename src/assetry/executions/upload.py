"""The upload driver: staged files -> stored objects -> asset rows, safe to run again.

Each file is read once: hashed while it is copied into the store, or hashed and then
moved (renamed) when it is a file the execution itself created and the store is on the
same file system. Objects are durable before the rows that reference them commit. Rows
are committed in batches together with an upload-ledger entry per staged name, so after
a crash a second run records each staged entry exactly once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from assetry.catalog.assets import OutputEntry
from assetry.errors import NotFoundError
from assetry.executions.staging import StagedFile, WorkingDir
from assetry.faults import fault_point
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests, hash_file

BATCH_SIZE = 500


@dataclass
class UploadReport:
    """What one run of the driver did."""

    recorded: dict[str, tuple[str, str]]  # staged name -> (table, asset RID)
    missing: list[StagedFile]


def _store_one(store: ObjectStore, work: WorkingDir, item: StagedFile, move: bool) -> Digests:
    path = item.path
    if path.is_symlink() or not move or path.stat().st_nlink != 1:
        # A link to the user's own file, or files to keep: copy while hashing.
        return store.put_file(path)
    if not store.adopt_supported:
        return store.put_file(path)
    digests = hash_file(path)
    work.record_stored(item.staged_name, digests)
    adopted = store.adopt(path, digests)
    return adopted if adopted is not None else store.put_file(path)


def _progress(total: int, enabled: bool | None) -> Any:
    from tqdm import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, unit="file", desc="upload", disable=not show, leave=False)


def run(
    *,
    execution: str,
    work: WorkingDir,
    store: ObjectStore,
    record: Callable[[Sequence[OutputEntry]], dict[str, tuple[str, str]]],
    already: dict[str, tuple[str, str]],
    move: bool,
    progress: bool | None = None,
) -> UploadReport:
    """Store and record every staged file not yet recorded."""
    work.sync_journals()
    stored = work.stored()
    recorded = dict(already)
    missing: list[StagedFile] = []
    todo = [item for item in work.staged() if item.staged_name not in recorded]
    with _progress(len(todo), progress) as bar:
        for start in range(0, len(todo), BATCH_SIZE):
            entries = []
            for item in todo[start : start + BATCH_SIZE]:
                fault_point("upload.before_object")
                digests = _digests_for(store, work, item, stored, move)
                if digests is None:
                    missing.append(item)
                    continue
                fault_point("upload.after_object")
                entries.append(
                    OutputEntry(
                        staged_name=item.staged_name,
                        table=item.table,
                        filename=item.name.rsplit("/", 1)[-1],
                        url=store.object_url(digests.sha256),
                        md5=digests.md5,
                        sha256=digests.sha256,
                        length=digests.length,
                        asset_types=item.asset_types,
                        description=item.description,
                        columns=item.columns,
                    )
                )
                bar.update(1)
            if entries:
                recorded.update(record(entries))
                fault_point("upload.after_rows")
    return UploadReport(recorded, missing)


def _digests_for(
    store: ObjectStore,
    work: WorkingDir,
    item: StagedFile,
    stored: dict[str, Digests],
    move: bool,
) -> Digests | None:
    if item.path.exists():
        return _store_one(store, work, item, move)
    known = stored.get(item.staged_name)
    if known is not None and store.stat(known.sha256) is not None:
        return known  # moved into the store before an interruption
    return None


def missing_error(execution: str, missing: Sequence[StagedFile]) -> NotFoundError:
    names = ", ".join(item.staged_name for item in missing[:20])
    more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    return NotFoundError(
        f"execution {execution}: staged file(s) missing, so not uploaded: {names}{more}. "
        "Put them back and upload again (upload_execution_outputs(), or "
        f"`assetry exec restore {execution}`); everything else was uploaded."
    )
