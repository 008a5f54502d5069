"""What ``exe.asset_file_path`` does: one file or a batch staged in an execution's
working directory, and a staged file's types and metadata changed until the upload.

Staging runs once per output file, so the catalog is asked as little as possible: once
whether the outputs are uploaded, once per table, types and column values (the upload
checks every row again), and each staging folder is checked and made once.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.errors import StateError
from assetry.executions import batch
from assetry.executions.assetpath import AssetFilePath
from assetry.executions.staging import StagedFile, WorkingDir

if TYPE_CHECKING:
    from assetry.backend import Backend


class Stager:
    """The staging side of one execution."""

    def __init__(
        self, work: WorkingDir, backend: Backend, rid: str, upload_status: Callable[[], str]
    ) -> None:
        self._work = work
        self._backend = backend
        self._rid = rid
        self._upload_status = upload_status
        self.uploaded: bool | None = None  # None: not asked yet
        self._checked: dict[Any, tuple[list[str], dict[str, Any]]] = {}
        self._made_folders: set[str] = set()
        self._entries: dict[str, StagedFile] = {}  # by the path handed out

    def check_not_uploaded(self) -> None:
        """``StateError`` once the execution's outputs are uploaded. The catalog is asked
        once (a restored execution may be done); afterwards this object knows, since only
        its own upload changes that here."""
        if self.uploaded is None:
            self.uploaded = self._upload_status() == "Uploaded"
        if self.uploaded:
            raise StateError(f"execution {self._rid}: its outputs are already uploaded")

    def stage(
        self,
        table: str,
        file_name: Any,
        asset_types: list[str] | str | None,
        copy_file: bool,
        rename_file: str | None,
        description: str | None,
        columns: dict[str, Any],
    ) -> AssetFilePath | list[AssetFilePath]:
        """``Execution.asset_file_path`` (its docstring is the contract)."""
        self.check_not_uploaded()
        if isinstance(asset_types, str):
            asset_types = [asset_types]
        types, columns = self._checked_staging(table, list(asset_types or []), columns)
        if isinstance(file_name, list | tuple):
            return self._stage_batch(
                table, file_name, types, columns, copy_file, rename_file, description
            )
        source = os.fspath(file_name)
        try:
            mode = os.stat(source).st_mode
        except (OSError, ValueError):  # missing, or a name no file can have
            mode = 0
        if stat.S_ISDIR(mode):
            return self._stage_batch(
                table, file_name, types, columns, copy_file, rename_file, description
            )
        existing = stat.S_ISREG(mode)
        if rename_file is not None:
            name = rename_file
        elif existing:
            name = os.path.basename(source)
        else:
            name = source
        where, relative = self._work.staged_text(table, name)
        folder = os.path.dirname(where)
        if folder not in self._made_folders:
            os.makedirs(folder, exist_ok=True)
            self._made_folders.add(folder)
        if existing:
            real = os.path.realpath(source)
            if real != where:
                if os.path.lexists(where):
                    os.unlink(where)
                if copy_file:
                    shutil.copyfile(source, where)
                else:
                    os.symlink(real, where)
        path = AssetFilePath(where, table, types, columns, restage=self._restage)
        path.file_name = relative
        entry = StagedFile(table, relative, path, types, description, columns)
        self._work.record_staging(entry)
        self._entries[where] = entry
        return path

    def _checked_staging(
        self, table: str, types: list[str], columns: dict[str, Any]
    ) -> tuple[list[str], dict[str, Any]]:
        """``Backend.check_staging``, remembered per table, types and column values: a
        run stages thousands of files with the same ones. The upload checks every row
        again, so a term or column removed meanwhile is still refused there."""
        try:
            key: Any = (table, tuple(types), tuple(sorted(columns.items())))
            hash(key)
        except TypeError:  # a column value that is a list or dict
            return self._backend.check_staging(table, types, columns)
        found = self._checked.get(key)
        if found is None:
            found = self._checked[key] = self._backend.check_staging(table, types, columns)
        return list(found[0]), dict(found[1])

    def _stage_batch(
        self,
        table: str,
        file_name: Any,
        types: list[str],
        columns: dict[str, Any],
        copy_file: bool,
        rename_file: str | None,
        description: str | None,
    ) -> list[AssetFilePath]:
        """Stage a folder's or a list's files (see ``batch``)."""
        planned = batch.plan(file_name, rename_file)
        batch.check_against(self._work, table, planned)
        if copy_file:
            paths = batch.copy_in(self._work, table, planned)
            files: list[tuple[str, str | None]] = [(p.name, None) for p in planned]
        else:
            paths = [p.source for p in planned]
            files = [(p.name, p.source) for p in planned]
        self._work.record_batch(table, files, types, description, columns)
        out = []
        for (name, source), where in zip(files, paths, strict=True):
            path = AssetFilePath(where, table, types, columns, restage=self._restage)
            path.file_name = name
            self._entries[where] = StagedFile(
                table, name, Path(where), types, description, columns, source
            )
            out.append(path)
        return out

    def _restage(
        self, path: AssetFilePath, types: list[str] | None, metadata: dict[str, Any] | None
    ) -> None:
        """Change a staged file's asset types or metadata (checked, then journaled)."""
        self.check_not_uploaded()
        entry = self._entries[os.fspath(path)]
        new_types = path.asset_types if types is None else types
        new_columns = path.asset_metadata if metadata is None else metadata
        checked, columns = self._backend.check_staging(entry.table, new_types, new_columns)
        entry = StagedFile(entry.table, entry.name, entry.path, checked, entry.description,
                           columns, entry.source)  # fmt: skip
        self._work.record_staging(entry)
        self._entries[os.fspath(path)] = entry
        path.asset_types, path.asset_metadata = checked, columns
