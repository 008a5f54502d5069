"""Loading the rows of a bag into a catalog, in one transaction.

Rows keep their RIDs and system columns. A row whose RID exists already is skipped when
its content is the same and is a ``ConflictError`` (and nothing is imported) when it
differs. Vocabulary terms are matched by name, since references to terms hold names and
built-in vocabularies exist in every catalog under different RIDs. The versions of the
imported dataset are recorded at the import's snapshot: that is when their content
became readable in this catalog.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from assetry.catalog import ddl, reads, rows
from assetry.catalog.model import Model, TableModel
from assetry.catalog.session import Session
from assetry.errors import ConflictError
from assetry.vocab import resolve

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
    """Create missing tables from ``model_doc`` and load ``tables``; return the number of
    new rows per table."""
    bag_model = Model.from_doc(dict(model_doc))
    wanted = [t.to_doc() for name, t in bag_model.tables.items() if name in tables]
    ddl.apply_model(session, {"tables": wanted})
    model = session.model
    conflicts: list[str] = []
    added: dict[str, int] = {}
    for name in _order(model, [t for t in tables if t in model.tables]):
        table = model.table(name)
        source = tables[name]
        if table.kind == "vocabulary":
            new = _new_terms(session, table, source)
        else:
            new = _new_rows(session, table, source, conflicts)
        if new and not conflicts:
            rows.insert(session, name, new, keep_system=True)
        added[name] = len(new)
    if conflicts:
        shown = "; ".join(conflicts[:10])
        more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        raise ConflictError(f"the bag conflicts with this catalog, nothing imported: {shown}{more}")
    return added


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
