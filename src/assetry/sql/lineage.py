"""Lineage walks over the provenance edge table, in one recursive SQL query.

The edge table ``assetry_edge`` holds one edge per link row (``used``, ``generated``,
``member_of``, ``executed``). A walk is a single ``WITH RECURSIVE`` statement. A step from
a node follows an edge *forwards* (the edge leaves the node by ``from_rid`` with a relation
followed from its ``from`` end in that direction) or *backwards* (it arrives by ``to_rid``
with a relation followed from its ``to`` end). "both" is the union of an upstream and a
downstream walk, not everything connected to the RID. ``UNION`` (not ``UNION ALL``) makes
a cycle stop once no new node appears; with a depth limit the depth is carried along and
capped, which bounds the walk as well. The outer select returns the edges leaving the
reached nodes (below the depth cap). The statement has two forms, one per engine, with
the same rows (up to duplicates, which the caller collapses):

- SQLite (``_split_statement``): one recursive CTE of nodes per direction
  (``lineage_up``, ``lineage_down``). Its recursive part is a compound of two selects, one
  per orientation, each a plain join on one indexed column (``from_rid`` or ``to_rid``),
  and so is the outer select (``UNION ALL``, no ``DISTINCT``). Every step is then one
  index probe per orientation, with no ``MULTI-INDEX OR``, no direction column in the
  de-duplicated rows and no sort of the result: about twice as fast on a long chain.
- PostgreSQL (``_or_statement``) allows a single recursive reference, so there one CTE
  ``lineage_walk(node, dir[, depth])`` joins the edges on one OR condition and a ``CASE``
  picks the other end. No engine can hash-join on that OR, so PostgreSQL answers it with a
  bitmap OR of the two indexes per node whatever its statistics say (a split form there
  was planned as a nested loop over a sequential scan on a freshly filled table).

Node labels are then read with one query per table involved. Every dataset node carries
its ``version``: the one a ``used`` edge of the walk records (the newest when several
do), else the dataset's latest version as of the walk's snapshot (``as_of``, or now),
read for all such nodes in one more query (None when it has no version then).
"""

from __future__ import annotations

import itertools
import json
import operator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from assetry.errors import RIDNotFound, ValidationError
from assetry.records.lineage import (
    BOTH,
    DIRECTIONS,
    DOWNSTREAM,
    UPSTREAM,
    UPSTREAM_BACKWARD,
    UPSTREAM_FORWARD,
    USED,
    LineageGraph,
)
from assetry.sql import internal, reads, rids, types
from assetry.sql.session import Session

# (relations followed from_rid -> to_rid, relations followed to_rid -> from_rid)
_UP = "u"
_DOWN = "d"
_ORIENTATIONS = {
    UPSTREAM: (UPSTREAM_FORWARD, UPSTREAM_BACKWARD),
    DOWNSTREAM: (UPSTREAM_BACKWARD, UPSTREAM_FORWARD),
}


_EDGE_KEY = "\0".join


def walk(
    session: Session, rid: str, direction: str, depth: int | None, as_of: int | None = None
) -> LineageGraph:
    """The lineage graph of ``rid``: nodes and edges reached walking ``direction``
    (``upstream``, ``downstream`` or ``both``) at most ``depth`` steps (None: no limit;
    0: just the node), over the edges that exist now or at snapshot ``as_of``.

    Raises ``ValidationError`` for a malformed argument and ``RIDNotFound`` when ``rid``
    is neither a row of the catalog nor the end of any provenance edge.
    """
    if not isinstance(rid, str) or not rid.strip():
        raise ValidationError(f"{rid!r} is not a RID")
    if direction not in DIRECTIONS:
        raise ValidationError(
            f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}"
        )
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise ValidationError(f"depth must be a non-negative integer or None, got {depth!r}")
    root = rids.normalize(rid)

    edge_rows: Any = ()
    if depth != 0:
        statement = _walk_statement(root, direction, depth, as_of, dialect=session.dialect)
        edge_rows = reads.plain_rows(session, statement)

    # Plain tuples, taken apart column by column (map, zip and set run in C): a long
    # chain returns tens of thousands of rows, and a Python loop over them costs more
    # than the query. (zip(*rows) would too: one call with a row per argument.)
    from_rids, to_rids, relations, from_tables, to_tables, details = (
        list(map(operator.itemgetter(i), edge_rows)) for i in range(6)
    )
    edges: set[tuple[str, str, str]] = set(zip(from_rids, to_rids, relations, strict=True))
    tables: dict[str, str] = dict(zip(from_rids, from_tables, strict=True))
    tables.update(zip(to_rids, to_tables, strict=True))
    used: dict[str, dict[str, str]] = {}  # execution -> dataset -> version it used
    with_detail = itertools.compress(
        zip(from_rids, to_rids, relations, details, strict=True), details
    )
    for from_rid, to_rid, relation, detail in with_detail:
        if relation == USED:
            known = used.setdefault(from_rid, {}).get(to_rid)
            if known is None or _version_key(detail) > _version_key(known):
                used[from_rid][to_rid] = detail
    if root not in tables:
        found = _table_of(session, root)
        if found is None:
            raise RIDNotFound(root)
        tables[root] = found

    labels = _labels(session, tables)
    kinds = {table: _kind(session, table) for table in set(tables.values())}
    versions: dict[str, str] = {}  # dataset -> the newest version used in the walk
    for by_dataset in used.values():
        for ds, version in by_dataset.items():
            if ds not in versions or _version_key(version) > _version_key(versions[ds]):
                versions[ds] = version
    unused = [r for r, t in tables.items() if kinds[t] == "dataset" and r not in versions]
    if unused:
        versions.update(_latest_versions(session, unused, as_of))
    order = sorted(tables)
    nodes: list[dict[str, Any]] = [
        {"rid": r, "kind": kinds[t], "table": t, "label": labels.get(r) or r}
        for r, t in zip(order, map(tables.__getitem__, order), strict=True)
    ]
    dataset_tables = {t for t, kind in kinds.items() if kind == "dataset"}
    if dataset_tables:
        for node in nodes:
            if node["table"] in dataset_tables:
                node["version"] = versions.get(node["rid"])
    # Joined with a separator below every other character, the strings sort as the
    # tuples do, and sorting strings is about twice as fast.
    return LineageGraph.trusted(
        nodes, sorted(edges, key=_EDGE_KEY), root, direction, used_versions=used
    )


# --- the recursive query ----------------------------------------------------------------------


def live_edges(as_of: int | None) -> sa.ColumnElement[bool]:
    """Edges that exist now, or existed at snapshot ``as_of``."""
    e = internal.edges
    if as_of is None:
        return e.c.snap_to.is_(None)
    return sa.and_(e.c.snapshot <= as_of, sa.or_(e.c.snap_to.is_(None), e.c.snap_to > as_of))


def _walk_statement(
    root: str,
    direction: str,
    depth: int | None,
    as_of: int | None = None,
    dialect: str = "sqlite",
) -> sa.Select[Any] | sa.CompoundSelect[Any]:
    """The lineage query for ``dialect``: rows ``(from_rid, to_rid, relation, from_table,
    to_table, detail)`` of every live edge leaving a node reached from ``root`` (maybe
    more than once; see the module docstring)."""
    if dialect == "postgresql":
        return _or_statement(root, direction, depth, as_of)
    return _split_statement(root, direction, depth, as_of)


def _split_statement(
    root: str, direction: str, depth: int | None, as_of: int | None = None
) -> sa.CompoundSelect[Any]:
    """The SQLite form: one walk per direction, each step and the final select split by
    orientation into plain joins on one indexed column."""
    e = internal.edges
    # The anchor's types must match the recursive term's, so its parameters are cast.
    start = sa.cast(sa.literal(root), types.rid_type())
    cap = None if depth is None else sa.cast(sa.literal(depth), sa.Integer)
    walks = [UPSTREAM, DOWNSTREAM] if direction == BOTH else [direction]
    picks = (e.c.from_rid, e.c.to_rid, e.c.relation, e.c.from_table, e.c.to_table, e.c.detail)

    def steps(
        w: Any, forward_relations: tuple[str, ...], backward_relations: tuple[str, ...]
    ) -> list[tuple[sa.ColumnElement[bool], sa.ColumnElement[Any]]]:
        """(join condition, node reached) of each orientation of a step from ``w``."""
        live = live_edges(as_of)
        below = [] if cap is None else [w.c.depth < cap]
        forward = sa.and_(
            e.c.from_rid == w.c.node, e.c.relation.in_(forward_relations), live, *below
        )
        backward = sa.and_(
            e.c.to_rid == w.c.node, e.c.relation.in_(backward_relations), live, *below
        )
        return [(forward, e.c.to_rid), (backward, e.c.from_rid)]

    finals: list[sa.Select[Any]] = []
    for name in walks:
        forward_relations, backward_relations = _ORIENTATIONS[name]
        first: list[sa.ColumnElement[Any]] = [start.label("node")]
        if cap is not None:
            first.append(sa.cast(sa.literal(0), sa.Integer).label("depth"))
        cte = sa.select(*first).cte(f"lineage_{name[:2]}", recursive=True)
        recursive = []
        for condition, reached in steps(cte, forward_relations, backward_relations):
            columns: list[sa.ColumnElement[Any]] = [reached.label("node")]
            if cap is not None:
                columns.append((cte.c.depth + 1).label("depth"))
            recursive.append(sa.select(*columns).select_from(cte.join(e, condition)))
        # UNION, not UNION ALL: a cycle ends once no new node (or (node, depth)) appears.
        cte = cte.union(*recursive)
        for condition, _ in steps(cte, forward_relations, backward_relations):
            finals.append(sa.select(*picks).select_from(cte.join(e, condition)))
    return sa.union_all(*finals)


def _or_statement(
    root: str, direction: str, depth: int | None, as_of: int | None = None
) -> sa.Select[Any]:
    """The PostgreSQL form: one walk carrying its direction, one join on an OR."""
    e = internal.edges
    dir_type = sa.Text()
    up, down = sa.cast(sa.literal(_UP), dir_type), sa.cast(sa.literal(_DOWN), dir_type)

    # The anchor's types (and, on PostgreSQL, the RID column's "C" collation) must match
    # the recursive term's, so its bound parameters are cast explicitly.
    start = sa.cast(sa.literal(root), types.rid_type())
    wanted = {UPSTREAM: [up], DOWNSTREAM: [down], BOTH: [up, down]}[direction]
    anchors = []
    for d in wanted:
        first: list[sa.ColumnElement[Any]] = [start.label("node"), d.label("dir")]
        if depth is not None:
            first.append(sa.cast(sa.literal(0), sa.Integer).label("depth"))
        anchors.append(sa.select(*first))
    if len(anchors) == 1:
        anchor = anchors[0]
    else:
        # A recursive CTE's anchor must be a plain select: select from the union.
        both = sa.union_all(*anchors).subquery("start")
        anchor = sa.select(*both.c)
    walk_cte = anchor.cte("lineage_walk", recursive=True)

    def step(w: Any) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[Any]]:
        """The join condition from walk rows ``w`` to the edges they step along, and the
        node each step reaches. One OR condition rather than a union of orientations:
        no engine can hash-join on it, so each probe uses the from/to indexes, which
        keeps long chains linear (PostgreSQL would otherwise scan every edge per step)."""
        forward = sa.and_(
            e.c.from_rid == w.c.node,
            sa.or_(
                sa.and_(w.c.dir == up, e.c.relation.in_(UPSTREAM_FORWARD)),
                sa.and_(w.c.dir == down, e.c.relation.in_(UPSTREAM_BACKWARD)),
            ),
        )
        backward = sa.and_(
            e.c.to_rid == w.c.node,
            sa.or_(
                sa.and_(w.c.dir == up, e.c.relation.in_(UPSTREAM_BACKWARD)),
                sa.and_(w.c.dir == down, e.c.relation.in_(UPSTREAM_FORWARD)),
            ),
        )
        condition = sa.and_(sa.or_(forward, backward), live_edges(as_of))
        if depth is not None:
            condition = sa.and_(condition, w.c.depth < sa.cast(sa.literal(depth), sa.Integer))
        reached = sa.case((forward, e.c.to_rid), else_=e.c.from_rid)
        return condition, reached

    condition, reached = step(walk_cte)
    columns: list[sa.ColumnElement[Any]] = [reached.label("node"), walk_cte.c.dir]
    if depth is not None:
        columns.append((walk_cte.c.depth + 1).label("depth"))
    # UNION, not UNION ALL: a cycle ends once no new (node, dir[, depth]) row appears.
    walk_cte = walk_cte.union(sa.select(*columns).select_from(walk_cte.join(e, condition)))

    condition, _ = step(walk_cte)
    return (
        sa.select(e.c.from_rid, e.c.to_rid, e.c.relation, e.c.from_table, e.c.to_table, e.c.detail)
        .distinct()
        .select_from(walk_cte.join(e, condition))
    )


# --- nodes ---------------------------------------------------------------------------------


def _table_of(session: Session, rid: str) -> str | None:
    """The table of ``rid`` from any edge touching it, else from the row itself."""
    e = internal.edges
    from_edges = sa.select(e.c.from_table.label("t")).where(e.c.from_rid == rid)
    to_edges = sa.select(e.c.to_table.label("t")).where(e.c.to_rid == rid)
    found: str | None = (
        session.conn.execute(
            sa.union_all(
                from_edges.limit(1).subquery().select(), to_edges.limit(1).subquery().select()
            )
        )
        .scalars()
        .first()
    )
    if found is not None:
        return found
    queries = [
        sa.select(sa.literal(name).label("t")).where(session.table(name).c.RID == rid)
        for name in session.model.tables
    ]
    if not queries:
        return None
    return session.conn.execute(sa.union_all(*queries)).scalars().first()


def _kind(session: Session, table: str) -> str:
    if table == "Execution":
        return "execution"
    if table == "Workflow":
        return "workflow"
    if table == "Dataset":
        return "dataset"
    if table == "Artifact_Version":
        return "artifact"
    model_table = session.model.tables.get(table)
    if model_table is not None and model_table.kind == "asset":
        return "asset"
    return "row"


_LABEL_COLUMNS = {
    "asset": "Filename",
    "execution": "Description",
    "workflow": "Name",
    "dataset": "Description",
    "artifact": "Name",
    "row": "Name",
}


def _labels(session: Session, tables: dict[str, str]) -> dict[str, str]:
    """Each node's label (not blank), with one query per table involved."""
    by_table: dict[str, list[str]] = {}
    for node_rid, table in tables.items():
        by_table.setdefault(table, []).append(node_rid)
    labels: dict[str, str] = {}
    for table, wanted in sorted(by_table.items()):
        model_table = session.model.tables.get(table)
        if model_table is None:
            continue
        column = _LABEL_COLUMNS[_kind(session, table)]
        if not model_table.has_column(column):
            continue
        t = session.table(table)
        label: sa.ColumnElement[Any] = sa.cast(t.c[column], sa.Text)
        if table == "Artifact_Version":  # "fraud_detector v3"
            label = t.c.Name + " v" + sa.cast(t.c.Version, sa.Text)
        query = sa.select(t.c.RID, label).where(
            _among(session, t.c.RID, wanted), label.is_not(None)
        )
        labels.update(reads.plain_rows(session, query))
    blank = [r for r, value in labels.items() if not value.strip()]
    for node_rid in blank:
        del labels[node_rid]
    return labels


def _latest_versions(session: Session, datasets: list[str], as_of: int | None) -> dict[str, str]:
    """The latest version of each of ``datasets`` minted at or before snapshot ``as_of``
    (any, when None), in one query; a dataset without one is left out."""
    if "Dataset_Version" not in session.model.tables:
        return {}
    t = session.table("Dataset_Version")
    query = sa.select(t.c.Dataset, t.c.Version).where(_among(session, t.c.Dataset, datasets))
    if as_of is not None:
        query = query.where(t.c.Snapshot <= as_of)
    latest: dict[str, str] = {}
    for ds, version in session.conn.execute(query).all():
        if version and (ds not in latest or _version_key(version) > _version_key(latest[ds])):
            latest[ds] = version
    return latest


def _among(session: Session, column: sa.ColumnElement[Any], wanted: list[str]) -> Any:
    """``column`` is one of ``wanted``, with the list bound as one parameter (a JSON
    array on SQLite, an array on PostgreSQL): an ``IN`` of thousands of placeholders
    costs more to render and bind than the query costs to run."""
    if session.dialect == "postgresql":
        array = sa.bindparam("wanted", wanted, type_=postgresql.ARRAY(sa.Text))
        return column == sa.any_(array)
    values = sa.func.json_each(sa.bindparam("wanted", json.dumps(wanted))).table_valued("value")
    return column.in_(sa.select(values.c.value))


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting semantic versions in numeric order (1.10.0 after 1.9.0)."""
    parts: list[tuple[int, int | str]] = []
    for part in version.replace("-", ".").split("."):
        parts.append((1, int(part)) if part.isdigit() else (0, part))
    return tuple(parts)
