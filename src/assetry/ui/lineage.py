"""Lineage pictures: ``cat.lineage`` laid out in columns and drawn by the browser as SVG
(each node a link to its page), and the explorer page (upstream, downstream or both, a
depth, any node).

The layout is a plain layered drawing, computed here in linear time: data flows left to
right (inputs and workflows, then the execution, then its outputs); a node's column is
its flow distance from the node asked about (breadth first), and each column is ordered
by the mean place of its neighbours in the column nearer the centre, which keeps most
edges short and uncrossed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from assetry.errors import ValidationError
from assetry.ui.context import Page, page
from assetry.ui.render import render

router = APIRouter()

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 190, 40, 70, 12, 8
LABEL_CHARS = 24
SUB_CHARS = 30  # characters of the small line (monospace)
DIRECTIONS = ("upstream", "downstream", "both")
MAX_DEPTH = 50


@dataclass
class Placed:
    """A node with its place in the picture."""

    rid: str
    kind: str
    table: str
    label: str
    x: int
    y: int
    root: bool

    @property
    def short(self) -> str:
        """The label as it fits in the box."""
        return _cut(self.label or self.rid, LABEL_CHARS)

    @property
    def sub(self) -> str:
        """The table and RID, the table's name cut to fit."""
        return _cut(self.table, SUB_CHARS - len(self.rid) - 3) + " · " + self.rid


def _cut(text: str, length: int) -> str:
    return text if len(text) <= length else text[: max(length - 1, 1)] + "…"


def flow(edge: tuple[str, str, str]) -> tuple[str, str]:
    """An edge as (from, to) in the direction data flows."""
    a, b, relation = edge
    return (b, a) if relation in ("used", "executed") else (a, b)


def layout(
    nodes: list[dict[str, Any]], edges: list[tuple[str, str, str]], root: str
) -> dict[str, Any]:
    """Places for every node and a path for every edge of a lineage graph."""
    by_rid = {n["rid"]: n for n in nodes}
    forward: dict[str, list[str]] = {rid: [] for rid in by_rid}
    backward: dict[str, list[str]] = {rid: [] for rid in by_rid}
    arrows = []
    for edge in edges:
        a, b = flow(edge)
        if a in by_rid and b in by_rid:
            forward[a].append(b)
            backward[b].append(a)
            arrows.append((a, b, edge[2]))
    column = _columns(by_rid, forward, backward, root)
    order = _order(column, forward, backward, root)
    lowest = min(column.values(), default=0)
    tallest = max((len(members) for members in order.values()), default=1)
    placed: dict[str, Placed] = {}
    for col, members in order.items():
        offset = (tallest - len(members)) * (NODE_H + GAP_Y) // 2
        for i, rid in enumerate(members):
            n = by_rid[rid]
            placed[rid] = Placed(
                rid,
                n.get("kind", "row"),
                n.get("table", ""),
                str(n.get("label") or ""),
                PAD + (col - lowest) * (NODE_W + GAP_X),
                PAD + offset + i * (NODE_H + GAP_Y),
                rid == root,
            )
    width = PAD * 2 + (len(order) or 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + tallest * (NODE_H + GAP_Y) - GAP_Y
    paths = [
        {"d": _path(placed[a], placed[b]), "relation": relation, "from": a, "to": b}
        for a, b, relation in arrows
    ]
    ordered = sorted(placed.values(), key=lambda p: (p.x, p.y))
    return {"nodes": ordered, "edges": paths, "width": width, "height": height}


def _columns(
    by_rid: dict[str, Any],
    forward: dict[str, list[str]],
    backward: dict[str, list[str]],
    root: str,
) -> dict[str, int]:
    column: dict[str, int] = {}
    starts = [root] if root in by_rid else []
    starts += [rid for rid in by_rid if rid != root]
    for start in starts:  # one walk per part of the graph the root does not reach
        if start in column:
            continue
        column[start] = 0
        queue = deque([start])
        while queue:
            rid = queue.popleft()
            for nxt, step in [(n, 1) for n in forward[rid]] + [(n, -1) for n in backward[rid]]:
                if nxt not in column:
                    column[nxt] = column[rid] + step
                    queue.append(nxt)
    return column


def _order(
    column: dict[str, int],
    forward: dict[str, list[str]],
    backward: dict[str, list[str]],
    root: str,
) -> dict[int, list[str]]:
    members: dict[int, list[str]] = {}
    for rid, col in column.items():
        members.setdefault(col, []).append(rid)
    place = {rid: i for col in members.values() for i, rid in enumerate(col)}
    outward = sorted(members, key=lambda c: (abs(c), c))
    for col in outward:
        if col == 0:
            continue
        inner = col - 1 if col > 0 else col + 1

        def centre(rid: str, inner: int = inner) -> float:
            near = [n for n in forward[rid] + backward[rid] if column[n] == inner]
            return sum(place[n] for n in near) / len(near) if near else float(place[rid])

        members[col].sort(key=lambda rid: (centre(rid), rid))
        place.update({rid: i for i, rid in enumerate(members[col])})
    return dict(sorted(members.items()))


def _path(a: Placed, b: Placed) -> str:
    x1, y1 = a.x + NODE_W, a.y + NODE_H // 2
    x2, y2 = b.x, b.y + NODE_H // 2
    bend = max(30, abs(x2 - x1) // 2)
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def picture(viewer: Page, rid: str, direction: str, depth: int | None) -> dict[str, Any]:
    """The laid-out lineage around ``rid``."""
    graph = viewer.cat.lineage(rid, direction, depth)
    drawn = layout(graph.nodes, graph.edges, rid)
    drawn.update(rid=rid, direction=direction, depth=depth)
    return drawn


@router.get("/lineage/{rid}")
def explorer(
    rid: str, direction: str = "both", depth: str = "3", viewer: Page = Depends(page)
) -> Response:
    if direction not in DIRECTIONS:
        raise ValidationError(f"direction must be one of {', '.join(DIRECTIONS)}")
    steps: int | None = None
    if depth != "all":
        try:
            steps = int(depth)
        except ValueError:
            raise ValidationError(f"depth must be a number or 'all', got {depth!r}") from None
        if not 1 <= steps <= MAX_DEPTH:
            raise ValidationError(f"depth must be between 1 and {MAX_DEPTH}")
    found = viewer.cat.resolve_rid(rid)
    drawn = picture(viewer, found.row["RID"], direction, steps)
    return render(
        viewer,
        "lineage.html",
        table=found.table,
        row=found.row,
        picture=drawn,
        direction=direction,
        depth=depth,
        directions=DIRECTIONS,
    )
