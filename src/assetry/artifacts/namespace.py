"""``cat.artifacts``: named artifacts with versions, tags, aliases, partitions, Python
objects and external references (API §12), on the catalog's Backend and object store."""

from __future__ import annotations

import builtins
import datetime as dt
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.artifacts import references as refs
from assetry.artifacts.materializers.base import Materializer, Registry, python_type
from assetry.artifacts.materializers.builtin import builtin
from assetry.errors import NotFoundError, ValidationError
from assetry.records.artifacts import ArtifactVersion, Reference
from assetry.store.hashing import Digests

if TYPE_CHECKING:
    from assetry.api.context import Context
    from assetry.records.lineage import LineageGraph

VersionLike = ArtifactVersion | str
OBJECTS_FOLDER = "objects"
PAGE = 1000  # versions read per call when every match is wanted


class Artifacts:
    """Named artifacts of a catalog: ``cat.artifacts``."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._backend = context.backend
        self._materializers = Registry(builtin())

    # --- materializers -----------------------------------------------------------------
    def register_materializer(self, materializer: Materializer) -> None:
        """Use ``materializer`` (a ``Materializer`` instance) before the built-in ones."""
        self._materializers.add(materializer)

    # --- writing -------------------------------------------------------------------------
    def declare(
        self,
        name: str,
        artifact_type: str,
        partition_keys: Sequence[str] | None = None,
        time_partitioned: bool = False,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Declare a name before its first version: its type, partition keys and whether
        versions carry a time partition (curator). Later versions must give exactly
        those keys."""
        return self._backend.declare_artifact(
            name,
            artifact_type,
            list(partition_keys) if partition_keys is not None else None,
            time_partitioned,
            description,
        )

    def register(
        self,
        name: str,
        artifact_type: str | None = None,
        files: Mapping[str, str | os.PathLike[str]]
        | Sequence[str | os.PathLike[str]]
        | str
        | os.PathLike[str]
        | None = None,
        data: Any = None,
        references: Sequence[Reference | str] | None = None,
        properties: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        partitions: Mapping[str, Any] | None = None,
        time_partition: dt.datetime | None = None,
        parents: Sequence[VersionLike] | None = None,
        execution: Any = None,
        description: str | None = None,
        *,
        objects: Mapping[str, Any] | None = None,
        serializers: Mapping[str, str] | None = None,
    ) -> ArtifactVersion:
        """Register a new version of ``name``; return it.

        ``files``: ``{path in the artifact: local path}`` or local paths (a folder keeps
        its name and layout). ``data`` (and ``objects``, by name) are Python objects saved
        through their materializers (``serializers`` picks one by name, e.g. ``yaml``).
        ``references`` stay where they are. ``parents`` (artifact versions, assets or
        datasets) become the inputs of ``execution`` (a running execution or its RID),
        or of a new ``Register`` execution when none is given.

        Content equal to the latest version's returns that version, with a warning.
        """
        everything = dict(objects or {})
        if data is not None:
            if "data" in everything:
                raise ValidationError("give the object as data= or objects={'data': ...}, not both")
            everything = {"data": data, **everything}
        staged = _file_list(files)
        reference_list = [_reference(r) for r in references or []]
        workdir = Path(tempfile.mkdtemp(prefix="assetry-artifact-"))
        try:
            object_entries = self._materialize(everything, dict(serializers or {}), workdir)
            staged += [(entry["path"], workdir / entry["path"]) for entry in object_entries]
            stored = self._store_files(staged)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        spec = {
            "name": name,
            "artifact_type": artifact_type,
            "files": stored,
            "objects": object_entries,
            "references": [r.to_dict() for r in reference_list],
            "properties": dict(properties or {}),
            "tags": dict(tags or {}),
            "partitions": dict(partitions or {}),
            "time_partition": time_partition.isoformat()
            if isinstance(time_partition, dt.datetime)
            else time_partition,
            "execution": _execution_rid(execution),
            "parents": [_rid(p) for p in parents or []],
            "description": description,
        }
        result = self._backend.register_artifact(spec)
        version = ArtifactVersion.from_row(result["row"])
        if result.get("existing"):
            warnings.warn(
                f"artifact {name!r}: the content equals version {version.version}, which is "
                "returned instead of a new version",
                UserWarning,
                stacklevel=2,
            )
        return version

    def _materialize(
        self, objects: Mapping[str, Any], serializers: Mapping[str, str], workdir: Path
    ) -> builtins.list[dict[str, Any]]:
        entries = []
        unknown = sorted(set(serializers) - set(objects))
        if unknown:
            raise ValidationError(f"serializers name objects that are not given: {unknown}")
        for name, obj in objects.items():
            if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
                raise ValidationError(f"object name {name!r} must be a plain file name")
            materializer = self._materializers.for_object(obj, serializers.get(name))
            path = f"{OBJECTS_FOLDER}/{name}{materializer.extension}"
            target = workdir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            info = materializer.save(obj, target)
            entries.append(
                {
                    "name": name,
                    "path": path,
                    "materializer": materializer.name,
                    "python_type": python_type(obj),
                    "framework": info.pop("framework", None),
                    "info": info,
                }
            )
        return entries

    def _store_files(
        self, staged: builtins.list[tuple[str, Path]]
    ) -> builtins.list[dict[str, Any]]:
        store = self._context.store()
        out = []
        for path, local in staged:
            # The catalog's store rules see these as objects of the Artifact_File table.
            digests = store.route("Artifact_File", local.stat().st_size).put_file(local)
            out.append(
                {
                    "path": path,
                    "url": store.object_url(digests.sha256),
                    "filename": Path(path).name,
                    "md5": digests.md5,
                    "sha256": digests.sha256,
                    "length": digests.length,
                }
            )
        return out

    def tag(
        self,
        version: VersionLike,
        tags: Mapping[str, Any] | None = None,
        /,
        **more: Any,
    ) -> ArtifactVersion:
        """Set tags of a version (``tag(v, stage="production")``, or a mapping,
        ``tag(v, {"version": "2"})``, for any key); return it."""
        rid = self._version_rid(version)
        self._backend.tag_artifact(rid, _merged(tags, more, "tag"), [])
        return self.get(rid)

    def untag(self, version: VersionLike, /, *keys: str) -> ArtifactVersion:
        """Remove tags of a version by key; return it."""
        rid = self._version_rid(version)
        self._backend.tag_artifact(rid, {}, list(keys))
        return self.get(rid)

    def alias(self, version: VersionLike, alias: str) -> ArtifactVersion:
        """Point ``alias`` (``production``, ``staging``, ...) of the name at this version;
        an alias names one version of a name and moves when set again."""
        rid = self._version_rid(version)
        self._backend.alias_artifact(rid, alias)
        return self.get(rid)

    def delete(self, version: VersionLike) -> None:
        """Hide a version from latest, list and search (curator); history and lineage
        keep it."""
        self._backend.delete_artifact(self._version_rid(version))

    def verify(self, version: VersionLike) -> ArtifactVersion:
        """Stream each reference of a version once: record checksums it lacked, raise
        ``ChecksumMismatch`` when bytes differ from those recorded."""
        found = self.get(version) if isinstance(version, str) else version
        measured = [refs.verified(r).to_dict() for r in found.references]
        if measured:
            self._backend.set_artifact_references(found.rid, measured)
        return self.get(found.rid)

    # --- reading -------------------------------------------------------------------------
    def get(
        self,
        name: VersionLike,
        version: int | str | None = None,
        as_of: int | None = None,
    ) -> ArtifactVersion:
        """A version: the latest of ``name`` (highest not deleted), ``version=3``, an
        alias (``version="production"``), or by RID; ``as_of`` reads tags, aliases and
        deletions as they were at that snapshot."""
        if isinstance(name, ArtifactVersion):
            name = name.rid
        if not isinstance(name, str) or not name:
            raise ValidationError(f"get needs an artifact name or RID, got {name!r}")
        query: dict[str, Any] = {"limit": 1, "as_of": as_of}
        if version is None and _looks_like_rid(name):
            found = self._backend.find_artifacts({**query, "rid": name, "include_deleted": True})
            if found:
                return ArtifactVersion.from_row(found[0])
        query["name"] = name
        if isinstance(version, str) and version.isdigit():
            version = int(version)
        what = f"artifact {name!r}"
        if isinstance(version, int) and not isinstance(version, bool):
            query.update(version=version, include_deleted=True)
            what += f" version {version}"
        elif isinstance(version, str) and version != "latest":
            query["alias"] = version
            what += f" alias {version!r}"
        elif version not in (None, "latest"):
            raise ValidationError(
                f"version must be a number, an alias or 'latest', got {version!r}"
            )
        found = self._backend.find_artifacts(query)
        if not found:
            if as_of is not None:
                what += f" at snapshot {as_of}"
            raise NotFoundError(f"no {what}")
        return ArtifactVersion.from_row(found[0])

    def list(
        self,
        artifact_type: str | None = None,
        name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        partitions: Mapping[str, Any] | None = None,
        include_deleted: bool = False,
        limit: int = 100,
        offset: int = 0,
        *,
        after: ArtifactVersion | str | None = None,
    ) -> builtins.list[ArtifactVersion]:
        """Versions, newest first (highest first within a name), filtered and paged:
        ``limit`` and ``offset``, or ``after`` (the last version of the previous page, or
        its RID), whose pages stay the same while versions are registered meanwhile."""
        query = {
            "artifact_type": artifact_type,
            "name": name,
            "tags": dict(tags) if tags else None,
            "partitions": dict(partitions) if partitions else None,
            "include_deleted": include_deleted,
            "limit": limit,
            "offset": offset,
            "after": getattr(after, "rid", after),
        }
        return self._find({k: v for k, v in query.items() if v is not None})

    def search(
        self, text: str, limit: int = 100, offset: int = 0
    ) -> builtins.list[ArtifactVersion]:
        """Versions matching every word of ``text``: ``key:value`` is a tag (``type:`` and
        ``name:`` the type and the name), any other word appears in the name, type or
        description. Newest first."""
        if not isinstance(text, str):
            raise ValidationError(f"search needs text, got {text!r}")
        query: dict[str, Any] = {"limit": limit, "offset": offset}
        tags: dict[str, str] = {}
        words = []
        for part in text.split():
            key, sep, value = part.partition(":")
            if not sep:
                words.append(part)
            elif not key or not value:
                raise ValidationError(f"search term {part!r} needs key:value")
            elif key == "type":
                query["artifact_type"] = value
            elif key == "name":
                query["name"] = value
            else:
                tags[key] = value
        if tags:
            query["tags"] = tags
        if words:
            query["words"] = words
        return self._find(query)

    def query(
        self,
        name: str,
        partitions: Mapping[str, Any] | None = None,
        /,
        time_partition: dt.datetime | None = None,
        time_range: tuple[dt.datetime, dt.datetime] | None = None,
        **more: Any,
    ) -> ArtifactVersion | builtins.list[ArtifactVersion]:
        """The latest version of ``name`` whose partitions match (``region="us"``, or a
        mapping for any key, ``query(name, {"time_range": "q1"})``; ``time_partition=...``);
        with ``time_range=(start, end)`` every match with a time partition in
        [start, end), newest first. ``NotFoundError`` names the values when nothing
        matches."""
        wanted = _merged(partitions, more, "partition")
        declared = self._backend.artifact_declaration(name)  # NotFoundError if unknown
        unknown = sorted(set(wanted) - set(declared.get("Partition_Keys") or []))
        if unknown:
            keys = ", ".join(declared.get("Partition_Keys") or []) or "none"
            raise ValidationError(
                f"artifact {name!r} has no partition key {unknown[0]!r} (its keys: {keys})"
            )
        query: dict[str, Any] = {"name": name}
        if wanted:
            query["partitions"] = wanted
        if time_partition is not None:
            query["time_partition"] = _iso(time_partition)
        if time_range is not None:
            if len(time_range) != 2:
                raise ValidationError(f"time_range must be (start, end), got {time_range!r}")
            query["time_range"] = [_iso(time_range[0]), _iso(time_range[1])]
            return self._find_all(query)
        found = self._find({**query, "limit": 1})
        if not found:
            given = {**wanted}
            if time_partition is not None:
                given["time_partition"] = time_partition.isoformat()
            shown = ", ".join(f"{k}={v}" for k, v in given.items()) or "no partitions"
            raise NotFoundError(f"no version of artifact {name!r} matches {shown}")
        return found[0]

    def partition_values(self, name: str, key: str) -> builtins.list[str]:
        """The values of partition ``key`` the versions of ``name`` use."""
        return self._backend.artifact_partition_values(name, key)

    def _find(self, query: dict[str, Any]) -> builtins.list[ArtifactVersion]:
        return [ArtifactVersion.from_row(row) for row in self._backend.find_artifacts(query)]

    def _find_all(self, query: dict[str, Any]) -> builtins.list[ArtifactVersion]:
        """Every match, read a page at a time (newest first)."""
        out: builtins.list[ArtifactVersion] = []
        while True:
            page = self._find({**query, "limit": PAGE, "offset": len(out)})
            out.extend(page)
            if len(page) < PAGE:
                return out

    def load(self, version: VersionLike, name: str | None = None, trust: bool = False) -> Any:
        """The object a version holds, back through its materializer (``name`` picks one
        of several; several without ``name`` come back as a dict). Pickled objects load
        only with ``trust=True``: unpickling runs code."""
        found = self.get(version) if isinstance(version, str) else version
        objects = found.objects
        if name is not None:
            objects = [o for o in objects if o["name"] == name]
            if not objects:
                held = ", ".join(o["name"] for o in found.objects) or "none"
                raise NotFoundError(
                    f"{found.name} v{found.version} holds no object {name!r} ({held})"
                )
        if not objects:
            raise NotFoundError(f"{found.name} v{found.version} holds no Python object")
        files = {f["Path"]: f for f in found.files}
        loaded = {}
        with tempfile.TemporaryDirectory(prefix="assetry-load-") as tmp:
            for entry in objects:
                materializer = self._materializers.named(entry["materializer"])
                if materializer.unsafe and not trust:
                    raise ValidationError(
                        f"{found.name} v{found.version}: object {entry['name']!r} was saved with "
                        f"{entry['materializer']} ({entry['python_type']}); loading it runs code "
                        "from the file: call load(..., trust=True) if you trust who registered it"
                    )
                asset = files[entry["path"]]
                target = Path(tmp) / entry["path"]
                self._fetch(asset, target)
                info = {**(entry.get("info") or {}), "framework": entry.get("framework")}
                loaded[entry["name"]] = materializer.load(target, info)
        if len(loaded) == 1:
            return next(iter(loaded.values()))
        return loaded

    def download(self, version: VersionLike, dest: str | os.PathLike[str]) -> Path:
        """Write a version's files (objects included), verified, into ``dest`` laid out
        by their paths in the artifact; return ``dest``."""
        found = self.get(version) if isinstance(version, str) else version
        root = Path(dest)
        if root.exists() and not root.is_dir():
            raise ValidationError(f"download destination {root} is not a directory")
        for asset in found.files:
            self._fetch(asset, root / asset["Path"])
        return root

    def _fetch(self, asset: Mapping[str, Any], target: Path) -> Path:
        digests = Digests(asset["MD5"], asset["SHA256"], int(asset["Length"]))
        name = f"artifact file {asset['Path']}"
        return self._context.store().get_file(asset["SHA256"], target, digests, name=name)

    def parents(self, version: VersionLike) -> builtins.list[ArtifactVersion | dict[str, Any]]:
        """What the execution that made the version used (one hop): artifact versions,
        and lineage nodes (dicts) of assets and datasets."""
        found = self.get(version) if isinstance(version, str) else version
        graph = self._backend.lineage(found.execution, "upstream", 1)
        used: builtins.list[str] = [
            to for (frm, to, rel) in graph.edges if frm == found.execution and rel == "used"
        ]
        return self._nodes(graph, used)

    def children(self, version: VersionLike) -> builtins.list[ArtifactVersion | dict[str, Any]]:
        """What executions that used the version made (one hop)."""
        found = self.get(version) if isinstance(version, str) else version
        graph = self._backend.lineage(found.rid, "downstream", 2)
        users = {frm for (frm, to, rel) in graph.edges if to == found.rid and rel == "used"}
        made = [to for (frm, to, rel) in graph.edges if frm in users and rel == "generated"]
        return self._nodes(graph, made)

    def _nodes(
        self, graph: LineageGraph, wanted: builtins.list[str]
    ) -> builtins.list[ArtifactVersion | dict[str, Any]]:
        by_rid = {n["rid"]: n for n in graph.nodes}
        out: builtins.list[ArtifactVersion | dict[str, Any]] = []
        for rid in dict.fromkeys(wanted):
            node = by_rid.get(rid, {"rid": rid})
            if node.get("kind") == "artifact":
                out.append(self.get(rid))
            elif node.get("table") not in ("Execution_Metadata", "Artifact_File"):
                out.append(dict(node))
        return out

    def _version_rid(self, version: VersionLike) -> str:
        if isinstance(version, ArtifactVersion):
            return version.rid
        return self.get(version).rid


def _file_list(files: object) -> list[tuple[str, Path]]:
    if files is None:
        return []
    if isinstance(files, str | os.PathLike):
        files = [files]
    pairs: list[tuple[str, Path]] = []
    if isinstance(files, Mapping):
        pairs = [(str(k), Path(v)) for k, v in files.items()]
    elif isinstance(files, Sequence):
        for item in files:
            local = Path(item)
            if local.is_dir():
                pairs += [
                    (f"{local.name}/{p.relative_to(local).as_posix()}", p)
                    for p in sorted(local.rglob("*"))
                    if p.is_file()
                ]
            else:
                pairs.append((local.name, local))
    else:
        raise ValidationError(f"files must be a dict or a list of paths, got {files!r}")
    missing = [str(local) for _, local in pairs if not local.is_file()]
    if missing:
        raise ValidationError([f"{p} is not a file" for p in missing])
    return pairs


def _reference(value: object) -> Reference:
    if isinstance(value, Reference):
        return value
    if isinstance(value, str):
        return Reference(value)
    raise ValidationError(f"a reference is a Reference or a URI, got {value!r}")


def _execution_rid(execution: object) -> str | None:
    if execution is None:
        return None
    rid = getattr(execution, "rid", execution)
    if not isinstance(rid, str):
        raise ValidationError(f"execution must be an Execution or its RID, got {execution!r}")
    return rid


def _rid(value: object) -> str:
    rid = getattr(value, "rid", value)
    if not isinstance(rid, str):
        raise ValidationError(f"a parent is a RID or an object with one, got {value!r}")
    return rid


def _iso(value: object) -> str:
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"expected a datetime, got {value!r}")
    return value.isoformat()


def _looks_like_rid(text: str) -> bool:
    from assetry.sql import rids

    return rids.looks_like_rid(text)


def _merged(given: Mapping[str, Any] | None, more: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Values given as a mapping and as keyword arguments, as one dict."""
    if given is None:
        return dict(more)
    if not isinstance(given, Mapping):
        raise ValidationError(f"{what}s must be a mapping (key -> value), got {given!r}")
    twice = sorted(set(given) & set(more))
    if twice:
        raise ValidationError(f"{what} {twice[0]!r} is given twice")
    return {**given, **more}
