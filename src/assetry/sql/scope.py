"""The scope of a dataset version's bag, read as of the version's snapshot.

In scope: the dataset and its nested datasets, their members, every row those reference
through foreign keys (transitively), the vocabulary terms used, the executions that
generated member assets and their workflows, and every link row whose ends are all in
scope (asset types, execution links, memberships, dataset types and versions). A member
artifact version brings its files (``PULLS``) and its tags, partitions and aliases
(``SATELLITES``); its name and producer come through its foreign keys.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from assetry.records.bag import AssetFile, BagContent, ReferenceFile, TableRows
from assetry.sql import datasets, history, internal, reads
from assetry.sql.lineage import live_edges
from assetry.sql.model import ForeignKeyModel, Model, TableModel
from assetry.sql.session import Session

# Rows that hang off an artifact version: in scope with it (they are not associations).
SATELLITES = ("Artifact_Tag", "Artifact_Partition", "Artifact_Alias")
# Link tables whose far end enters the scope with the near one: a version's files.
PULLS = {"Artifact_Version_File": "Artifact_File"}


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

    def absorb(table: str, found: dict[str, dict[str, Any]]) -> None:
        in_scope[table].update(found)
        for target, keys in _referenced(model, table, found).items():
            if model.table(target).kind == "vocabulary" and _by_name(model, table, target):
                terms[target].update(keys)
            else:
                pending[target].update(keys)

    # Transitive closure over foreign keys (rows reference rows and terms), then over the
    # link rows whose ends are all in scope, until neither adds anything.
    links = _Links(session, model, snapshot)
    while True:
        while any(pending.values()):
            batch, pending = pending, defaultdict(set)
            for table, wanted in batch.items():
                new = set(wanted).difference(in_scope[table])
                if new and table in model.tables:
                    absorb(table, reads.fetch_as_of(session, model.table(table), new, snapshot))
        added = links.new_rows(in_scope)
        pulled = links.take_pulls(in_scope)
        if not added and not pulled:
            break
        for table, wanted in pulled.items():
            pending[table].update(wanted)
        for table, found in added.items():
            absorb(table, found)

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
    versions = content.tables.get("Artifact_Version")
    for row in versions.rows if versions is not None else []:
        content.references += [
            ReferenceFile(
                row["RID"],
                index,
                ref["uri"],
                ref.get("size_bytes"),
                ref.get("md5"),
                ref.get("sha256"),
                ref.get("description"),
            )
            for index, ref in enumerate(row.get("References") or [])
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


class _Links:
    """Association rows (and dataset versions) whose RID references are all in scope.

    A link table's rows are read (as of the snapshot) by its first RID reference, once per
    value of it that enters the scope; rows whose other ends are not in scope yet are kept
    and looked at again on the next call."""

    def __init__(self, session: Session, model: Model, snapshot: int) -> None:
        self.session = session
        self.snapshot = snapshot
        self.tables: list[tuple[TableModel, list[ForeignKeyModel]]] = []
        for table in model.tables.values():
            if table.kind != "association" and table.name not in ("Dataset_Version", *SATELLITES):
                continue
            rid_keys = [fk for fk in table.foreign_keys if fk.referenced_column == "RID"]
            if rid_keys:
                self.tables.append((table, rid_keys))
        self.anchors: dict[str, set[str]] = defaultdict(set)  # values read, by table
        self.waiting: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self.history: dict[str, list[dict[str, Any]]] = {}

    def new_rows(
        self, in_scope: dict[str, dict[str, dict[str, Any]]]
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """Link rows not in ``in_scope`` whose RID references are all in it, by table."""
        added: dict[str, dict[str, dict[str, Any]]] = {}
        for table, rid_keys in self.tables:
            first = rid_keys[0]
            new = set(in_scope.get(first.table, ())).difference(self.anchors[table.name])
            if new:
                self.anchors[table.name].update(new)
                self.waiting[table.name].update(self._read(table, first.column, new))
            waiting, have = self.waiting[table.name], in_scope.get(table.name, {})
            for rid in [rid for rid in waiting if rid in have]:
                del waiting[rid]  # in scope already
            found = dict(waiting)
            if table.name != "Dataset_Version":  # every version up to this one is in scope
                for fk in rid_keys:
                    ends, column = in_scope.get(fk.table, {}), fk.column
                    for rid in [
                        rid
                        for rid, row in found.items()
                        if row[column] is not None and row[column] not in ends
                    ]:
                        del found[rid]
            for rid in found:
                del waiting[rid]
            if found:
                added[table.name] = found
        return added

    def take_pulls(self, in_scope: dict[str, dict[str, dict[str, Any]]]) -> dict[str, set[str]]:
        """The far ends of waiting ``PULLS`` rows whose near end is in scope and far end
        is not yet: they join the scope (then the link rows follow)."""
        out: dict[str, set[str]] = defaultdict(set)
        for link, far in PULLS.items():
            have = in_scope.get(far, {})
            for row in self.waiting.get(link, {}).values():
                if row.get(far) is not None and row[far] not in have:
                    out[far].add(row[far])
        return dict(out)

    def _read(self, table: TableModel, column: str, values: set[str]) -> dict[str, dict[str, Any]]:
        """Rows of ``table`` with ``column`` in ``values``, as of the snapshot."""
        found = reads.fetch_unchanged(self.session, table, column, values, self.snapshot)
        images = self.history.get(table.name)
        if images is None:
            images = self.history[table.name] = history.valid_at(self.session, table, self.snapshot)
        names = table.column_names
        for image in images:
            if image.get(column) in values:
                found[image["RID"]] = {name: image.get(name) for name in names}
        return found


def _terms_as_of(
    session: Session, model: Model, vocabulary: str, wanted: set[str], snapshot: int
) -> dict[str, dict[str, Any]]:
    t = session.table(vocabulary)
    current = sa.select(t.c.RID).where(t.c.Name.in_(sorted(wanted)))
    rids = set(session.conn.execute(current).scalars())
    for row in history.valid_at(session, model.table(vocabulary), snapshot):
        if row.get("Name") in wanted:
            rids.add(row["RID"])
    found = reads.fetch_as_of(session, model.table(vocabulary), rids, snapshot)
    return {rid: row for rid, row in found.items() if row.get("Name") in wanted}
