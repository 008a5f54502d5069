"""The member rows of datasets as of a snapshot, in pages ordered by RID.

Membership is read from the membership tables (``Dataset_<Element>``, and
``Dataset_Dataset`` for nested datasets), whose unique key ``(Dataset, <Element>)`` is an
index in member order: a page of members after a given RID is one range of that index
joined to the element table, whatever its depth. Rows as of the snapshot are the current
ones unchanged since, corrected by history: memberships removed since and member rows
changed or deleted since are read from their history images.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from assetry.sql import history, listing, names, reads, valuelists
from assetry.sql.model import Model, TableModel
from assetry.sql.provenance import element_of_dataset_link
from assetry.sql.session import Session

DATASET = "Dataset"
NESTED = "Dataset_Dataset"


def membership_tables(model: Model) -> dict[str, tuple[str, str]]:
    """Element table -> (membership table, its member column), for every element type of
    ``model`` (``Dataset`` for nested datasets)."""
    out: dict[str, tuple[str, str]] = {}
    for table in model.tables.values():
        if table.name == NESTED:
            out[DATASET] = (NESTED, "Nested_Dataset")
            continue
        element = element_of_dataset_link(table)
        if element is not None and element in model.tables:
            out[element] = (table.name, element)
    return dict(sorted(out.items()))


def member_rows(
    session: Session,
    model: Model,
    datasets: Sequence[str],
    element: str,
    snapshot: int,
    after: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``element`` (its model at ``snapshot``) that were members of any of
    ``datasets`` at ``snapshot``, ordered by RID: those after ``after``, at most
    ``limit``."""
    link_name, member = membership_tables(model)[element]
    table = model.table(element)
    link_model = model.table(link_name)
    column_names = table.column_names
    rows = _current(session, table, link_name, member, datasets, snapshot, after, limit)
    # Corrections from history: memberships ended since the snapshot, and member rows
    # changed or deleted since (both usually none).
    wanted = set(datasets)
    ended = {
        row[member]
        for row in history.valid_at(session, link_model, snapshot)
        if row.get(DATASET) in wanted and (after is None or row[member] > after)
    }
    changed = sorted(rid for rid in history.rids_valid_at(session, table, snapshot)
                     if after is None or rid > after)  # fmt: skip
    if changed:
        ended |= _still_members(session, link_name, member, datasets, snapshot, changed)
    if not ended:
        return rows
    found = reads.fetch_as_of(session, table, ended, snapshot)
    by_rid = {row["RID"]: row for row in rows}
    for rid, row in found.items():
        by_rid[rid] = {name: row.get(name) for name in column_names}
    merged = [by_rid[rid] for rid in sorted(by_rid)]
    return merged if limit is None else merged[:limit]


def _current(
    session: Session,
    table: TableModel,
    link_name: str,
    member: str,
    datasets: Sequence[str],
    snapshot: int,
    after: str | None,
    limit: int | None,
) -> list[dict[str, Any]]:
    """Members whose membership row and own row are unchanged since ``snapshot``."""
    t = session.table(table.name)
    link = session.table(link_name)
    at = names.SNAPSHOT_COLUMN
    columns = [t.c[name] for name in table.column_names]
    if len(datasets) == 1:
        # One range of the (Dataset, member) index, in member order; the statement is
        # built and compiled once per table and shape (a page is then a few ms).
        query = _page_statement(t, link, table.column_names, member, after is not None,
                                limit is not None)  # fmt: skip
        params: dict[str, Any] = {"ds": datasets[0], "snapshot": snapshot}
        if after is not None:
            params["after"] = after
        if limit is not None:
            params["limit"] = limit
        return listing.as_dicts(table.column_names, listing.columns_of(session, query, params))
    else:
        # A member of several of the datasets is listed once.
        members = sa.select(link.c[member]).where(
            link.c.Dataset.in_(valuelists.json_values(datasets)), link.c[at] <= snapshot
        )
        query = (
            sa.select(*columns).where(t.c.RID.in_(members), t.c[at] <= snapshot).order_by(t.c.RID)
        )
        if after is not None:
            query = query.where(t.c.RID > after)
    if limit is not None:
        query = query.limit(limit)
    return listing.as_dicts(table.column_names, listing.columns_of(session, query))


_Key = tuple[tuple[str, ...], str, bool, bool]
_PAGES: weakref.WeakKeyDictionary[sa.Table, dict[_Key, sa.Select[Any]]]
_PAGES = weakref.WeakKeyDictionary()


def _page_statement(
    t: sa.Table, link: sa.Table, column_names: list[str], member: str, after: bool, limit: bool
) -> sa.Select[Any]:
    """Members of dataset ``:ds`` in ``link`` joined to their rows in ``t``, both
    unchanged since ``:snapshot``, in member order (``> :after``, ``LIMIT :limit``)."""
    statements = _PAGES.setdefault(link, {})
    key = (tuple(column_names), member, after, limit)
    query = statements.get(key)
    if query is None:
        at = names.SNAPSHOT_COLUMN
        snapshot = sa.bindparam("snapshot", 0, type_=sa.BigInteger())
        query = (
            sa.select(*(t.c[name] for name in column_names))
            .select_from(link.join(t, t.c.RID == link.c[member]))
            .where(
                link.c.Dataset == sa.bindparam("ds", "", type_=sa.Text()),
                link.c[at] <= snapshot,
                t.c[at] <= snapshot,
            )
            .order_by(link.c[member])
        )
        if after:
            query = query.where(link.c[member] > sa.bindparam("after", "", type_=sa.Text()))
        if limit:
            query = query.limit(sa.bindparam("limit", 1, type_=sa.Integer()))
        statements[key] = query
    return query


def _still_members(
    session: Session,
    link_name: str,
    member: str,
    datasets: Sequence[str],
    snapshot: int,
    candidates: Sequence[str],
) -> set[str]:
    """Those of ``candidates`` that are members of ``datasets`` through a membership row
    unchanged since ``snapshot``."""
    link = session.table(link_name)
    query = sa.select(link.c[member]).where(
        link.c.Dataset.in_(valuelists.json_values(datasets)),
        link.c[member].in_(valuelists.json_values(candidates)),
        link.c[names.SNAPSHOT_COLUMN] <= snapshot,
    )
    return {rid for (rid,) in reads.plain_rows(session, query)}
