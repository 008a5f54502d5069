"""Resolving term names and synonyms, and the naming rules of vocabulary terms.

Term names are unique ignoring case, and a synonym belongs to one term only, so every
spelling (name or synonym, any case) maps to exactly one canonical term name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from assetry.catalog.session import Session


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


def canonical_terms(session: Session, vocabulary: str, names: Iterable[object]) -> list[str]:
    """The canonical names of ``names`` (names or synonyms, any case) in ``vocabulary``,
    without repeats; every unknown one reported in one ``ValidationError``."""
    from assetry.errors import ValidationError

    terms = term_map(session, vocabulary)
    out, problems = [], []
    for name in names:
        canonical = terms.get(name.casefold()) if isinstance(name, str) else None
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
