"""The Execution context manager: a run of a workflow, its staging folder, its inputs and
outputs, and its two statuses."""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from assetry.errors import StateError
from assetry.executions import owner, upload
from assetry.executions.staging import StagedFile, WorkingDir
from assetry.executions.workflow import ExecutionConfiguration

if TYPE_CHECKING:
    from assetry.backend import Backend
    from assetry.store.base import ObjectStore


class Execution:
    """One run: use it as ``with cat.create_execution(cfg) as exe:``.

    Entering marks it Running; leaving normally marks it Completed, and an exception
    marks it Failed with the error's text (the exception still propagates). Outputs are
    staged with ``asset_file_path`` and recorded by ``upload_execution_outputs``.
    """

    def __init__(
        self,
        download_bag: Callable[[Any], Any],
        rid: str,
        working_dir: Path,
        configuration: ExecutionConfiguration | None = None,
        asset_paths: dict[str, list[Path]] | None = None,
        *,
        backend: Backend,
        store: Callable[[], ObjectStore],
        restored: bool = False,
    ) -> None:
        """An execution recorded through ``backend``, its files stored in ``store()``
        (opened when first needed); ``download_bag(spec)`` fetches a dataset version's bag."""
        self._download_bag = download_bag
        self._backend = backend
        self._store = store
        self.rid = rid
        self._restored = restored  # reopened by restore_execution, not run here
        self._work = WorkingDir(working_dir)
        self.configuration = configuration or ExecutionConfiguration()
        self.asset_paths: dict[str, list[Path]] = asset_paths or {}
        self.datasets: list[Any] = []

    def __repr__(self) -> str:
        return f"Execution({self.rid!r})"

    @property
    def working_dir(self) -> Path:
        """This execution's private staging directory."""
        return self._work.path

    @property
    def status(self) -> str:
        """The run status (Created, Running, Completed, Failed, Aborted)."""
        return str(self._row()["Status"])

    @property
    def upload_status(self) -> str:
        """The upload status (Not_Started, Pending, Uploaded, Failed)."""
        return str(self._row()["Upload_Status"])

    def _row(self) -> dict[str, Any]:
        return self._backend.get_row("Execution", self.rid)

    # --- status --------------------------------------------------------------------
    def __enter__(self) -> Execution:
        self.update_status("Running")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.update_status("Completed")
        else:
            detail = f"{type(exc).__name__}: {exc}"
            self._backend.set_status(self.rid, "Status", "Failed", detail[:4000])

    def update_status(self, status: str, detail: str | None = None) -> None:
        """Move the run to ``status`` (a term or synonym of Execution_Status)."""
        self._backend.set_status(self.rid, "Status", status, detail)

    def download_dataset_bag(self, dataset: Any) -> Any:
        """Download the bag of ``dataset`` (a ``DatasetSpec``) and record it as an input
        of this execution."""
        bag = self._download_bag(dataset)
        self._backend.link_datasets(self.rid, [(bag.dataset_rid, bag.version)])
        self.datasets.append(bag)
        return bag

    # --- staging -------------------------------------------------------------------
    def asset_file_path(
        self,
        asset_name: str,
        file_name: str | os.PathLike[str],
        asset_types: list[str] | str | None = None,
        copy_file: bool = False,
        rename_file: str | None = None,
        description: str | None = None,
        **kwargs: Any,
    ) -> Path:
        """Stage a file for upload into asset table ``asset_name``; return its staged path.

        If ``file_name`` names an existing file it is staged (copied with ``copy_file``,
        else linked; its bytes are read at upload). Otherwise ``file_name`` is a new
        relative name (sub-folders allowed) and the returned path is where to write it.
        ``rename_file`` sets the staged name. Extra keyword arguments are the table's own
        columns, checked now.
        """
        if self.upload_status == "Uploaded":
            raise StateError(f"execution {self.rid}: its outputs are already uploaded")
        if isinstance(asset_types, str):
            asset_types = [asset_types]
        types, columns = self._backend.check_staging(asset_name, list(asset_types or []), kwargs)
        source = Path(file_name)
        try:
            existing = source.is_file()
        except (OSError, ValueError):  # a name too long (or not text) for any file
            existing = False
        if rename_file is not None:
            name = rename_file
        elif existing:
            name = source.name
        else:
            name = os.fspath(file_name)
        staged, relative = self._work.staged_place(asset_name, name)
        staged.parent.mkdir(parents=True, exist_ok=True)
        if existing and source.resolve() != staged:
            if staged.exists() or staged.is_symlink():
                staged.unlink()
            if copy_file:
                shutil.copyfile(source, staged)
            else:
                staged.symlink_to(source.resolve())
        self._work.record_staging(
            StagedFile(asset_name, relative, staged, types, description, columns)
        )
        return staged

    # --- upload --------------------------------------------------------------------
    def upload_execution_outputs(
        self, clean_folder: bool = True, progress: bool | None = None, *, dedupe: bool = False
    ) -> dict[str, list[dict[str, Any]]]:
        """Store and record every staged file; return ``{table: [asset dict]}``.

        Safe to call again after a crash or a failure: each staged entry is recorded
        exactly once. With ``clean_folder`` the working directory is removed afterwards.
        """
        backend = self._backend
        current = self.upload_status
        # Read before the upload (which may remove the folder): who ran it, and how.
        state = self._work.state() if self._restored else None
        if current != "Uploaded":
            backend.set_status(self.rid, "Upload_Status", "Pending")
        store = self._store()
        try:
            report = upload.run(
                execution=self.rid,
                work=self._work,
                store=store,
                record=lambda entries: backend.record_outputs(self.rid, entries, dedupe),
                already=backend.recorded_outputs(self.rid),
                move=clean_folder,
                progress=progress,
            )
        except BaseException:
            if current != "Uploaded":
                backend.set_status(self.rid, "Upload_Status", "Failed")
            raise
        if report.missing:
            backend.set_status(self.rid, "Upload_Status", "Failed")
            raise upload.missing_error(self.rid, report.missing)
        if current != "Uploaded":
            backend.set_status(self.rid, "Upload_Status", "Uploaded")
        by_table: dict[str, list[str]] = defaultdict(list)
        for table, rid in report.recorded.values():
            by_table[table].append(rid)
        result = {
            table: backend.asset_dicts(table, list(dict.fromkeys(rids)))
            for table, rids in sorted(by_table.items())
        }
        if state is not None:
            self._finish_stale_run(state)
        if clean_folder:
            _remove_tree(self._work.path)
        return result

    def _finish_stale_run(self, state: dict[str, Any]) -> None:
        """A restored run whose process is gone gets its final status: Completed when
        its work was the upload (an ingest), Failed when it died while running, Aborted
        when it never started."""
        if not owner.is_gone(state):
            return
        status = self.status
        where = f"pid {state.get('pid')} on {state.get('host')}"
        if status == "Created":
            self.update_status("Aborted", f"its process ({where}) ended before it started")
        elif status == "Running" and state.get("finishes_with_upload"):
            self.update_status("Completed", "upload finished by restore_execution")
        elif status == "Running":
            self._backend.set_status(
                self.rid,
                "Status",
                "Failed",
                f"its process ({where}) ended while it was running; restore_execution "
                "uploaded what it had staged",
            )


def _remove_tree(path: Path) -> None:
    # Read-only files (inputs) go with their writable directories.
    if path.is_dir():
        shutil.rmtree(path)
