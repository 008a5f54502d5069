"""The upload driver: staged files -> stored objects -> asset rows, safe to run again.

Each file is read once: hashed while it is copied into the store, or hashed and then
moved (renamed) when it is a file the execution itself created and the store is on the
same file system. Objects are durable before the rows that reference them commit (a
batch is synced while the next one is stored). Rows are committed in batches together
with an upload-ledger entry per staged name, so after a crash a second run records each
staged entry exactly once.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from assetry.errors import NotFoundError
from assetry.executions.staging import StagedFile, WorkingDir
from assetry.faults import ENV as FAULT_ENV
from assetry.faults import fault_point
from assetry.records.outputs import OutputEntry
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests, hash_file

BATCH_SIZE = 500


@dataclass
class UploadReport:
    """What one run of the driver did."""

    recorded: dict[str, tuple[str, str]]  # staged name -> (table, asset RID)
    missing: list[StagedFile]


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
    names: Collection[str] | None = None,
) -> UploadReport:
    """Store and record every staged file not yet recorded (of ``names`` only, when
    given: the entries capture staged while the run goes on, never a file the program
    may still be writing at a path ``asset_file_path`` gave it)."""
    work.sync_journals()
    stored = work.stored()
    recorded = dict(already)
    missing: list[StagedFile] = []
    todo = [
        item
        for item in work.staged()
        if item.staged_name not in recorded and (names is None or item.staged_name in names)
    ]
    # Batch k's objects are synced on a helper thread while this thread stores batch
    # k+1 (hashing, journaling, moving: mostly system calls, which let the helper run);
    # batch k's rows are recorded once its sync has returned.
    with (
        _progress(len(todo), progress) as bar,
        ThreadPoolExecutor(1, thread_name_prefix="assetry-sync") as syncer,
    ):
        syncing: tuple[list[OutputEntry], Future[None]] | None = None
        for start in range(0, len(todo), BATCH_SIZE):
            batch = todo[start : start + BATCH_SIZE]
            stored_now = _store_batch(store, work, batch, stored, move, missing)
            entries = [_entry(store, item, digests) for item, digests in stored_now]
            keys = {digests.sha256 for _, digests in stored_now}
            synced = syncer.submit(store.make_durable, keys)
            if syncing is not None:
                recorded.update(_record(record, *syncing))
            syncing = (entries, synced)
            bar.update(len(batch))
        if syncing is not None:
            recorded.update(_record(record, *syncing))
    return UploadReport(recorded, missing)


def _record(
    record: Callable[[Sequence[OutputEntry]], dict[str, tuple[str, str]]],
    entries: list[OutputEntry],
    synced: Future[None],
) -> dict[str, tuple[str, str]]:
    """Record a batch once its objects are durable (``synced`` raises what syncing did)."""
    synced.result()
    if not entries:
        return {}
    done = record(entries)
    fault_point("upload.after_rows")
    return done


def _state(item: StagedFile) -> os.stat_result | None:
    """The staged entry itself (``lstat``: a link is not followed), or None if it is gone
    or is a link to a file that is gone."""
    try:
        info = os.lstat(item.path)
        if stat.S_ISLNK(info.st_mode):
            os.stat(item.path)  # the linked file must exist
    except OSError as err:
        if err.errno in _GONE:  # what Path.exists() takes for "not there"
            return None
        raise
    return info


_GONE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _movable(store: ObjectStore, info: os.stat_result, move: bool) -> bool:
    """A file the execution created itself (one link, not a link to a user's file)."""
    return move and store.adopt_supported and not stat.S_ISLNK(info.st_mode) and info.st_nlink == 1


def _store_batch(
    store: ObjectStore,
    work: WorkingDir,
    batch: Sequence[StagedFile],
    stored: dict[str, Digests],
    move: bool,
    missing: list[StagedFile],
) -> list[tuple[StagedFile, Digests]]:
    """Store a batch of staged files, not yet durable (``make_durable`` does that).

    Copies are hashed in the same pass as the copy. Files to move are hashed, their
    digests journaled with one sync, then renamed into the store.
    """
    done: list[tuple[StagedFile, Digests]] = []
    to_move: list[tuple[StagedFile, Digests]] = []
    # The per-file fault points are reached only when a crash test names one: a look-up
    # of the environment per file (a KeyError raised and caught inside os.environ.get)
    # is measurable on thousands of small files.
    armed = bool(os.environ.get(FAULT_ENV))
    for item in batch:
        if armed:
            fault_point("upload.before_object")
        info = _state(item)
        if info is None:
            known = stored.get(item.staged_name)
            if known is not None and store.stat(known.sha256) is not None:
                done.append((item, known))  # moved before an interruption
            else:
                missing.append(item)
            continue
        # The catalog's rules choose the store by table and size (one store: itself).
        size = os.stat(item.path).st_size if stat.S_ISLNK(info.st_mode) else info.st_size
        target = store.route(item.table, size, item.asset_types)
        if item.source is None and _movable(target, info, move):
            to_move.append((item, hash_file(item.path)))
            continue
        done.append((item, target.put_file(item.path, durable=False)))
        if armed:
            fault_point("upload.after_object")
    # Copied objects are journaled too (once a batch), so until the rows name them they
    # are referenced by this unfinished execution (fsck keeps them).
    copied = [(item.staged_name, digests) for item, digests in done]
    work.record_stored_many([*copied, *((item.staged_name, d) for item, d in to_move)])
    for item, digests in to_move:
        target = store.route(item.table, digests.length, item.asset_types)
        adopted = target.adopt(item.path, digests, durable=False)
        done.append((item, adopted or target.put_file(item.path, durable=False)))
        if armed:
            fault_point("upload.after_object")
    return done


def _entry(store: ObjectStore, item: StagedFile, digests: Digests) -> OutputEntry:
    return OutputEntry(
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


def missing_error(execution: str, missing: Sequence[StagedFile]) -> NotFoundError:
    names = ", ".join(item.staged_name for item in missing[:20])
    more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    return NotFoundError(
        f"execution {execution}: staged file(s) missing, so not uploaded: {names}{more}. "
        "Put them back and upload again (upload_execution_outputs(), or "
        f"`assetry exec restore {execution}`); everything else was uploaded."
    )
