"""The provenance edge table, kept in step with the rows that imply its edges.

Every insert, update or delete of a link row writes or removes its edges in the same
transaction, so lineage never disagrees with the links:

- ``<T>_Execution`` rows (asset, Execution, Asset_Role): ``generated`` (execution ->
  asset) for Output, ``used`` (execution -> asset) for Input;
- ``Execution`` rows with a Workflow: ``executed`` (execution -> workflow);
- ``Dataset_<T>`` rows (Dataset, T): ``member_of`` (element -> dataset);
- ``Dataset_Dataset`` rows: ``member_of`` (nested dataset -> dataset);
- ``Dataset_Execution`` rows: ``used`` (execution -> dataset, with the version);
- feature values (rows of a feature table): ``generated`` (execution -> value).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assetry.records.features import feature_of
from assetry.sql import internal
from assetry.sql.model import TableModel
from assetry.sql.session import Session

ROLE_RELATION = {"Input": "used", "Output": "generated"}


def asset_of_execution_link(table: TableModel) -> str | None:
    """The asset table linked by ``table`` if it is a ``<T>_Execution`` link table."""
    targets = {fk.table for fk in table.foreign_keys}
    if table.kind != "association" or not {"Execution", "Asset_Role"} <= targets:
        return None
    others = targets - {"Execution", "Asset_Role"}
    return next(iter(others)) if len(others) == 1 else None


# Tables named Dataset_<X> that are not memberships of element type X.
NOT_MEMBERSHIPS = frozenset(
    {"Dataset_Dataset", "Dataset_Dataset_Type", "Dataset_Execution", "Dataset_Version"}
)


def element_of_dataset_link(table: TableModel) -> str | None:
    """The element table of a ``Dataset_<T>`` membership table, if ``table`` is one."""
    if table.kind != "association" or not table.name.startswith("Dataset_"):
        return None
    if table.name in NOT_MEMBERSHIPS:
        return None
    element = table.name[len("Dataset_") :]
    targets = {fk.table for fk in table.foreign_keys}
    return element if targets == {"Dataset", element} else None


def is_feature_table(table: TableModel) -> bool:
    """True if ``table`` holds the values of a feature (``records.features``)."""
    return (
        table.kind == "association"
        and table.has_column("Feature_Name")
        and feature_of(table.to_doc(), {}) is not None
    )


def tracks(table: TableModel) -> bool:
    """True if rows of ``table`` imply provenance edges."""
    return (
        table.name in ("Execution", "Dataset_Dataset", "Dataset_Execution")
        or asset_of_execution_link(table) is not None
        or element_of_dataset_link(table) is not None
        or is_feature_table(table)
    )


def affected(table: TableModel, change: Mapping[str, Any]) -> bool:
    """True if ``change`` (a row update) touches a column that edges are built from."""
    if table.name == "Execution":
        columns = {"Workflow"}
    else:
        columns = {fk.column for fk in table.foreign_keys} | {"Version"}
    return any(column in columns for column in change if column != "RID")


def _edge(
    row: Mapping[str, Any],
    source: tuple[str, str],
    target: tuple[str, str],
    relation: str,
    detail: str | None = None,
) -> dict[str, Any]:
    return {
        "from_rid": source[0],
        "from_table": source[1],
        "to_rid": target[0],
        "to_table": target[1],
        "relation": relation,
        "detail": detail,
        "link_rid": row["RID"],
    }


def _edges(table: TableModel, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    asset_table = asset_of_execution_link(table)
    element = element_of_dataset_link(table)
    feature = is_feature_table(table)
    for row in rows:
        if feature:
            out.append(
                _edge(row, (row["Execution"], "Execution"), (row["RID"], table.name), "generated")
            )
            continue
        if element is not None:
            out.append(
                _edge(row, (row[element], element), (row["Dataset"], "Dataset"), "member_of")
            )
            continue
        if table.name == "Dataset_Dataset":
            out.append(
                _edge(
                    row,
                    (row["Nested_Dataset"], "Dataset"),
                    (row["Dataset"], "Dataset"),
                    "member_of",
                )
            )
            continue
        if table.name == "Dataset_Execution":
            out.append(
                _edge(
                    row,
                    (row["Execution"], "Execution"),
                    (row["Dataset"], "Dataset"),
                    "used",
                    row.get("Version"),
                )
            )
            continue
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
