"""Assets and executions in the database: recording outputs, linking inputs, statuses,
and the listings of §5 of the API.

Every function runs inside the caller's session, so each call of the backend is one
transaction: an uploaded batch's asset rows, their types, their Output links, their
provenance edges and their upload-ledger entries commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from assetry.errors import RIDNotFound, StateError, TermNotFound, ValidationError
from assetry.records.outputs import OutputEntry
from assetry.records.status import FINISHED, check_transition
from assetry.sql import history, internal, policy, rids, rows
from assetry.sql.model import TableModel
from assetry.sql.session import Session
from assetry.sql.vocab import resolve
from assetry.sql.vocab.builtin import BUILTIN_TERMS

ROLES = ("Input", "Output")
_RELATION_ROLE = {"used": "Input", "generated": "Output"}


def asset_table(session: Session, name: str) -> TableModel:
    """The model of asset table ``name`` (``ValidationError`` for another kind)."""
    table = session.model.table(name)
    if table.kind != "asset":
        raise ValidationError(f"table {name!r} is not an asset table (its kind: {table.kind})")
    return table


def input_table(session: Session, name: str) -> None:
    """``ValidationError`` unless rows of ``name`` can be an execution's inputs through
    ``<name>_Execution``: an asset table, or ``Artifact_Version`` (a step's argument)."""
    if name != "Artifact_Version":
        asset_table(session, name)


def check_role(role: str | None) -> str | None:
    if role is None:
        return None
    for known in ROLES:
        if isinstance(role, str) and role.casefold() == known.casefold():
            return known
    raise ValidationError(f"unknown asset role {role!r}; roles: Input, Output")


def asset_dicts(session: Session, table: str, wanted: Sequence[str]) -> list[dict[str, Any]]:
    """Asset rows of ``table`` (in the order of ``wanted``) with their ``Asset_Type`` names."""
    model = asset_table(session, table)
    t = session.table(table)
    names = list(model.column_names)
    select_row = sa.select(*(t.c[c] for c in names))
    link = session.table(f"{table}_Asset_Type")
    select_types = sa.select(link.c[table], link.c.Asset_Type).order_by(link.c.Asset_Type)
    found: dict[str, dict[str, Any]] = {}
    types: dict[str, list[str]] = defaultdict(list)
    rid_at = names.index("RID")
    ordered = sorted(set(wanted))
    # Rows as tuples, zipped with the column names: an upload returns thousands.
    for start in range(0, len(ordered), 900):
        chunk = ordered[start : start + 900]
        for row in session.conn.execute(select_row.where(t.c.RID.in_(chunk))).all():
            found[row[rid_at]] = dict(zip(names, row, strict=True))
        query = select_types.where(link.c[table].in_(chunk))
        for rid, term in session.conn.execute(query).all():
            types[rid].append(term)
    out = []
    for rid in wanted:
        image = found.get(rid)
        if image is not None:
            asset = dict(image)
            asset["Asset_Type"] = types.get(rid, [])
            out.append(asset)
    return out


def find_by_content(session: Session, table: str, sha256: str, filename: str) -> str | None:
    """The RID of an asset of ``table`` with these bytes and this file name, if any."""
    t = session.table(table)
    return session.conn.execute(
        sa.select(t.c.RID)
        .where(t.c.SHA256 == sha256, t.c.Filename == filename)
        .order_by(t.c.RID)
        .limit(1)
    ).scalar()


def recorded_outputs(
    session: Session, execution: str, among: Sequence[str] | None = None
) -> dict[str, tuple[str, str]]:
    """staged name -> (table, asset RID) for every output already recorded (of the staged
    names ``among``, when given)."""
    u = internal.uploads
    query = sa.select(u.c.staged_name, u.c.table_name, u.c.asset_rid).where(
        u.c.execution == execution
    )
    if among is None:
        return {name: (table, rid) for name, table, rid in session.conn.execute(query).all()}
    found: dict[str, tuple[str, str]] = {}
    names = sorted(set(among))
    for start in range(0, len(names), 900):
        chunk = query.where(u.c.staged_name.in_(names[start : start + 900]))
        found.update({name: (table, rid) for name, table, rid in session.conn.execute(chunk)})
    return found


def record_outputs(
    session: Session, execution: str, entries: Sequence[OutputEntry], dedupe: bool = False
) -> dict[str, tuple[str, str]]:
    """Record stored files as assets made by ``execution``; return staged name -> (table,
    RID). Entries already recorded for this execution are skipped, so a batch can be sent
    again after a crash. With ``dedupe`` an asset of the same table with the same bytes
    and file name is reused instead of adding a row (one-call ingest)."""
    # Only this batch's names: reading the whole ledger for every batch would make an
    # upload quadratic in its number of files.
    done = recorded_outputs(session, execution, [entry.staged_name for entry in entries])
    result: dict[str, tuple[str, str]] = {}
    by_table: dict[str, list[OutputEntry]] = defaultdict(list)
    for entry in entries:
        if entry.staged_name in done:
            result[entry.staged_name] = done[entry.staged_name]
        else:
            by_table[entry.table].append(entry)
    if by_table:
        upload = _execution(session, execution)["Upload_Status"]
        if upload != "Pending":
            raise StateError(
                f"execution {execution}: its upload is {upload}; outputs are recorded only "
                "while it is Pending (upload_execution_outputs sets it)"
            )
    ledger: list[dict[str, Any]] = []
    for table, group in by_table.items():
        asset_table(session, table)
        fresh: list[OutputEntry] = []
        for entry in group:
            existing = (
                find_by_content(session, table, entry.sha256, entry.filename) if dedupe else None
            )
            if existing is not None:
                result[entry.staged_name] = (table, existing)
                ledger.append(_ledger_row(session, execution, entry, existing))
            else:
                fresh.append(entry)
        if not fresh:
            continue
        new_rids = rows.insert(session, table, [_asset_row(e) for e in fresh])
        rows.insert(
            session,
            f"{table}_Asset_Type",
            [
                {table: rid, "Asset_Type": term}
                for rid, entry in zip(new_rids, fresh, strict=True)
                for term in dict.fromkeys(entry.asset_types or [table])
            ],
        )
        rows.insert(
            session,
            f"{table}_Execution",
            [{table: rid, "Execution": execution, "Asset_Role": "Output"} for rid in new_rids],
        )
        for rid, entry in zip(new_rids, fresh, strict=True):
            result[entry.staged_name] = (table, rid)
            ledger.append(_ledger_row(session, execution, entry, rid))
    if ledger:
        session.conn.execute(internal.uploads.insert(), ledger)
    return result


def _asset_row(entry: OutputEntry) -> dict[str, Any]:
    return {
        **entry.columns,
        "URL": entry.url,
        "Filename": entry.filename,
        "Length": entry.length,
        "MD5": entry.md5,
        "SHA256": entry.sha256,
        "Description": entry.description,
    }


def _ledger_row(session: Session, execution: str, entry: OutputEntry, rid: str) -> dict[str, Any]:
    return {
        "execution": execution,
        "staged_name": entry.staged_name,
        "table_name": entry.table,
        "asset_rid": rid,
        "sha256": entry.sha256,
        "created": session.now,
    }


def link_assets(
    session: Session, execution: str, table: str, asset_rids: Iterable[str], role: str
) -> None:
    """Link assets to an execution with ``role`` (links that exist already are kept).

    Over the generic route only inputs, and only of a run that has not finished: what a
    run made is recorded by its upload (``record_outputs``), with the bytes it stored."""
    if role != "Input":
        raise ValidationError(
            f"link_assets links an execution's inputs, not {role!r}: outputs are recorded "
            "by upload_execution_outputs"
        )
    _unfinished(session, execution, "link inputs")
    input_table(session, table)
    link = session.table(f"{table}_Execution")
    wanted = sorted({rids.normalize(r) for r in asset_rids})
    present = {
        rid
        for (rid,) in session.conn.execute(
            sa.select(link.c[table]).where(
                link.c.Execution == execution, link.c.Asset_Role == role, link.c[table].in_(wanted)
            )
        )
    }
    new = [{table: rid, "Execution": execution, "Asset_Role": role} for rid in wanted
           if rid not in present]  # fmt: skip
    if new:
        rows.insert(session, f"{table}_Execution", new)


def guard_update(session: Session, table: str, changes: object) -> None:
    """Refuse the changes a plain row update must not make (``policy.fixed_columns``):
    the file columns of an asset row (the row describes one immutable file), the columns
    of a workflow, execution or dataset that their own operations write (an execution's
    statuses move through the status machine). Giving a column the value it has is
    allowed."""
    guarded, why = policy.fixed_columns(session.model.table(table))
    if not guarded:
        return
    if not isinstance(changes, Sequence) or isinstance(changes, str):
        return  # rows.update reports the shape
    touched = [
        row for row in changes
        if isinstance(row, Mapping) and isinstance(row.get("RID"), str)
        and any(column in row for column in guarded)
    ]  # fmt: skip
    if not touched:
        return
    current = rows.fetch_current(session, table, [rids.normalize(r["RID"]) for r in touched])
    problems = []
    for row in touched:
        old = current.get(rids.normalize(row["RID"]))
        if old is None:
            continue  # rows.update reports the unknown RID
        for column in guarded:
            if column in row and row[column] != old[column]:
                problems.append(f"{table} {row['RID']}: column {column!r} cannot change ({why})")
    rows.raise_problems(problems)


def set_status(
    session: Session, execution: str, column: str, new: str, detail: str | None
) -> dict[str, Any]:
    """Move ``column`` (Status or Upload_Status) to ``new`` if the machine allows it."""
    statements = _status_statements(session)
    found = session.conn.execute(statements.row, {"rid": execution}).mappings().first()
    if found is None:
        raise RIDNotFound(execution, f"no execution has RID {execution!r}")
    row = dict(found)
    vocabulary = "Execution_Status" if column == "Status" else "Upload_Status"
    # Callers nearly always pass the canonical name: one indexed look-up finds it (names
    # are unique ignoring case, so an exact match is the canonical spelling); anything
    # else (a synonym, another case) is resolved against the whole vocabulary.
    # Built-in terms cannot be deleted or renamed: their exact names need no look-up.
    canonical = new if isinstance(new, str) and new in BUILTIN_TERMS[vocabulary] else None
    if canonical is None:
        canonical = session.conn.execute(statements.term[vocabulary], {"name": new}).scalar()
    if canonical is None:
        canonical = resolve.term_map(session, vocabulary).get(str(new).casefold())
    if canonical is None:
        raise TermNotFound(vocabulary, str(new))
    new = canonical
    check_transition(column, row[column], new, execution)
    change: dict[str, Any] = {"RID": execution, column: new}
    if column == "Status":
        change["Status_Detail"] = detail
        if new == "Running" and row["Start_Time"] is None:
            change["Start_Time"] = session.now
        if new in FINISHED:
            change["Stop_Time"] = session.now
    if detail is not None and not isinstance(detail, str):
        rows.update(session, "Execution", [change])  # reports the bad value as rows do
        return {**row, **change}
    # What rows.update does for this change, without its generic checks: the values are
    # known good (a canonical term, text, timestamps), no foreign key but the checked
    # term changes, and a status change never moves a provenance edge (only Workflow
    # does). The previous image goes to history and the row gets the session's stamp.
    history.record(session, "Execution", [row], "update")
    values = {**change, **session.stamp()}
    update = statements.update(tuple(sorted(values)))
    session.conn.execute(update, {f"b_{k}": v for k, v in values.items()})
    return {**row, **change}


@dataclass
class _StatusStatements:
    """Statements of ``set_status`` and the staging checks, built once per model
    version's table objects: these run once per status change or staged file, and
    building and keying a statement costs more than SQLite takes to run it."""

    table: sa.Table
    row: sa.Select[Any]
    term: dict[str, sa.Select[Any]]
    asset_types: sa.Select[Any]
    updates: dict[tuple[str, ...], sa.Update] = field(default_factory=dict)

    def update(self, columns: tuple[str, ...]) -> sa.Update:
        statement = self.updates.get(columns)
        if statement is None:
            t = self.table
            statement = self.updates[columns] = (
                t.update()
                .where(t.c.RID == sa.bindparam("b_RID"))
                .values({c: sa.bindparam(f"b_{c}") for c in columns if c != "RID"})
            )
        return statement


_STATUS_STATEMENTS: dict[int, tuple[sa.MetaData, _StatusStatements]] = {}


_ROW_STATEMENTS: dict[tuple[int, str], tuple[sa.MetaData, sa.Select[Any]]] = {}


def current_row(session: Session, table: str, rid: str) -> dict[str, Any] | None:
    """The current row ``rid`` of ``table`` (with its snapshot column), or None; by a
    statement built once per table and model version (this runs on every staged file
    and every status read)."""
    key = (id(session.metadata), table)
    cached = _ROW_STATEMENTS.get(key)
    if cached is None or cached[0] is not session.metadata:
        t = session.table(table)
        if len(_ROW_STATEMENTS) > 256:  # old model versions
            _ROW_STATEMENTS.clear()
        cached = _ROW_STATEMENTS[key] = (
            session.metadata,
            sa.select(t).where(t.c.RID == sa.bindparam("rid")),
        )
    session.model.table(table)  # TableNotFound, as for any other read
    found = session.conn.execute(cached[1], {"rid": rid}).mappings().first()
    return None if found is None else dict(found)


def _status_statements(session: Session) -> _StatusStatements:
    cached = _STATUS_STATEMENTS.get(id(session.metadata))
    if cached is not None and cached[0] is session.metadata:
        return cached[1]
    t = session.table("Execution")
    term = {}
    for vocabulary in ("Execution_Status", "Upload_Status"):
        v = session.table(vocabulary)
        term[vocabulary] = sa.select(v.c.Name).where(v.c.Name == sa.bindparam("name"))
    asset_types = session.table("Asset_Type")
    statements = _StatusStatements(
        t,
        sa.select(t).where(t.c.RID == sa.bindparam("rid")),
        term,
        sa.select(asset_types.c.Name).where(
            asset_types.c.Name.in_(sa.bindparam("names", expanding=True))
        ),
    )
    if len(_STATUS_STATEMENTS) > 16:  # old model versions
        _STATUS_STATEMENTS.clear()
    _STATUS_STATEMENTS[id(session.metadata)] = (session.metadata, statements)
    return statements


def execution_assets(session: Session, execution: str, role: str | None) -> list[dict[str, Any]]:
    """Assets an execution used or made, each with ``Table`` and ``Asset_Role``."""
    e = internal.edges
    relations = [r for r, name in _RELATION_ROLE.items() if role in (None, name)]
    query = (
        sa.select(e.c.to_rid, e.c.to_table, e.c.relation)
        .where(e.c.from_rid == execution, e.c.relation.in_(relations), e.c.snap_to.is_(None))
        .order_by(e.c.to_table, e.c.to_rid)
    )
    grouped: dict[tuple[str, str], list[str]] = defaultdict(list)
    for rid, table, relation in session.conn.execute(query):
        model = session.model.tables.get(table)
        if model is not None and model.kind == "asset":
            grouped[(table, _RELATION_ROLE[relation])].append(rid)
    out = []
    for (table, asset_role), group in grouped.items():
        for asset in asset_dicts(session, table, group):
            out.append({**asset, "Table": table, "Asset_Role": asset_role})
    return out


def asset_executions(session: Session, asset: str, role: str | None) -> list[dict[str, Any]]:
    """Executions that used or made an asset, each with ``Asset_Role``."""
    e = internal.edges
    relations = [r for r, name in _RELATION_ROLE.items() if role in (None, name)]
    query = (
        sa.select(e.c.from_rid, e.c.relation)
        .where(e.c.to_rid == asset, e.c.relation.in_(relations), e.c.snap_to.is_(None))
        .order_by(e.c.from_rid)
    )
    links = list(session.conn.execute(query))
    found = rows.fetch_current(session, "Execution", [rid for rid, _ in links])
    columns = session.model.table("Execution").column_names
    return [
        {**{c: found[rid][c] for c in columns}, "Asset_Role": _RELATION_ROLE[relation]}
        for rid, relation in links
        if rid in found
    ]


def check_columns(session: Session, table: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check an asset's own column values now (staging time), without writing; return
    them canonical."""
    model = asset_table(session, table)
    reserved = {"URL", "Filename", "Length", "MD5", "SHA256", "Description"}
    problems = [f"column {c!r} is set by the upload, not by the caller" for c in values
                if c in reserved]  # fmt: skip
    if problems:
        raise ValidationError(problems)
    return rows.check_values(session, model, dict(values), skip=reserved)


def check_asset_types(session: Session, table: str, asset_types: Sequence[str]) -> list[str]:
    """The canonical names of ``asset_types`` (synonyms accepted) for assets of ``table``."""
    asset_table(session, table)
    if all(isinstance(name, str) for name in asset_types):
        # Usually canonical names already (the table's own term by default): found by
        # the unique Name index, without reading the vocabulary, which grows with every
        # asset table. Names are unique ignoring case, so an exact match is canonical.
        wanted = list(dict.fromkeys(asset_types))
        query = _status_statements(session).asset_types
        if set(session.conn.execute(query, {"names": wanted}).scalars()) == set(wanted):
            return wanted
    return resolve.canonical_terms(session, "Asset_Type", asset_types)


def ensure_asset(session: Session, entry: OutputEntry) -> str:
    """The RID of an asset of ``entry.table`` with these bytes and file name, adding one
    (with its types, linked to no execution) when there is none."""
    existing = find_by_content(session, entry.table, entry.sha256, entry.filename)
    if existing is not None:
        return existing
    [rid] = rows.insert(session, entry.table, [_asset_row(entry)])
    rows.insert(
        session,
        f"{entry.table}_Asset_Type",
        [
            {entry.table: rid, "Asset_Type": t}
            for t in dict.fromkeys(entry.asset_types or [entry.table])
        ],
    )
    return rid


WORKFLOW_IDENTITY = ("Name", "URL", "Checksum", "Workflow_Type")
WORKFLOW_VALUES = {*WORKFLOW_IDENTITY, "Description", "Version"}
EXECUTION_VALUES = {"Workflow", "Description", "Parameters"}


def create_workflow(session: Session, values: Mapping[str, Any]) -> str:
    """The workflow with the identity in ``values``, recorded when there is none."""
    if not isinstance(values, Mapping):
        raise ValidationError("workflow values must be a dict (column name -> value)")
    policy.refuse_values(values, WORKFLOW_VALUES, "create_workflow")
    if not isinstance(values.get("Name"), str):
        raise ValidationError("create_workflow needs a Name (text)")
    table = session.model.table("Workflow")
    canonical = rows.check_values(session, table, values)
    t = session.table("Workflow")
    same = sa.select(t.c.RID).where(
        *(
            t.c[c].is_(None) if canonical.get(c) is None else t.c[c] == canonical[c]
            for c in WORKFLOW_IDENTITY
        )
    )
    found = session.conn.execute(same.order_by(t.c.RID).limit(1)).scalar()
    if found is not None:
        return str(found)
    [rid] = rows.insert(session, "Workflow", [canonical])
    return rid


def create_execution(
    session: Session,
    values: Mapping[str, Any],
    inputs: Mapping[str, Sequence[str]],
    datasets: Sequence[tuple[str, str]] = (),
) -> str:
    """Insert an Execution row and link its input assets and (dataset, version) inputs,
    in one transaction. It starts Created / Not_Started: statuses move only through
    ``set_status``."""
    if not isinstance(values, Mapping):
        raise ValidationError("execution values must be a dict (column name -> value)")
    policy.refuse_values(values, EXECUTION_VALUES, "create_execution")
    [rid] = rows.insert(
        session, "Execution", [{"Status": "Created", "Upload_Status": "Not_Started", **values}]
    )
    for table, asset_rids in inputs.items():
        # A new execution has no links yet: nothing to look up before inserting them.
        input_table(session, table)
        wanted = sorted({rids.normalize(r) for r in asset_rids})
        if wanted:
            rows.insert(
                session,
                f"{table}_Execution",
                [{table: asset, "Execution": rid, "Asset_Role": "Input"} for asset in wanted],
            )
    link_datasets(session, rid, datasets)
    return rid


def link_datasets(session: Session, execution: str, datasets: Sequence[tuple[str, str]]) -> None:
    """Record that ``execution`` (not finished) used these (dataset, version) pairs (once
    per dataset); each version must exist."""
    if not datasets:
        return
    from assetry.sql import datasets as dataset_rows

    _unfinished(session, execution, "record the datasets it used")
    for ds, version in datasets:
        dataset_rows.resolve_version(session, dataset_rows.dataset_row(session, ds)["RID"], version)
    link = session.table("Dataset_Execution")
    present = set(
        session.conn.execute(
            sa.select(link.c.Dataset).where(link.c.Execution == execution)
        ).scalars()
    )
    new = [
        {"Dataset": ds, "Execution": execution, "Version": version}
        for ds, version in dict(datasets).items()
        if ds not in present
    ]
    if new:
        rows.insert(session, "Dataset_Execution", new)


def _execution(session: Session, execution: str) -> dict[str, Any]:
    row = current_row(session, "Execution", rids.normalize(execution))
    if row is None:
        raise RIDNotFound(execution, f"no execution has RID {execution!r}")
    return row


def _unfinished(session: Session, execution: str, what: str) -> None:
    """``StateError`` unless ``execution`` is Created or Running."""
    status = _execution(session, execution)["Status"]
    if status not in ("Created", "Running"):
        raise StateError(f"execution {execution} is {status}: it can {what} only while it runs")


def stored_objects(session: Session) -> list[tuple[str, str, str, str, int]]:
    """(table, RID, SHA256, MD5, Length) of every current asset row."""
    out: list[tuple[str, str, str, str, int]] = []
    for model in session.model.tables.values():
        if model.kind != "asset":
            continue
        t = session.table(model.name)
        query = sa.select(t.c.RID, t.c.SHA256, t.c.MD5, t.c.Length).order_by(t.c.RID)
        out += [(model.name, *row) for row in session.conn.execute(query)]
    return out


def referenced_keys(session: Session) -> set[str]:
    """Object keys referenced by any current or historical asset row, or by an upload
    ledger entry: what garbage collection must keep."""
    import json

    keys = {sha for _, _, sha, _, _ in stored_objects(session)}
    assets = [m.name for m in session.model.tables.values() if m.kind == "asset"]
    h = internal.history
    query = sa.select(h.c.row).where(h.c.table_name.in_(assets))
    for (text,) in session.conn.execute(query):
        sha = json.loads(text).get("SHA256")
        if isinstance(sha, str):
            keys.add(sha)
    keys.update(session.conn.execute(sa.select(internal.uploads.c.sha256)).scalars())
    return keys
