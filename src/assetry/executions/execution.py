"""The Execution context manager: a run of a workflow, its staging folder, its inputs and
outputs, and its two statuses."""

from __future__ import annotations

import contextvars
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, overload

from assetry.errors import StateError
from assetry.executions import features, outputs, upload
from assetry.executions.assetpath import AssetFilePath
from assetry.executions.filecapture import FileCapture
from assetry.executions.stager import Stager
from assetry.executions.staging import WorkingDir
from assetry.executions.watch import (
    DEFAULT_TABLE,
    FolderWatcher,
    WatchedFolder,
    WatchReport,
    checked_folder,
)
from assetry.executions.workflow import ExecutionConfiguration
from assetry.records.assets import AssetRecord, UploadedAssets
from assetry.store.hashing import Digests

if TYPE_CHECKING:
    from assetry.backend import Backend
    from assetry.store.base import ObjectStore


# The execution whose ``with`` block the running code is in (per thread and task).
_CURRENT: contextvars.ContextVar[Execution | None] = contextvars.ContextVar(
    "assetry_execution", default=None
)


def current_execution() -> Execution | None:
    """The execution whose ``with`` block is running here, or None."""
    return _CURRENT.get()


class Execution:
    """One run: use it as ``with cat.create_execution(cfg) as exe:``.

    Entering marks it Running and starts watching the configuration's ``watch``
    folders; leaving stops the watchers (no thread outlives the execution), undoes
    ``autolog`` patches and marks it Completed, or Failed with the error's text on an
    exception (which still propagates). Outputs are staged with ``asset_file_path`` (or
    captured) and recorded by ``upload_execution_outputs``.
    """

    def __init__(
        self,
        download_bag: Callable[[Any], Any],
        rid: str,
        working_dir: Path,
        configuration: ExecutionConfiguration | None = None,
        asset_paths: dict[str, list[AssetFilePath]] | None = None,
        *,
        backend: Backend,
        store: Callable[[], ObjectStore],
        restored: bool = False,
        dry_run: bool = False,
    ) -> None:
        """An execution recorded through ``backend``, its files stored in ``store()``
        (opened when first needed); ``download_bag(spec)`` fetches a dataset version's bag.
        A ``dry_run`` execution records nothing: its statuses live in this object only
        and ``upload_execution_outputs`` uploads nothing."""
        self._dry_run = dry_run
        self._local = {"Status": "Created", "Upload_Status": "Not_Started"}
        self._download_bag = download_bag
        self._backend = backend
        self._store = store
        self.rid = rid
        self._restored = restored  # reopened by restore_execution, not run here
        self._work = WorkingDir(working_dir)
        self.configuration = configuration or ExecutionConfiguration()
        self.asset_paths: dict[str, list[AssetFilePath]] = asset_paths or {}
        """Input assets by table, downloaded and verified (each carries its
        ``asset_rid``, ``asset_table`` and ``asset_types``)."""
        self.datasets: list[Any] = []
        self.watch_report: WatchReport | None = None
        """What the watched folders gave (set when the execution ends)."""
        self.completion_detail: str | None = None
        """The status detail recorded when the ``with`` block ends normally."""
        self._capture = FileCapture(
            self._work,
            store,
            lambda table, types: self._backend.check_staging(table, types, {})[0],
        )
        self._watcher: FolderWatcher | None = None
        self._watch_lock = threading.Lock()
        self._upload_lock = threading.Lock()
        self._context_token: contextvars.Token[Execution | None] | None = None
        self._last_status: str | None = None  # the Status this object last wrote
        self._stager = Stager(self._work, backend, rid, lambda: self.upload_status)

    def __repr__(self) -> str:
        return f"Execution({self.rid!r})"

    @property
    def execution_rid(self) -> str:
        """This execution's RID (DerivaML's name; ``0000`` for a dry run)."""
        return self.rid

    @property
    def dry_run(self) -> bool:
        """Whether this execution records nothing (``create_execution(..., dry_run=True)``)."""
        return self._dry_run

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
        if self._dry_run:
            return dict(self._local)
        return self._backend.get_row("Execution", self.rid)

    def _set_status(self, column: str, new: str, detail: str | None = None) -> None:
        if self._dry_run:
            self._local[column] = new
        else:
            row = self._backend.set_status(self.rid, column, new, detail)
            self._last_status = str(row["Status"])

    def _finish(self, status: str, detail: str | None) -> None:
        """End the run as ``status`` when the ``with`` block ends, unless it has ended
        already. The status this object last wrote is taken as current (no read); when
        another caller ended the run meanwhile (``abort_execution``), the refused
        transition is read back and the run left as it is."""
        current = self._last_status if self._last_status is not None else self.status
        if current not in _UNFINISHED:
            return  # the block ended the run itself (e.g. update_status("Completed"))
        try:
            self._set_status("Status", status, detail)
        except StateError:
            if self.status in _UNFINISHED:
                raise

    def execute(self) -> Execution:
        """Start the run (Running) and return this execution, for DerivaML's
        ``with exe.execute() as e:`` (the same as ``with exe:``)."""
        if self.status == "Created":
            self.update_status("Running")
        return self

    # --- status --------------------------------------------------------------------
    def __enter__(self) -> Execution:
        from assetry.executions import autolog

        self.update_status("Running")
        outer = _CURRENT.get()
        self._context_token = _CURRENT.set(self)
        autolog.inherit(self, outer)
        for folder in self.configuration.watch:
            self.watch(folder)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from assetry.executions import autolog

        try:
            problems = self._stop_watching()
        finally:
            autolog.release(self)
            if self._context_token is not None:
                try:
                    _CURRENT.reset(self._context_token)
                except ValueError:  # left in another context than it was entered in
                    _CURRENT.set(None)
                self._context_token = None
        if exc is None:
            detail = "; ".join(filter(None, [self.completion_detail, *problems]))[:4000] or None
            self._finish("Completed", detail)
        else:
            detail = "; ".join([f"{type(exc).__name__}: {exc}", *problems])
            self._finish("Failed", detail[:4000])

    def update_status(self, status: str, detail: str | None = None) -> None:
        """Move the run to ``status`` (a term or synonym of Execution_Status)."""
        if self._dry_run:
            status = self._backend.lookup_term("Execution_Status", str(status)).name
        self._set_status("Status", str(status), detail)

    def download_dataset_bag(self, dataset: Any) -> Any:
        """Download the bag of ``dataset`` (a ``DatasetSpec``) and record it as an input
        of this execution."""
        bag = self._download_bag(dataset)
        if not self._dry_run:
            self._backend.link_datasets(self.rid, [(bag.dataset_rid, bag.version)])
        self.datasets.append(bag)
        return bag

    def create_dataset(
        self,
        dataset_types: list[str] | str | None = None,
        description: str | None = None,
        version: str | None = None,
    ) -> str:
        """Create a dataset made by this execution (its first version records it);
        return its RID."""
        if isinstance(dataset_types, str):
            dataset_types = [dataset_types]
        return self._backend.create_dataset(
            list(dataset_types or []), description, str(version or "0.1.0"), self.rid
        )

    # --- staging -------------------------------------------------------------------
    def add_features(self, features_: Any) -> int:
        """Stage values of one feature (records of its ``feature_record_class``) made by
        this execution; ``upload_execution_outputs`` records them, after the files they
        name (an asset column may hold the path ``asset_file_path`` returned). Returns
        how many were staged."""
        self._stager.check_not_uploaded()
        return features.stage(self._work, self._backend, features_)

    @overload
    def asset_file_path(
        self,
        asset_name: str,
        file_name: list[str | os.PathLike[str]] | tuple[str | os.PathLike[str], ...],
        asset_types: list[str] | str | None = None,
        copy_file: bool = False,
        rename_file: str | None = None,
        description: str | None = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> list[AssetFilePath]: ...

    @overload
    def asset_file_path(
        self,
        asset_name: str,
        file_name: str | os.PathLike[str],
        asset_types: list[str] | str | None = None,
        copy_file: bool = False,
        rename_file: str | None = None,
        description: str | None = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> AssetFilePath: ...

    def asset_file_path(
        self,
        asset_name: str,
        file_name: Any,
        asset_types: list[str] | str | None = None,
        copy_file: bool = False,
        rename_file: str | None = None,
        description: str | None = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> Any:
        """Stage a file for upload into asset table ``asset_name``; return its staged path
        (an ``AssetFilePath``: a ``Path`` carrying ``asset_table``, ``asset_types`` and
        ``metadata``, changeable until the upload with ``set_asset_types`` and
        ``set_metadata``).

        If ``file_name`` names an existing file it is staged (copied with ``copy_file``,
        else linked; its bytes are read at upload). Otherwise ``file_name`` is a new
        relative name (sub-folders allowed) and the returned path is where to write it.
        ``rename_file`` sets the staged name. ``metadata`` (a mapping) and extra keyword
        arguments are the table's own columns, checked now.

        **Many files at once.** If ``file_name`` is a list (or tuple) of existing files,
        or names an existing folder, every file is staged with the same types, metadata
        and description, and a list of ``AssetFilePath`` is returned (for a folder, in
        the order of the staged names). A folder stages every regular file under it
        (links to files included, links to folders not followed, nothing for an empty
        folder), named by its path relative to the folder (``a/b.png``); a list stages
        each file under its own name (``b.png``). ``rename_file`` puts them under that
        sub-folder of the staging folder (``rename_file="masks"`` gives
        ``masks/a/b.png``). The table, types and metadata are checked once; the batch is
        journaled as one line, so it is staged whole or not at all. Without
        ``copy_file`` the files are staged by reference (nothing is written per file;
        the paths returned are the files' own, and their bytes are read, and copied into
        the store, at upload); with it they are copied into the staging folder now and
        the paths returned are the copies. Refused with a ``ValidationError`` listing
        every problem, staging nothing: a missing file or a folder in the list, a name
        given twice or already staged in this execution, a name that is both a file and
        a folder, a ``rename_file`` leaving the staging folder; a table that is not an
        asset table, an unknown type or a bad column value as for one file.
        """
        return self._stager.stage(
            asset_name, file_name, asset_types, copy_file, rename_file, description,
            {**_mapping(metadata), **kwargs} if metadata is not None else kwargs,
        )  # fmt: skip

    def download_asset(
        self, asset_rid: str, dest_dir: str | os.PathLike[str], update_catalog: bool = True
    ) -> AssetFilePath:
        """Download asset ``asset_rid`` (verified) into folder ``dest_dir`` and, with
        ``update_catalog``, record it as an input of this execution; return its path
        (carrying ``asset_rid``, ``asset_table``, ``asset_types`` and ``metadata``)."""
        found = self._backend.resolve_rid(asset_rid)
        if self._backend.table_kind(found.table) != "asset":
            from assetry.errors import ValidationError

            raise ValidationError(f"{asset_rid} is a row of {found.table!r}, not an asset")
        [asset] = self._backend.asset_dicts(found.table, [found.row["RID"]])
        record = AssetRecord(asset, found.table)
        dest = Path(dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / Path(record.filename or record.asset_rid).name
        digests = Digests(asset["MD5"], asset["SHA256"], int(asset["Length"]))
        name = f"{found.table}/{record.asset_rid} ({record.filename})"
        self._store().get_file(asset["SHA256"], target, digests, name=name)
        if update_catalog and not self._dry_run:
            self._backend.link_assets(self.rid, {found.table: [record.asset_rid]}, "Input")
        return AssetFilePath(
            target, found.table, record.asset_types, record.metadata, record.asset_rid
        )

    # --- automatic capture (API §13) ---------------------------------------------------
    def watch(self, path: str | os.PathLike[str], asset_table: str | None = None) -> Path:
        """Watch folder ``path`` until the execution ends: each file created or changed
        there is staged (a copy) in ``asset_table`` (default ``Execution_Asset``) once
        stable, as ``<folder name>/<path in the folder>``, typed by its kind; with
        ``upload_while_running`` it is uploaded at once. Returns the folder's path.

        A missing folder inside the current directory or the working directory is
        created; elsewhere it is a ``ValidationError``."""
        if self.status not in ("Created", "Running"):
            raise StateError(f"execution {self.rid} is {self.status}: watching needs a run")
        folder = checked_folder(path, inside=[self.working_dir])
        table = asset_table or DEFAULT_TABLE
        self._backend.check_staging(table, [], {})  # an unknown table fails here
        with self._watch_lock:
            if self._watcher is None:
                settle = self.configuration.watch_settle
                self._watcher = FolderWatcher(
                    self._take_watched,
                    settle=settle,
                    wait=self.configuration.watch_wait,
                    on_captured=self._captured_batch,
                )
            self._watcher.add(WatchedFolder(folder, self._label(folder), table))
        return folder

    def capture_file(
        self,
        path: str | os.PathLike[str],
        folder: str = "captured",
        asset_table: str | None = None,
        hint: str | None = None,
    ) -> str | None:
        """Stage a copy of the file at ``path`` now, as ``<folder>/<file name>`` (a
        second capture of the name goes to ``<folder>~2/``), typed by its kind (``hint``
        when its name and bytes say nothing). Returns the staged name, or None when the
        file changed while it was copied. ``autolog`` uses it for framework saves."""
        source = Path(path)
        origin = f"captured from {source}"
        captured = self._capture.take(
            source, folder, source.name, asset_table or DEFAULT_TABLE, origin, hint
        )
        if captured is None:
            return None
        if self.configuration.upload_while_running:
            self._upload_captured([captured.staged_name])
        return captured.staged_name

    def _label(self, folder: Path) -> str:
        """The folder's name, numbered when another watched folder has it."""
        assert self._watcher is not None
        taken = {f.label for f in self._watcher.folders}
        label = base = folder.name or "watched"
        number = 2
        while label in taken:
            label, number = f"{base}-{number}", number + 1
        return label

    def _take_watched(self, folder: WatchedFolder, path: Path) -> str | None:
        relative = path.relative_to(folder.path).as_posix()
        origin = f"from watched folder {folder.label} ({folder.path})"
        captured = self._capture.take(
            path, folder.label, relative, folder.table, origin, sync=False
        )
        return captured.staged_name if captured is not None else None

    def _captured_batch(self, names: list[str]) -> None:
        """A batch the watcher took: journaled durably (one sync), uploaded at once
        with ``upload_while_running``."""
        self._capture.sync()
        if self.configuration.upload_while_running:
            self._upload_captured(names)

    def _upload_captured(self, names: list[str]) -> None:
        """Upload the captured entries ``names`` now (the run goes on)."""
        if self._dry_run:
            return  # a dry run uploads nothing; the files stay staged
        backend = self._backend
        with self._upload_lock:
            if self.upload_status in ("Not_Started", "Failed"):
                backend.set_status(self.rid, "Upload_Status", "Pending")
            report = upload.run(
                execution=self.rid,
                work=self._work,
                store=self._store(),
                record=lambda entries: backend.record_outputs(self.rid, entries, False),
                already=backend.recorded_outputs(self.rid),
                move=True,
                progress=False,
                names=set(names),
            )
        if report.missing:
            raise upload.missing_error(self.rid, report.missing)

    def _stop_watching(self) -> list[str]:
        """Stop the watchers (taking what is left); the report's problems, also warned."""
        with self._watch_lock:
            watcher, self._watcher = self._watcher, None
        if watcher is None:
            return []
        self.watch_report = watcher.stop()
        problems = self.watch_report.problems()
        for line in problems:
            warnings.warn(f"execution {self.rid}: {line}", UserWarning, stacklevel=3)
        return problems

    # --- upload --------------------------------------------------------------------
    def upload_execution_outputs(
        self, clean_folder: bool = True, progress: bool | None = None, *, dedupe: bool = False
    ) -> UploadedAssets:
        """Store and record every staged file; return ``{table: [asset dict]}``.

        Safe to call again after a crash or a failure: each staged entry is recorded
        exactly once. With ``clean_folder`` the working directory is removed afterwards.
        Called outside a ``with`` block on a run still Created or Running, it ends the
        run as DerivaML does: Completed once the upload succeeded (a failed upload
        leaves the run as it was, to be retried).
        The assets returned carry ``asset_rid`` and ``asset_types``; the result also
        answers DerivaML's keys ``"<schema>/<table>"``. A dry run uploads nothing.
        """
        self._stop_watching()  # called without leaving the ``with`` block first
        if self._dry_run:
            return UploadedAssets()
        ends_run = self._context_token is None and not self._restored and self.status in _UNFINISHED
        result = outputs.upload_outputs(self, clean_folder, progress, dedupe)
        if ends_run and self.status in _UNFINISHED:
            if self.status == "Created":
                self.update_status("Running")
            self.update_status("Completed", "outputs uploaded")
        return result


_UNFINISHED = ("Created", "Running")


def _mapping(values: Any) -> dict[str, Any]:
    """Metadata given as a mapping or a pydantic record, as a dict."""
    if isinstance(values, dict):
        return dict(values)
    dump = getattr(values, "model_dump", None)
    if callable(dump):
        return {k: v for k, v in dump().items() if v is not None}
    from assetry.errors import ValidationError

    raise ValidationError(f"metadata must be a mapping of column values, got {values!r:.60}")
