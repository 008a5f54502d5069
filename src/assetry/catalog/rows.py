"""Rows: checked inserts, updates and deletes with history, and reads as of a snapshot.

Every check of one call runs before anything is written, and every problem found is
reported together in one ``ValidationError``.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetry.catalog import bulk, history, names, provenance, rids, types
from assetry.catalog.model import TableModel
from assetry.catalog.session import Session
from assetry.errors import ConflictError, RIDNotFound, ValidationError
from assetry.vocab import resolve

# Bound parameters per IN (...) list: well under SQLite's limit of 32766.
_CHUNK = 900
_MAX_REPORTED = 50


@dataclass(frozen=True)
class _ColumnPlan:
    name: str
    check: Callable[[Any], Any]
    nullok: bool
    default: Any
    vocabulary: str | None  # set for a column holding a term of this vocabulary
    target: str | None  # set for a column holding a RID of this table


def _plans(session: Session, table: TableModel) -> list[_ColumnPlan]:
    plans = []
    for col in table.columns:
        if col.system:
            continue
        fk = table.foreign_key(col.name)
        vocabulary = target = None
        if fk is not None:
            if fk.referenced_column == "Name":
                vocabulary = fk.table
            else:
                target = fk.table
        plans.append(
            _ColumnPlan(
                col.name,
                types.checker(col.builtin_type),
                col.nullok,
                col.default,
                vocabulary,
                target,
            )
        )
    return plans


def _raise_problems(problems: list[str]) -> None:
    if not problems:
        return
    if len(problems) > _MAX_REPORTED:
        shown = problems[:_MAX_REPORTED] + [f"... and {len(problems) - _MAX_REPORTED} more"]
        err = ValidationError(shown)
        err.problems = problems
        raise err
    raise ValidationError(problems)


def _check_row_shape(rows: object) -> list[Mapping[str, Any]]:
    if isinstance(rows, Mapping) or not isinstance(rows, Iterable) or isinstance(rows, str):
        raise ValidationError("rows must be a list of dicts (column name -> value)")
    out = list(rows)
    bad = [i for i, row in enumerate(out) if not isinstance(row, Mapping)]
    if bad:
        raise ValidationError([f"row {i} is not a dict" for i in bad])
    return out


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_rids(session: Session, table: str, wanted: Iterable[str]) -> set[str]:
    """The subset of ``wanted`` that are RIDs of rows in ``table``."""
    t = session.table(table)
    found: set[str] = set()
    ordered = sorted(set(wanted))
    for chunk in _chunks(ordered):
        found.update(session.conn.execute(sa.select(t.c.RID).where(t.c.RID.in_(chunk))).scalars())
    return found


def _place(where: int | str) -> str:
    return f"row {where}" if isinstance(where, int) else where


class _Checker:
    """Checks values of one table's columns, resolving terms and references in bulk."""

    def __init__(self, session: Session, table: TableModel) -> None:
        self.session = session
        self.table = table
        self.plans = {p.name: p for p in _plans(session, table)}
        self.problems: list[str] = []
        self._term_maps: dict[str, dict[str, str]] = {}
        self._refs: dict[str, list[tuple[str, str, str]]] = defaultdict(list)

    def value(self, where: int | str, plan: _ColumnPlan, value: Any) -> Any:
        """The value to store (``where`` is a row number or a label for messages)."""
        if value is None:
            if not plan.nullok:
                self.problems.append(f"{_place(where)}: column {plan.name!r} may not be null")
            return None
        try:
            value = plan.check(value)
        except ValueError as err:
            self.problems.append(f"{_place(where)}: column {plan.name!r}: {err}")
            return None
        if plan.vocabulary is not None:
            terms = self._term_maps.get(plan.vocabulary)
            if terms is None:
                terms = resolve.term_map(self.session, plan.vocabulary)
                self._term_maps[plan.vocabulary] = terms
            canonical = terms.get(value.casefold())
            if canonical is None:
                self.problems.append(
                    f"{_place(where)}: column {plan.name!r}: {value!r} is not a term of "
                    f"vocabulary {plan.vocabulary!r}"
                )
            return canonical
        if plan.target is not None:
            value = rids.normalize(value)
            self._refs[plan.target].append((value, _place(where), plan.name))
        return value

    def check_references(self) -> None:
        """Report every referenced RID that does not exist (one query per target)."""
        for target, uses in self._refs.items():
            found = existing_rids(self.session, target, (rid for rid, _, _ in uses))
            for rid, where, column in uses:
                if rid not in found:
                    self.problems.append(
                        f"{where}: column {column!r}: no row of {target!r} has RID {rid!r}"
                    )


def _unknown_columns(
    table: TableModel, row: Mapping[str, Any], where: str, allowed: set[str], system_ok: bool
) -> list[str]:
    problems = []
    for key in row:
        if key in allowed:
            continue
        if key in names.SYSTEM_COLUMNS and not system_ok:
            problems.append(f"{where}: column {key!r} is set by the catalog")
        elif not (system_ok and key in names.SYSTEM_COLUMNS):
            problems.append(f"{where}: table {table.name!r} has no column {key!r}")
    return problems


def insert(
    session: Session,
    table_name: str,
    rows: object,
    *,
    keep_system: bool = False,
) -> list[str]:
    """Check and insert ``rows`` into ``table_name``; return their RIDs in order.

    With ``keep_system`` the rows carry their own system columns (RID, RCT, ...), as rows
    imported from another catalog do.
    """
    table = session.model.table(table_name)
    row_list = _check_row_shape(rows)
    if not row_list:
        return []
    checker = _Checker(session, table)
    plans = list(checker.plans.values())
    allowed = set(checker.plans)
    params: list[dict[str, Any]] = []
    check = checker.value
    for i, row in enumerate(row_list):
        if not row.keys() <= allowed:
            checker.problems += _unknown_columns(table, row, f"row {i}", allowed, keep_system)
        out: dict[str, Any] = {}
        for plan in plans:
            value = row.get(plan.name)
            if value is None and plan.default is not None:
                value = plan.default
            out[plan.name] = check(i, plan, value)
        params.append(out)
    checker.check_references()
    if table.kind == "vocabulary":
        checker.problems += _new_term_problems(session, table, row_list)
    _raise_problems(checker.problems)

    stamp = session.stamp()
    if keep_system:
        new_rids = [rids.normalize(str(row["RID"])) for row in row_list]
        for out, row in zip(params, row_list, strict=True):
            out.update({c: row.get(c) for c in names.SYSTEM_COLUMNS})
            out["RID"] = rids.normalize(str(row["RID"]))
            out["_snapshot"] = stamp["_snapshot"]
    else:
        new_rids = session.new_rids(len(params))
        base = {"RCT": session.now, "RCB": session.user, **stamp}
        for out, rid in zip(params, new_rids, strict=True):
            out.update(base)
            out["RID"] = rid
    if table.kind == "vocabulary":
        prefix = session.settings["curie_prefix"]
        for out in params:
            out["ID"] = out.get("ID") or f"{prefix}:{out['RID']}"
            out["URI"] = out.get("URI") or f"urn:assetry:{prefix}:{out['RID']}"
    bulk.insert(
        session.conn,
        session.table(table_name),
        params,
        constants=() if keep_system else ("RCT", "RMT", "RCB", "RMB", names.SNAPSHOT_COLUMN),
    )
    if provenance.tracks(table):
        provenance.add(session, table, params)
    return new_rids


def check_values(
    session: Session, table: TableModel, values: Mapping[str, Any], skip: Iterable[str] = ()
) -> dict[str, Any]:
    """Check one row's user values as ``insert`` would, without writing; return them
    canonical (terms resolved, RIDs normalised). Columns in ``skip`` are filled later."""
    checker = _Checker(session, table)
    skipped = set(skip)
    checker.problems += _unknown_columns(
        table, values, "values", set(checker.plans) - skipped, False
    )
    out: dict[str, Any] = {}
    for plan in checker.plans.values():
        if plan.name in skipped:
            continue
        value = values.get(plan.name)
        if value is None and plan.default is not None:
            value = plan.default
        out[plan.name] = checker.value("values", plan, value)
    checker.check_references()
    _raise_problems(checker.problems)
    return {k: v for k, v in out.items() if k in values}


def _new_term_problems(
    session: Session, table: TableModel, row_list: list[Mapping[str, Any]]
) -> list[str]:
    problems: list[str] = []
    new_terms = []
    for i, row in enumerate(row_list):
        name_problems = resolve.term_text_problems(row.get("Name"), f"row {i}: term name")
        syn_problems = resolve.synonym_list_problems(row.get("Synonyms"), f"row {i}: Synonyms")
        problems += name_problems + syn_problems
        if not name_problems and not syn_problems:
            new_terms.append((row["Name"], list(row.get("Synonyms") or [])))
    existing = resolve.term_map(session, table.name)
    problems += [
        f"vocabulary {table.name!r}: {p}" for p in resolve.collision_problems(existing, new_terms)
    ]
    return problems


def fetch_current(
    session: Session, table_name: str, wanted: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Current rows (with the snapshot column) of ``table_name`` with RIDs in ``wanted``."""
    t = session.table(table_name)
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(wanted))):
        for row in session.conn.execute(sa.select(t).where(t.c.RID.in_(chunk))).mappings():
            found[row["RID"]] = dict(row)
    return found


def _normalized_rids(values: object, what: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError(f"{what} must be a list of RIDs")
    out, problems = [], []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{what}[{i}]: {value!r} is not a RID")
        else:
            out.append(rids.normalize(value))
    _raise_problems(problems)
    return out


def _missing(table_name: str, missing: Sequence[str]) -> RIDNotFound:
    listed = ", ".join(sorted(missing)[:10])
    more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
    return RIDNotFound(
        sorted(missing)[0], f"table {table_name!r} has no row with RID {listed}{more}"
    )


def update(session: Session, table_name: str, rows: object) -> list[str]:
    """Check and apply ``rows`` (each a RID plus the columns to change); keep old images."""
    table = session.model.table(table_name)
    row_list = _check_row_shape(rows)
    if not row_list:
        return []
    checker = _Checker(session, table)
    allowed = set(checker.plans) | {"RID"}
    changes: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, row in enumerate(row_list):
        where = f"row {i}"
        rid = row.get("RID")
        if not isinstance(rid, str) or not rid.strip():
            checker.problems.append(f"{where}: needs the RID of the row to change")
            continue
        rid = rids.normalize(rid)
        if rid in seen:
            checker.problems.append(f"{where}: RID {rid!r} appears more than once")
        seen.add(rid)
        checker.problems += _unknown_columns(table, row, where, allowed, False)
        change = {"RID": rid}
        for key, value in row.items():
            plan = checker.plans.get(key)
            if plan is not None:
                change[key] = checker.value(where, plan, value)
        changes.append(change)
    checker.check_references()
    _raise_problems(checker.problems)
    old = fetch_current(session, table_name, [c["RID"] for c in changes])
    missing = [c["RID"] for c in changes if c["RID"] not in old]
    if missing:
        raise _missing(table_name, missing)
    if table.kind == "vocabulary":
        _raise_problems(_term_change_problems(session, table, changes, old))

    history.record(session, table_name, (old[c["RID"]] for c in changes), "update")
    t = session.table(table_name)
    stamp = session.stamp()
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for change in changes:
        columns = tuple(sorted(k for k in change if k != "RID"))
        groups[columns].append({f"b_{k}": v for k, v in {**change, **stamp}.items()})
    for columns, params in groups.items():
        statement = (
            t.update()
            .where(t.c.RID == sa.bindparam("b_RID"))
            .values({c: sa.bindparam(f"b_{c}") for c in (*columns, *stamp)})
        )
        session.conn.execute(statement, params)
    if provenance.tracks(table):
        moved = [c["RID"] for c in changes if provenance.affected(table, c)]
        if moved:
            now = fetch_current(session, table_name, moved)
            provenance.replace(session, table, list(now.values()))
    return [c["RID"] for c in changes]


def _term_change_problems(
    session: Session,
    table: TableModel,
    changes: list[dict[str, Any]],
    old: dict[str, dict[str, Any]],
) -> list[str]:
    problems: list[str] = []
    existing = resolve.term_map(session, table.name)
    for change in changes:
        before = old[change["RID"]]
        name = change.get("Name", before["Name"])
        synonyms = change.get("Synonyms", before.get("Synonyms")) or []
        problems += resolve.term_text_problems(name, "term name")
        problems += resolve.synonym_list_problems(synonyms, "Synonyms")
        if not problems:
            problems += resolve.collision_problems(
                existing, [(name, list(synonyms))], ignore=before["Name"]
            )
    return [f"vocabulary {table.name!r}: {p}" for p in problems]


def delete(session: Session, table_name: str, rid_values: object) -> list[str]:
    """Delete rows by RID, refusing (``ConflictError``) while any is still referenced."""
    table = session.model.table(table_name)
    wanted = list(dict.fromkeys(_normalized_rids(rid_values, "rids")))
    if not wanted:
        return []
    old = fetch_current(session, table_name, wanted)
    missing = [rid for rid in wanted if rid not in old]
    if missing:
        raise _missing(table_name, missing)
    _refuse_if_referenced(session, table, old)
    history.record(session, table_name, old.values(), "delete")
    t = session.table(table_name)
    for chunk in _chunks(wanted):
        session.conn.execute(t.delete().where(t.c.RID.in_(chunk)))
    if provenance.tracks(table):
        provenance.remove(session, wanted)
    return wanted


def _refuse_if_referenced(
    session: Session, table: TableModel, old: dict[str, dict[str, Any]]
) -> None:
    for other, fk in session.model.referencing(table.name):
        keys = sorted({row[fk.referenced_column] for row in old.values()})
        col = session.table(other.name).c[fk.column]
        t_other = session.table(other.name)
        for chunk in _chunks(keys):
            query = sa.select(col, sa.func.count()).where(col.in_(chunk)).group_by(col)
            if other.name == table.name:
                query = query.where(t_other.c.RID.not_in(list(old)))
            hits = session.conn.execute(query).all()
            if hits:
                key, count = hits[0]
                raise ConflictError(
                    f"cannot delete rows of {table.name!r}: {key!r} is still referenced by "
                    f"{count} row(s) of {other.name!r} (column {fk.column!r}); delete or "
                    "change those first"
                )


# --- reads ---------------------------------------------------------------------------


def normalize_filters(
    session: Session, table: TableModel, filters: Mapping[str, Any] | None
) -> dict[str, list[Any]]:
    """Filters as column -> accepted values, with RIDs and term spellings canonical."""
    if not filters:
        return {}
    if not isinstance(filters, Mapping):
        raise ValidationError("filters must be a dict of column name -> value")
    out: dict[str, list[Any]] = {}
    problems = []
    for column, wanted in filters.items():
        if not table.has_column(column):
            problems.append(f"table {table.name!r} has no column {column!r}")
            continue
        values = list(wanted) if isinstance(wanted, list | tuple | set) else [wanted]
        kind = table.column(column).builtin_type.value
        if kind == "json":
            problems.append(f"column {column!r} holds json and cannot be filtered on")
            continue
        check = types.checker(kind)
        checked = []
        for value in values:
            try:
                checked.append(None if value is None else check(value))
            except ValueError as err:
                problems.append(f"filter on column {column!r}: {err}")
        values = checked
        fk = table.foreign_key(column)
        if column == "RID" or (fk is not None and fk.referenced_column == "RID"):
            values = [rids.normalize(v) if isinstance(v, str) else v for v in values]
        elif fk is not None:
            terms = resolve.term_map(session, fk.table)
            values = [terms.get(v.casefold(), v) if isinstance(v, str) else v for v in values]
        out[column] = values
    _raise_problems(problems)
    return out


def select_page(
    session: Session,
    table: TableModel,
    *,
    snapshot: int | None,
    filters: Mapping[str, list[Any]],
    after_rid: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``table`` ordered by RID, current or as of ``snapshot``.

    ``table`` is the table's model at that snapshot, so later columns are not shown.
    """
    t = session.table(table.name)
    columns = [t.c[name] for name in table.column_names]
    query = sa.select(*columns).order_by(t.c.RID)
    for column, values in filters.items():
        col = t.c[column]
        if table.column(column).builtin_type.value == "float4":
            # PostgreSQL compares a real column with a double parameter in double
            # precision; compare as the column's own type.
            values = [sa.cast(sa.literal(v, col.type), col.type) for v in values]
        query = query.where(col == values[0]) if len(values) == 1 else query.where(col.in_(values))
    if after_rid is not None:
        query = query.where(t.c.RID > after_rid)
    if snapshot is not None:
        query = query.where(t.c[names.SNAPSHOT_COLUMN] <= snapshot)
    if limit is not None:
        query = query.limit(limit)
    current = [dict(row) for row in session.conn.execute(query).mappings()]
    if snapshot is None:
        return current
    old = [
        row
        for row in history.valid_at(session, table, snapshot, after_rid, None if filters else limit)
        if all(row.get(c) in values for c, values in filters.items())
    ]
    if not old:
        return current
    for row in old:
        for name in table.column_names:
            row.setdefault(name, None)
    merged = sorted(current + old, key=lambda r: r["RID"])
    return merged[:limit] if limit is not None else merged


def fetch_as_of(
    session: Session, table: TableModel, wanted: Iterable[str], snapshot: int | None
) -> dict[str, dict[str, Any]]:
    """Rows of ``table`` (its model at ``snapshot``) with RIDs in ``wanted``, as they were
    at ``snapshot`` (current rows when None), keyed by RID."""
    ordered = sorted(set(wanted))
    found = fetch_unchanged(session, table, "RID", ordered, snapshot)
    if snapshot is not None and ordered:
        column_names = table.column_names
        changed = sorted(history.rids_valid_at(session, table, snapshot).intersection(ordered))
        for chunk in _chunks(changed):
            for old in history.valid_at(session, table, snapshot, only=list(chunk)):
                found[old["RID"]] = {name: old.get(name) for name in column_names}
    return found


def fetch_unchanged(
    session: Session,
    table: TableModel,
    column: str,
    values: Iterable[Any],
    snapshot: int | None,
) -> dict[str, dict[str, Any]]:
    """Current rows of ``table`` (the columns of its model at ``snapshot``) whose
    ``column`` holds one of ``values``, keyed by RID; with ``snapshot``, only those not
    changed since (with the history images valid at ``snapshot`` they make the table as of
    it)."""
    ordered = sorted(set(values))
    column_names = table.column_names
    t = session.table(table.name)
    at = column_names.index("RID")
    conn = session.conn
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(ordered):
        size = next(n for n in _IN_SIZES if n >= len(chunk))
        statement = _in_statement(t, column_names, column, snapshot is not None, size)
        params = dict(zip(_IN_PARAMS, chunk, strict=False))
        for name in _IN_PARAMS[len(chunk) : size]:
            params[name] = chunk[-1]
        if snapshot is not None:
            params["snapshot"] = snapshot
        plan = _read_plan(conn, statement)
        if plan is None:
            for current in conn.execute(statement, params).all():  # one fetchall
                found[current[at]] = dict(zip(column_names, current, strict=True))
            continue
        got = conn.exec_driver_sql(plan.sql, tuple(params[k] for k in plan.positions)).all()
        if not got:
            continue
        by_column: list[Sequence[Any]] = list(zip(*got, strict=True))
        for i, process in plan.processors:
            by_column[i] = list(map(process, by_column[i]))
        for values in zip(*by_column, strict=True):
            found[values[at]] = dict(zip(column_names, values, strict=True))
    return found


@dataclass(frozen=True)
class _ReadPlan:
    sql: str
    positions: tuple[str, ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, processor)


_READ_PLANS: weakref.WeakKeyDictionary[sa.Select[Any], _ReadPlan | None]
_READ_PLANS = weakref.WeakKeyDictionary()


def _read_plan(conn: sa.Connection, statement: sa.Select[Any]) -> _ReadPlan | None:
    """On SQLite, ``statement`` compiled once by SQLAlchemy, to run through the driver
    with each column's result processor applied column by column: SQLAlchemy's own path
    builds a ``Row`` per row and calls the processors per value, which costs more than
    SQLite's reading. None elsewhere (other drivers' processors depend on the cursor's
    column types), or when a parameter would need a bind processor."""
    if conn.dialect.name != "sqlite":
        return None
    if statement in _READ_PLANS:
        return _READ_PLANS[statement]
    dialect = conn.dialect
    compiled = statement.compile(dialect=dialect)
    plan = None
    needs_binding = any(
        bind.type.dialect_impl(dialect).bind_processor(dialect) is not None
        for bind in compiled.binds.values()
    )
    if compiled.positiontup is not None and not needs_binding:
        processors = []
        for i, column in enumerate(statement.selected_columns):
            # SQLite's cursor reports no column types, so SQLAlchemy passes None too.
            process = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if process is not None:
                processors.append((i, process))
        plan = _ReadPlan(str(compiled), tuple(compiled.positiontup), tuple(processors))
    _READ_PLANS[statement] = plan
    return plan


# ``IN`` lists of a few fixed lengths, each statement built once per table and shape, so
# that every chunk reuses a compiled statement (a fresh ``IN`` list would be rendered and
# keyed again for each chunk). A short chunk repeats its last value: ``IN`` ignores that.
_IN_SIZES = (8, 64, _CHUNK)
_IN_PARAMS = tuple(f"in_{i}" for i in range(_CHUNK))
_StatementKey = tuple[tuple[str, ...], str, bool, int]
_IN_STATEMENTS: weakref.WeakKeyDictionary[sa.Table, dict[_StatementKey, sa.Select[Any]]]
_IN_STATEMENTS = weakref.WeakKeyDictionary()


def _in_statement(
    t: sa.Table, column_names: Sequence[str], column: str, as_of: bool, size: int
) -> sa.Select[Any]:
    """``SELECT columns WHERE column IN (:in_0 .. :in_<size-1>)``, and ``AND _snapshot <=
    :snapshot`` when ``as_of``."""
    statements = _IN_STATEMENTS.setdefault(t, {})
    key = (tuple(column_names), column, as_of, size)
    statement = statements.get(key)
    if statement is None:
        where = t.c[column].in_([sa.bindparam(name) for name in _IN_PARAMS[:size]])
        statement = sa.select(*(t.c[name] for name in column_names)).where(where)
        if as_of:
            statement = statement.where(t.c[names.SNAPSHOT_COLUMN] <= sa.bindparam("snapshot"))
        statements[key] = statement
    return statement


def tables_of(session: Session, wanted: Iterable[str]) -> dict[str, str]:
    """The table of each existing RID in ``wanted`` (one query per chunk)."""
    out: dict[str, str] = {}
    ordered = sorted(set(wanted))
    for chunk in _chunks(ordered, 500):
        queries = [
            sa.select(sa.literal(name).label("t"), session.table(name).c.RID).where(
                session.table(name).c.RID.in_(chunk)
            )
            for name in session.model.tables
        ]
        for table, rid in session.conn.execute(sa.union_all(*queries)):
            out[rid] = table
    return out
