"""Text search over the text columns of the catalog's tables, current or as of a snapshot
(an asset table's ``URL``, ``MD5`` and ``SHA256`` excepted: ``searchable_columns``).

Current rows are found through each table's search index (``search_index``), then
checked word by word as the search defines it, so the index changes speed, not results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import ValidationError
from assetry.sql import history, rids, search_index
from assetry.sql.model import Model, TableModel
from assetry.sql.names import MAX_COUNT, SNAPSHOT_COLUMN, unstorable_text
from assetry.sql.session import Session

# History images are read in pages of this many rows when searching as of a snapshot.
_HISTORY_PAGE = 1000


def search(
    session: Session,
    text: str,
    tables: Sequence[str] | None,
    limit: int,
    *,
    model: Model | None = None,
    snapshot: int | None = None,
    after: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Rows (with their ``Table``) in which every word of ``text`` appears in some text
    column, ignoring case; at most ``limit`` rows, table by table, each by RID. With
    ``after`` (the ``(Table, RID)`` of the last row of a page) the rows that follow it:
    the next page, read by key at any depth.

    With ``snapshot`` (and ``model``, the model at that snapshot) the rows are those of
    the catalog as it was then: current rows unchanged since, plus the history images
    valid at it, matched the same way.
    """
    if not isinstance(text, str) or not text.split():
        raise ValidationError("search text must contain at least one word")
    why = unstorable_text(text)
    if why is not None:
        raise ValidationError(f"search text {text!r} {why}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_COUNT:
        raise ValidationError(f"limit must be an integer from 1 to {MAX_COUNT}, got {limit!r}")
    if isinstance(tables, str):
        tables = [tables]
    model = model if model is not None else session.model
    names = list(tables) if tables is not None else list(model.tables)
    for name in names:
        model.table(name)
    start, after_rid = _cursor(after, names)
    words = text.split()
    lowered = [w.lower() for w in words]
    patterns = [search_index.like_pattern(w) for w in words]
    hits: list[dict[str, Any]] = []
    for position, name in enumerate(names):
        if position < start:
            continue
        after_here = after_rid if position == start else None
        table_model = model.table(name)
        columns = [table_model.column(c) for c in search_index.searchable_columns(table_model)]
        if not columns:
            continue
        want = limit - len(hits)
        t = session.table(table_model.name)
        haystacks = [sa.func.lower(sa.cast(t.c[c.name], sa.Text)) for c in columns]
        condition = sa.and_(
            *[sa.or_(*[h.like(p, escape="\\") for h in haystacks]) for p in patterns]
        )
        query = (
            sa.select(*[t.c[c] for c in table_model.column_names])
            .where(condition)
            .order_by(t.c.RID)
            .limit(want)
        )
        if snapshot is not None:
            query = query.where(t.c[SNAPSHOT_COLUMN] <= snapshot)
        if after_here is not None:
            query = query.where(t.c.RID > after_here)
        # The index holds the current columns (those of an older model are among them),
        # so the rows it finds include every match; the words are checked on them above.
        current = session.model.tables.get(table_model.name)
        if current is not None:
            narrowed = search_index.candidates(session.conn, current, t, lowered)
            if narrowed is not None:
                query = query.where(narrowed)
        found = [dict(row) for row in session.conn.execute(query).mappings()]
        if snapshot is not None:
            old = _old_matches(session, table_model, snapshot, columns, words, want, after_here)
            found = sorted(found + old, key=lambda row: row["RID"])[:want]
        hits.extend({"Table": table_model.name, **row} for row in found)
        if len(hits) >= limit:
            break
    return hits


def _old_matches(
    session: Session,
    table: TableModel,
    snapshot: int,
    columns: Sequence[Any],
    words: Sequence[str],
    want: int,
    after: str | None = None,
) -> list[dict[str, Any]]:
    """The first ``want`` (by RID, after ``after``) history images of ``table`` valid at
    ``snapshot`` that match every word, read page by page (a table may have much
    history)."""
    lowered = [w.lower() for w in words]
    kinds = {c.name: c.builtin_type.value for c in columns}
    matches: list[dict[str, Any]] = []
    while len(matches) < want:
        page = history.valid_at(session, table, snapshot, after, _HISTORY_PAGE)
        for row in page:
            texts = [
                text
                for name, kind in kinds.items()
                if (text := _as_text(row.get(name), kind)) is not None
            ]
            if all(any(w in t for t in texts) for w in lowered):
                matches.append({name: row.get(name) for name in table.column_names})
                if len(matches) == want:
                    break
        if len(page) < _HISTORY_PAGE:
            break
        after = page[-1]["RID"]
    return matches


def _cursor(after: object, names: Sequence[str]) -> tuple[int, str | None]:
    """(position in ``names`` to start at, RID to start after) of a page cursor."""
    if after is None:
        return 0, None
    if (
        isinstance(after, str)
        or not isinstance(after, Sequence)
        or len(after) != 2
        or not all(isinstance(part, str) for part in after)
    ):
        raise ValidationError(
            f"after must be the (Table, RID) of the last row of the previous page, got {after!r}"
        )
    table, rid = after
    if table not in names:
        raise ValidationError(f"after: table {table!r} is not one of the tables searched")
    if not rid.strip() or unstorable_text(rid):
        raise ValidationError(f"after: {rid!r} is not a RID")
    return names.index(table), rids.normalize(rid)


def _as_text(value: Any, kind: str) -> str | None:
    """A column value as the database's ``lower(CAST(value AS TEXT))`` sees it."""
    if value is None:
        return None
    if kind == "json":
        return json.dumps(value, ensure_ascii=False).lower()
    return str(value).lower()
