"""Resolving term names and synonyms, and the naming rules of vocabulary terms.

Term names are unique ignoring case, and a synonym belongs to one term only, so every
spelling (name or synonym, any case) maps to exactly one canonical term name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from assetry.sql.session import Session

# Bound parameters per IN (...) list: well under SQLite's limit of 32766.
_CHUNK = 900


def spellings(row: Mapping[str, Any]) -> list[str]:
    """The name and synonyms of a term row."""
    return [row["Name"], *(row.get("Synonyms") or [])]


def term_map(session: Session, vocabulary: str) -> dict[str, str]:
    """Every spelling of every term of ``vocabulary``, lower-cased, to its canonical name."""
    table = session.table(vocabulary)
    mapping: dict[str, str] = {}
    for name, synonyms in session.conn.execute(sa.select(table.c.Name, table.c.Synonyms)):
        mapping[name.casefold()] = name
        for synonym in synonyms or []:
            mapping.setdefault(str(synonym).casefold(), name)
    return mapping


def canonical_names(session: Session, vocabulary: str, spellings: Iterable[str]) -> dict[str, str]:
    """Each of ``spellings`` that is a term of ``vocabulary`` (its name or a synonym, any
    case) -> the term's canonical name; unknown spellings are left out.

    Spellings that are term names as written are found with one query on the unique
    index of ``Name``; only the others (another case, synonyms) read the vocabulary's
    every term, as ``term_map`` does. Names are unique ignoring case and a name wins over
    any synonym, so both ways give the same answer. A spelling that no column could hold
    (a NUL, a lone surrogate) is no term's and is not sent to the database.
    """
    table = session.table(vocabulary)
    wanted = sorted({spelling for spelling in spellings if _storable(spelling)})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = sa.select(table.c.Name).where(table.c.Name.in_(wanted[start : start + _CHUNK]))
        found.update((name, name) for name in session.conn.execute(query).scalars())
    others = [spelling for spelling in wanted if spelling not in found]
    if others:
        terms = term_map(session, vocabulary)
        for spelling in others:
            name = terms.get(spelling.casefold())
            if name is not None:
                found[spelling] = name
    return found


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def canonical_terms(session: Session, vocabulary: str, names: Iterable[object]) -> list[str]:
    """The canonical names of ``names`` (names or synonyms, any case) in ``vocabulary``,
    without repeats; every unknown one reported in one ``ValidationError``."""
    from assetry.errors import ValidationError

    listed = list(names)
    terms = canonical_names(session, vocabulary, [n for n in listed if isinstance(n, str)])
    out, problems = [], []
    for name in listed:
        canonical = terms.get(name) if isinstance(name, str) else None
        if canonical is None:
            problems.append(f"{name!r} is not a term of vocabulary {vocabulary!r}")
        else:
            out.append(canonical)
    if problems:
        raise ValidationError(problems)
    return list(dict.fromkeys(out))


def term_text_problems(value: object, what: str) -> list[str]:
    """Why ``value`` cannot be a term name or synonym (empty if it can)."""
    if not isinstance(value, str):
        return [f"{what} must be text, got {type(value).__name__}"]
    if not value.strip():
        return [f"{what} may not be empty"]
    if value != value.strip():
        return [f"{what} {value!r} has leading or trailing spaces"]
    if any(ch in value for ch in "\x00\n\r\t"):
        return [f"{what} {value!r} contains a control character"]
    return []


def synonym_list_problems(value: object, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        return [f"{what} must be a list of strings"]
    problems = []
    for item in value:
        problems += term_text_problems(item, f"{what} entry")
    return problems


def collision_problems(
    existing: Mapping[str, str],
    new_terms: Iterable[tuple[str, list[str]]],
    ignore: str | None = None,
) -> list[str]:
    """Spellings of ``new_terms`` (name, synonyms) already used by another term.

    ``existing`` is a ``term_map``; ``ignore`` is the canonical name of a term being
    changed, whose own spellings do not count as collisions.
    """
    problems = []
    taken = {k: v for k, v in existing.items() if v != ignore}
    for name, synonyms in new_terms:
        own: set[str] = set()
        for spelling in [name, *synonyms]:
            key = spelling.casefold()
            if key in own:
                continue
            owner = taken.get(key)
            if owner is not None:
                kind = "term name" if spelling == name else "synonym"
                problems.append(f"{kind} {spelling!r} is already used by term {owner!r}")
            own.add(key)
        for key in own:
            taken[key] = name
    return problems
