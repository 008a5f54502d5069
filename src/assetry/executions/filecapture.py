"""Captured files (watched folders, framework saves) staged in an execution.

A captured file is copied, never linked: the program may rewrite or delete it later, and
a later version is captured again as a new asset. The one copy goes straight into the
object store, hashed in the same pass (as an upload copies a file it may not move), and
the entry is journaled as staged with the digests of the stored object: the upload
records its row like that of a file it had moved into the store before an interruption
(``upload.py``), so a captured file is read once and written once. It is staged only if
the file did not change while it was copied (same size, mtime and inode before and
after), so a half-written file is never staged.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assetry.errors import ValidationError
from assetry.executions import kinds
from assetry.executions.staging import StagedFile, WorkingDir, checked_relative_name
from assetry.store.base import ObjectStore

# check(table, asset types) -> canonical asset types (``Backend.check_staging``).
CheckTypes = Callable[[str, list[str]], list[str]]


@dataclass(frozen=True)
class Captured:
    """One file staged by capture."""

    staged_name: str  # ``<table>/<name>``, the entry's key within its execution
    source: Path
    kind: str


class FileCapture:
    """Stages copies of files into one execution's working directory (thread-safe)."""

    def __init__(
        self, work: WorkingDir, store: Callable[[], ObjectStore], check_types: CheckTypes
    ) -> None:
        self._work = work
        self._store = store
        self._check_types = check_types
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str], list[str]] = {}
        self._used: set[str] = set()  # staged names taken by capture

    def take(
        self,
        source: Path,
        label: str,
        relative: str,
        table: str,
        origin: str,
        hint: str | None = None,
        sync: bool = True,
    ) -> Captured | None:
        """Stage a copy of ``source`` as ``<label>/<relative>`` in asset table ``table``
        (``<label>~2/<relative>`` for the second capture of that name, and so on).

        Returns None when the file changed while it was copied (take it again once it is
        stable). Raises ``FileNotFoundError`` when the file is gone and
        ``ValidationError`` when its name cannot be a staged name. Without ``sync`` the
        journals are made durable by a later ``sync()`` (one for a batch of files).
        """
        checked_relative_name(f"{label}/{relative}", "captured file name")
        kind = kinds.kind_of(source, hint)
        types = self._types_of(table, kind)
        before = os.stat(source)
        # Not durable yet: the upload makes the objects of its batch durable before the
        # rows that name them commit. An object of a file that changed meanwhile is left
        # unreferenced (fsck collects it).
        # The store the catalog's rules choose for this table, size and types.
        target = self._store().route(table, before.st_size, types)
        digests = target.put_file(source, durable=False)
        after = os.stat(source)
        if _signature(before) != _signature(after) or digests.length != before.st_size:
            return None
        description = f"{kind}, {origin}"
        with self._lock:
            name, staged = self._place(table, label, relative)
            # The digests first: an entry staged without a file must name its object.
            self._work.record_stored_many([(f"{table}/{name}", digests)], sync=False)
            self._work.record_staging(StagedFile(table, name, staged, types, description))
        if sync:
            self.sync()
        return Captured(f"{table}/{name}", source, kind)

    def sync(self) -> None:
        """Make what was captured so far survive a crash of the process."""
        self._work.sync_journals()

    def _place(self, table: str, label: str, relative: str) -> tuple[str, Path]:
        """The first free staged name ``<label>[~n]/<relative>`` and its path."""
        for number in range(1, 10_000):
            prefix = label if number == 1 else f"{label}~{number}"
            name = f"{prefix}/{relative}"
            if f"{table}/{name}" in self._used:
                continue
            try:
                staged, name = self._work.staged_place(table, name)
            except ValidationError:
                continue  # the name clashes with a folder or file staged before
            if staged.exists():
                continue
            self._used.add(f"{table}/{name}")
            return name, staged
        raise ValidationError(f"no free staged name for {label}/{relative} in {table}")

    def _types_of(self, table: str, kind: str) -> list[str]:
        term = kinds.asset_type(kind)
        key = (table, term)
        if key not in self._types:
            self._types[key] = self._check_types(table, [term])
        return self._types[key]


def _signature(info: os.stat_result) -> tuple[int, int, int]:
    return info.st_size, info.st_mtime_ns, info.st_ino
