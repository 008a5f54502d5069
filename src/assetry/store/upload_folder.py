"""The folder of partial uploads a server keeps, and collecting what interrupted uploads
left in it.

Single ``PUT /objects`` requests write ``put-*.part`` files; resumable sessions keep
``<id>.json`` (what the file will be), ``<id>.part`` (the bytes so far) and ``<id>.lock``
(a file lock, so workers and machines sharing the folder agree on who completes it). A
killed request or an abandoned session leaves files behind: ``collect_abandoned``
removes those untouched for a grace period. The server runs it at startup and
``fsck --repair`` runs it on the catalog's default upload folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from assetry.store.base import ObjectStore

ABANDONED_GRACE_SECONDS = 3600.0  # partial uploads untouched this long are removed
SESSION_FILE = re.compile(r"([0-9a-f]{32})\.(json|part|lock)")
PUT_TEMP = re.compile(r"put-.*\.part")

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: locks within this process only
    fcntl = None  # type: ignore[assignment]

_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()


def lock_path(folder: Path, upload_id: str) -> Path:
    return folder / f"{upload_id}.lock"


@contextlib.contextmanager
def locked(folder: Path, upload_id: str, wait: bool = True) -> Iterator[bool]:
    """Hold the session's lock (a file lock, so workers and machines sharing the upload
    folder agree); yield whether it is held (``wait=False`` does not wait for it)."""
    if fcntl is None:
        with _local_locks_guard:
            lock = _local_locks.setdefault(upload_id, threading.Lock())
        if not lock.acquire(blocking=wait):
            yield False
            return
        try:
            yield True
        finally:
            lock.release()
        return
    fd = os.open(lock_path(folder, upload_id), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


def collect_abandoned(
    upload_dir: str | os.PathLike[str],
    store: ObjectStore | None = None,
    grace_seconds: float = ABANDONED_GRACE_SECONDS,
    session_expiry: float | None = None,
) -> list[Path]:
    """Remove what interrupted uploads left behind, untouched for ``grace_seconds``:
    ``put-*.part`` files of single ``PUT /objects`` requests, resumable sessions (their
    ``.json``, ``.part`` and ``.lock`` files; a session being completed right
    now is skipped) and, for a local ``store``, its own temporary ``.part`` files.
    With ``session_expiry``, a session is removed when it began that many seconds ago
    instead (it has expired, however recently it was used). Return the paths removed.
    The server calls this at startup and every few minutes; ``fsck --repair`` too."""
    folder = Path(upload_dir)
    cutoff = time.time() - grace_seconds
    removed: list[Path] = []

    def stale(path: Path) -> bool:
        try:
            return path.stat().st_mtime < cutoff
        except FileNotFoundError:
            return False

    def remove(path: Path) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            return
        removed.append(path)

    sessions: dict[str, list[Path]] = {}
    if folder.is_dir():
        for entry in folder.iterdir():
            if PUT_TEMP.fullmatch(entry.name):
                if stale(entry):
                    remove(entry)
                continue
            found = SESSION_FILE.fullmatch(entry.name)
            if found:
                sessions.setdefault(found.group(1), []).append(entry)
    began_before = None if session_expiry is None else time.time() - session_expiry
    for upload_id, files in sorted(sessions.items()):
        if began_before is not None:
            if not _began_before(folder / f"{upload_id}.json", began_before):
                continue
        elif not all(stale(f) or not f.exists() for f in files):
            continue
        with locked(folder, upload_id, wait=False) as held:
            if not held:
                continue  # being completed now
            for path in files:
                if not path.name.endswith(".lock"):
                    remove(path)
            lock_path(folder, upload_id).unlink(missing_ok=True)  # ours, not reported
    temporary = _store_temp_dir(store)
    if temporary is not None and temporary.is_dir():
        for entry in temporary.iterdir():
            if entry.name.endswith(".part") and stale(entry):
                remove(entry)
    return removed


def _began_before(meta: Path, moment: float) -> bool:
    """Whether the session whose record is ``meta`` (written once, when it began) began
    before ``moment``; a session without a record counts as old."""
    try:
        return meta.stat().st_mtime < moment
    except FileNotFoundError:
        return True


def _store_temp_dir(store: ObjectStore | None) -> Path | None:
    from assetry.store import local

    if isinstance(store, local.LocalStore):
        return store.root / local._TMP
    return None
