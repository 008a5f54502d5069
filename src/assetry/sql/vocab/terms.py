"""Vocabulary terms: add, look up, list, synonyms, descriptions, delete.

Each function runs inside the caller's session; writes go through ``rows`` so they are
checked, versioned and kept in history like any other row change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import ConflictError, TermNotFound, ValidationError
from assetry.records.terms import Term
from assetry.sql import reads, rows
from assetry.sql.model import Model, TableModel
from assetry.sql.session import Session
from assetry.sql.vocab import builtin, resolve


def vocabulary(session: Session, table: str, model: Model | None = None) -> TableModel:
    """The model of vocabulary ``table`` (in ``model``, the session's by default); a
    ``ValidationError`` if it is another kind."""
    found = (model if model is not None else session.model).table(table)
    if found.kind != "vocabulary":
        raise ValidationError(f"table {table!r} is a {found.kind} table, not a vocabulary")
    return found


def _all_rows(session: Session, table: str) -> list[dict[str, Any]]:
    t = session.table(table)
    return [dict(r) for r in session.conn.execute(sa.select(t).order_by(t.c.Name)).mappings()]


def _rows_as_of(session: Session, vocab: TableModel, snapshot: int) -> list[dict[str, Any]]:
    """The term rows of ``vocab`` (its model at ``snapshot``) as they were then, by name.

    Names are compared as Python strings, which is the order ``ORDER BY Name`` gives on
    SQLite and on a PostgreSQL database with the C collation."""
    found = reads.select_page(session, vocab, snapshot=snapshot, filters={})
    return sorted(found, key=lambda row: row["Name"])


def _find(rows_: list[dict[str, Any]], table: str, term_name: object) -> dict[str, Any]:
    if not isinstance(term_name, str):
        raise ValidationError(f"a term name must be text, got {type(term_name).__name__}")
    wanted = term_name.casefold()
    for row in rows_:
        if any(s.casefold() == wanted for s in resolve.spellings(row)):
            return row
    raise TermNotFound(table, term_name)


def find_row(session: Session, table: str, term_name: object) -> dict[str, Any]:
    """The row of the term named ``term_name`` (name or synonym, any case)."""
    vocabulary(session, table)
    if not isinstance(term_name, str):
        raise ValidationError(f"a term name must be text, got {type(term_name).__name__}")
    return _find(_all_rows(session, table), table, term_name)


def lookup(
    session: Session,
    table: str,
    term_name: str,
    model: Model | None = None,
    snapshot: int | None = None,
) -> Term:
    """A term by name or synonym, any case; with ``snapshot`` (and ``model``, the model
    at that snapshot), among the terms as they were then."""
    if snapshot is None:
        return Term.from_row(find_row(session, table, term_name))
    vocab = vocabulary(session, table, model)
    if not isinstance(term_name, str):
        raise ValidationError(f"a term name must be text, got {type(term_name).__name__}")
    return Term.from_row(_find(_rows_as_of(session, vocab, snapshot), table, term_name))


def list_terms(
    session: Session, table: str, model: Model | None = None, snapshot: int | None = None
) -> list[Term]:
    """Every term of ``table`` by name; as of ``snapshot`` (``model`` being the model at
    it) when given."""
    vocab = vocabulary(session, table, model)
    if snapshot is None:
        return [Term.from_row(row) for row in _all_rows(session, table)]
    return [Term.from_row(row) for row in _rows_as_of(session, vocab, snapshot)]


def add(
    session: Session,
    table: str,
    term_name: str,
    description: str | None = None,
    synonyms: Sequence[str] | None = None,
    exists_ok: bool = True,
) -> Term:
    """Add a term; with ``exists_ok`` an existing term of the same name is returned,
    with the ``synonyms`` given that it lacked added."""
    vocabulary(session, table)
    if isinstance(synonyms, str):
        synonyms = [synonyms]
    problems = resolve.term_text_problems(term_name, "term name")
    problems += resolve.synonym_list_problems(list(synonyms or []), "synonyms")
    if problems:
        raise ValidationError(problems)
    existing = resolve.term_map(session, table)
    owner = existing.get(term_name.casefold())
    if owner is not None and owner.casefold() == term_name.casefold():
        if exists_ok:
            return _add_synonyms(session, table, owner, list(synonyms or []))
        raise ConflictError(f"vocabulary {table!r} already has a term {owner!r}")
    unique: dict[str, str] = {term_name.casefold(): term_name}
    for synonym in synonyms or []:
        unique.setdefault(synonym.casefold(), synonym)
    row = {"Name": term_name, "Description": description, "Synonyms": list(unique.values())[1:]}
    # A name or synonym another term has is a ConflictError from ``rows`` itself, as it
    # is for ``cat.insert`` on the vocabulary.
    rows.insert(session, table, [row])
    return lookup(session, table, term_name)


def _add_synonyms(session: Session, table: str, name: str, synonyms: list[str]) -> Term:
    """The existing term ``name`` with ``synonyms`` added (those it lacks; one another
    term has is a ``ConflictError``, as ``add_synonym`` gives)."""
    row = find_row(session, table, name)
    spelled = {s.casefold() for s in resolve.spellings(row)}
    new: list[str] = []
    for synonym in synonyms:
        if synonym.casefold() not in spelled:
            spelled.add(synonym.casefold())
            new.append(synonym)
    if not new:
        return Term.from_row(row)
    return _change(session, table, row, Synonyms=[*(row.get("Synonyms") or []), *new])


def _change(session: Session, table: str, row: dict[str, Any], **values: Any) -> Term:
    rows.update(session, table, [{"RID": row["RID"], **values}])
    return lookup(session, table, row["Name"] if "Name" not in values else values["Name"])


def add_synonym(session: Session, table: str, term_name: str, synonym: str) -> Term:
    row = find_row(session, table, term_name)
    current = list(row.get("Synonyms") or [])
    problems = resolve.term_text_problems(synonym, "synonym")
    if problems:
        raise ValidationError(problems)
    if any(s.casefold() == synonym.casefold() for s in resolve.spellings(row)):
        return Term.from_row(row)
    return _change(session, table, row, Synonyms=[*current, synonym])


def remove_synonym(session: Session, table: str, term_name: str, synonym: str) -> Term:
    row = find_row(session, table, term_name)
    current = list(row.get("Synonyms") or [])
    kept = [s for s in current if s.casefold() != str(synonym).casefold()]
    if len(kept) == len(current):
        raise TermNotFound(
            table,
            row["Name"],
            f"term {row['Name']!r} of vocabulary {table!r} has no synonym {synonym!r}",
        )
    return _change(session, table, row, Synonyms=kept)


def update(
    session: Session,
    table: str,
    term_name: str,
    *,
    description: str | None = None,
    synonyms: Sequence[str] | None = None,
    name: str | None = None,
) -> Term:
    """Change a term's description, synonyms or name (renaming a term in use or a built-in
    term is refused)."""
    row = find_row(session, table, term_name)
    values: dict[str, Any] = {}
    if description is not None:
        values["Description"] = description
    if synonyms is not None:
        values["Synonyms"] = [synonyms] if isinstance(synonyms, str) else list(synonyms)
    if name is not None and name != row["Name"]:
        refused = builtin.rename_problems(
            session.model, table, [{"RID": row["RID"], "Name": name}], {row["RID"]: row}
        )
        if refused:
            raise ValidationError(refused)
        uses = _uses(session, table, row["Name"])
        if uses:
            raise ConflictError(f"term {row['Name']!r} is in use ({uses}); it cannot be renamed")
        values["Name"] = name
    if not values:
        return Term.from_row(row)
    return _change(session, table, row, **values)


def _uses(session: Session, table: str, name: str) -> str:
    found = []
    for other, fk in session.model.referencing(table):
        col = session.table(other.name).c[fk.column]
        count = session.conn.execute(sa.select(sa.func.count()).where(col == name)).scalar_one()
        if count:
            found.append(f"{count} row(s) of {other.name!r}")
    return ", ".join(found)


def delete(session: Session, table: str, term_name: str) -> None:
    """Delete a term; refused with ``ConflictError`` while any row uses it, and with
    ``ValidationError`` for a built-in term (``builtin``)."""
    row = find_row(session, table, term_name)
    refused = builtin.delete_problems(session.model, table, [row])
    if refused:
        raise ValidationError(refused)
    uses = _uses(session, table, row["Name"])
    if uses:
        raise ConflictError(
            f"term {row['Name']!r} of {table!r} is still used by {uses}; it cannot be deleted"
        )
    rows.delete(session, table, [row["RID"]])
