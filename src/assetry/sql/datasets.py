"""Datasets in the database: creation, element types, members, nesting, versions.

A version is a row of ``Dataset_Version`` recording the catalog snapshot at which it was
minted; minting happens in the same transaction as the membership change it follows, so
the version's snapshot includes that change. Reading a version is reading the catalog as
of its snapshot. Membership is read from the provenance edges (``member_of``), which keep
their history, so recursive membership as of any snapshot is one recursive query.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import ConflictError, RIDNotFound, StateError, ValidationError
from assetry.records import versions
from assetry.sql import ddl, internal, reads, rids, rows, types, valuelists
from assetry.sql.lineage import live_edges
from assetry.sql.session import Session
from assetry.sql.vocab import resolve

DATASET = "Dataset"
NESTED = "Dataset_Dataset"


def link_table(element: str) -> str:
    """The membership table of element type ``element``."""
    return f"Dataset_{element}"


def dataset_row(session: Session, ds: str) -> dict[str, Any]:
    """The current row of dataset ``ds``."""
    if not isinstance(ds, str) or not ds.strip():
        raise ValidationError(f"{ds!r} is not a dataset RID")
    rid = rids.normalize(ds)
    row = rows.fetch_current(session, DATASET, [rid]).get(rid)
    if row is None:
        found = reads.tables_of(session, [rid]).get(rid)
        if found is not None:
            raise ValidationError(f"{rid} is a row of {found!r}, not a Dataset")
        raise RIDNotFound(rid, f"no dataset has RID {rid!r}")
    return row


def writable_row(session: Session, ds: str) -> dict[str, Any]:
    """The current row of dataset ``ds``, which must not be deleted (``StateError``)."""
    row = dataset_row(session, ds)
    if row.get("Deleted"):
        raise StateError(f"dataset {row['RID']} is deleted: its members and versions are frozen")
    return row


def version_rows(session: Session, ds: str) -> list[dict[str, Any]]:
    """Every version of ``ds``, oldest first."""
    t = session.table("Dataset_Version")
    found = [
        dict(r) for r in session.conn.execute(sa.select(t).where(t.c.Dataset == ds)).mappings()
    ]
    return sorted(found, key=lambda r: versions.key(r["Version"]))


def resolve_version(session: Session, ds: str, version: str | None) -> dict[str, Any]:
    """The version row of ``ds`` named ``version`` (the latest when None)."""
    known = version_rows(session, ds)
    if not known:
        raise ValidationError(f"dataset {ds} has no version")
    if version is None:
        return known[-1]
    versions.parse(version)
    for row in known:
        if row["Version"] == version:
            return row
    listed = ", ".join(r["Version"] for r in known)
    raise ValidationError(f"dataset {ds} has no version {version!r}; its versions: {listed}")


def mint(
    session: Session,
    ds: str,
    version: str,
    description: str | None,
    execution: str | None = None,
) -> str:
    """Record ``version`` of ``ds`` at this transaction's snapshot."""
    versions.parse(version)
    existing = {r["Version"] for r in version_rows(session, ds)}
    if version in existing:
        raise ValidationError(f"dataset {ds} already has version {version}")
    rows.insert(
        session,
        "Dataset_Version",
        [
            {
                "Dataset": ds,
                "Version": version,
                "Description": description,
                "Snapshot": session.snapshot(),
                "Execution": execution,
            }
        ],
    )
    return version


def next_version(session: Session, ds: str, component: str, description: str | None,
                 execution: str | None = None) -> str:  # fmt: skip
    """Mint the version after the latest one, raising ``component``; every dataset that
    contains ``ds`` (transitively, not deleted) gets its next version too, with the same
    component, in the same transaction (so at the same snapshot)."""
    latest = resolve_version(session, ds, None)["Version"]
    minted = mint(session, ds, versions.bump(latest, component), description, execution)
    for parent in ancestors(session, ds):
        if dataset_row(session, parent).get("Deleted"):
            continue
        above = resolve_version(session, parent, None)["Version"]
        note = f"nested dataset {ds} is now {minted}" + (f": {description}" if description else "")
        mint(session, parent, versions.bump(above, component), note, execution)
    return minted


def _dataset_types(session: Session, dataset_types: Iterable[str]) -> list[str]:
    return resolve.canonical_terms(session, "Dataset_Type", dataset_types)


def create(
    session: Session,
    dataset_types: Sequence[str],
    description: str | None,
    version: str,
    execution: str | None,
) -> str:
    """A new dataset with its types and its first version."""
    versions.parse(version)
    terms = _dataset_types(session, dataset_types)
    [ds] = rows.insert(session, DATASET, [{"Description": description, "Deleted": False}])
    if terms:
        rows.insert(
            session, "Dataset_Dataset_Type", [{"Dataset": ds, "Dataset_Type": t} for t in terms]
        )
    mint(session, ds, version, description or "created", execution)
    return ds


def element_types(session: Session) -> dict[str, str]:
    """Element table -> membership table, for every element type."""
    from assetry.sql.provenance import element_of_dataset_link

    out = {}
    for table in session.model.tables.values():
        element = element_of_dataset_link(table)
        if element is not None:
            out[element] = table.name
    return out


def add_element_type(session: Session, element: str) -> str:
    """Make rows of ``element`` dataset members (creates ``Dataset_<element>``)."""
    table = session.model.table(element)
    if element == DATASET:
        raise ValidationError("datasets nest without an element type: add them as members")
    if table.kind in ("association", "system") and element != "Artifact_Version":
        raise ValidationError(f"{table.kind} table {element!r} cannot be a dataset element type")
    name = link_table(element)
    if element in element_types(session):
        return name
    from assetry.sql.provenance import NOT_MEMBERSHIPS

    if name in NOT_MEMBERSHIPS:
        raise ValidationError(f"{element!r} cannot be a dataset element type")
    ddl.create_table(
        session,
        name,
        referenced_tables=[DATASET, element],
        comment=f"Members of datasets from {element}",
        schema=table.schema,
        kind="association",
        unique=[[DATASET, element]],
    )
    return name


def _group_members(session: Session, ds: str, members: Iterable[str]) -> dict[str, list[str]]:
    wanted = [rids.normalize(m) for m in members if isinstance(m, str) and m.strip()]
    bad = [m for m in members if not isinstance(m, str) or not m.strip()]
    if bad:
        raise ValidationError([f"{m!r} is not a RID" for m in bad])
    known = element_types(session)
    found = reads.tables_of(session, wanted, likely=[DATASET, *known])
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise RIDNotFound(missing[0], f"no row has RID {', '.join(missing[:10])}")
    grouped: dict[str, list[str]] = defaultdict(list)
    problems = []
    for rid in dict.fromkeys(wanted):
        table = found[rid]
        if table == DATASET:
            if rid == ds:
                problems.append(f"dataset {ds} cannot be a member of itself")
        elif table not in known:
            problems.append(
                f"{rid} is a row of {table!r}, which is not a dataset element type "
                f"(call add_dataset_element_type({table!r}) first)"
            )
        grouped[table].append(rid)
    if problems:
        raise ValidationError(problems)
    return grouped


def _present(session: Session, ds: str, table: str, members: Sequence[str]) -> dict[str, str]:
    """member RID -> link row RID for members of ``ds`` already in ``table``."""
    link = session.table(NESTED if table == DATASET else link_table(table))
    column = link.c.Nested_Dataset if table == DATASET else link.c[table]
    query = sa.select(column, link.c.RID).where(
        link.c.Dataset == ds, column.in_(valuelists.json_values(members))
    )
    return dict(reads.plain_rows(session, query))


def add_members(
    session: Session, ds: str, members: Iterable[str], description: str | None,
    execution: str | None = None,
) -> str | None:  # fmt: skip
    """Add members (any element type, or nested datasets) and mint the next minor version;
    None when every member was already there (no new version)."""
    ds = writable_row(session, ds)["RID"]
    added = 0
    grouped = _group_members(session, ds, members)
    _refuse_cycles(session, ds, grouped.get(DATASET, []))
    for table, group in grouped.items():
        present = _present(session, ds, table, group)
        new = [m for m in group if m not in present]
        if not new:
            continue
        if table == DATASET:
            rows.insert(session, NESTED, [{"Dataset": ds, "Nested_Dataset": m} for m in new])
        else:
            rows.insert(session, link_table(table), [{"Dataset": ds, table: m} for m in new])
        added += len(new)
    if not added:
        return None
    return next_version(session, ds, "minor", description or f"added {added} member(s)", execution)


def delete_members(
    session: Session, ds: str, members: Iterable[str], description: str | None
) -> str | None:
    """Remove members and mint the next minor version (None if none was a member)."""
    ds = writable_row(session, ds)["RID"]
    removed = 0
    for table, group in _group_members(session, ds, members).items():
        present = _present(session, ds, table, group)
        if present:
            rows.delete(session, NESTED if table == DATASET else link_table(table),
                        list(present.values()))  # fmt: skip
            removed += len(present)
    if not removed:
        return None
    return next_version(session, ds, "minor", description or f"removed {removed} member(s)")


def _refuse_cycles(session: Session, ds: str, children: Sequence[str]) -> None:
    """``ValidationError`` naming the cycle if nesting ``children`` in ``ds`` makes one
    (a child that contains ``ds``, transitively); a deleted child is a ``StateError``."""
    problems = []
    for child in children:
        if dataset_row(session, child).get("Deleted"):
            raise StateError(f"dataset {child} is deleted: it cannot be nested in {ds}")
        path = _nesting_path(session, child, ds)
        if path is not None:
            cycle = " -> ".join([ds, *path])
            problems.append(f"nesting dataset {child} in {ds} would make a cycle: {cycle}")
    if problems:
        raise ValidationError(problems)


def _nesting_path(session: Session, start: str, goal: str) -> list[str] | None:
    """The datasets from ``start`` down to ``goal`` through current nesting, if any."""
    below: dict[str, str] = {start: start}
    frontier = [start]
    e = internal.edges
    while frontier:
        if goal in below:
            break
        query = sa.select(e.c.to_rid, e.c.from_rid).where(
            e.c.to_rid.in_(frontier), e.c.relation == "member_of",
            e.c.from_table == DATASET, live_edges(None),
        )  # fmt: skip
        frontier = []
        for parent, child in session.conn.execute(query).all():
            if child not in below:
                below[child] = parent
                frontier.append(child)
    if goal not in below:
        return None
    path = [goal]
    while path[-1] != start:
        path.append(below[path[-1]])
    return list(reversed(path))


def ancestors(session: Session, ds: str) -> list[str]:
    """Every dataset containing ``ds`` now, transitively: one query."""
    e = internal.edges
    start = sa.select(sa.cast(sa.literal(ds), types.rid_type()).label("node"))
    walk = start.cte("containing", recursive=True)
    step = sa.select(e.c.to_rid).where(
        e.c.from_rid == walk.c.node,
        e.c.relation == "member_of",
        e.c.from_table == DATASET,
        live_edges(None),
    )
    walk = walk.union(step)
    return sorted(set(session.conn.execute(sa.select(walk.c.node)).scalars()) - {ds})


def delete(session: Session, ds: str, recurse: bool) -> list[str]:
    """Mark ``ds`` (and with ``recurse`` every dataset nested in it) deleted."""
    ds = dataset_row(session, ds)["RID"]
    live_parents = [
        p for p in parents(session, ds, None) if not dataset_row(session, p).get("Deleted")
    ]
    if live_parents:
        raise ConflictError(
            f"dataset {ds} is nested in {', '.join(live_parents)}: remove it from there first"
        )
    wanted = nested_closure(session, ds, None) if recurse else [ds]
    marked = [d for d in wanted if not dataset_row(session, d).get("Deleted")]
    if marked:
        rows.update(session, DATASET, [{"RID": d, "Deleted": True} for d in marked])
    return marked


def nested_closure(session: Session, ds: str, snapshot: int | None) -> list[str]:
    """``ds`` and every dataset nested in it (transitively) at ``snapshot``: one query."""
    e = internal.edges
    start = sa.select(sa.cast(sa.literal(ds), types.rid_type()).label("node"))
    walk = start.cte("nested", recursive=True)
    step = sa.select(e.c.from_rid).where(
        e.c.to_rid == walk.c.node,
        e.c.relation == "member_of",
        e.c.from_table == DATASET,
        live_edges(snapshot),
    )
    walk = walk.union(step)
    return sorted(session.conn.execute(sa.select(walk.c.node)).scalars())


def member_rids(
    session: Session, datasets: Sequence[str], snapshot: int | None
) -> dict[str, list[str]]:
    """Element table -> member RIDs of any of ``datasets`` at ``snapshot``."""
    e = internal.edges
    out: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(datasets), 900):
        query = sa.select(e.c.from_table, e.c.from_rid).where(
            e.c.to_rid.in_(list(datasets[start : start + 900])),
            e.c.relation == "member_of",
            live_edges(snapshot),
        )
        for table, rid in session.conn.execute(query).all():  # one fetchall
            out[table].add(rid)
    return {table: sorted(found) for table, found in sorted(out.items())}


def parents(session: Session, ds: str, snapshot: int | None) -> list[str]:
    """Datasets ``ds`` is directly nested in."""
    e = internal.edges
    query = sa.select(e.c.to_rid).where(
        e.c.from_rid == ds, e.c.relation == "member_of", e.c.from_table == DATASET,
        live_edges(snapshot),
    ).order_by(e.c.to_rid)  # fmt: skip
    return list(session.conn.execute(query).scalars())


def dataset_types(session: Session, datasets: Sequence[str]) -> dict[str, list[str]]:
    link = session.table("Dataset_Dataset_Type")
    out: dict[str, list[str]] = defaultdict(list)
    query = (
        sa.select(link.c.Dataset, link.c.Dataset_Type)
        .where(link.c.Dataset.in_(valuelists.json_values(datasets)))
        .order_by(link.c.Dataset_Type)
    )
    for ds, term in session.conn.execute(query):
        out[ds].append(term)
    return out


def summaries(
    session: Session,
    dataset_type: str | None,
    deleted: bool,
    after: str | None,
    limit: int | None,
) -> list[dict[str, Any]]:
    """Datasets ordered by RID (those after ``after``, at most ``limit``; of one type
    when ``dataset_type``, a canonical term; deleted ones only with ``deleted``), each
    with its ``Dataset_Type`` list and latest ``Version``: three queries a page."""
    t = session.table(DATASET)
    columns = session.model.table(DATASET).column_names
    query = sa.select(*(t.c[c] for c in columns)).order_by(t.c.RID)
    if after is not None:
        query = query.where(t.c.RID > after)
    if not deleted:
        query = query.where(sa.or_(t.c.Deleted.is_(None), t.c.Deleted.is_(False)))
    if dataset_type is not None:
        kinds = session.table("Dataset_Dataset_Type")
        query = query.where(
            sa.exists().where(kinds.c.Dataset == t.c.RID, kinds.c.Dataset_Type == dataset_type)
        )
    if limit is not None:
        query = query.limit(limit)
    found = [dict(zip(columns, row, strict=True)) for row in reads.plain_columns(session, query)]
    if not found:
        return []
    wanted = [row["RID"] for row in found]
    kinds_of = dataset_types(session, wanted)
    v = session.table("Dataset_Version")
    latest: dict[str, str] = {}
    for ds, version in reads.plain_rows(
        session,
        sa.select(v.c.Dataset, v.c.Version).where(v.c.Dataset.in_(valuelists.json_values(wanted))),
    ):
        if ds not in latest or versions.key(version) > versions.key(latest[ds]):
            latest[ds] = version
    return [
        {**row, "Dataset_Type": kinds_of.get(row["RID"], []), "Version": latest.get(row["RID"])}
        for row in found
    ]
