"""The provenance edge table, kept in step with the rows that imply its edges.

Every insert, update or delete of a link row writes or removes its edges in the same
transaction, so lineage never disagrees with the links:

- ``<T>_Execution`` rows (asset, Execution, Asset_Role): ``generated`` (execution ->
  asset) for Output, ``used`` (execution -> asset) for Input;
- ``Execution`` rows with a Workflow: ``executed`` (execution -> workflow).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assetry.catalog import internal
from assetry.catalog.model import TableModel
from assetry.catalog.session import Session

ROLE_RELATION = {"Input": "used", "Output": "generated"}


def asset_of_execution_link(table: TableModel) -> str | None:
    """The asset table linked by ``table`` if it is a ``<T>_Execution`` link table."""
    targets = {fk.table for fk in table.foreign_keys}
    if table.kind != "association" or not {"Execution", "Asset_Role"} <= targets:
        return None
    others = targets - {"Execution", "Asset_Role"}
    return next(iter(others)) if len(others) == 1 else None


def tracks(table: TableModel) -> bool:
    """True if rows of ``table`` imply provenance edges."""
    return table.name == "Execution" or asset_of_execution_link(table) is not None


def _edges(table: TableModel, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    asset_table = asset_of_execution_link(table)
    for row in rows:
        if asset_table is not None:
            out.append(
                {
                    "from_rid": row["Execution"],
                    "from_table": "Execution",
                    "to_rid": row[asset_table],
                    "to_table": asset_table,
                    "relation": ROLE_RELATION[row["Asset_Role"]],
                    "detail": None,
                    "link_rid": row["RID"],
                }
            )
        elif table.name == "Execution" and row.get("Workflow"):
            out.append(
                {
                    "from_rid": row["RID"],
                    "from_table": "Execution",
                    "to_rid": row["Workflow"],
                    "to_table": "Workflow",
                    "relation": "executed",
                    "detail": None,
                    "link_rid": row["RID"],
                }
            )
    return out


def add(session: Session, table: TableModel, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write the edges implied by newly inserted ``rows`` of ``table``."""
    edges = _edges(table, rows)
    if edges:
        snapshot = session.snapshot()
        session.conn.execute(internal.edges.insert(), [{**e, "snapshot": snapshot} for e in edges])


def remove(session: Session, rids: Sequence[str]) -> None:
    """End the edges implied by the link rows ``rids`` (kept with ``snap_to`` set)."""
    e = internal.edges
    snapshot = session.snapshot()
    for start in range(0, len(rids), 900):
        session.conn.execute(
            e.update()
            .where(e.c.link_rid.in_(rids[start : start + 900]), e.c.snap_to.is_(None))
            .values(snap_to=snapshot)
        )


def replace(session: Session, table: TableModel, rows: Sequence[Mapping[str, Any]]) -> None:
    """Recompute the edges of changed link ``rows`` (their current images)."""
    remove(session, [row["RID"] for row in rows])
    add(session, table, rows)
