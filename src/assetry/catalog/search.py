"""Text search over the text columns of the catalog's tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from assetry.catalog.names import MAX_COUNT, unstorable_text
from assetry.catalog.session import Session
from assetry.errors import ValidationError

_TEXT_TYPES = {"text", "markdown", "uri", "json"}


def _like_pattern(word: str) -> str:
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    session: Session, text: str, tables: Sequence[str] | None, limit: int
) -> list[dict[str, Any]]:
    """Rows (with their ``Table``) in which every word of ``text`` appears in some text
    column, ignoring case; at most ``limit`` rows, table by table, each by RID."""
    if not isinstance(text, str) or not text.split():
        raise ValidationError("search text must contain at least one word")
    why = unstorable_text(text)
    if why is not None:
        raise ValidationError(f"search text {text!r} {why}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_COUNT:
        raise ValidationError(f"limit must be an integer from 1 to {MAX_COUNT}, got {limit!r}")
    if isinstance(tables, str):
        tables = [tables]
    names = list(tables) if tables is not None else list(session.model.tables)
    for name in names:
        session.model.table(name)
    words = [_like_pattern(w) for w in text.split()]
    hits: list[dict[str, Any]] = []
    for name in names:
        table_model = session.model.table(name)
        columns = [c for c in table_model.columns if c.builtin_type.value in _TEXT_TYPES]
        if not columns:
            continue
        t = session.table(name)
        haystacks = [sa.func.lower(sa.cast(t.c[c.name], sa.Text)) for c in columns]
        condition = sa.and_(
            *[sa.or_(*[h.like(word, escape="\\") for h in haystacks]) for word in words]
        )
        query = (
            sa.select(*[t.c[c] for c in table_model.column_names])
            .where(condition)
            .order_by(t.c.RID)
            .limit(limit - len(hits))
        )
        for row in session.conn.execute(query).mappings():
            hits.append({"Table": name, **row})
        if len(hits) >= limit:
            break
    return hits
