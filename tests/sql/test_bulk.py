"""Checks of many rows a column at a time: the same values stored, the same problems
reported, as the row-by-row checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from assetry import BuiltinType, Catalog, ColumnDef, ConflictError, TableDef, ValidationError
from assetry.sql import bulk, rows
from assetry.sql.session import Session
from assetry.sql.vocab import resolve
from tests.conftest import BuildCatalog

ROWS = 40  # above bulk.MIN_ROWS, so the bulk path (executemany, COPY) runs too


def define(cat: Catalog) -> list[str]:
    """A table with a column of every type, a term column and a RID column; return the
    RIDs of the rows its references may point to."""
    cat.create_vocabulary("Species")
    cat.add_term("Species", "Mus musculus", synonyms=["mouse"])
    cat.add_term("Species", "Rattus")
    cat.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", BuiltinType.text)]))
    columns = [
        ColumnDef("Text", BuiltinType.text, nullok=False),
        ColumnDef("Note", BuiltinType.markdown, default="none"),
        ColumnDef("Small", BuiltinType.int2),
        ColumnDef("Big", BuiltinType.int8),
        ColumnDef("Ratio", BuiltinType.float8),
        ColumnDef("Single", BuiltinType.float4),
        ColumnDef("Flag", BuiltinType.boolean),
        ColumnDef("Day", BuiltinType.date),
        ColumnDef("At", BuiltinType.timestamptz),
        ColumnDef("Doc", BuiltinType.json),
    ]
    cat.create_table(
        TableDef("Sample", column_defs=columns, referenced_tables=["Species", "Subject"])
    )
    return cat.insert("Subject", [{"Name": f"s{i}"} for i in range(3)])


def good_rows(subjects: list[str]) -> list[dict[str, Any]]:
    spellings = ["Mus musculus", "MOUSE", "mouse", "rattus", None]
    out = []
    for i in range(ROWS):
        out.append(
            {
                "Text": f"name {i} " + ("é✓😀" if i % 3 == 0 else ""),
                "Note": None if i % 2 else f"note {i}",
                "Small": None if i % 5 == 0 else i - 20,
                "Big": 2**62 + i,
                "Ratio": i / 3 if i % 4 else i,  # ints are floats once checked
                "Single": 0.5,
                "Flag": i % 2 == 0,
                "Day": "2024-06-01" if i % 2 else dt.date(2024, 6, 2),
                "At": "2024-06-01T12:00:00+02:00" if i % 2 else dt.datetime(2024, 6, 1, 12),
                "Doc": {"i": i, "list": [1, "two", None]},
                "Species": spellings[i % len(spellings)],
                "Subject": f"  {subjects[i % 3].lower()} " if i % 2 else subjects[i % 3],
            }
        )
    return out


def both_ways(cat: Catalog, table: str, given: list[Mapping[str, Any]]) -> tuple[Any, Any]:
    """(column-at-a-time result or None, (row-by-row result, its problems))."""
    backend: Any = cat._backend
    session: Session
    with backend.session() as session:
        model = session.model.table(table)
        columns = rows._checked_columns(rows._Checker(session, model), given, False)
        fast = None if columns is None else bulk.as_rows(len(given), columns, {})
        checker = rows._Checker(session, model)
        slow = rows._checked_rows(checker, given, False)
        return fast, (slow, checker.problems)


def test_good_rows_are_stored_as_row_by_row_checks_would(db_catalog: Catalog) -> None:
    subjects = define(db_catalog)
    given = good_rows(subjects)
    fast, (slow, problems) = both_ways(db_catalog, "Sample", given)
    assert problems == []
    assert fast == slow
    assert [row["Species"] for row in fast[:5]] == [
        "Mus musculus", "Mus musculus", "Mus musculus", "Rattus", None
    ]  # fmt: skip
    assert fast[1]["Subject"] == subjects[1] and fast[1]["Note"] == "none"
    new = db_catalog.insert("Sample", given)
    stored = {r["RID"]: r for r in db_catalog.get_table_as_dict("Sample")}
    for rid, expected in zip(new, fast, strict=True):
        row = stored[rid]
        for column in expected:
            assert row[column] == expected[column], column


def test_a_refused_copy_stores_nothing_and_names_the_conflict(postgres_catalog: Catalog) -> None:
    """PostgreSQL takes many rows by COPY: a row the database refuses (here a RID that is
    already there) is a ConflictError as from an INSERT, and none of the rows stays."""
    cat = postgres_catalog
    cat.create_table(TableDef("Thing", column_defs=[ColumnDef("Name", BuiltinType.text)]))
    [taken] = cat.insert("Thing", [{"Name": "first"}])
    backend: Any = cat._backend
    refused = pytest.raises(ConflictError, match="duplicate value")
    with refused, backend.session(write=True) as session:
        new = session.new_rids(ROWS)
        stamp = {"RCT": session.now, "RCB": session.user, **session.stamp()}
        names = {"RID": [*new, taken], "Name": [f"n{i}" for i in range(ROWS + 1)]}
        bulk.insert(session.conn, session.table("Thing"), ROWS + 1, names, stamp, ["Name"])
    assert [row["Name"] for row in cat.get_table_as_dict("Thing")] == ["first"]
    assert cat.search("n1", tables=["Thing"]) == []


BAD: list[tuple[str, Any, str]] = [
    ("Text", "a\x00b", "row 7: column 'Text': text may not contain a NUL character"),
    ("Text", "a\ud800", "row 7: column 'Text': text is not valid Unicode"),
    ("Text", None, "row 7: column 'Text' may not be null"),
    ("Text", 12, "row 7: column 'Text': expected text, got int 12"),
    ("Small", 40000, "row 7: column 'Small': 40000 is out of range for int2"),
    ("Small", True, "row 7: column 'Small': expected an integer, got bool True"),
    ("Big", 2**63, f"row 7: column 'Big': {2**63} is out of range for int8"),
    ("Ratio", float("nan"), "row 7: column 'Ratio': nan is not a finite number"),
    ("Day", "June", "row 7: column 'Day': expected a date (YYYY-MM-DD), got 'June'"),
    ("Species", "Felis", "row 7: column 'Species': 'Felis' is not a term of vocabulary"),
    ("Species", "mouse\x00", "row 7: column 'Species': text may not contain a NUL"),
    ("Subject", "ZZZZZZZZ-1", "row 7: column 'Subject': no row of 'Subject' has RID 'ZZZZZZZZ-1'"),
    ("Nope", 1, "row 7: table 'Sample' has no column 'Nope'"),
    ("RID", "X-1", "row 7: column 'RID' is set by the catalog"),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD, ids=[b[2][7:40] for b in BAD])
def test_a_bad_value_is_reported_as_row_by_row_checks_do(
    built_catalog: BuildCatalog, column: str, value: Any, message: str
) -> None:
    sqlite_catalog, subjects = built_catalog(define)
    given = good_rows(subjects)
    given[7][column] = value
    fast, (_, problems) = both_ways(sqlite_catalog, "Sample", given)
    assert fast is None
    assert len(problems) == 1 and problems[0].startswith(message)
    given[30]["Species"] = "Felis"  # and a second problem
    _, (_, problems) = both_ways(sqlite_catalog, "Sample", given)
    with pytest.raises(ValidationError) as caught:
        sqlite_catalog.insert("Sample", given)
    assert caught.value.problems == problems  # same words, same order
    assert len(problems) == 2
    assert any(problem.startswith(message) for problem in problems)
    assert any(problem.startswith("row 30: column 'Species': 'Felis'") for problem in problems)
    assert list(sqlite_catalog.get_table_as_dict("Sample")) == []


def test_many_problems_keep_row_order_and_the_first_fifty(built_catalog: BuildCatalog) -> None:
    sqlite_catalog, subjects = built_catalog(define)
    given = [dict(row) for row in good_rows(subjects) * 3]
    for i, row in enumerate(given):
        row["Small"] = "x" if i % 2 else row["Small"]
        row["Species"] = "Felis" if i % 3 == 0 else row["Species"]
    with pytest.raises(ValidationError) as caught:
        sqlite_catalog.insert("Sample", given)
    _, (_, problems) = both_ways(sqlite_catalog, "Sample", given)
    assert caught.value.problems == problems
    assert str(caught.value).count("; ") == 50  # fifty shown, then "... and N more"
    assert problems[:3] == [
        "row 0: column 'Species': 'Felis' is not a term of vocabulary 'Species'",
        "row 1: column 'Small': expected an integer, got str 'x'",
        "row 3: column 'Small': expected an integer, got str 'x'",
    ]


def test_canonical_names_finds_names_synonyms_any_case(db_catalog: Catalog) -> None:
    define(db_catalog)
    backend: Any = db_catalog._backend
    with backend.session() as session:
        found = resolve.canonical_names(
            session, "Species", ["Rattus", "RATTUS", "Mouse", "mus MUSCULUS", "Felis", "a\x00"]
        )
        assert found == {
            "Rattus": "Rattus",
            "RATTUS": "Rattus",
            "Mouse": "Mus musculus",
            "mus MUSCULUS": "Mus musculus",
        }
        with pytest.raises(ValidationError) as caught:
            resolve.canonical_terms(session, "Species", ["mouse", "Felis", 3, "x\ud800", "Rattus"])
        assert caught.value.problems == [
            "'Felis' is not a term of vocabulary 'Species'",
            "3 is not a term of vocabulary 'Species'",
            "'x\\ud800' is not a term of vocabulary 'Species'",
        ]
        assert resolve.canonical_terms(session, "Species", ["rattus", "MOUSE", "Rattus"]) == [
            "Rattus",
            "Mus musculus",
        ]


def test_existing_rids_of_many_normalised_rids(db_catalog: Catalog) -> None:
    subjects = define(db_catalog)
    backend: Any = db_catalog._backend
    with backend.session() as session:
        found = rows.existing_rids(session, "Subject", [*subjects, "ZZZZZZZZ-1", "é'\"x"])
        assert found == set(subjects)
        assert rows.existing_rids(session, "Subject", subjects[:1]) == set(subjects[:1])
