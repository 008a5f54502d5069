"""Named artifacts in the database (API §12): declaring names, registering versions,
tags, aliases and deletion. Reads are in ``artifact_reads``.

Every function runs inside the caller's write session: a registration's version row, its
files, tags, partitions, provenance links and its implicit ``Register`` execution commit
together or not at all. Writers take turns (the session's snapshot lock), so counting a
name's versions and adding one is never raced: numbers go up by one, with no gap or
duplicate, whoever registers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import ConflictError, NotFoundError, RIDNotFound, ValidationError
from assetry.records.outputs import OutputEntry
from assetry.sql import assets, policy, rids, rows, types
from assetry.sql.session import Session
from assetry.sql.vocab import resolve

FILE_TABLE = "Artifact_File"
LINK_TABLE = "Artifact_Version_Execution"
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}\Z")
KEY_RE = re.compile(r"[A-Za-z0-9_.\-]{1,128}\Z")
REGISTER_WORKFLOW = {
    "Name": "assetry register",
    "URL": "assetry:artifacts.register",
    "Checksum": "",
    "Workflow_Type": "Register",
    "Description": "Artifact versions registered without an execution of their own",
}
_CHECK_JSON = types.checker("json")
SPEC_KEYS = {
    "name", "artifact_type", "files", "objects", "references", "properties", "tags",
    "partitions", "time_partition", "execution", "parents", "description",
}  # fmt: skip


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError(
            f"artifact name {name!r} is not allowed: use ASCII letters, digits, '_', '.' "
            "and '-', starting with a letter or digit, at most 128 characters"
        )
    return name


def check_key(value: object, what: str) -> str:
    """A tag key, alias or partition key: ``[A-Za-z0-9_.-]``, 1 to 128 characters."""
    if not isinstance(value, str) or not KEY_RE.match(value):
        raise ValidationError(
            f"{what} {value!r} is not allowed: use ASCII letters, digits, '_', '.' and '-' "
            "(1 to 128 characters)"
        )
    return value


def check_values(mapping: object, what: str) -> dict[str, str]:
    """Tags or partitions: keys checked, values text (numbers are written as text)."""
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ValidationError(f"{what} must be a dict (key -> value), got {mapping!r}")
    out: dict[str, str] = {}
    for key, value in mapping.items():
        check_key(key, f"{what} key")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(f"{what} {key!r} must be text or a number, got {value!r}")
        text = str(value)
        if not text or len(text) > 1024:
            raise ValidationError(f"{what} {key!r} must be 1 to 1024 characters, got {text!r}")
        out[key] = text
    return out


def artifact_type(session: Session, value: object) -> str:
    """The canonical ``Artifact_Type`` term of ``value`` (a name or synonym)."""
    [canonical] = resolve.canonical_terms(session, "Artifact_Type", [value])
    return canonical


def artifact_row(session: Session, name: str) -> dict[str, Any] | None:
    t = session.table("Artifact")
    found = session.conn.execute(sa.select(t).where(t.c.Name == name)).mappings().first()
    return dict(found) if found is not None else None


def declare(
    session: Session,
    name: str,
    type_name: str,
    partition_keys: Sequence[str] | None,
    time_partitioned: bool,
    description: str | None,
) -> dict[str, Any]:
    """Declare ``name`` with its type and partition keys (curator); declaring it again
    the same way returns it, another way is a ``ConflictError``."""
    policy.require(policy.CURATOR, f"declaring artifact {name!r}")
    check_name(name)
    if not isinstance(time_partitioned, bool):
        raise ValidationError(f"time_partitioned must be True or False, got {time_partitioned!r}")
    keys = _keys(partition_keys)
    canonical = artifact_type(session, type_name)
    existing = artifact_row(session, name)
    if existing is None:
        values = {
            "Name": name,
            "Artifact_Type": canonical,
            "Partition_Keys": keys,
            "Time_Partitioned": time_partitioned,
            "Description": description,
        }
        [rid] = rows.insert(session, "Artifact", [values])
        return {**values, "RID": rid}
    problems = _declaration_problems(existing, canonical, keys, time_partitioned)
    if problems:
        raise ConflictError(problems)
    return existing


def _keys(partition_keys: object) -> list[str] | None:
    if partition_keys is None:
        return None
    if isinstance(partition_keys, str) or not isinstance(partition_keys, Sequence):
        raise ValidationError(f"partition_keys must be a list of keys, got {partition_keys!r}")
    keys = [check_key(k, "partition key") for k in partition_keys]
    if len(set(keys)) != len(keys):
        raise ValidationError(f"partition_keys repeat a key: {keys}")
    return sorted(keys) or None


def _declaration_problems(
    row: Mapping[str, Any], type_name: str, keys: list[str] | None, timed: bool
) -> list[str]:
    name = row["Name"]
    problems = []
    if row["Artifact_Type"] != type_name:
        problems.append(
            f"artifact {name!r} is declared as {row['Artifact_Type']!r}, not {type_name!r}"
        )
    if (row["Partition_Keys"] or None) != keys:
        problems.append(
            f"artifact {name!r} is declared with partition keys {row['Partition_Keys'] or []}, "
            f"not {keys or []}"
        )
    if bool(row["Time_Partitioned"]) != timed:
        problems.append(
            f"artifact {name!r} is declared {'with' if row['Time_Partitioned'] else 'without'} "
            "a time partition"
        )
    return problems


# --- registering ------------------------------------------------------------------------


def register(session: Session, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Record a new version of ``spec['name']`` (see ``Backend.register_artifact``);
    return ``{"rid", "version", "existing"}``."""
    if not isinstance(spec, Mapping):
        raise ValidationError("an artifact registration must be a dict")
    policy.refuse_values(spec, SPEC_KEYS, "register_artifact")
    name = check_name(spec.get("name"))
    tags = check_values(spec.get("tags"), "tag")
    partitions = check_values(spec.get("partitions"), "partition")
    time_partition = _time(spec.get("time_partition"))
    files = _files(spec.get("files"))
    objects = _json_list(spec.get("objects"), "objects")
    references = _json_list(spec.get("references"), "references")
    properties = spec.get("properties") or {}
    if not isinstance(properties, Mapping):
        raise ValidationError(f"properties must be a dict, got {properties!r}")
    try:
        properties = _CHECK_JSON(dict(properties))
    except ValueError as err:
        raise ValidationError(f"properties: {err}") from None
    parents = spec.get("parents") or []
    if isinstance(parents, str) or not isinstance(parents, Sequence):
        raise ValidationError(f"parents must be a list of RIDs, got {parents!r}")

    artifact = artifact_row(session, name)
    given_type = spec.get("artifact_type")
    if artifact is None:
        type_name = artifact_type(session, given_type if given_type is not None else "Custom")
        # The first registration declares the name: its partition keys and time partition.
        values = {
            "Name": name,
            "Artifact_Type": type_name,
            "Partition_Keys": sorted(partitions) or None,
            "Time_Partitioned": time_partition is not None,
            "Description": None,
        }
        [artifact_rid] = rows.insert(session, "Artifact", [values])
        artifact = {**values, "RID": artifact_rid}
    else:
        type_name = artifact["Artifact_Type"]
        if given_type is not None and artifact_type(session, given_type) != type_name:
            raise ConflictError(
                f"artifact {name!r} is declared as {type_name!r}; it cannot take a version "
                f"of type {artifact_type(session, given_type)!r} (use another name)"
            )
        _check_partitions(artifact, partitions, time_partition)
        if artifact["Time_Partitioned"] and time_partition is None:
            time_partition = session.now
    content = content_digest(files, objects, references, properties, partitions, time_partition)
    latest = _latest(session, artifact["RID"])
    if latest is not None and latest["Content"] == content and spec.get("execution") is None:
        # The version is returned, with the tags this registration asks for set on it.
        if tags:
            tag(session, latest["RID"], tags, [])
        return {"rid": latest["RID"], "version": latest["Version"], "existing": True}

    # One counter statement for every row below (link rows for parents included).
    session.reserve_rids(3 + 4 * len(files) + len(tags) + len(partitions) + 2 * len(parents))
    execution, fresh = _producer(session, spec.get("execution"), parents)
    t = session.table("Artifact_Version")
    last = session.conn.execute(
        sa.select(sa.func.max(t.c.Version)).where(t.c.Artifact == artifact["RID"])
    ).scalar()
    number = int(last or 0) + 1
    # Every value below was checked or resolved above (type, RIDs, JSON), so the
    # per-value checks of rows.insert would only repeat them.
    [rid] = rows.insert_built(
        session,
        "Artifact_Version",
        [
            {
                "Artifact": artifact["RID"],
                "Name": name,
                "Version": number,
                "Artifact_Type": type_name,
                "Execution": execution,
                "Properties": dict(properties) or None,
                "Partitions": partitions or None,
                "Time_Partition": time_partition,
                "Objects": objects or None,
                "References": references or None,
                "Content": content,
                "Deleted": False,
                "Description": spec.get("description"),
            }
        ],
    )
    _add_files(session, rid, execution, files, fresh)
    if tags:
        rows.insert_built(
            session,
            "Artifact_Tag",
            [{"Artifact_Version": rid, "Key": k, "Value": v} for k, v in tags.items()],
        )
    if partitions:
        rows.insert_built(
            session,
            "Artifact_Partition",
            [
                {"Artifact_Version": rid, "Artifact": artifact["RID"], "Key": k, "Value": v}
                for k, v in partitions.items()
            ],
        )
    rows.insert_built(
        session,
        LINK_TABLE,
        [{"Artifact_Version": rid, "Execution": execution, "Asset_Role": "Output"}],
    )
    return {"rid": rid, "version": number, "existing": False}


def _time(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"time_partition {value!r} is not an ISO 8601 time") from None
    if not isinstance(value, dt.datetime):
        raise ValidationError(f"time_partition must be a datetime, got {value!r}")
    if value.tzinfo is None:
        raise ValidationError(
            f"time_partition {value.isoformat()} has no time zone: give one (e.g. UTC)"
        )
    return value.astimezone(dt.UTC)


def _files(value: object) -> list[dict[str, Any]]:
    files = _json_list(value, "files")
    paths: set[str] = set()
    for entry in files:
        missing = {"path", "url", "filename", "md5", "sha256", "length"} - set(entry)
        if missing:
            raise ValidationError(f"artifact file {entry!r} lacks {sorted(missing)}")
        path = entry["path"]
        if not isinstance(path, str) or not path or path.startswith("/") or ".." in path.split("/"):
            raise ValidationError(f"artifact path {path!r} must be relative, without '..'")
        if path in paths:
            raise ValidationError(f"two files of the artifact have the path {path!r}")
        paths.add(path)
    return files


def _json_list(value: object, what: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValidationError(f"{what} must be a list, got {value!r}")
    if not all(isinstance(item, Mapping) for item in value):
        raise ValidationError(f"every entry of {what} must be a dict")
    return [dict(item) for item in value]


def _check_partitions(
    artifact: Mapping[str, Any], partitions: Mapping[str, str], time_partition: object
) -> None:
    declared = sorted(artifact["Partition_Keys"] or [])
    if sorted(partitions) != declared:
        raise ValidationError(
            f"artifact {artifact['Name']!r} is partitioned by {declared or 'nothing'}; "
            f"got partition keys {sorted(partitions) or 'none'}"
        )
    if time_partition is not None and not artifact["Time_Partitioned"]:
        raise ValidationError(
            f"artifact {artifact['Name']!r} is not time-partitioned; it takes no time_partition"
        )


def content_digest(
    files: Sequence[Mapping[str, Any]],
    objects: Sequence[Mapping[str, Any]],
    references: Sequence[Mapping[str, Any]],
    properties: Mapping[str, Any],
    partitions: Mapping[str, str],
    time_partition: dt.datetime | None,
) -> str:
    """SHA-256 of what a version holds: its files' paths and bytes, objects, references,
    properties and partitions (not its tags, aliases or description)."""
    document = {
        "files": sorted((f["path"], f["sha256"]) for f in files),
        "objects": sorted(json.dumps(o, sort_keys=True, default=str) for o in objects),
        "references": sorted(json.dumps(r, sort_keys=True, default=str) for r in references),
        "properties": properties,
        "partitions": dict(sorted(partitions.items())),
        "time_partition": time_partition.isoformat() if time_partition is not None else None,
    }
    text = json.dumps(document, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _latest(session: Session, artifact: str) -> dict[str, Any] | None:
    t = session.table("Artifact_Version")
    query = (
        sa.select(t.c.RID, t.c.Version, t.c.Content)
        .where(t.c.Artifact == artifact, t.c.Deleted.is_(False))
        .order_by(t.c.Version.desc())
        .limit(1)
    )
    found = session.conn.execute(query).mappings().first()
    return dict(found) if found is not None else None


def _producer(session: Session, execution: object, parents: Sequence[object]) -> tuple[str, bool]:
    """The execution that made the version: the one given (still running), or a new
    ``Register`` execution; and whether it is new. Either way the parents become its
    inputs."""
    inputs = _parents_by_table(session, parents)
    fresh = execution is None
    if execution is not None:
        if not isinstance(execution, str):
            raise ValidationError(f"execution must be an execution's RID, got {execution!r}")
        rid = rids.normalize(execution)
        if assets.current_row(session, "Execution", rid) is None:
            raise RIDNotFound(rid, f"no execution has RID {execution!r}")
        assets._unfinished(session, rid, "register artifacts")
    else:
        # The registration is the whole run: it is recorded finished, in one row.
        workflow = assets.create_workflow(session, REGISTER_WORKFLOW)
        [rid] = rows.insert_built(
            session,
            "Execution",
            [
                {
                    "Workflow": workflow,
                    "Description": "register artifact",
                    "Status": "Completed",
                    "Upload_Status": "Uploaded",
                    "Start_Time": session.now,
                    "Stop_Time": session.now,
                }
            ],
        )
    for table, wanted in inputs.items():
        if table == "Artifact_Version":
            _link_inputs(session, LINK_TABLE, table, rid, wanted, fresh=fresh)
        elif table == "Dataset":
            from assetry.sql import datasets as dataset_rows

            for ds in dict.fromkeys(wanted):
                version = dataset_rows.resolve_version(session, ds, None)["Version"]
                _link_inputs(
                    session, "Dataset_Execution", "Dataset", rid, [ds], version, fresh=fresh
                )
        else:
            _link_inputs(session, f"{table}_Execution", table, rid, wanted, fresh=fresh)
    return rid, fresh


def _link_inputs(
    session: Session,
    link_table: str,
    column: str,
    execution: str,
    wanted: Sequence[str],
    version: str | None = None,
    fresh: bool = False,
) -> None:
    """Link ``wanted`` rows of ``column``'s table as inputs of ``execution`` (links it
    has already are kept; a ``fresh`` execution has none). The producer is running or is
    this registration's own."""
    link = session.table(link_table)
    query = sa.select(link.c[column]).where(link.c.Execution == execution)
    if version is None:
        query = query.where(link.c.Asset_Role == "Input")
    present = set() if fresh else set(session.conn.execute(query).scalars())
    extra = {"Version": version} if version is not None else {"Asset_Role": "Input"}
    new = [
        {column: rid, "Execution": execution, **extra}
        for rid in dict.fromkeys(wanted)
        if rid not in present
    ]
    if new:
        rows.insert_built(session, link_table, new)


def _parents_by_table(session: Session, parents: Sequence[object]) -> dict[str, list[str]]:
    from assetry.sql import reads

    wanted = [reads.checked_rid(p) for p in parents]
    tables = reads.tables_of(session, wanted)
    missing = [rid for rid in wanted if rid not in tables]
    if missing:
        raise RIDNotFound(missing[0], f"parent {missing[0]} is in no table of the catalog")
    out: dict[str, list[str]] = {}
    problems = []
    for rid in wanted:
        table = tables[rid]
        kind = session.model.table(table).kind
        if table in ("Artifact_Version", "Dataset") or kind == "asset":
            out.setdefault(table, []).append(rid)
        else:
            problems.append(
                f"parent {rid} is a row of {table!r}: parents are artifact versions, assets "
                "or datasets"
            )
    if problems:
        raise ValidationError(problems)
    return out


def _add_files(
    session: Session,
    version: str,
    execution: str,
    files: Sequence[Mapping[str, Any]],
    fresh: bool,
) -> None:
    if not files:
        return
    links = []
    outputs = []
    for entry in files:
        asset = assets.ensure_asset(
            session,
            OutputEntry(
                staged_name=entry["path"],
                table=FILE_TABLE,
                filename=entry["filename"],
                url=entry["url"],
                md5=entry["md5"],
                sha256=entry["sha256"],
                length=int(entry["length"]),
                asset_types=[FILE_TABLE],
            ),
        )
        links.append({"Artifact_Version": version, FILE_TABLE: asset, "Path": entry["path"]})
        outputs.append(asset)
    rows.insert_built(session, "Artifact_Version_File", links)
    link = session.table(f"{FILE_TABLE}_Execution")
    present = (
        set()
        if fresh
        else set(
            session.conn.execute(
                sa.select(link.c[FILE_TABLE]).where(
                    link.c.Execution == execution, link.c.Asset_Role == "Output"
                )
            ).scalars()
        )
    )
    new = [
        {FILE_TABLE: asset, "Execution": execution, "Asset_Role": "Output"}
        for asset in dict.fromkeys(outputs)
        if asset not in present
    ]
    if new:
        rows.insert_built(session, f"{FILE_TABLE}_Execution", new)


# --- tags, aliases, deletion --------------------------------------------------------------


def version_row(session: Session, rid: object) -> dict[str, Any]:
    from assetry.sql import reads

    wanted = reads.checked_rid(rid)
    row = assets.current_row(session, "Artifact_Version", wanted)
    if row is None:
        raise NotFoundError(f"no artifact version has RID {rid!r}")
    return row


def tag(
    session: Session, version: str, set_tags: Mapping[str, Any], remove: Sequence[str]
) -> dict[str, str]:
    """Set and remove tags of a version; return its tags afterwards."""
    row = version_row(session, version)
    new = check_values(set_tags, "tag")
    if isinstance(remove, str) or not isinstance(remove, Sequence):
        raise ValidationError(f"tags to remove must be a list of keys, got {remove!r}")
    gone = [check_key(k, "tag key") for k in remove]
    t = session.table("Artifact_Tag")
    current = {
        r["Key"]: dict(r)
        for r in session.conn.execute(sa.select(t).where(t.c.Artifact_Version == row["RID"]))
        .mappings()
        .all()
    }
    drop = [current[k]["RID"] for k in gone if k in current and k not in new]
    if drop:
        rows.delete(session, "Artifact_Tag", drop)
    changes = [
        {"RID": current[k]["RID"], "Value": v}
        for k, v in new.items()
        if k in current and current[k]["Value"] != v
    ]
    if changes:
        rows.update(session, "Artifact_Tag", changes)
    added = [
        {"Artifact_Version": row["RID"], "Key": k, "Value": v}
        for k, v in new.items()
        if k not in current
    ]
    if added:
        rows.insert_built(session, "Artifact_Tag", added)
    after = {k: r["Value"] for k, r in current.items() if k not in gone}
    after.update(new)
    return dict(sorted(after.items()))


def alias(session: Session, version: str, name: str) -> dict[str, Any]:
    """Point alias ``name`` of the version's artifact at the version (moving it from
    another version of the same name); return the alias row."""
    row = version_row(session, version)
    check_key(name, "alias")
    if name.isdigit() or name == "latest":
        raise ValidationError(f"alias {name!r} is not allowed: it reads as a version")
    if row["Deleted"]:
        raise ValidationError(f"artifact version {row['Name']} v{row['Version']} is deleted")
    t = session.table("Artifact_Alias")
    found = (
        session.conn.execute(sa.select(t).where(t.c.Artifact == row["Artifact"], t.c.Alias == name))
        .mappings()
        .first()
    )
    if found is None:
        values = {"Artifact": row["Artifact"], "Alias": name, "Artifact_Version": row["RID"]}
        [rid] = rows.insert(session, "Artifact_Alias", [values])
        return {**values, "RID": rid}
    if found["Artifact_Version"] != row["RID"]:
        rows.update(
            session, "Artifact_Alias", [{"RID": found["RID"], "Artifact_Version": row["RID"]}]
        )
    return {**dict(found), "Artifact_Version": row["RID"]}


def delete(session: Session, version: str) -> None:
    """Hide a version from latest, list and search (curator); its aliases are removed.
    The row, its files and its provenance stay (history and lineage keep it)."""
    row = version_row(session, version)
    policy.require(policy.CURATOR, f"deleting artifact version {row['Name']} v{row['Version']}")
    if row["Deleted"]:
        return
    t = session.table("Artifact_Alias")
    aliases = list(
        session.conn.execute(sa.select(t.c.RID).where(t.c.Artifact_Version == row["RID"])).scalars()
    )
    if aliases:
        rows.delete(session, "Artifact_Alias", aliases)
    rows.update(session, "Artifact_Version", [{"RID": row["RID"], "Deleted": True}])


def set_references(
    session: Session, version: str, references: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Record checksums ``verify`` measured for references that had none (a known
    checksum never changes); return the references."""
    row = version_row(session, version)
    current = list(row["References"] or [])
    given = _json_list(references, "references")
    if [r.get("uri") for r in given] != [r.get("uri") for r in current]:
        raise ValidationError("the references must be the version's, in their order")
    merged = []
    for old, new in zip(current, given, strict=True):
        for key in ("md5", "sha256", "size_bytes"):
            if old.get(key) is not None and new.get(key) != old.get(key):
                raise ConflictError(
                    f"reference {old['uri']}: its recorded {key} is {old[key]}, not {new.get(key)}"
                )
        merged.append({**old, **{k: v for k, v in new.items() if v is not None}})
    if merged != current:
        # Filling in checksums does not change what the version holds: its Content
        # digest stays (it was computed over the references as registered).
        rows.update(session, "Artifact_Version", [{"RID": row["RID"], "References": merged}])
    return merged
