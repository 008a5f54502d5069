"""Watched folders (API §13): files created or changed in a folder while an execution runs
are captured once they are stable.

A file is *stable* when its size, mtime and inode have not changed for the settle time
and no process has it open for writing (read from ``/proc`` on Linux; elsewhere the
settle time alone decides while the run lasts). File events come from watchdog when it
is installed (``assetry[capture]``), else the folders are polled; either way a periodic
scan catches what events miss (a folder deleted and made again, an event queue that
overflowed). One worker thread (plus watchdog's observer) serves all folders of an
execution, and ``stop`` joins them: no thread outlives the execution.

At the end, a file no process has open for writing is taken at once (the program has
finished with it); a file still open is waited for up to the limit, then reported and
not captured. Hidden names (a part starting with ``.``) and temporary suffixes
(``.tmp``, ``.part``, ``.swp``, ``~``) are not captured: they are how programs write a
file before renaming it to its real name, which is captured.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assetry.errors import ValidationError

DEFAULT_TABLE = "Execution_Asset"
# Batches of at least PARALLEL_FROM stable files are copied on COPY_THREADS threads.
PARALLEL_FROM = 16
COPY_THREADS = 4
TEMPORARY_SUFFIXES = (".tmp", ".part", ".swp", "~")

Signature = tuple[int, int, int]  # size, mtime (ns), inode


@dataclass(frozen=True)
class WatchedFolder:
    """A folder watched for one execution: its files are staged in ``table`` as
    ``<label>/<path in the folder>``."""

    path: Path
    label: str
    table: str


@dataclass
class WatchReport:
    """What the watched folders of an execution gave."""

    captured: list[str] = field(default_factory=list)  # staged names
    unfinished: list[str] = field(default_factory=list)  # still written at the end
    vanished: list[str] = field(default_factory=list)  # gone between stable and copy
    skipped: list[str] = field(default_factory=list)  # names that cannot be staged
    folders_gone: list[str] = field(default_factory=list)  # deleted during the run
    upload_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """One line per thing the user should know about (empty when all went well)."""
        lines = []
        if self.unfinished:
            lines.append(
                "still being written at the end, so not captured: " + ", ".join(self.unfinished)
            )
        if self.vanished:
            lines.append("removed before they could be copied: " + ", ".join(self.vanished))
        if self.skipped:
            lines.append("not captured: " + "; ".join(self.skipped))
        if self.folders_gone:
            lines.append("watched folders deleted during the run: " + ", ".join(self.folders_gone))
        if self.upload_errors:
            lines.append(
                "uploads while running failed (the files stay staged for the final upload): "
                + "; ".join(self.upload_errors)
            )
        return lines


def checked_folder(path: object, inside: Sequence[Path] = ()) -> Path:
    """The absolute folder ``path`` names (relative to the current directory).

    A missing folder inside the current directory (the working tree) or inside one of
    ``inside`` is created, since a program usually makes its output folder only when it
    first writes there; a missing folder elsewhere is a ``ValidationError``, as is a
    path that is not a folder.
    """
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise ValidationError(f"a watched folder is a path, got {path!r}")
    folder = Path(os.path.abspath(Path(path).expanduser()))
    if folder.exists():
        if not folder.is_dir():
            raise ValidationError(f"watched path {os.fspath(path)!r} is not a folder")
        return folder
    roots = [Path.cwd().resolve(), *(Path(p).resolve() for p in inside)]
    resolved = folder.resolve()
    if not any(resolved == root or root in resolved.parents for root in roots):
        raise ValidationError(
            f"watched folder {os.fspath(path)!r} does not exist (only a missing folder inside "
            f"the current directory {roots[0]} is created)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_for_writing(paths: Sequence[Path]) -> set[Path] | None:
    """Those of ``paths`` some process has open for writing, from ``/proc`` (Linux), or
    None where that cannot be known."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    wanted: dict[tuple[int, int], Path] = {}
    for path in paths:
        try:
            info = os.stat(path)
        except OSError:
            continue
        wanted[(info.st_dev, info.st_ino)] = path
    found: set[Path] = set()
    if not wanted:
        return found
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or another user's
        for fd in fds:
            try:
                info = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            match = wanted.get((info.st_dev, info.st_ino))
            if match is not None and match not in found and _writable(pid, fd):
                found.add(match)
    return found


def _writable(pid: str, fd: str) -> bool:
    try:
        with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("flags:"):
                    return int(line.split()[1], 8) & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
    except (OSError, ValueError, IndexError):
        pass
    return False


# take(folder, path) -> staged name, or None when the file changed while it was copied;
# raises FileNotFoundError when it is gone and ValidationError for a name it cannot stage.
Take = Callable[[WatchedFolder, Path], str | None]


@dataclass
class _Pending:
    signature: Signature
    since: float
    folder: WatchedFolder


class FolderWatcher:
    """Watches folders for one execution and hands each stable file to ``take``;
    ``on_captured(names)`` is called (on the worker thread) with each batch taken."""

    def __init__(
        self,
        take: Take,
        settle: float,
        wait: float,
        on_captured: Callable[[list[str]], None] | None = None,
    ) -> None:
        self._take = take
        self._settle = settle
        self._wait = wait
        self._on_captured = on_captured
        self._interval = min(max(settle / 4, 0.005), 0.25)
        self._folders: list[WatchedFolder] = []
        self._lock = threading.Lock()
        self._baseline: dict[Path, Signature] = {}  # present at the start, unchanged
        self._done: dict[Path, Signature] = {}  # captured, as captured
        self._pending: dict[Path, _Pending] = {}
        self._events: deque[tuple[WatchedFolder, Path | None]] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: Any = None
        self._polling = False
        self._last_scan = 0.0
        self.report = WatchReport()

    # --- control -----------------------------------------------------------------------
    @property
    def folders(self) -> list[WatchedFolder]:
        """The folders watched."""
        with self._lock:
            return list(self._folders)

    def add(self, folder: WatchedFolder) -> None:
        """Watch ``folder`` too (its current files count only once they change)."""
        baseline = {path: sig for path, sig in _walk(folder.path)}
        with self._lock:
            self._baseline.update(baseline)
            self._folders.append(folder)
        self._schedule(folder)
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"assetry-watch-{folder.label}", daemon=True
            )
            self._thread.start()

    def stop(self) -> WatchReport:
        """Take what is left (waiting up to the limit for files still being written),
        stop the threads and return the report."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
        return self.report

    # --- file events (watchdog) ----------------------------------------------------------
    def _schedule(self, folder: WatchedFolder) -> None:
        if self._polling:
            return
        try:
            from watchdog.observers import Observer
        except ImportError:
            self._polling = True
            return
        try:
            if self._observer is None:
                self._observer = Observer()
                self._observer.daemon = True
                self._observer.start()
            self._observer.schedule(_Handler(self, folder), str(folder.path), recursive=True)
        except OSError:
            self._polling = True  # e.g. the inotify watch limit: poll instead

    def _event(self, folder: WatchedFolder, path: Path | None) -> None:
        self._events.append((folder, path))
        self._wake.set()

    # --- the worker ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.wait(self._interval)
                self._wake.clear()
                self._observe(full=self._polling or self._scan_due())
                self._settle_pass(final=False)
            self._finish()
        except BaseException as err:  # the report says it; stop() still returns
            self.report.skipped.append(f"the watcher stopped: {type(err).__name__}: {err}")

    def _scan_due(self) -> bool:
        return time.monotonic() - self._last_scan >= max(self._settle, 1.0)

    def _finish(self) -> None:
        deadline = time.monotonic() + self._wait
        self._observe(full=True)
        while self._pending:
            self._settle_pass(final=True)
            if not self._pending or time.monotonic() >= deadline:
                break
            time.sleep(self._interval)
            self._observe(full=False)
        for path, pending in sorted(self._pending.items()):
            self.report.unfinished.append(_name(pending.folder, path))
        self._pending.clear()

    def _observe(self, full: bool) -> None:
        """Note the files events named (and, with ``full``, every file) as candidates."""
        rescan = full
        while self._events:
            folder, path = self._events.popleft()
            if path is None:
                rescan = True  # a folder appeared or moved: its files may have no events
            else:
                self._note(folder, path)
        if rescan:
            self._last_scan = time.monotonic()
            with self._lock:
                folders = list(self._folders)
            for folder in folders:
                if not folder.path.is_dir():
                    if folder.label not in self.report.folders_gone:
                        self.report.folders_gone.append(folder.label)
                    continue
                for path, signature in _walk(folder.path):
                    self._note(folder, path, signature)

    def _note(self, folder: WatchedFolder, path: Path, signature: Signature | None = None) -> None:
        if signature is None:
            if not _capturable(folder, path):
                return
            signature = _signature(path)
            if signature is None:
                return
        if self._done.get(path) == signature or self._baseline.get(path) == signature:
            return
        known = self._pending.get(path)
        if known is None or known.signature != signature:
            self._pending[path] = _Pending(signature, time.monotonic(), folder)

    def _settle_pass(self, final: bool) -> None:
        now = time.monotonic()
        ready = [
            path
            for path, pending in self._pending.items()
            if final or now - pending.since >= self._settle
        ]
        if not ready:
            return
        writing = open_for_writing(ready)
        if final and writing is None:
            # Nothing tells whether the file is still open: wait out the settle time.
            ready = [p for p in ready if now - self._pending[p].since >= self._settle]
            writing = set()
        stable: list[tuple[Path, Signature]] = []
        for path in ready:
            pending = self._pending[path]
            signature = _signature(path)
            if signature is None:
                del self._pending[path]  # removed before it was stable: a temporary file
                continue
            if signature != pending.signature:
                self._pending[path] = _Pending(signature, now, pending.folder)
                continue
            if writing is None or path not in writing:
                stable.append((path, signature))
        taken = []
        for (path, signature), outcome in zip(stable, self._copy_all(stable), strict=True):
            name = self._taken(self._pending[path].folder, path, signature, outcome)
            if name is not None:
                taken.append(name)
        if taken and self._on_captured is not None:
            try:
                self._on_captured(taken)
            except Exception as err:
                self.report.upload_errors.append(f"{type(err).__name__}: {err}")

    def _copy_all(self, stable: list[tuple[Path, Signature]]) -> list[str | None | Exception]:
        """``take`` each stable file (the staged name, None, or the error it raised); a
        large batch on a few threads (copies wait on the disk, not on Python), joined
        before this returns."""
        jobs = [(self._pending[path].folder, path) for path, _ in stable]
        if len(jobs) < PARALLEL_FROM:
            return [self._take_safely(job) for job in jobs]
        with ThreadPoolExecutor(COPY_THREADS, thread_name_prefix="assetry-capture") as pool:
            return list(pool.map(self._take_safely, jobs))

    def _take_safely(self, job: tuple[WatchedFolder, Path]) -> str | None | Exception:
        try:
            return self._take(*job)
        except (FileNotFoundError, ValidationError) as err:
            return err

    def _taken(
        self,
        folder: WatchedFolder,
        path: Path,
        signature: Signature,
        outcome: str | None | Exception,
    ) -> str | None:
        """Record what taking one file gave; the staged name when it was staged."""
        name = _name(folder, path)
        if outcome is None:  # changed while copied: wait until it is stable again
            self._pending[path] = _Pending(signature, time.monotonic(), folder)
            return None
        del self._pending[path]
        self._done[path] = signature
        if isinstance(outcome, FileNotFoundError):
            self.report.vanished.append(name)
            return None
        if isinstance(outcome, Exception):
            self.report.skipped.append(f"{name}: {outcome}")
            return None
        self.report.captured.append(outcome)
        return outcome


class _Handler:
    """watchdog's handler interface: every event names a file (or a folder) to look at."""

    def __init__(self, watcher: FolderWatcher, folder: WatchedFolder) -> None:
        self._watcher = watcher
        self._folder = folder

    def dispatch(self, event: Any) -> None:
        if event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        if event.is_directory:
            self._watcher._event(self._folder, None)
            return
        target = getattr(event, "dest_path", "") or event.src_path
        self._watcher._event(self._folder, Path(os.fsdecode(target)))


def _name(folder: WatchedFolder, path: Path) -> str:
    try:
        return f"{folder.label}/{path.relative_to(folder.path).as_posix()}"
    except ValueError:
        return str(path)


def _capturable(folder: WatchedFolder, path: Path) -> bool:
    try:
        parts = path.relative_to(folder.path).parts
    except ValueError:
        return False
    if not parts or any(part.startswith(".") for part in parts):
        return False
    return not parts[-1].endswith(TEMPORARY_SUFFIXES)


def _signature(path: Path) -> Signature | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return info.st_size, info.st_mtime_ns, info.st_ino


def _walk(root: Path) -> Iterator[tuple[Path, Signature]]:
    """Every capturable regular file under ``root`` (links not followed) and its
    signature."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                    continue
                if not entry.is_file(follow_symlinks=False):
                    continue
                if entry.name.endswith(TEMPORARY_SUFFIXES):
                    continue
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            yield Path(entry.path), (info.st_size, info.st_mtime_ns, info.st_ino)
