"""The executions namespace of the facade: workflows, executions, assets, lineage, fsck."""

from __future__ import annotations

import io
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.bags.reader import DatasetBag
from assetry.errors import BagError, RIDNotFound, ValidationError
from assetry.executions import restore
from assetry.executions.assetpath import AssetFilePath
from assetry.executions.cache import ObjectCache
from assetry.executions.execution import Execution
from assetry.executions.owner import is_gone, this_process
from assetry.executions.staging import WorkingDir
from assetry.executions.workflow import ExecutionConfiguration, Workflow, workflow_rid
from assetry.records.outputs import OutputEntry
from assetry.store.hashing import Digests

if TYPE_CHECKING:
    from assetry.api.bags import Bags
    from assetry.api.context import Context
    from assetry.executions.fsck import FsckReport
    from assetry.records.lineage import LineageGraph

ENV_WORKDIR = "ASSETRY_WORKDIR"
ENV_CACHE = "ASSETRY_CACHE"
ENVIRONMENT_FILE = "environment.json"

# Per process: (catalog, environment SHA-256) -> RID of its Execution_Metadata asset.
_ENVIRONMENT_ASSETS: dict[tuple[str, str], str] = {}


def _links(env_rid: str, inputs: list[tuple[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Table -> RIDs of an execution's input assets, its environment asset first."""
    links: dict[str, list[str]] = defaultdict(list)
    links["Execution_Metadata"].append(env_rid)
    for table, asset in inputs:
        links[table].append(asset["RID"])
    return links


def _digests(asset: dict[str, Any]) -> Digests:
    return Digests(asset["MD5"], asset["SHA256"], int(asset["Length"]))


class Executions:
    """Workflows, executions, assets and lineage of a catalog."""

    def __init__(self, context: Context, bags: Bags) -> None:
        self._context = context
        self._backend = context.backend
        self._bags = bags

    # --- local places ----------------------------------------------------------------
    def _workdir_root(self) -> Path:
        override = os.environ.get(ENV_WORKDIR)
        return Path(override) if override else self._context.local_root() / "executions"

    def _cache(self) -> ObjectCache:
        override = os.environ.get(ENV_CACHE)
        return ObjectCache(Path(override) if override else self._context.local_root() / "cache")

    # --- workflows -------------------------------------------------------------------
    def create_workflow(
        self,
        name: str,
        workflow_type: str,
        description: str | None = None,
        url: str | None = None,
        checksum: str | None = None,
        version: str | None = None,
        source: str | os.PathLike[str] | None = None,
    ) -> Workflow:
        """Register a workflow (or return the same one registered before).

        Without ``url`` and ``checksum`` they are detected from ``source`` (default: the
        running script) and its git repository when there is one.
        """
        if url is None and checksum is None:
            from assetry.executions.gitinfo import detect_source

            info = detect_source(Path(source) if source is not None else None)
            url, checksum = info.url, info.checksum
            version = version or info.version
        wf_type = self._backend.lookup_term("Workflow_Type", workflow_type).name
        rid = self._backend.create_workflow(
            {
                "Name": name,
                "URL": url,
                "Checksum": checksum,
                "Workflow_Type": wf_type,
                "Description": description,
                "Version": version,
            }
        )
        return Workflow.from_row(self._backend.get_row("Workflow", rid))

    def lookup_workflow(self, rid: str) -> Workflow:
        """The workflow with this RID."""
        try:
            return Workflow.from_row(self._backend.get_row("Workflow", rid))
        except RIDNotFound:
            found = self._backend.resolve_rid(rid)  # RIDNotFound if it is nowhere
            raise ValidationError(f"{rid} is a row of {found.table!r}, not a Workflow") from None

    # --- executions ------------------------------------------------------------------
    def create_execution(
        self, configuration: ExecutionConfiguration, dry_run: bool = False
    ) -> Execution:
        """Start an execution: record it, capture the environment, fetch its inputs.

        With ``dry_run`` (or ``configuration.dry_run``) nothing is recorded: the inputs
        are checked and fetched, outputs can be staged, and the execution (RID ``0000``)
        keeps its statuses to itself; its folder is under ``dry-runs/``."""
        if not isinstance(configuration, ExecutionConfiguration):
            raise ValidationError(
                f"create_execution needs an ExecutionConfiguration, got {configuration!r}"
            )
        if not isinstance(dry_run, bool) or not isinstance(configuration.dry_run, bool):
            raise ValidationError("dry_run must be True or False")
        dry_run = dry_run or configuration.dry_run
        wf = workflow_rid(configuration.workflow)
        # Checked first when inputs are to be fetched or the environment stored (nothing
        # is done for a wrong workflow); otherwise recording the execution checks it, and
        # a refusal is explained below.
        early = dry_run or bool(
            configuration.assets or configuration.artifacts or configuration.datasets
        )
        early = early or not self._environment_known()
        if wf is not None and early:
            self.lookup_workflow(wf)
        _check_capture(configuration)
        inputs = self._input_assets(configuration.assets)
        versions = self._input_versions(configuration.artifacts)
        bags = [
            d if isinstance(d, DatasetBag) else self._bags.download_dataset_bag(_spec(d))
            for d in configuration.datasets
        ]
        values = {
            "Workflow": wf,
            "Description": configuration.description,
            "Parameters": configuration.parameters or None,
        }
        datasets = [_pinned(bag) for bag in bags]
        if dry_run:
            import uuid

            rid = restore.DRY_RUN_RID
            work = WorkingDir(self._workdir_root() / restore.DRY_RUNS / uuid.uuid4().hex)
        else:
            try:
                rid = self._record(configuration, values, inputs, versions, datasets)
            except ValidationError:
                if wf is not None and not early:
                    self.lookup_workflow(wf)  # the precise error when the workflow is wrong
                raise
            work = WorkingDir(self._workdir_root() / rid)
        work.create(
            {
                "execution": rid,
                "catalog": self._context.rid_prefix,
                "workflow": wf,
                "dry_run": dry_run,
                **this_process(),
            }
        )
        paths: dict[str, list[AssetFilePath]] = defaultdict(list)
        cache, store = self._cache(), self._context.store()
        for table, asset in inputs:
            dest = work.inputs / table / asset["RID"] / (asset["Filename"] or asset["RID"])
            cache.place(store, _digests(asset), f"{table}/{asset['RID']}", dest)
            metadata = {k: v for k, v in asset.items() if k not in _FILE_COLUMNS}
            paths[table].append(
                AssetFilePath(dest, table, asset.get("Asset_Type"), metadata, asset["RID"])
            )
        exe = Execution(
            self._bags.download_dataset_bag,
            rid,
            work.path,
            configuration,
            dict(paths),
            backend=self._backend,
            store=self._context.store,
            dry_run=dry_run,
        )
        exe.datasets = bags
        return exe

    def _record(
        self,
        configuration: ExecutionConfiguration,
        values: dict[str, Any],
        inputs: list[tuple[str, dict[str, Any]]],
        versions: list[str],
        datasets: list[tuple[str, str]],
    ) -> str:
        """Record a new execution with its environment asset and inputs; its RID."""
        env_rid, cached = self._environment_asset(configuration.parameters)
        links = _links(env_rid, inputs)
        if versions:
            links["Artifact_Version"] = versions
        try:
            rid = self._backend.create_execution(values, links, datasets)
        except ValidationError:
            if not cached:
                raise
            # The remembered environment asset may be gone: this catalog was restored
            # from a copy, or is another one with the same RID prefix. Store it again.
            _ENVIRONMENT_ASSETS.clear()
            env_rid, _ = self._environment_asset(configuration.parameters)
            links["Execution_Metadata"] = [env_rid]
            rid = self._backend.create_execution(values, links, datasets)
        return rid

    def _input_assets(self, rids: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
        if isinstance(rids, str):
            rids = [rids]
        out, problems = [], []
        for rid in rids:
            found = self._backend.resolve_rid(rid)
            table = self._backend.table_kind(found.table)
            if table != "asset":
                problems.append(f"input {rid} is a row of {found.table!r}, not an asset")
                continue
            [asset] = self._backend.asset_dicts(found.table, [found.row["RID"]])
            out.append((found.table, asset))
        if problems:
            raise ValidationError(problems)
        # Fetch (and verify) every input before anything is recorded.
        cache, store = self._cache(), self._context.store()
        for table, asset in out:
            cache.fetch(store, _digests(asset), f"{table}/{asset['RID']}")
        return out

    def _input_versions(self, versions: Sequence[Any]) -> list[str]:
        """RIDs of the artifact versions (``ArtifactVersion`` objects or RIDs) an
        execution reads; anything else is a ``ValidationError`` naming it."""
        if isinstance(versions, str):
            versions = [versions]
        out, problems = [], []
        for version in versions:
            rid = getattr(version, "rid", version)
            if not isinstance(rid, str):
                problems.append(f"input artifact {version!r} is not an artifact version or RID")
                continue
            try:
                out.append(str(self._backend.get_row("Artifact_Version", rid)["RID"]))
            except RIDNotFound:
                found = self._backend.resolve_rid(rid)  # RIDNotFound if it is nowhere
                problems.append(f"input {rid} is a row of {found.table!r}, not an artifact version")
        if problems:
            raise ValidationError(problems)
        return out

    def _environment_known(self) -> bool:
        """Whether this process has stored its environment in this catalog already."""
        from assetry.executions.environment import process_document

        return (self._context.rid_prefix, process_document()[1]) in _ENVIRONMENT_ASSETS

    def _environment_asset(self, parameters: dict[str, Any] | None) -> tuple[str, bool]:
        """The RID of the Execution_Metadata asset of this process's environment, stored
        if new; and whether it was remembered from earlier. The parameters are checked
        here (JSON) but live in the Execution row, so runs that differ only in their
        parameters share one environment asset."""
        from assetry.executions.environment import environment_document, process_document

        environment_document({"parameters": parameters}, "the execution's parameters")
        document, sha256 = process_document()
        key = (self._context.rid_prefix, sha256)
        cached = _ENVIRONMENT_ASSETS.get(key)
        if cached is not None:
            return cached, True
        types = ["Execution_Metadata", "Runtime_Env"]
        store = self._context.store().route("Execution_Metadata", len(document), types)
        digests = store.put_stream(io.BytesIO(document))
        rid = self._backend.ensure_asset(
            OutputEntry(
                staged_name=ENVIRONMENT_FILE,
                table="Execution_Metadata",
                filename=ENVIRONMENT_FILE,
                url=store.object_url(digests.sha256),
                md5=digests.md5,
                sha256=digests.sha256,
                length=digests.length,
                asset_types=types,
                description="Python, platform, packages, git state and command line",
            )
        )
        _ENVIRONMENT_ASSETS[key] = rid
        return rid, False

    def restore_execution(self, rid: str | None = None) -> Execution:
        """Reopen an execution (e.g. to finish an interrupted upload) from any process.
        Without ``rid``: the only unfinished execution with a folder in this working
        tree (else an error listing those there are)."""
        if rid is None:
            root = self._workdir_root()
            rid = restore.only_unfinished(root, self._context.rid_prefix, self._backend)
        found = self._backend.resolve_rid(rid)
        if found.table != "Execution":
            raise ValidationError(f"{rid} is a row of {found.table!r}, not an Execution")
        rid = found.row["RID"]
        work = WorkingDir(self._workdir_root() / rid)
        configuration = ExecutionConfiguration(
            workflow=found.row.get("Workflow"),
            description=found.row.get("Description"),
            parameters=found.row.get("Parameters") or {},
        )
        return Execution(
            self._bags.download_dataset_bag,
            rid,
            work.path,
            configuration,
            backend=self._backend,
            store=self._context.store,
            restored=True,
        )

    def list_executions(
        self,
        status: str | None = None,
        workflow: Workflow | str | None = None,
        *,
        stale: bool = False,
        parameters: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Execution rows, optionally of one status and/or workflow, and with
        ``parameters`` only those whose parameters hold every given key with an equal
        value (``parameters={"lr": 0.1}``). With ``stale``, only executions still Created
        or Running whose process (on this machine) is gone: nothing will finish them
        (``restore_execution`` uploads what they staged, ``abort_execution`` ends them)."""
        filters: dict[str, Any] = {}
        if status is not None:
            filters["Status"] = self._backend.lookup_term("Execution_Status", status).name
        if workflow is not None:
            filters["Workflow"] = workflow_rid(workflow)
        if parameters is not None and not isinstance(parameters, Mapping):
            raise ValidationError(f"parameters must be a dict (name -> value), got {parameters!r}")
        found: Iterable[dict[str, Any]] = self._backend.iter_rows("Execution", filters=filters)
        if parameters:
            wanted = dict(parameters)
            found = [row for row in found if _has_parameters(row.get("Parameters"), wanted)]
        if not stale:
            return list(found)
        root = self._workdir_root()
        return [
            row
            for row in found
            if row["Status"] in ("Created", "Running")
            and is_gone(WorkingDir(root / row["RID"]).state())
        ]

    def abort_execution(self, execution: Execution | str, detail: str | None = None) -> str:
        """End an execution that will not finish (Aborted, from any status); an upload
        left Pending is marked Failed (``restore_execution`` may still retry it).
        Returns the execution's RID."""
        rid = execution.rid if isinstance(execution, Execution) else execution
        row = self._backend.resolve_rid(rid)
        if row.table != "Execution":
            raise ValidationError(f"{rid} is a row of {row.table!r}, not an Execution")
        rid = row.row["RID"]
        self._backend.set_status(rid, "Status", "Aborted", detail or "aborted")
        if row.row["Upload_Status"] == "Pending":
            self._backend.set_status(rid, "Upload_Status", "Failed")
        return str(rid)

    def list_execution_assets(
        self, execution: Execution | str, role: str | None = None
    ) -> list[dict[str, Any]]:
        """Assets an execution used (Input) or made (Output), with ``Table``, ``Asset_Role``."""
        rid = execution.rid if isinstance(execution, Execution) else execution
        return self._backend.execution_assets(rid, role)

    def list_asset_executions(self, asset: str, role: str | None = None) -> list[dict[str, Any]]:
        """Executions that used or made an asset, each with ``Asset_Role``."""
        return self._backend.asset_executions(asset, role)

    def list_assets(self, table: str, asset_type: str | None = None) -> list[dict[str, Any]]:
        """Asset dicts of ``table`` (optionally of one asset type), by RID."""
        found = list(self._backend.iter_asset_rids(table, asset_type))
        out: list[dict[str, Any]] = []
        for start in range(0, len(found), 1000):
            out += self._backend.asset_dicts(table, found[start : start + 1000])
        return out

    def download_asset(self, rid: str, dest: str | os.PathLike[str]) -> Path:
        """Write an asset's verified bytes into directory ``dest`` (created if needed) as
        its file name; return the file's path."""
        found = self._backend.resolve_rid(rid)
        if self._backend.table_kind(found.table) != "asset":
            raise ValidationError(f"{rid} is a row of {found.table!r}, not an asset")
        asset = found.row
        filename = Path(asset["Filename"] or asset["RID"]).name
        if Path(dest).exists() and not Path(dest).is_dir():
            raise ValidationError(f"download destination {os.fspath(dest)} is not a directory")
        target = Path(dest) / filename
        name = f"{found.table}/{asset['RID']} ({asset['Filename']})"
        return self._context.store().get_file(asset["SHA256"], target, _digests(asset), name=name)

    def upload_assets(
        self,
        table: str,
        paths: Sequence[str | os.PathLike[str]],
        asset_types: list[str] | str | None = None,
        workflow: Workflow | str | None = None,
        description: str | None = None,
        columns: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Ingest files into ``table`` in one call, recorded by an ``Ingest`` execution.

        ``description`` describes the new assets (and their execution); ``columns`` are
        values of the table's own columns for every new asset. The table, the asset
        types and the columns are checked before anything is recorded.

        The same bytes under the same file name already in ``table`` are not added
        again: the existing asset is returned.
        """
        if isinstance(paths, str | os.PathLike):
            paths = [paths]
        missing = [os.fspath(p) for p in paths if not Path(p).is_file()]
        if missing:
            raise ValidationError([f"{p} is not a file" for p in missing])
        if isinstance(asset_types, str):
            asset_types = [asset_types]
        values = dict(columns or {})
        # A typo in the table, a type or a column fails here, before an execution exists.
        self._backend.check_staging(table, list(asset_types or []), values)
        if workflow is None:
            workflow = self.create_workflow(
                "assetry ingest", "Ingest", "Files loaded with upload_assets",
                url="assetry:upload_assets", checksum="",
            )  # fmt: skip
        cfg = ExecutionConfiguration(workflow=workflow, description=description or "ingest")
        exe = self.create_execution(cfg)
        # Its work is the upload: one finished by restore_execution completes the run.
        exe._work.update_state({"finishes_with_upload": True})
        with exe:
            staged, used = [], set()
            for n, p in enumerate(paths):
                name = Path(p).name if Path(p).name not in used else f"{n}/{Path(p).name}"
                used.add(name)
                staged.append(
                    exe.asset_file_path(
                        table,
                        os.fspath(Path(p).resolve()),
                        asset_types=asset_types,
                        rename_file=name,
                        **values,
                    )
                )
            outputs = exe.upload_execution_outputs(clean_folder=True, dedupe=True)
        by_name = {a["RID"]: a for a in outputs.get(table, [])}
        recorded = self._backend.recorded_outputs(exe.rid)
        result = []
        root = (exe.working_dir / "assets" / table).resolve()
        for path in staged:
            key = f"{table}/{path.relative_to(root).as_posix()}"
            rid = recorded[key][1]
            result.append(by_name.get(rid) or self._backend.asset_dicts(table, [rid])[0])
        return result

    def fsck(
        self, repair: bool = False, grace_seconds: float = 3600.0, verify: bool = True
    ) -> FsckReport:
        """Check every stored object against the catalog: missing, corrupt, unreferenced.

        A dry run unless ``repair``; repair deletes only unreferenced objects older than
        ``grace_seconds`` (objects referenced by history or by an interrupted upload are
        kept).
        """
        from assetry.executions import fsck

        referenced = self._backend.referenced_keys() | fsck.staged_keys(self._workdir_root())
        store = self._context.store()
        report = fsck.check(
            store,
            self._backend.stored_objects(),
            referenced,
            verify=verify,
            repair=repair,
            grace_seconds=grace_seconds,
        )
        from assetry.bags.archive import abandoned_staging, remove_abandoned_staging

        bags = self._context.local_root() / "bags"
        report.abandoned_exports = [str(p) for p in abandoned_staging(bags)]
        if repair:
            remove_abandoned_staging(bags)
        if repair and not self._context.location.remote:
            from assetry.store.upload_folder import collect_abandoned

            # What killed uploads left: in the default folder of a server of this
            # catalog (``assetry serve`` without --upload-dir) and the store's own.
            removed = collect_abandoned(
                self._context.local_root() / "server-uploads", store, grace_seconds
            )
            report.leftovers_removed = [str(path) for path in removed]
        return report

    def lineage(
        self, rid: str, direction: str = "upstream", depth: int | None = None
    ) -> LineageGraph:
        """The provenance graph around ``rid`` (one recursive query)."""
        return self._backend.lineage(rid, direction, depth)


# Columns of an asset dict that are not its table's own metadata.
_FILE_COLUMNS = frozenset(
    ("RID", "RCT", "RMT", "RCB", "RMB", "URL", "Filename", "Length", "MD5", "SHA256",
     "Description", "Asset_Type")
)  # fmt: skip


def _check_capture(configuration: ExecutionConfiguration) -> None:
    """The configuration's watched folders and capture settings, checked (missing
    folders inside the current directory made) before anything is recorded."""
    from assetry.executions.watch import checked_folder

    problems = []
    for name in ("watch_settle", "watch_wait"):
        value = getattr(configuration, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
            problems.append(f"{name} must be a number of seconds (0 or more), got {value!r}")
    upload_now = configuration.upload_while_running
    if not isinstance(upload_now, bool):
        problems.append(f"upload_while_running must be True or False, got {upload_now!r}")
    watch = configuration.watch
    if isinstance(watch, str | os.PathLike):
        watch = configuration.watch = [watch]
    for folder in watch:
        try:
            checked_folder(folder)
        except ValidationError as err:
            problems += err.problems
    if problems:
        raise ValidationError(problems)


def _spec(value: Any) -> Any:
    from assetry.records.datasets import DatasetSpec

    if isinstance(value, DatasetSpec):
        return value
    if isinstance(value, str):
        return DatasetSpec(value)
    raise ValidationError(f"expected a DatasetSpec or a dataset RID, got {value!r}")


def _pinned(bag: DatasetBag) -> tuple[str, str]:
    """The dataset and version a bag this catalog exported holds."""
    rid, version = bag.dataset_rid, bag.version
    if rid is None or version is None:
        raise BagError(f"bag {bag.path} does not name its dataset version")
    return rid, version


def _has_parameters(given: object, wanted: dict[str, Any]) -> bool:
    """Whether an execution's parameters hold every key of ``wanted`` with an equal value
    (1 and 1.0 are equal; True is not 1)."""
    if not isinstance(given, dict):
        return False
    for key, value in wanted.items():
        if key not in given:
            return False
        have = given[key]
        if isinstance(have, bool) != isinstance(value, bool) or have != value:
            return False
    return True
