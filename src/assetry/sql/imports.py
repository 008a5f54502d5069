"""Loading the rows of a bag into a catalog, in one transaction.

Rows keep their RIDs and system columns. A row whose RID exists already is skipped when
its content is the same and is a ``ConflictError`` (and nothing is imported) when it
differs. Vocabulary terms are matched by name, since references to terms hold names and
built-in vocabularies exist in every catalog under different RIDs.

Versions: a bag holds its datasets as of one snapshot, so of each dataset's versions in
the bag only the newest is imported, recorded at the import's snapshot (when that content
became readable here). Older versions in the bag are skipped: their members are not in the
bag, and recording them would make them read as the newer content. An imported version is
checked after loading: the dataset's members here must be exactly the bag's, else it is a
``ConflictError`` (this catalog already holds a newer version, or other members).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from assetry.errors import ConflictError
from assetry.records import versions
from assetry.sql import datasets, ddl, internal, policy, provenance, reads, rows
from assetry.sql.model import Model, TableModel
from assetry.sql.session import Session
from assetry.sql.vocab import resolve

# Columns whose value is this catalog's own, not the source's.
_LOCAL_COLUMNS = {"Dataset_Version": {"Snapshot"}}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a.replace(tzinfo=a.tzinfo or dt.UTC) == b.replace(tzinfo=b.tzinfo or dt.UTC)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return bool(a == b)


def _order(model: Model, names: list[str]) -> list[str]:
    """Tables ordered so referenced tables come first."""
    done: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in done or name in path or name not in names:
            return
        for fk in model.table(name).foreign_keys:
            visit(fk.table, (*path, name))
        done.append(name)

    for name in sorted(names):
        visit(name, ())
    return done


def import_rows(
    session: Session, model_doc: Mapping[str, Any], tables: Mapping[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Create what ``model_doc`` describes and this catalog lacks, then load ``tables``;
    return the number of new rows per table."""
    bag_model = Model.from_doc(dict(model_doc))
    # Every table the bag's model describes, also those without rows in the bag (a
    # referenced table, a vocabulary no member uses), so its tables can be created.
    ddl.apply_model(session, {"tables": [t.to_doc() for t in bag_model.tables.values()]})
    model = session.model
    conflicts: list[str] = []
    added: dict[str, int] = {}
    arriving = _arriving(session, tables)
    for name in _order(model, [t for t in tables if t in model.tables]):
        table = model.table(name)
        source = tables[name]
        if name == VERSIONS:
            source = _newest_versions(source)
        if table.kind == "vocabulary":
            new = _new_terms(session, table, source)
        else:
            new = _new_rows(session, table, source, conflicts)
        conflicts += _link_problems(table, new, arriving)
        if name == "Artifact":
            conflicts += _artifact_name_problems(session, new)
        if new and not conflicts:
            rows.insert(session, name, new, keep_system=True)
        added[name] = len(new)
        if name == VERSIONS and not conflicts:
            conflicts += _version_problems(session, tables, new)
    if conflicts:
        shown = "; ".join(conflicts[:10])
        more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        raise ConflictError(f"the bag conflicts with this catalog, nothing imported: {shown}{more}")
    total = sum(added.values())
    if total:
        # The rows keep their source's RCB/RCT/...; who imported them is recorded here.
        session.conn.execute(
            internal.imports.insert().values(
                snapshot=session.snapshot(), user_name=session.user, created=session.now, rows=total
            )
        )
    return added


VERSIONS = "Dataset_Version"


def _artifact_name_problems(session: Session, new: list[dict[str, Any]]) -> list[str]:
    """An artifact of the bag whose name this catalog already gives another artifact:
    its versions would take numbers the name already has."""
    if not new:
        return []
    t = session.table("Artifact")
    wanted = {row["Name"]: row["RID"] for row in new}
    query = sa.select(t.c.Name, t.c.RID).where(t.c.Name.in_(sorted(wanted)))
    return [
        f"artifact {name!r} of the bag ({wanted[name]}) is another artifact than this "
        f"catalog's {name!r} ({rid}): its version numbers would be taken twice"
        for name, rid in session.conn.execute(query).all()
    ]


def _arriving(session: Session, tables: Mapping[str, list[dict[str, Any]]]) -> dict[str, set[str]]:
    """What this import brings that this catalog lacks: executions and datasets (by RID),
    and datasets that get a new version."""
    out: dict[str, set[str]] = {}
    for name in (EXECUTION, datasets.DATASET):
        given = [str(r.get("RID", "")).upper() for r in tables.get(name, [])]
        present = rows.fetch_current(session, name, given) if name in session.model.tables else {}
        out[name] = {rid for rid in given if rid and rid not in present}
    versions_given = _newest_versions(tables.get(VERSIONS, []))
    present = rows.fetch_current(session, VERSIONS, [str(r.get("RID", "")) for r in versions_given])
    out[VERSIONS] = {
        str(r.get("Dataset", "")).upper()
        for r in versions_given
        if str(r.get("RID", "")).upper() not in present
    }
    return out


def _link_problems(
    table: TableModel, new: list[dict[str, Any]], arriving: Mapping[str, set[str]]
) -> list[str]:
    """Links that only their own operations write may come in a bag only with what they
    link: an execution link with its (new) execution, a membership with a new version of
    its dataset (or the dataset itself). Otherwise an import could give a run here
    outputs it never made, or change a dataset's members without a version."""
    if not new or policy.own_operations(table) is None:
        return []
    if table.name == EXECUTION_LINKS or provenance.asset_of_execution_link(table):
        key, allowed, what = EXECUTION, arriving[EXECUTION], "an execution this bag does not bring"
    elif table.name == datasets.NESTED or provenance.element_of_dataset_link(table):
        key = datasets.DATASET
        allowed = arriving[datasets.DATASET] | arriving[VERSIONS]
        what = "a dataset this bag brings no new version of"
    else:
        return []  # system tables: new rows are the bag's own records
    wrong = [row for row in new if str(row.get(key, "")).upper() not in allowed]
    return [
        f"{table.name} {row.get('RID')} links {what} ({row.get(key)}): links are written "
        "by their own operations, not imported on their own"
        for row in wrong[:10]
    ]


EXECUTION = "Execution"
EXECUTION_LINKS = "Dataset_Execution"


def _newest_versions(source: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest version row of each dataset among ``source``."""
    newest: dict[Any, dict[str, Any]] = {}
    for row in source:
        held = newest.get(row.get("Dataset"))
        if held is None or versions.key(row["Version"]) > versions.key(held["Version"]):
            newest[row.get("Dataset")] = row
    return list(newest.values())


def _version_problems(
    session: Session, tables: Mapping[str, list[dict[str, Any]]], new: list[dict[str, Any]]
) -> list[str]:
    """Why the dataset versions in ``new`` (just loaded) would not read as the bag has
    them: a newer version here, or members here that the bag does not have."""
    problems = []
    memberships = [
        (element, link, element) for element, link in datasets.element_types(session).items()
    ]
    memberships.append((datasets.DATASET, datasets.NESTED, "Nested_Dataset"))
    for row in new:
        ds, version = row["Dataset"], row["Version"]
        newer = [
            r["Version"] for r in datasets.version_rows(session, ds)
            if versions.key(r["Version"]) > versions.key(version)
        ]  # fmt: skip
        if newer:
            problems.append(
                f"dataset {ds}: this catalog holds version {newer[-1]}, newer than the bag's "
                f"{version}; an older version cannot be imported after a newer one"
            )
            continue
        expected: dict[str, set[str]] = {}
        for element, link, column in memberships:
            found = {r[column] for r in tables.get(link, []) if r.get("Dataset") == ds}
            if found:
                expected[element] = found
        here = {t: set(m) for t, m in datasets.member_rids(session, [ds], None).items()}
        if here != expected:
            extra = sorted(rid for t, m in here.items() for rid in m - expected.get(t, set()))
            problems.append(
                f"dataset {ds}: members here differ from version {version} in the bag "
                f"(not in the bag: {', '.join(extra[:5]) or 'none'})"
            )
    return problems


def _new_terms(
    session: Session, table: TableModel, source: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    existing = resolve.term_map(session, table.name)
    present = rows.fetch_current(session, table.name, [r["RID"] for r in source])
    new = []
    for row in source:
        if row["Name"].casefold() in existing or row["RID"] in present:
            continue
        new.append(_insertable(table, row))
    return new


def _new_rows(
    session: Session, table: TableModel, source: list[dict[str, Any]], conflicts: list[str]
) -> list[dict[str, Any]]:
    present = rows.fetch_current(session, table.name, [r["RID"] for r in source])
    elsewhere = reads.tables_of(session, [r["RID"] for r in source if r["RID"] not in present])
    local = _LOCAL_COLUMNS.get(table.name, set())
    new = []
    for row in source:
        rid = row["RID"]
        if rid in elsewhere:
            conflicts.append(
                f"RID {rid} is a row of {elsewhere[rid]!r} here, of {table.name!r} in the bag"
            )
            continue
        mine = present.get(rid)
        if mine is None:
            new.append(_insertable(table, row))
            continue
        differ = [
            c for c in table.column_names
            if c in row and c not in local and c not in ("RMT", "RMB")
            and not _same(mine.get(c), row[c])
        ]  # fmt: skip
        if differ:
            conflicts.append(f"{table.name} {rid} differs in {', '.join(differ)}")
    for column in local:
        for row in new:
            row[column] = session.snapshot()
    return new


def _insertable(table: TableModel, row: Mapping[str, Any]) -> dict[str, Any]:
    return {c: row.get(c) for c in table.column_names if c in row}
