"""The scope of a dataset version's bag, read as of the version's snapshot.

In scope (API §8): the dataset and its nested datasets, their members; the rows that
reference a member through a foreign key, transitively, as DerivaML's bags follow keys
into their members (a dataset of Subjects carries their Images), through user tables only
(``_Inbound``); every row those reference through foreign keys (transitively); the values
of every feature of a row in scope (``_FeatureValues``), which bring their executions and
assets; the vocabulary terms used; the executions that generated member assets and their
workflows; and every link row whose ends are all in scope (asset types, execution links,
memberships, dataset types and versions). A member artifact version brings its files
(``PULLS``) and its tags, partitions and aliases (``SATELLITES``); its name and producer
come through its foreign keys.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from assetry.records.bag import AssetFile, BagContent, ReferenceFile, TableRows
from assetry.sql import datasets, history, internal, provenance, reads, valuelists
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
    members = datasets.member_rids(session, nested, snapshot)
    for table, rids in members.items():
        pending[table].update(rids)
    starts = {t: set(r) for t, r in members.items() if t != datasets.DATASET and t in model.tables}
    for table, reached in _Inbound(session, model, snapshot).closure(starts).items():
        pending[table].update(reached)
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
    values = _FeatureValues(session, model, snapshot)
    while True:
        while any(pending.values()):
            batch, pending = pending, defaultdict(set)
            for table, wanted in batch.items():
                new = set(wanted).difference(in_scope[table])
                if new and table in model.tables:
                    absorb(table, reads.fetch_as_of(session, model.table(table), new, snapshot))
        added = links.new_rows(in_scope)
        pulled = links.take_pulls(in_scope)
        valued = values.new_rows(in_scope)
        if not added and not pulled and not valued:
            break
        for table, found in valued.items():
            absorb(table, found)
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
        query = sa.select(e.c.from_rid).where(
            e.c.to_rid.in_(valuelists.json_values(sorted(pending[table]))),
            e.c.relation == "generated",
            live_edges(snapshot),
        )
        out.update(rid for (rid,) in reads.plain_rows(session, query))
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
            if provenance.is_feature_table(table):
                continue  # feature values follow their targets (``_FeatureValues``)
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
        return _rows_where(self.session, table, column, values, self.snapshot, self.history)


def _rows_where(
    session: Session,
    table: TableModel,
    column: str,
    values: set[str],
    snapshot: int,
    cache: dict[str, list[dict[str, Any]]],
) -> dict[str, dict[str, Any]]:
    """Rows of ``table`` with ``column`` in ``values``, as of ``snapshot`` (a table dropped
    since, such as a deleted feature's, from its history alone); ``cache`` keeps each
    table's history images valid at the snapshot."""
    found: dict[str, dict[str, Any]] = {}
    if table.name in session.model.tables:
        found = reads.fetch_unchanged(session, table, column, values, snapshot)
    images = cache.get(table.name)
    if images is None:
        images = cache[table.name] = history.valid_at(session, table, snapshot)
    names = table.column_names
    for image in images:
        if image.get(column) in values:
            found[image["RID"]] = {name: image.get(name) for name in names}
    return found


# Kinds of tables whose rows are followed into a member: user tables (never system,
# association or vocabulary tables: executions, memberships and terms are not content).
INBOUND_KINDS = ("table", "asset")


class _Inbound:
    """DerivaML's rule for what a dataset carries beyond its members: the rows of user
    tables that reference a member through a foreign key, and those that reference such
    a row, transitively (as of the snapshot)."""

    def __init__(self, session: Session, model: Model, snapshot: int) -> None:
        self.session = session
        self.snapshot = snapshot
        self.sources: dict[str, list[tuple[TableModel, str]]] = defaultdict(list)
        for table in model.tables.values():
            if table.kind not in INBOUND_KINDS or table.schema == model.ml_schema:
                continue
            for fk in table.foreign_keys:
                if fk.referenced_column == "RID" and fk.table in model.tables:
                    self.sources[fk.table].append((table, fk.column))
        self.history: dict[str, list[dict[str, Any]]] = {}

    def closure(self, starts: dict[str, set[str]]) -> dict[str, set[str]]:
        """The RIDs reached from ``starts`` (members by table), by table."""
        seen: dict[str, set[str]] = defaultdict(set)
        frontier = {t: set(r) for t, r in starts.items() if r}
        for table, rids in frontier.items():
            seen[table] |= rids
        while frontier:
            step: dict[str, set[str]] = defaultdict(set)
            for target, rids in frontier.items():
                for source, column in self.sources.get(target, []):
                    found = _rows_where(
                        self.session, source, column, rids, self.snapshot, self.history
                    )
                    new = set(found) - seen[source.name]
                    if new:
                        seen[source.name] |= new
                        step[source.name] |= new
            frontier = dict(step)
        return dict(seen)


class _FeatureValues:
    """The values of every feature (as of the snapshot) whose target row is in scope."""

    def __init__(self, session: Session, model: Model, snapshot: int) -> None:
        self.session = session
        self.snapshot = snapshot
        self.tables: list[tuple[TableModel, str]] = []
        from assetry.sql.features import feature_of_table

        for table in model.tables.values():
            feature = feature_of_table(model, table) if table.kind == "association" else None
            if feature is not None:
                self.tables.append((table, feature.target_table.name))
        self.anchors: dict[str, set[str]] = defaultdict(set)
        self.history: dict[str, list[dict[str, Any]]] = {}

    def new_rows(
        self, in_scope: dict[str, dict[str, dict[str, Any]]]
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """Values of targets that entered the scope since the last call, by table."""
        added: dict[str, dict[str, dict[str, Any]]] = {}
        for table, target in self.tables:
            new = set(in_scope.get(target, ())).difference(self.anchors[table.name])
            if not new:
                continue
            self.anchors[table.name] |= new
            found = _rows_where(self.session, table, target, new, self.snapshot, self.history)
            have = in_scope.get(table.name, {})
            found = {rid: row for rid, row in found.items() if rid not in have}
            if found:
                added[table.name] = found
        return added


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
