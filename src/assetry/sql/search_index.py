"""The text-search index of each table, kept by the database in every writing transaction.

``search`` matches a word anywhere inside a text column (``kid`` finds ``kidney``), so
the indexes are of trigrams, which find substrings, not of words:

- SQLite: an FTS5 table with the ``trigram`` tokenizer per table, external content (the
  table's own rows, by rowid). Updates and deletes keep it by triggers; inserts by
  ``add_rows``, which ``bulk.insert`` (every insert) calls: one statement for all the
  new rows, because FTS5 writes its pending entries out at the start of every
  statement that fires a trigger, which made an insert trigger ten times slower than
  the insert. A query takes the rowids whose text holds every word of three or more
  characters, then checks every word on those rows as before.
- PostgreSQL: a GIN index (``pg_trgm``'s ``gin_trgm_ops``) on one expression per table:
  the lower-cased text columns joined by a newline. A word holds no white space, so it
  matches the joined text exactly when it matches one of the columns; the query tests
  that same expression, so ``LIKE`` uses the index.

The index holds the columns ``search`` looks in (``searchable_columns``): every text
column except an asset table's content address and checksums (``URL``, ``MD5``,
``SHA256``), which are hex digits no one searches for by words (exact filters find them,
through their own indexes) and made most of an asset row's trigrams.

A table gets its index when it is created (``ddl``) and a new index when a text column
is added; migration 0012 made them for the tables of existing catalogs, 0013 remade
those of asset tables without the checksum columns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from assetry.sql import names
from assetry.sql.model import TableModel

TEXT_TYPES = frozenset({"text", "markdown", "uri", "json"})
# Trigram indexes find words of at least three characters; shorter words are only
# checked on the rows the longer ones found (or on every row when all are short).
MIN_INDEXED = 3
# Not searched in asset tables: where the bytes are and their checksums.
NOT_SEARCHED_IN_ASSETS = frozenset({"URL", "MD5", "SHA256"})


def searchable_columns(table: TableModel) -> list[str]:
    """The columns of ``table`` that ``search`` looks in (and its index holds), in model
    order: the text columns, but for an asset table's ``URL``, ``MD5`` and ``SHA256``."""
    skipped = NOT_SEARCHED_IN_ASSETS if table.kind == "asset" else frozenset()
    return [
        c.name
        for c in table.columns
        if c.builtin_type.value in TEXT_TYPES and c.name not in skipped
    ]


def all_text_columns(table: TableModel) -> list[str]:
    """Every text column of ``table``: what the indexes of migration 0012 held."""
    return [c.name for c in table.columns if c.builtin_type.value in TEXT_TYPES]


def fts_name(table: str) -> str:
    """SQLite: the FTS5 table of ``table`` (a reserved prefix: no user name clashes)."""
    return f"assetry_fts_{table}"


def gin_name(table: str) -> str:
    """PostgreSQL: the name of ``table``'s search index."""
    return names.search_index_name(table)


def _quote(conn: sa.Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _fts_table(table: str, columns: Sequence[str]) -> sa.TableClause:
    """The FTS5 table of ``table``: its hidden column (named as the table, for MATCH
    and commands), rowid and text columns."""
    name = fts_name(table)
    return sa.table(name, sa.column(name), sa.column("rowid"), *(sa.column(c) for c in columns))


def _row_values(conn: sa.Connection, which: str, columns: Sequence[str]) -> dict[str, Any]:
    """The columns of the trigger's ``new`` or ``old`` row."""
    values: dict[str, Any] = {"rowid": sa.literal_column(f"{which}.rowid")}
    for c in columns:
        values[c] = sa.literal_column(f"{which}.{_quote(conn, c)}")
    return values


def _triggers(conn: sa.Connection, table: str, columns: Sequence[str]) -> list[str]:
    """The DELETE and UPDATE triggers that keep ``table``'s FTS table (inserts: see
    ``add_rows``). Their statements are compiled by SQLAlchemy."""
    fts = _fts_table(table, columns)

    def compiled(statement: sa.Insert) -> str:
        return str(statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))

    add = compiled(fts.insert().values(_row_values(conn, "new", columns)))
    remove = compiled(
        fts.insert().values(
            {fts_name(table): sa.literal("delete", sa.Text), **_row_values(conn, "old", columns)}
        )
    )
    trigger, t = fts_name(table), _quote(conn, table)
    return [
        f"CREATE TRIGGER {_quote(conn, trigger + '_ad')} AFTER DELETE ON {t} BEGIN {remove}; END",
        f"CREATE TRIGGER {_quote(conn, trigger + '_au')} AFTER UPDATE ON {t} "
        f"BEGIN {remove}; {add}; END",
    ]


def joined_text(t: sa.Table, columns: Sequence[str]) -> sa.ColumnElement[Any]:
    """PostgreSQL: the indexed expression, the lower-cased columns joined by newlines.
    Its constants are SQL constants, not bound values, so that a query's expression is
    the index's own."""
    empty = sa.literal_column("''", sa.Text)
    newline = sa.func.chr(sa.literal_column("10"), type_=sa.Text)
    parts = [sa.func.coalesce(sa.func.lower(sa.cast(t.c[c], sa.Text)), empty) for c in columns]
    joined: sa.ColumnElement[Any] = parts[0]
    for part in parts[1:]:
        joined = joined.op("||")(newline).op("||")(part)
    return joined


def create(
    conn: sa.Connection,
    table: TableModel,
    t: sa.Table,
    fill: bool = True,
    columns: Sequence[str] | None = None,
) -> None:
    """Make the search index of ``table`` (``t`` its SQLAlchemy table), filled with its
    rows when ``fill`` (a new table has none), of ``searchable_columns`` unless
    ``columns`` (a migration's own) are given."""
    columns = searchable_columns(table) if columns is None else list(columns)
    if not columns:
        return
    if conn.dialect.name == "sqlite":
        listed = ", ".join(_quote(conn, c) for c in columns)
        conn.exec_driver_sql(
            f"CREATE VIRTUAL TABLE {_quote(conn, fts_name(table.name))} USING fts5({listed}, "
            f"content={_quote(conn, table.name)}, content_rowid='rowid', tokenize='trigram')"
        )
        for statement in _triggers(conn, table.name, columns):
            conn.exec_driver_sql(statement)
        if fill:
            # FTS5's command: read every row of the content table into the index.
            rebuild = _fts_table(table.name, columns).insert()
            conn.execute(rebuild.values({fts_name(table.name): "rebuild"}))
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        sa.Index(
            gin_name(table.name),
            joined_text(t, columns).label("joined"),
            postgresql_using="gin",
            postgresql_ops={"joined": "gin_trgm_ops"},
            # A labelled expression does not name its table by itself.
            _table=t,
        ).create(conn)


def drop(conn: sa.Connection, table: str) -> None:
    """Remove the search index of ``table`` (if it has one)."""
    if conn.dialect.name == "sqlite":
        for suffix in ("_ad", "_au"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {_quote(conn, fts_name(table) + suffix)}")
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_quote(conn, fts_name(table))}")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {_quote(conn, gin_name(table))}")


def add_rows(conn: sa.Connection, t: sa.Table, rids: Sequence[str], columns: Sequence[str]) -> None:
    """SQLite: put the new rows ``rids`` of ``t`` into its FTS table, whose columns are
    ``columns`` (``searchable_columns`` of its model), in one statement (PostgreSQL's
    index keeps itself)."""
    if conn.dialect.name != "sqlite" or not rids or not columns:
        return
    fts = _fts_table(t.name, columns)
    rowid: sa.ColumnElement[Any] = sa.literal_column(f"{_quote(conn, t.name)}.rowid")
    each = sa.func.json_each(sa.bindparam("rids", json.dumps(list(rids)))).table_valued("value")
    rows = sa.select(rowid, *(t.c[c] for c in columns)).where(t.c.RID.in_(sa.select(each.c.value)))
    conn.execute(fts.insert().from_select(["rowid", *columns], rows))


def recreate(conn: sa.Connection, table: TableModel, t: sa.Table) -> None:
    """The search index of ``table`` made again (after its text columns changed)."""
    drop(conn, table.name)
    create(conn, table, t, fill=True)


def candidates(
    conn: sa.Connection, table: TableModel, t: sa.Table, words: Sequence[str]
) -> sa.ColumnElement[bool] | None:
    """A condition on ``t`` that every row matching all ``words`` (lower-cased) meets
    and that the search index answers, or None when the index cannot narrow the rows
    (no word is long enough)."""
    long_words = [w for w in words if len(w) >= MIN_INDEXED]
    columns = searchable_columns(table)
    if not long_words or not columns:
        return None
    if conn.dialect.name == "sqlite":
        fts = _fts_table(table.name, [])
        # FTS5's query language: each word a quoted string (quotes doubled), all of them.
        query = " AND ".join('"' + w.replace('"', '""') + '"' for w in long_words)
        hits = sa.select(fts.c.rowid).where(fts.c[fts_name(table.name)].op("MATCH")(query))
        rowid: sa.ColumnElement[Any] = sa.literal_column(f"{_quote(conn, table.name)}.rowid")
        return rowid.in_(hits.scalar_subquery())
    if conn.dialect.name == "postgresql":
        joined = joined_text(t, columns)
        return sa.and_(*(joined.like(like_pattern(w), escape="\\") for w in long_words))
    return None


def like_pattern(word: str) -> str:
    """``%word%`` with the LIKE wildcards of ``word`` taken literally."""
    escaped = word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
