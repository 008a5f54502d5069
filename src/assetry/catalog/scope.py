"""The scope of a dataset version's bag, read as of the version's snapshot.

In scope: the dataset and its nested datasets, their members, every row those reference
through foreign keys (transitively), the vocabulary terms used, the executions that
generated member assets and their workflows, and every link row whose ends are all in
scope (asset types, execution links, memberships, dataset types and versions).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from assetry.bags.content import AssetFile, BagContent, TableRows
from assetry.catalog import datasets, history, internal, rows
from assetry.catalog.lineage import live_edges
from assetry.catalog.model import Model
from assetry.catalog.session import Session


def _referenced(model: Model, table: str, found: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
    """Keys (RIDs or term names) that rows of ``table`` reference, by target table."""
    out: dict[str, set[str]] = defaultdict(set)
    for fk in model.table(table).foreign_keys:
        for row in found.values():
            value = row.get(fk.column)
            if value is not None:
                out[fk.table].add(value)
    return out


def compute(
    session: Session, model: Model, ds: str, version: dict[str, Any], catalog: str
) -> BagContent:
    """Everything in the bag of ``version`` (a Dataset_Version row) of dataset ``ds``."""
    snapshot = int(version["Snapshot"])
    in_scope: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    terms: dict[str, set[str]] = defaultdict(set)
    pending: dict[str, set[str]] = defaultdict(set)

    nested = datasets.nested_closure(session, ds, snapshot)
    pending[datasets.DATASET].update(nested)
    for table, members in datasets.member_rids(session, nested, snapshot).items():
        pending[table].update(members)
    assets = [m for m in pending if m in model.tables and model.tables[m].kind == "asset"]
    pending["Execution"].update(_generators(session, pending, assets, snapshot))

    # Transitive closure over foreign keys: rows reference rows and terms.
    while any(pending.values()):
        batch, pending = pending, defaultdict(set)
        for table, wanted in batch.items():
            new = sorted(set(wanted) - set(in_scope[table]))
            if not new or table not in model.tables:
                continue
            found = rows.fetch_as_of(session, model.table(table), new, snapshot)
            in_scope[table].update(found)
            for target, keys in _referenced(model, table, found).items():
                if model.table(target).kind == "vocabulary" and _by_name(model, table, target):
                    terms[target].update(keys)
                else:
                    pending[target].update(keys)
        if not any(pending.values()):
            pending = _links(session, model, in_scope, snapshot)

    for vocabulary, names in terms.items():
        found = _terms_as_of(session, model, vocabulary, names, snapshot)
        in_scope[vocabulary].update(found)

    content = BagContent(
        dataset=ds,
        version=version["Version"],
        snapshot=snapshot,
        catalog=catalog,
        description=version.get("Description"),
        created=version["RCT"],
        model=model.to_doc(),
    )
    for table in sorted(t for t, found in in_scope.items() if found):
        model_table = model.table(table)
        content.tables[table] = TableRows(
            columns=model_table.column_names,
            types={c.name: c.type for c in model_table.columns},
            rows=[in_scope[table][rid] for rid in sorted(in_scope[table])],
        )
        if model_table.kind == "asset":
            content.assets += [
                AssetFile(table, r["RID"], _safe_name(r), r["MD5"], r["SHA256"], int(r["Length"]))
                for r in content.tables[table].rows
            ]
    return content


def _safe_name(row: dict[str, Any]) -> str:
    name = str(row.get("Filename") or row["RID"]).replace("\\", "/").rsplit("/", 1)[-1]
    return name if name not in ("", ".", "..") else row["RID"]


def _by_name(model: Model, table: str, target: str) -> bool:
    return any(
        fk.table == target and fk.referenced_column == "Name"
        for fk in model.table(table).foreign_keys
    )


def _generators(
    session: Session, pending: dict[str, set[str]], assets: list[str], snapshot: int
) -> set[str]:
    """Executions that generated the member assets (as of ``snapshot``)."""
    e = internal.edges
    out: set[str] = set()
    for table in assets:
        members = sorted(pending[table])
        for start in range(0, len(members), 900):
            query = sa.select(e.c.from_rid).where(
                e.c.to_rid.in_(members[start : start + 900]),
                e.c.relation == "generated",
                live_edges(snapshot),
            )
            out.update(session.conn.execute(query).scalars())
    return out


def _links(
    session: Session, model: Model, in_scope: dict[str, dict[str, Any]], snapshot: int
) -> dict[str, set[str]]:
    """Association rows (and dataset versions) whose RID references are all in scope."""
    pending: dict[str, set[str]] = defaultdict(set)
    for table in model.tables.values():
        if table.kind != "association" and table.name != "Dataset_Version":
            continue
        rid_keys = [fk for fk in table.foreign_keys if fk.referenced_column == "RID"]
        if not rid_keys:
            continue
        first = rid_keys[0]
        anchors = sorted(in_scope.get(first.table, {}))
        if not anchors:
            continue
        t = session.table(table.name)
        candidates: set[str] = set()
        for start in range(0, len(anchors), 900):
            chunk = anchors[start : start + 900]
            query = sa.select(t.c.RID).where(t.c[first.column].in_(chunk))
            candidates.update(session.conn.execute(query).scalars())
        for row in history.valid_at(session, table, snapshot):
            if row.get(first.column) in in_scope.get(first.table, {}):
                candidates.add(row["RID"])
        found = rows.fetch_as_of(session, table, candidates - set(in_scope[table.name]), snapshot)
        for rid, row in found.items():
            if table.name == "Dataset_Version":
                pending[table.name].add(rid)  # every version up to this one, and its execution
            elif all(
                row.get(fk.column) is None or row[fk.column] in in_scope.get(fk.table, {})
                for fk in rid_keys
            ):
                pending[table.name].add(rid)
    return pending


def _terms_as_of(
    session: Session, model: Model, vocabulary: str, wanted: set[str], snapshot: int
) -> dict[str, dict[str, Any]]:
    t = session.table(vocabulary)
    current = sa.select(t.c.RID).where(t.c.Name.in_(sorted(wanted)))
    rids = set(session.conn.execute(current).scalars())
    for row in history.valid_at(session, model.table(vocabulary), snapshot):
        if row.get("Name") in wanted:
            rids.add(row["RID"])
    found = rows.fetch_as_of(session, model.table(vocabulary), rids, snapshot)
    return {rid: row for rid, row in found.items() if row.get("Name") in wanted}
