"""Rules for table and column names.

Names become SQL identifiers, so they are checked here before any DDL is built: ASCII
letters, digits and underscores, starting with a letter, not a reserved word, and every
name derived from them (association tables, constraints, indexes) within PostgreSQL's
63-byte identifier limit.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MAX_IDENTIFIER_BYTES = 63

_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")

SYSTEM_COLUMNS = ("RID", "RCT", "RMT", "RCB", "RMB")
# The largest limit or offset a query takes: what a signed 64-bit column holds.
MAX_COUNT = 2**63 - 1

# Internal bookkeeping column: the snapshot at which the row's current image was written.
SNAPSHOT_COLUMN = "_snapshot"

ASSET_COLUMNS = ("URL", "Filename", "Length", "MD5", "SHA256", "Description")

VOCABULARY_COLUMNS = ("Name", "Description", "Synonyms", "ID", "URI")

# SQL reserved words (SQL:2016 and PostgreSQL reserved keywords, plus SQLite's own), which
# would otherwise need quoting everywhere a user writes SQL against the catalog.
_RESERVED_TEXT = """
    abort all allocate alter analyse analyze and any array as asc asymmetric attach
    authorization autoincrement begin between binary both by call cascade case cast
    check collate column commit concurrently constraint create cross current
    current_catalog current_date current_role current_schema current_time
    current_timestamp current_user database default deferrable deferred delete desc
    detach distinct do drop each else end escape except exclusive exists explain false
    fetch for foreign freeze from full glob grant group having ilike immediate in index
    initially inner insert instead intersect into is isnull join key lateral leading
    left like limit localtime localtimestamp match natural not notnull null of offset on
    only or order outer over overlaps placing pragma primary raise recursive references
    regexp reindex release rename replace restrict returning revoke right rollback row
    rows savepoint select session_user set similar some symmetric system_user table
    tablesample temp temporary then to trailing transaction trigger true union unique
    update user using vacuum values variadic verbose view virtual when where window with
    without
"""
RESERVED_WORDS = frozenset(_RESERVED_TEXT.split())

RESERVED_PREFIXES = ("assetry_", "sqlite_", "pg_", "alembic")


def name_problems(name: object, what: str) -> list[str]:
    """Every reason ``name`` is not acceptable as a table or column name (empty if fine)."""
    if not isinstance(name, str):
        return [f"{what} name must be a string, got {type(name).__name__}"]
    problems = []
    if not _NAME_RE.match(name):
        problems.append(
            f"{what} name {name!r} is not allowed: use ASCII letters, digits and '_', "
            "starting with a letter"
        )
        return problems
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        problems.append(
            f"{what} name {name!r} is {len(name)} characters long; "
            f"the limit is {MAX_IDENTIFIER_BYTES}"
        )
    if name.lower() in RESERVED_WORDS:
        problems.append(f"{what} name {name!r} is a reserved SQL word")
    if name.lower().startswith(RESERVED_PREFIXES):
        problems.append(f"{what} name {name!r} uses a reserved prefix")
    return problems


def unstorable_text(text: str) -> str | None:
    """Why no database column could hold ``text`` (a NUL character, a lone surrogate),
    or None. For RIDs, search text and other values sent to the database: SQLite cuts
    such text short and PostgreSQL refuses it, so it is refused before either sees it,
    and both engines answer alike."""
    if "\x00" in text:
        return "contains the NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a character that is not valid Unicode text (a lone surrogate)"
    return None


def derived_name_problems(names: Iterable[str], source: str, why: str = "") -> list[str]:
    """The problem (at most one, naming the longest offender) of identifiers derived from
    ``source`` that would not fit PostgreSQL's limit; ``why`` says where they come from."""
    too_long = [d for d in names if len(d.encode()) > MAX_IDENTIFIER_BYTES]
    if not too_long:
        return []
    longest = max(too_long, key=lambda d: len(d.encode()))
    return [
        f"name {source!r} is too long: the name {longest!r} derived from it{why} would be "
        f"{len(longest.encode())} bytes; the limit is {MAX_IDENTIFIER_BYTES}"
    ]


def _constraint_name(table: str, detail: str, suffix: str) -> str:
    """``<table>_<detail>_<suffix>``, or with a short hash of ``detail`` when that would
    not fit PostgreSQL's identifier limit, or, when even that would not fit, a shortened
    ``table`` and a hash of both. Names must be stable (they are recreated), and a name
    that fits is never changed: only names that could never have been created shorten.
    """
    name = f"{table}_{detail}_{suffix}"
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha256(detail.encode()).hexdigest()[:8]
    name = f"{table}_{digest}_{suffix}"
    if len(name.encode()) <= MAX_IDENTIFIER_BYTES:
        return name
    digest = hashlib.sha256(f"{table}\x00{detail}".encode()).hexdigest()[:12]
    # Table names are ASCII, so cutting characters cuts bytes.
    keep = MAX_IDENTIFIER_BYTES - len(f"_{digest}_{suffix}")
    return f"{table[:keep]}_{digest}_{suffix}"


def fkey_name(table: str, column: str) -> str:
    """Name of the foreign-key constraint on ``table.column``."""
    return _constraint_name(table, column, "fkey")


def unique_name(table: str, columns: str) -> str:
    """Name of a unique constraint on ``table``'s ``columns`` (joined by '_')."""
    return _constraint_name(table, columns, "key")


def index_name(table: str, what: str) -> str:
    """Name of an index on ``table``."""
    return _constraint_name(table, what, "idx")


def search_index_name(table: str) -> str:
    """Name of the text-search index of ``table`` (its own suffix: no column's index
    takes it)."""
    return _constraint_name(table, "search", "trgm")
