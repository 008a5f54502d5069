"""Reading named artifacts (API §12): versions by name, number, alias or RID; lists,
searches and partition queries; each version with its tags, aliases and files.

A query names what it wants (``FIND_KEYS``); the result is a list of version dicts,
newest first (highest version first within a name). Every filter is an indexed look-up:
the latest version of a name is the last entry of the (Artifact, Version) index, tags and
partitions are found through their (Key, Value, version) indexes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import NotFoundError, ValidationError
from assetry.sql import history, names, reads, rids
from assetry.sql.artifacts import FILE_TABLE, _time, check_key, check_name, check_values
from assetry.sql.session import Session

FIND_KEYS = {
    "rid", "name", "version", "alias", "artifact_type", "tags", "partitions",
    "time_partition", "time_range", "words", "include_deleted", "limit", "offset", "as_of",
    "after",
}  # fmt: skip
MAX_LIMIT = 10_000


def find(session: Session, query: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Artifact versions matching ``query`` (see ``Backend.find_artifacts``)."""
    if not isinstance(query, Mapping):
        raise ValidationError("an artifact query must be a dict")
    unknown = sorted(set(query) - FIND_KEYS)
    if unknown:
        raise ValidationError(f"unknown artifact query keys: {', '.join(unknown)}")
    limit, offset = _page(query.get("limit", 100), query.get("offset", 0))
    as_of = query.get("as_of")
    if as_of is not None and (isinstance(as_of, bool) or not isinstance(as_of, int)):
        raise ValidationError(f"as_of must be a snapshot number, got {as_of!r}")
    v = session.table("Artifact_Version")
    statement = sa.select(v)
    conditions: list[Any] = []
    name = query.get("name")
    if name is not None:
        # Through the name's row: versions are indexed by (Artifact, Version).
        a = session.table("Artifact")
        artifact = session.conn.execute(
            sa.select(a.c.RID).where(a.c.Name == check_name(name))
        ).scalar()
        if artifact is None:
            return []
        conditions.append(v.c.Artifact == artifact)
    if query.get("rid") is not None:
        conditions.append(v.c.RID == rids.normalize(reads.checked_rid(query["rid"])))
    version = query.get("version")
    if version is not None:
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ValidationError(f"an artifact version number is 1 or more, got {version!r}")
        conditions.append(v.c.Version == version)
    alias = query.get("alias")
    if alias is not None:
        check_key(alias, "alias")
        target = _alias_target(session, name, alias, as_of)
        if target is None:
            return []
        conditions.append(v.c.RID == target)
    if query.get("artifact_type") is not None:
        from assetry.sql.artifacts import artifact_type

        conditions.append(v.c.Artifact_Type == artifact_type(session, query["artifact_type"]))
    for key, value in check_values(query.get("tags"), "tag").items():
        conditions.append(_has(session, "Artifact_Tag", v, key, value, as_of))
    for key, value in check_values(query.get("partitions"), "partition").items():
        conditions.append(_has(session, "Artifact_Partition", v, key, value, None))
    when = query.get("time_partition")
    if when is not None:
        conditions.append(v.c.Time_Partition == _time(when))
    if query.get("time_range") is not None:
        start, end = _range(query["time_range"])
        conditions += [v.c.Time_Partition >= start, v.c.Time_Partition < end]
    for word in _words(query.get("words")):
        pattern = f"%{_escape(word.casefold())}%"
        conditions.append(
            sa.or_(
                sa.func.lower(v.c.Name).like(pattern, escape="\\"),
                sa.func.lower(v.c.Description).like(pattern, escape="\\"),
                sa.func.lower(v.c.Artifact_Type).like(pattern, escape="\\"),
            )
        )
    if as_of is not None:
        conditions.append(v.c[names.SNAPSHOT_COLUMN] <= as_of)
    elif not query.get("include_deleted"):
        conditions.append(v.c.Deleted.is_(False))
    if query.get("after") is not None:
        conditions.append(_after(session, v, query["after"], by_version=name is not None))
    statement = statement.where(*conditions)
    if name is not None:
        statement = statement.order_by(v.c.Version.desc())
    else:
        statement = statement.order_by(v.c.RCT.desc(), v.c.RID.desc())
    found = [
        dict(r) for r in session.conn.execute(statement.limit(limit).offset(offset)).mappings()
    ]
    if as_of is not None:
        found = _as_of(session, found, as_of, bool(query.get("include_deleted")))
    return _described(session, found, as_of)


def _after(session: Session, v: sa.Table, after: object, by_version: bool) -> Any:
    """The versions listed after version ``after`` (a RID) in a listing's order: newest
    first (created time, then RID), or by version number within one name. Keyset paging:
    a page is the same whatever was registered since the previous one."""
    rid = rids.normalize(reads.checked_rid(after))
    found = session.conn.execute(sa.select(v.c.RCT, v.c.Version).where(v.c.RID == rid)).first()
    if found is None:
        raise ValidationError(f"after: no artifact version has RID {rid!r}")
    if by_version:
        return v.c.Version < found.Version
    return sa.or_(v.c.RCT < found.RCT, sa.and_(v.c.RCT == found.RCT, v.c.RID < rid))


def _page(limit: object, offset: object) -> tuple[int, int]:
    for value, what in ((limit, "limit"), (offset, "offset")):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(f"{what} must be a whole number, 0 or more, got {value!r}")
    assert isinstance(limit, int) and isinstance(offset, int)
    if limit > MAX_LIMIT:
        raise ValidationError(f"limit {limit} is over {MAX_LIMIT}; page with offset")
    return limit, offset


def _range(value: object) -> tuple[dt.datetime, dt.datetime]:
    if isinstance(value, str) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValidationError(f"time_range must be (start, end), got {value!r}")
    start, end = _time(value[0]), _time(value[1])
    assert start is not None and end is not None
    if end < start:
        raise ValidationError(f"time_range ends ({end}) before it starts ({start})")
    return start, end


def _words(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ValidationError(f"words must be a list of strings, got {value!r}")
    if not all(isinstance(w, str) and w for w in value):
        raise ValidationError(f"words must be non-empty strings, got {value!r}")
    return list(value)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _has(session: Session, table: str, v: sa.Table, key: str, value: str, as_of: int | None) -> Any:
    t = session.table(table)
    if as_of is None:
        return sa.exists().where(
            t.c.Key == key, t.c.Value == value, t.c.Artifact_Version == v.c.RID
        )
    versions = [
        r["Artifact_Version"]
        for r in _valid_rows(session, table, as_of)
        if r["Key"] == key and r["Value"] == value
    ]
    return v.c.RID.in_(versions)


def _valid_rows(session: Session, table: str, snapshot: int) -> list[dict[str, Any]]:
    """Every row of ``table`` as it was at ``snapshot`` (tags and aliases: small tables)."""
    model = session.model.table(table)
    t = session.table(table)
    changed = history.rids_valid_at(session, model, snapshot)
    current = [
        dict(r)
        for r in session.conn.execute(
            sa.select(t).where(t.c[names.SNAPSHOT_COLUMN] <= snapshot)
        ).mappings()
        if r["RID"] not in changed
    ]
    return current + history.valid_at(session, model, snapshot)


def _alias_target(session: Session, name: object, alias: str, as_of: int | None) -> str | None:
    if name is None:
        raise ValidationError("an alias names a version of one artifact: give the name too")
    a = session.table("Artifact")
    artifact = session.conn.execute(sa.select(a.c.RID).where(a.c.Name == name)).scalar()
    if artifact is None:
        return None
    if as_of is not None:
        for row in _valid_rows(session, "Artifact_Alias", as_of):
            if row["Artifact"] == artifact and row["Alias"] == alias:
                return str(row["Artifact_Version"])
        return None
    t = session.table("Artifact_Alias")
    found = session.conn.execute(
        sa.select(t.c.Artifact_Version).where(t.c.Artifact == artifact, t.c.Alias == alias)
    ).scalar()
    return str(found) if found is not None else None


def _as_of(
    session: Session, found: list[dict[str, Any]], snapshot: int, include_deleted: bool
) -> list[dict[str, Any]]:
    """The versions as they were at ``snapshot`` (deleted then or not)."""
    model = session.model.table("Artifact_Version")
    then = reads.fetch_as_of(session, model, [r["RID"] for r in found], snapshot)
    out = []
    for row in found:
        old = then.get(row["RID"])
        if old is not None and (include_deleted or not old["Deleted"]):
            out.append({**row, **old})
    return out


def _described(
    session: Session, found: list[dict[str, Any]], as_of: int | None
) -> list[dict[str, Any]]:
    """Each version with its Tags, Aliases and Files (one query each for all)."""
    if not found:
        return []
    wanted = [r["RID"] for r in found]
    tags: dict[str, dict[str, str]] = {rid: {} for rid in wanted}
    aliases: dict[str, list[str]] = {rid: [] for rid in wanted}
    if as_of is None:
        t = session.table("Artifact_Tag")
        tag_rows = session.conn.execute(
            sa.select(t.c.Artifact_Version, t.c.Key, t.c.Value).where(
                t.c.Artifact_Version.in_(wanted)
            )
        ).mappings()
        a = session.table("Artifact_Alias")
        alias_rows = session.conn.execute(
            sa.select(a.c.Artifact_Version, a.c.Alias).where(a.c.Artifact_Version.in_(wanted))
        ).mappings()
    else:
        tag_rows = iter(_valid_rows(session, "Artifact_Tag", as_of))  # type: ignore[assignment]
        alias_rows = iter(_valid_rows(session, "Artifact_Alias", as_of))  # type: ignore[assignment]
    for row in tag_rows:
        if row["Artifact_Version"] in tags:
            tags[row["Artifact_Version"]][row["Key"]] = row["Value"]
    for row in alias_rows:
        if row["Artifact_Version"] in aliases:
            aliases[row["Artifact_Version"]].append(row["Alias"])
    files = _files(session, wanted)
    return [
        {
            **row,
            "Tags": dict(sorted(tags[row["RID"]].items())),
            "Aliases": sorted(aliases[row["RID"]]),
            "Files": files.get(row["RID"], []),
        }
        for row in found
    ]


def _files(session: Session, versions: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    link = session.table("Artifact_Version_File")
    f = session.table(FILE_TABLE)
    query = (
        sa.select(
            link.c.Artifact_Version,
            link.c.Path,
            f.c.RID,
            f.c.URL,
            f.c.Filename,
            f.c.Length,
            f.c.MD5,
            f.c.SHA256,
        )
        .join(f, f.c.RID == link.c[FILE_TABLE])
        .where(link.c.Artifact_Version.in_(versions))
        .order_by(link.c.Path)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for row in session.conn.execute(query).mappings():
        entry = dict(row)
        out.setdefault(entry.pop("Artifact_Version"), []).append(entry)
    return out


def partition_values(session: Session, name: str, key: str) -> list[str]:
    """The values of partition ``key`` that versions of ``name`` (not deleted) use."""
    check_name(name)
    check_key(key, "partition key")
    a = session.table("Artifact")
    artifact = session.conn.execute(
        sa.select(a.c.RID, a.c.Partition_Keys).where(a.c.Name == name)
    ).first()
    if artifact is None:
        raise NotFoundError(f"no artifact is named {name!r}")
    if key not in (artifact[1] or []):
        raise ValidationError(
            f"artifact {name!r} has no partition key {key!r}; its keys: {artifact[1] or []}"
        )
    p = session.table("Artifact_Partition")
    v = session.table("Artifact_Version")
    query = (
        sa.select(p.c.Value)
        .join(v, v.c.RID == p.c.Artifact_Version)
        .where(p.c.Artifact == artifact[0], p.c.Key == key, v.c.Deleted.is_(False))
        .distinct()
        .order_by(p.c.Value)
    )
    return list(session.conn.execute(query).scalars())


def artifact_names(session: Session, name: str) -> dict[str, Any]:
    """The declaration of ``name`` (NotFoundError when nothing has that name)."""
    a = session.table("Artifact")
    found = session.conn.execute(sa.select(a).where(a.c.Name == check_name(name))).mappings()
    row = found.first()
    if row is None:
        raise NotFoundError(f"no artifact is named {name!r}")
    return dict(row)
