"""Rows: checked inserts, updates and deletes with history (reads are in ``reads``).

Every check of one call runs before anything is written, and every problem found is
reported together in one ``ValidationError``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetry.errors import ConflictError, RIDNotFound, ValidationError
from assetry.sql import bulk, history, names, policy, provenance, rids, search_index, stored, types
from assetry.sql.model import TableModel
from assetry.sql.session import Session
from assetry.sql.vocab import builtin, resolve

# Bound parameters per IN (...) list: well under SQLite's limit of 32766.
CHUNK = 900
_MAX_REPORTED = 50


@dataclass(frozen=True)
class _ColumnPlan:
    name: str
    kind: str  # the BuiltinType's value
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
        kind = col.builtin_type
        plans.append(
            _ColumnPlan(
                col.name,
                kind.value,
                types.checker(kind),
                col.nullok,
                col.default,
                vocabulary,
                target,
            )
        )
    return plans


def raise_problems(problems: list[str]) -> None:
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


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def existing_rids(session: Session, table: str, wanted: Iterable[str]) -> set[str]:
    """The subset of ``wanted`` that are RIDs of rows in ``table``."""
    t = session.table(table)
    found: set[str] = set()
    ordered = sorted(set(wanted))
    if session.dialect == "sqlite" and len(ordered) > 1:
        query = sa.select(t.c.RID).where(t.c.RID.in_(_listed(ordered)))
        found.update(session.conn.execute(query).scalars())
        return found
    for chunk in chunks(ordered):
        found.update(session.conn.execute(sa.select(t.c.RID).where(t.c.RID.in_(chunk))).scalars())
    return found


def _all_exist(session: Session, table: str, wanted: set[str]) -> bool:
    """True if every one of ``wanted`` is the RID of a row of ``table``."""
    if session.dialect != "sqlite" or len(wanted) < 2:
        return len(existing_rids(session, table, wanted)) == len(wanted)
    t = session.table(table)
    query = sa.select(sa.func.count()).where(t.c.RID.in_(_listed(sorted(wanted))))
    return session.conn.execute(query).scalar_one() == len(wanted)


def _listed(values: list[str]) -> sa.Select[Any]:
    """SQLite: the values as one bound JSON array, read back by ``json_each``. SQLAlchemy
    renders an IN list one bound parameter at a time, which costs far more than the
    look-ups it feeds."""
    each = sa.func.json_each(sa.bindparam("values", json.dumps(values, ensure_ascii=False)))
    return sa.select(each.table_valued("value").c.value)


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

    def canonical_terms(self, vocabulary: str, spellings: set[str]) -> dict[str, str]:
        """Each of ``spellings`` that is a term of ``vocabulary`` -> its canonical name."""
        terms = self._term_maps.get(vocabulary)
        if terms is not None:
            found = ((spelling, terms.get(spelling.casefold())) for spelling in spellings)
            return {spelling: name for spelling, name in found if name is not None}
        return resolve.canonical_names(self.session, vocabulary, spellings)

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
    _require_for(table)
    checker = _Checker(session, table)
    columns = _checked_columns(checker, row_list, keep_system)
    if columns is None:  # something is refused: the row-by-row checks word every problem
        params = _checked_rows(checker, row_list, keep_system)
        columns = {name: [out[name] for out in params] for name in checker.plans}
    if table.kind == "vocabulary":
        checker.problems += _new_term_problems(row_list)
    system = _given_system_columns(session, row_list, checker.problems) if keep_system else {}
    raise_problems(checker.problems)
    if table.kind == "vocabulary":
        _refuse_term_collisions(session, table, row_list)
    if table.kind == "asset":
        stored.check_rows(table.name, columns, session.object_store)

    stamp = session.stamp()
    constants: dict[str, Any]
    if keep_system:
        columns.update(system)
        new_rids = columns["RID"]
        constants = {names.SNAPSHOT_COLUMN: stamp[names.SNAPSHOT_COLUMN]}
    else:
        new_rids = columns["RID"] = session.new_rids(len(row_list))
        constants = {"RCT": session.now, "RCB": session.user, **stamp}
    if table.kind == "vocabulary":
        prefix = session.settings["curie_prefix"]
        pairs = list(zip(columns["ID"], columns["URI"], new_rids, strict=True))
        columns["ID"] = [given or f"{prefix}:{rid}" for given, _, rid in pairs]
        columns["URI"] = [given or f"urn:assetry:{prefix}:{rid}" for _, given, rid in pairs]
    bulk.insert(
        session.conn,
        session.table(table_name),
        len(row_list),
        columns,
        constants,
        search_index.searchable_columns(table),
    )
    if provenance.tracks(table):
        provenance.add(session, table, bulk.as_rows(len(row_list), columns, constants))
    return new_rids


def insert_built(
    session: Session, table_name: str, built: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Insert rows an operation built itself from values it has already checked (RIDs it
    holds, canonical terms, its own timestamps): link rows of a registration, say. The
    per-value checks of ``insert`` are skipped; the database's own constraints (foreign
    keys, uniqueness, NOT NULL) still hold, and history stamps and provenance edges are
    written as ``insert`` writes them. Never for values a caller gave."""
    table = session.model.table(table_name)
    if not built:
        return []
    if table.kind in ("asset", "vocabulary"):
        raise ValueError(f"rows of {table_name!r} carry user values: use insert")
    _require_for(table)
    columns = {
        c.name: [row.get(c.name, c.default) for row in built] for c in table.columns if not c.system
    }
    stamp = session.stamp()
    new_rids = columns["RID"] = session.new_rids(len(built))
    constants = {"RCT": session.now, "RCB": session.user, **stamp}
    bulk.insert(
        session.conn,
        session.table(table_name),
        len(built),
        columns,
        constants,
        search_index.searchable_columns(table),
    )
    if provenance.tracks(table):
        provenance.add(session, table, bulk.as_rows(len(built), columns, constants))
    return new_rids


_CHECK_TIMESTAMPTZ = types.checker("timestamptz")


def _given_system_columns(
    session: Session, row_list: list[Mapping[str, Any]], problems: list[str]
) -> dict[str, list[Any]]:
    """The system columns rows bring from another catalog (an import), checked: a RID
    each, times and user names where given (else now and this session's user)."""
    out: dict[str, list[Any]] = {name: [] for name in names.SYSTEM_COLUMNS}
    for i, row in enumerate(row_list):
        rid = row.get("RID")
        if not isinstance(rid, str) or not rid.strip() or names.unstorable_text(rid):
            problems.append(f"row {i}: {rid!r} is not a RID")
        out["RID"].append(rids.normalize(rid) if isinstance(rid, str) else rid)
        for name, default in (("RCT", session.now), ("RMT", session.now)):
            value = row.get(name)
            try:
                out[name].append(default if value is None else _CHECK_TIMESTAMPTZ(value))
            except ValueError as err:
                problems.append(f"row {i}: column {name!r}: {err}")
                out[name].append(None)
        for name in ("RCB", "RMB"):
            value = row.get(name)
            if value is not None and (not isinstance(value, str) or names.unstorable_text(value)):
                problems.append(f"row {i}: column {name!r}: {value!r} is not a user name")
            out[name].append(session.user if value is None else value)
    return out


def _require_for(table: TableModel) -> None:
    """Terms are the curators' (every path that writes vocabulary rows passes here)."""
    if table.kind == "vocabulary":
        policy.require(policy.CURATOR, f"changing the terms of vocabulary {table.name!r}")


def _checked_rows(
    checker: _Checker, row_list: list[Mapping[str, Any]], keep_system: bool
) -> list[dict[str, Any]]:
    """The values to store, checked row by row; problems go to ``checker.problems``."""
    plans = list(checker.plans.values())
    allowed = set(checker.plans)
    params: list[dict[str, Any]] = []
    check = checker.value
    for i, row in enumerate(row_list):
        if not row.keys() <= allowed:
            checker.problems += _unknown_columns(
                checker.table, row, f"row {i}", allowed, keep_system
            )
        out: dict[str, Any] = {}
        for plan in plans:
            value = row.get(plan.name)
            if value is None and plan.default is not None:
                value = plan.default
            out[plan.name] = check(i, plan, value)
        params.append(out)
    checker.check_references()
    return params


_CHECK_TEXT = types.CHECKERS["text"]
_INT_RANGES = {f"int{n // 8}": (-(2 ** (n - 1)), 2 ** (n - 1) - 1) for n in (16, 32, 64)}


def _checked_columns(
    checker: _Checker, row_list: list[Mapping[str, Any]], keep_system: bool
) -> dict[str, list[Any]] | None:
    """The values ``_checked_rows`` would return, as columns (column name -> the value of
    each row), checked a column at a time; None as soon as anything is refused.

    Thousands of rows of a few distinct kinds of value cost one C-level pass per column
    instead of a call per value: text that ``_check_text`` would return unchanged (exact
    ``str``, no NUL, no lone surrogate) and in-range exact ``int`` are accepted as they
    are, terms are resolved once per distinct spelling, referenced RIDs are looked up
    once per distinct RID. Every other value goes through its checker as it would row by
    row. Nothing is skipped: a value either passes the same rule or sends the whole call
    to ``_checked_rows``, which words the problems in its own order.
    """
    accepted = set(checker.plans)
    if keep_system:
        accepted.update(names.SYSTEM_COLUMNS)
    if not all(map(accepted.issuperset, row_list)):
        return None
    columns: dict[str, list[Any]] = {}
    for name, plan in checker.plans.items():
        checked = _checked_column(checker, plan, [row.get(name) for row in row_list])
        if checked is None:
            return None
        columns[name] = checked
    for target, wanted in _references(checker, columns).items():
        if not _all_exist(checker.session, target, wanted):
            return None
    return columns


def _checked_column(checker: _Checker, plan: _ColumnPlan, values: list[Any]) -> list[Any] | None:
    if plan.default is not None:
        values = [plan.default if value is None else value for value in values]
    present = [value for value in values if value is not None]
    if len(present) < len(values) and not plan.nullok:
        return None
    kinds = set(map(type, present))
    if plan.check is _CHECK_TEXT and kinds <= {str}:
        if not _storable_text("".join(present)):
            return None
    elif plan.kind in _INT_RANGES and kinds <= {int}:
        low, high = _INT_RANGES[plan.kind]
        if present and not low <= min(present) <= max(present) <= high:
            return None
    else:
        try:
            values = [None if value is None else plan.check(value) for value in values]
        except ValueError:
            return None
    vocabulary = plan.vocabulary
    if (vocabulary is None and plan.target is None) or not present:
        return values
    if not set(map(type, values)) <= {str, type(None)}:
        return None
    if vocabulary is None:
        return [None if value is None else rids.normalize(value) for value in values]
    spellings = set(values)
    spellings.discard(None)
    canonical = checker.canonical_terms(vocabulary, spellings)
    if not canonical.keys() >= spellings:
        return None
    return [None if value is None else canonical[value] for value in values]


def _storable_text(text: str) -> bool:
    """True if ``_check_text`` accepts ``text`` (and so each string joined into it)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")  # refuses any surrogate code point, paired or not
    except UnicodeEncodeError:
        return False
    return True


def _references(checker: _Checker, columns: dict[str, list[Any]]) -> dict[str, set[str]]:
    """Referenced RIDs by target table."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for name, plan in checker.plans.items():
        if plan.target is not None:
            wanted[plan.target].update(value for value in columns[name] if value is not None)
    return wanted


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
    raise_problems(checker.problems)
    return {k: v for k, v in out.items() if k in values}


def _new_term_problems(row_list: list[Mapping[str, Any]]) -> list[str]:
    """Why the names and synonyms of new terms cannot be term text (``ValidationError``).

    A spelling already taken is a conflict, not a validation problem: it is refused by
    ``_refuse_term_collisions`` with ``ConflictError`` (as ``add_term`` and
    ``add_synonym`` refuse it), once the rows have no validation problem left. So when a
    call has both kinds, the ``ValidationError`` wins and lists every validation problem.
    """
    problems: list[str] = []
    for i, row in enumerate(row_list):
        problems += resolve.term_text_problems(row.get("Name"), f"row {i}: term name")
        problems += resolve.synonym_list_problems(row.get("Synonyms"), f"row {i}: Synonyms")
    return problems


def _refuse_term_collisions(
    session: Session,
    table: TableModel,
    new_terms: Iterable[Mapping[str, Any]],
    changed: Iterable[str] = (),
) -> None:
    """``ConflictError`` listing every spelling (name or synonym, any case) of
    ``new_terms`` that another term of ``table`` already has, or that two of them share.
    The spellings of the terms named in ``changed`` (being rewritten by ``new_terms``) are
    free to reuse."""
    rewritten = set(changed)
    existing = {
        spelling: owner
        for spelling, owner in resolve.term_map(session, table.name).items()
        if owner not in rewritten
    }
    wanted = [(row["Name"], list(row.get("Synonyms") or [])) for row in new_terms]
    conflicts = resolve.collision_problems(existing, wanted)
    if conflicts:
        raise ConflictError("; ".join(f"vocabulary {table.name!r}: {p}" for p in conflicts))


def fetch_current(
    session: Session, table_name: str, wanted: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Current rows (with the snapshot column) of ``table_name`` with RIDs in ``wanted``."""
    t = session.table(table_name)
    found: dict[str, dict[str, Any]] = {}
    for chunk in chunks(sorted(set(wanted))):
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
    raise_problems(problems)
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
    _require_for(table)
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
    raise_problems(checker.problems)
    old = fetch_current(session, table_name, [c["RID"] for c in changes])
    missing = [c["RID"] for c in changes if c["RID"] not in old]
    if missing:
        raise _missing(table_name, missing)
    if table.kind == "vocabulary":
        raise_problems(builtin.rename_problems(session.model, table.name, changes, old))
        raise_problems(_term_change_problems(session, table, changes, old))

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
    """Why the changed terms' names and synonyms cannot be term text (returned, for a
    ``ValidationError``); with none, a spelling another term has (or two changed terms
    share) is a ``ConflictError`` (see ``_new_term_problems``)."""
    problems: list[str] = []
    after = []
    for change in changes:
        before = old[change["RID"]]
        name = change.get("Name", before["Name"])
        synonyms = change.get("Synonyms", before.get("Synonyms")) or []
        problems += resolve.term_text_problems(name, "term name")
        problems += resolve.synonym_list_problems(synonyms, "Synonyms")
        after.append({"Name": name, "Synonyms": synonyms})
    if problems:
        return [f"vocabulary {table.name!r}: {p}" for p in problems]
    _refuse_term_collisions(session, table, after, [old[c["RID"]]["Name"] for c in changes])
    return []


def delete(session: Session, table_name: str, rid_values: object) -> list[str]:
    """Delete rows by RID, refusing (``ConflictError``) while any is still referenced."""
    table = session.model.table(table_name)
    wanted = list(dict.fromkeys(_normalized_rids(rid_values, "rids")))
    if not wanted:
        return []
    _require_for(table)
    old = fetch_current(session, table_name, wanted)
    missing = [rid for rid in wanted if rid not in old]
    if missing:
        raise _missing(table_name, missing)
    raise_problems(builtin.delete_problems(session.model, table.name, old.values()))
    _refuse_if_referenced(session, table, old)
    history.record(session, table_name, old.values(), "delete")
    t = session.table(table_name)
    for chunk in chunks(wanted):
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
        for chunk in chunks(keys):
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
