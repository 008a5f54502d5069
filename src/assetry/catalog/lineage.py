"""Lineage walks over the provenance edge table, in one recursive SQL query.

The edge table ``assetry_edge`` holds one edge per link row (``used``, ``generated``,
``member_of``, ``executed``). A walk is a single ``WITH RECURSIVE`` statement:

- the recursive CTE ``lineage_walk(node, dir[, depth])`` starts from the RID, once per
  direction asked for (``u`` upstream, ``d`` downstream), and keeps the direction it
  started with, so "both" is the union of an upstream and a downstream walk, not
  everything connected to the RID;
- its recursive part joins the CTE once (PostgreSQL allows a single recursive reference)
  to the edge table on one OR condition: an edge is a step from ``node`` if it leaves
  ``node`` (``from_rid``) with a relation that is followed forwards in that direction, or
  arrives at it (``to_rid``) with one followed backwards; a ``CASE`` picks the other end.
  Every engine answers an OR of the two indexed columns with two index probes per node
  (no engine can hash-join on it), so a long chain costs time linear in its length;
- ``UNION`` (not ``UNION ALL``) makes a cycle stop once no new ``(node, dir)`` appears; with
  a depth limit the depth is carried along and capped, which bounds the walk as well;
- the outer select returns the edges leaving the reached nodes (below the depth cap).

Node labels are then read with one query per table involved.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from assetry.catalog import internal, rids, types
from assetry.catalog.session import Session
from assetry.errors import RIDNotFound, ValidationError
from assetry.executions.lineage import (
    BOTH,
    DIRECTIONS,
    DOWNSTREAM,
    UPSTREAM,
    UPSTREAM_BACKWARD,
    UPSTREAM_FORWARD,
    USED,
    LineageGraph,
)

_UP = "u"
_DOWN = "d"
# RIDs per label query; far below every engine's bound-parameter limit.
_LABEL_CHUNK = 5000


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

    edge_rows: list[sa.Row[Any]] = []
    if depth != 0:
        edge_rows = list(session.conn.execute(_walk_statement(root, direction, depth, as_of)))

    tables: dict[str, str] = {}
    versions: dict[str, list[str]] = {}
    edges: set[tuple[str, str, str]] = set()
    for row in edge_rows:
        edges.add((row.from_rid, row.to_rid, row.relation))
        tables.setdefault(row.from_rid, row.from_table)
        tables.setdefault(row.to_rid, row.to_table)
        if row.relation == USED and row.detail:
            versions.setdefault(row.to_rid, []).append(row.detail)
    if root not in tables:
        found = _table_of(session, root)
        if found is None:
            raise RIDNotFound(root)
        tables[root] = found

    labels = _labels(session, tables)
    nodes: list[dict[str, Any]] = []
    for node_rid, table in tables.items():
        kind = _kind(session, table)
        node: dict[str, Any] = {
            "rid": node_rid,
            "kind": kind,
            "table": table,
            "label": labels.get(node_rid) or node_rid,
        }
        if kind == "dataset" and node_rid in versions:
            node["version"] = max(versions[node_rid], key=_version_key)
        nodes.append(node)
    return LineageGraph(nodes=nodes, edges=sorted(edges), root=root, direction=direction)


# --- the recursive query ----------------------------------------------------------------------


def live_edges(as_of: int | None) -> sa.ColumnElement[bool]:
    """Edges that exist now, or existed at snapshot ``as_of``."""
    e = internal.edges
    if as_of is None:
        return e.c.snap_to.is_(None)
    return sa.and_(e.c.snapshot <= as_of, sa.or_(e.c.snap_to.is_(None), e.c.snap_to > as_of))


def _walk_statement(
    root: str, direction: str, depth: int | None, as_of: int | None = None
) -> sa.Select[Any]:
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
    model_table = session.model.tables.get(table)
    if model_table is not None and model_table.kind == "asset":
        return "asset"
    return "row"


_LABEL_COLUMNS = {
    "asset": "Filename",
    "execution": "Description",
    "workflow": "Name",
    "dataset": "Description",
    "row": "Name",
}


def _labels(session: Session, tables: dict[str, str]) -> dict[str, str]:
    """Each node's label, with one query per table (per 5,000 nodes of it)."""
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
        ordered = sorted(wanted)
        for start in range(0, len(ordered), _LABEL_CHUNK):
            chunk = ordered[start : start + _LABEL_CHUNK]
            query = sa.select(t.c.RID, t.c[column]).where(t.c.RID.in_(chunk))
            for node_rid, value in session.conn.execute(query):
                if value is not None and str(value).strip():
                    labels[node_rid] = str(value)
    return labels


def _version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting semantic versions in numeric order (1.10.0 after 1.9.0)."""
    parts: list[tuple[int, int | str]] = []
    for part in version.replace("-", ".").split("."):
        parts.append((1, int(part)) if part.isdigit() else (0, part))
    return tuple(parts)
