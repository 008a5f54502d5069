"""Bad input: every mistake gets a clear assetry error and changes nothing stored.

Each test records the catalog's snapshot, model and every row first, makes bad calls,
checks each error's class and message, and checks that the catalog is exactly as before.
Many bad inputs share one catalog inside a test (each call must leave it unchanged), so
both engines run every case without a fresh database per case.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from assetry import (
    BuiltinType,
    Catalog,
    ColumnDef,
    TableDef,
    ValidationError,
)
from tests.conftest import BuildCatalog
from tests.helpers import (
    TYPES,
    catalog_state,
    refused,
    rid_of,
    stock_every_type,
)


def named(message: str, value: object) -> bool:
    """True if ``message`` names ``value`` (verbatim or as its repr)."""
    return str(value) in message or repr(value) in message


@pytest.fixture
def stocked(built_catalog: BuildCatalog) -> Catalog:
    """A catalog with a vocabulary, tables of every column type, references and rows."""
    cat, _ = built_catalog(stock_every_type)
    return cat


# --- identifiers -----------------------------------------------------------------------

BAD_IDENTIFIERS: list[Any] = [
    "Bad'Name",
    'Bad"Name',
    "Bad;Name",
    "Robert'); DROP TABLE Subject;--",
    "Bad Name",
    "Bad-Name",
    "select",
    "SELECT",
    "Table",
    "drop",
    "Bildgröße",
    "1Name",
    "_Name",
    "",
    "N" * 64,
    "Subject2\n",
    None,
    5,
]


def _new_vocabulary(cat: Catalog, name: Any) -> None:
    cat.create_vocabulary(name)


def _new_table(cat: Catalog, name: Any) -> None:
    cat.create_table(TableDef(name))


def _new_asset(cat: Catalog, name: Any) -> None:
    cat.create_asset(name)


def _table_column(cat: Catalog, name: Any) -> None:
    cat.create_table(TableDef("Fresh", [ColumnDef("Fine"), ColumnDef(name)]))


def _asset_column(cat: Catalog, name: Any) -> None:
    cat.create_asset(asset_name="Fresh", column_defs=[ColumnDef(name, BuiltinType.int4)])


def _added_column(cat: Catalog, name: Any) -> None:
    cat.add_column("Subject", ColumnDef(name, BuiltinType.text))


TABLE_OPS = {
    "create_vocabulary": _new_vocabulary,
    "create_table": _new_table,
    "create_asset": _new_asset,
}
COLUMN_OPS = {
    "create_table-column": _table_column,
    "create_asset-column": _asset_column,
    "add_column": _added_column,
}


@pytest.mark.parametrize(
    ("operation", "what"),
    [
        *(pytest.param(op, "table", id=label) for label, op in TABLE_OPS.items()),
        *(pytest.param(op, "column", id=label) for label, op in COLUMN_OPS.items()),
    ],
)
def test_bad_identifier_is_refused(
    stocked: Catalog, operation: Callable[[Catalog, Any], None], what: str
) -> None:
    before = catalog_state(stocked)
    for name in BAD_IDENTIFIERS:
        err = refused(repr(name), lambda n=name: operation(stocked, n), ValidationError)
        message = str(err)
        assert what in message, (name, message)
        if isinstance(name, str) and name:
            assert named(message, name), (name, message)
    assert catalog_state(stocked) == before


def test_asset_whose_derived_table_exists(stocked: Catalog) -> None:
    stocked.create_table(TableDef("photo_execution"))
    before = catalog_state(stocked)
    with pytest.raises(ValidationError, match="photo_execution"):
        stocked.create_asset("Photo")
    assert catalog_state(stocked) == before


def test_table_named_like_an_assets_derived_table(stocked: Catalog) -> None:
    stocked.create_asset("Photo")
    before = catalog_state(stocked)
    with pytest.raises(ValidationError, match="Photo_Asset_Type"):
        stocked.create_table(TableDef("PHOTO_ASSET_TYPE"))
    assert catalog_state(stocked) == before


def test_added_column_equal_ignoring_case_to_an_existing_column(stocked: Catalog) -> None:
    before = catalog_state(stocked)
    clashes = {
        "name": "Name",
        "NAME": "Name",
        "age": "Age",
        "species": "Species",
        "rid": "RID",
        "Rct": "RCT",
        "rmb": "RMB",
    }
    for name, existing in clashes.items():
        err = refused(
            name,
            lambda n=name: stocked.add_column("Subject", ColumnDef(n, BuiltinType.int4)),
            ValidationError,
        )
        assert existing in str(err), (name, str(err))
    assert catalog_state(stocked) == before


def test_new_tables_with_columns_equal_ignoring_case(stocked: Catalog) -> None:
    before = catalog_state(stocked)
    tables = {
        "two-columns": TableDef("Fresh", [ColumnDef("Label"), ColumnDef("LABEL")]),
        "system-column": TableDef("Fresh", [ColumnDef("rid")]),
        "reference-column": TableDef("Fresh", [ColumnDef("subject")], ["Subject"]),
    }
    for label, table in tables.items():
        err = refused(label, lambda t=table: stocked.create_table(t), ValidationError)
        assert "column" in str(err), (label, str(err))
    for column in ["url", "md5", "SHA256", "filename", "Length", "description", "rid"]:
        err = refused(
            column, lambda c=column: stocked.create_asset("Photo", [ColumnDef(c)]), ValidationError
        )
        assert column.lower() in str(err).lower(), str(err)
    assert catalog_state(stocked) == before


# --- names too long once derived -------------------------------------------------------


def test_table_name_whose_dataset_association_name_is_too_long(stocked: Catalog) -> None:
    name = "T" * 60
    before = catalog_state(stocked)
    with pytest.raises(ValidationError, match="Dataset_" + name):
        stocked.create_table(TableDef(name))
    assert catalog_state(stocked) == before


# --- unknown tables and columns --------------------------------------------------------


def test_reference_to_unknown_table(stocked: Catalog) -> None:
    before = catalog_state(stocked)
    calls: dict[str, Callable[[], object]] = {
        "create_table": lambda: stocked.create_table(
            TableDef("Fresh", referenced_tables=["Subject", "Nope"])
        ),
        "create_asset": lambda: stocked.create_asset("Fresh", referenced_tables=["Nope"]),
    }
    for label, call in calls.items():
        err = refused(label, call, ValidationError)
        assert "Nope" in str(err), (label, str(err))
    assert catalog_state(stocked) == before


def test_unknown_or_system_columns_in_insert_and_update(stocked: Catalog) -> None:
    rid = rid_of(stocked, "Subject")
    before = catalog_state(stocked)
    for column in ["Nope", "name", "Name;--", "RIDX", "RID", "RCT", "RMT", "RCB", "RMB"]:
        err = refused(
            f"insert {column}",
            lambda c=column: stocked.insert("Subject", [{"Name": "S2"}, {"Name": "S3", c: "x"}]),
            ValidationError,
        )
        assert isinstance(err, ValidationError)
        [problem] = err.problems
        assert "row 1" in problem and column in problem, problem
    for column in ["Nope", "name", "RCT", "RMB"]:
        err = refused(
            f"update {column}",
            lambda c=column: stocked.update("Subject", [{"RID": rid, "Age": 4, c: "x"}]),
            ValidationError,
        )
        assert isinstance(err, ValidationError)
        [problem] = err.problems
        assert "row 0" in problem and column in problem, problem
    assert catalog_state(stocked) == before


def test_unknown_column_in_filters(stocked: Catalog) -> None:
    for column in ["Nope", "name", "Name;--"]:
        for err in (
            refused(
                f"dict {column}",
                lambda c=column: list(stocked.get_table_as_dict("Subject", filters={c: "S1"})),
                ValidationError,
            ),
            refused(
                f"dataframe {column}",
                lambda c=column: stocked.get_table_as_dataframe("Subject", filters={c: "S1"}),
                ValidationError,
            ),
        ):
            assert column in str(err) and "Subject" in str(err), str(err)


# --- values ----------------------------------------------------------------------------

BAD_VALUES: dict[str, list[Any]] = {
    "text": [5, b"bytes", "a\x00b", ["a"]],
    "markdown": [["a"], 1.5],
    "uri": [3.0, {"u": 1}],
    "int2": [40000, -40000, 1.0],
    "int4": ["abc", 1.5, 2**40, -(2**31) - 1, True],
    "int8": [1.5, 2**70, [1]],
    "float4": ["x", math.nan, True],
    "float8": [math.nan, math.inf, -math.inf, "x"],
    "boolean": ["yes", 1, 0.0],
    "date": ["2024-13-45", "yesterday", 20240101, dt.datetime(2024, 1, 1, 12, 0)],
    "timestamp": ["not a time", "2024-01-01T00:00:00+02:00", 12],
    "timestamptz": [12, "2024-02-30T00:00:00", "nope"],
    "json": [{1, 2}, {"a": math.nan}, object(), b"bytes"],
}


@pytest.mark.parametrize("kind", TYPES)
def test_wrong_value_types_are_refused(stocked: Catalog, kind: str) -> None:
    column = f"C_{kind}"
    rid = rid_of(stocked, "Typed")
    before = catalog_state(stocked)
    for value in BAD_VALUES[kind]:
        err = refused(
            f"insert {value!r}",
            lambda v=value: stocked.insert(
                "Typed", [{"Required": "ok"}, {"Required": "r", column: v}]
            ),
            ValidationError,
        )
        assert isinstance(err, ValidationError)
        [problem] = err.problems
        assert "row 1" in problem and column in problem, problem
        err = refused(
            f"update {value!r}",
            lambda v=value: stocked.update("Typed", [{"RID": rid, column: v}]),
            ValidationError,
        )
        assert isinstance(err, ValidationError)
        [problem] = err.problems
        assert "row 0" in problem and column in problem, problem
    assert catalog_state(stocked) == before


def test_every_problem_of_one_insert_is_reported_together(stocked: Catalog) -> None:
    rows = [
        {"Required": None, "C_int4": "abc", "C_boolean": "yes"},
        {"Required": "fine", "C_int4": 1},
        {
            "Required": "r",
            "C_date": "2024-13-45",
            "C_json": {1, 2},
            "C_float8": math.nan,
            "Unknown_Col": 1,
        },
        {"C_int8": 1.5, "C_int4": 2**40},
    ]
    expected = {
        (0, "Required"),
        (0, "C_int4"),
        (0, "C_boolean"),
        (2, "C_date"),
        (2, "C_json"),
        (2, "C_float8"),
        (2, "Unknown_Col"),
        (3, "Required"),
        (3, "C_int8"),
        (3, "C_int4"),
    }
    before = catalog_state(stocked)
    with pytest.raises(ValidationError) as info:
        stocked.insert("Typed", rows)
    problems = info.value.problems
    assert len(problems) == len(expected), problems
    for row, column in expected:
        matching = [p for p in problems if f"row {row}:" in p and column in p]
        assert len(matching) == 1, (row, column, problems)
    assert not any("row 1:" in p for p in problems)
    assert catalog_state(stocked) == before


def test_every_problem_of_one_update_is_reported_together(stocked: Catalog) -> None:
    typed = rid_of(stocked, "Typed")
    subject = rid_of(stocked, "Subject")
    before = catalog_state(stocked)
    with pytest.raises(ValidationError) as info:
        stocked.update(
            "Typed",
            [{"RID": typed, "C_int2": 2**20, "Required": None, "C_date": "someday"}],
        )
    assert len(info.value.problems) == 3
    with pytest.raises(ValidationError) as info:
        stocked.update(
            "Subject",
            [{"RID": subject, "Name": None, "Age": "old", "Species": "Dog", "Nope": 1}],
        )
    problems = info.value.problems
    assert len(problems) == 4, problems
    for column in ("Name", "Age", "Species", "Nope"):
        assert any(column in p and "row 0" in p for p in problems), column
    assert catalog_state(stocked) == before


def test_null_into_not_null_column(stocked: Catalog) -> None:
    rid = rid_of(stocked, "Subject")
    before = catalog_state(stocked)
    for label, row in {"missing": {"Age": 3}, "explicit-none": {"Name": None, "Age": 3}}.items():
        err = refused(
            label, lambda r=row: stocked.insert("Subject", [{"Name": "fine"}, r]), ValidationError
        )
        assert isinstance(err, ValidationError)
        [problem] = err.problems
        assert "row 1" in problem and "Name" in problem and "null" in problem, problem
    with pytest.raises(ValidationError) as info:
        stocked.update("Subject", [{"RID": rid, "Name": None}])
    [problem] = info.value.problems
    assert "row 0" in problem and "Name" in problem
    assert catalog_state(stocked) == before


def test_wrong_value_types_in_filters(stocked: Catalog) -> None:
    cases = [
        ("C_int4", "abc"),
        ("C_int4", 2**40),
        ("C_date", "2024-13-45"),
        ("C_boolean", "yes"),
        ("C_float8", "x"),
        ("C_timestamptz", "nope"),
        ("C_text", 5),
        ("C_int4", [1, "x"]),
    ]
    for column, value in cases:
        label = f"{column}={value!r}"
        err = refused(
            label,
            lambda c=column, v=value: list(stocked.get_table_as_dict("Typed", filters={c: v})),
            ValidationError,
        )
        assert column in str(err), (label, str(err))
        err = refused(
            label + " (dataframe)",
            lambda c=column, v=value: stocked.get_table_as_dataframe("Typed", filters={c: v}),
            ValidationError,
        )
        assert column in str(err), (label, str(err))


def test_numpy_numbers_from_a_dataframe_are_accepted(stocked: Catalog) -> None:
    [rid] = stocked.insert(
        "Typed",
        [
            {
                "Required": "r",
                "C_int4": np.int64(5),
                "C_int2": np.int16(-3),
                "C_float8": np.float64(0.5),
            }
        ],
    )
    row = stocked.resolve_rid(rid).row
    assert (row["C_int4"], row["C_int2"], row["C_float8"]) == (5, -3, 0.5)


def test_numpy_booleans_from_a_dataframe_are_accepted(stocked: Catalog) -> None:
    [rid] = stocked.insert("Typed", [{"Required": "r", "C_boolean": np.bool_(False)}])
    assert stocked.resolve_rid(rid).row["C_boolean"] is False


# --- definitions ------------------------------------------------------------------------


def test_bad_definitions(stocked: Catalog) -> None:
    before = catalog_state(stocked)
    calls: dict[str, Callable[[], object]] = {
        "default-wrong-type": lambda: stocked.create_table(
            TableDef("Fresh", [ColumnDef("A", "int4", default="x")])
        ),
        "not-null-column-without-default-on-rows": lambda: stocked.add_column(
            "Subject", ColumnDef("A", "int4", nullok=False)
        ),
        "create_table-str": lambda: stocked.create_table("Fresh"),
        "add_column-str": lambda: stocked.add_column("Subject", "A"),
        "column_defs-str": lambda: stocked.create_table(TableDef("Fresh", column_defs=["A"])),
        "asset-comment-list": lambda: stocked.create_asset("Fresh", comment=["x"]),
        "unknown-type": lambda: stocked.create_table(
            TableDef("Fresh", [ColumnDef("A", "varchar")])
        ),
        "column-of-system-table": lambda: stocked.add_column("Execution", ColumnDef("A")),
    }
    for label, call in calls.items():
        refused(label, call, ValidationError)
    assert catalog_state(stocked) == before


def test_definition_fields_of_the_wrong_type(stocked: Catalog) -> None:
    before = catalog_state(stocked)
    calls: dict[str, Callable[[], object]] = {
        "nullok-str": lambda: stocked.create_table(
            TableDef("Fresh", [ColumnDef("A", nullok="no")])
        ),
        "column-comment-int": lambda: stocked.create_table(
            TableDef("Fresh", [ColumnDef("A", comment=5)])
        ),
        "table-comment-int": lambda: stocked.create_table(TableDef("Fresh", comment=7)),
        "vocabulary-comment-list": lambda: stocked.create_vocabulary("Fresh", comment=["x"]),
        "add_column-comment-int": lambda: stocked.add_column("Subject", ColumnDef("A", comment=5)),
    }
    for label, call in calls.items():
        refused(label, call, ValidationError)
        assert stocked.apply_model(stocked.model) == [], label
    assert catalog_state(stocked) == before


# --- terms, references, deletes, RIDs --------------------------------------------------


def test_unknown_vocabulary_term(stocked: Catalog) -> None:
    rid = rid_of(stocked, "Subject")
    before = catalog_state(stocked)
    for term in ["Dog", "mouse ", "Mouse;--", "", "A small rodent"]:
        err = refused(
            repr(term),
            lambda t=term: stocked.insert("Subject", [{"Name": "S2", "Species": t}]),
            ValidationError,
        )
        assert isinstance(err, ValidationError)
        [problem] = err.problems
        assert "row 0" in problem and "vocabulary" in problem and "Species" in problem
        assert repr(term) in problem, problem
    with pytest.raises(ValidationError) as info:
        stocked.update("Subject", [{"RID": rid, "Species": "Dog"}])
    [problem] = info.value.problems
    assert "Dog" in problem and "vocabulary" in problem and "Species" in problem
    assert catalog_state(stocked) == before


def test_reference_to_a_rid_that_does_not_exist(stocked: Catalog) -> None:
    sample = rid_of(stocked, "Sample")
    subject = rid_of(stocked, "Subject")
    missing = stocked.rid_prefix + "-ZZZZZ"
    before = catalog_state(stocked)
    with pytest.raises(ValidationError) as info:
        stocked.insert(
            "Sample",
            [
                {"Label": "a", "Subject": missing},
                {"Label": "b", "Subject": subject},
                {"Label": "c", "Subject": sample},  # a RID, but not of a Subject
            ],
        )
    problems = info.value.problems
    assert len(problems) == 2, problems
    assert "row 0" in problems[0] and missing in problems[0] and "Subject" in problems[0]
    assert "row 2" in problems[1] and sample in problems[1]
    with pytest.raises(ValidationError, match=missing):
        stocked.update("Sample", [{"RID": sample, "Subject": missing.lower()}])
    assert catalog_state(stocked) == before


# --- model documents -------------------------------------------------------------------


def _table(**fields: Any) -> dict[str, Any]:
    return {"name": "Fresh", "kind": "table", "schema": "domain", "columns": [], **fields}


INVALID_DOCUMENTS: dict[str, tuple[Any, str]] = {
    "no-tables": ({}, "tables"),
    "tables-not-a-list": ({"tables": "Fresh"}, "tables"),
    "unknown-top-level-key": ({"tables": [], "extra": 1}, "extra"),
    "bad-kind": ({"tables": [_table(kind="weird")]}, "tables/0/kind"),
    "name-space": ({"tables": [_table(name="Fresh Table")]}, "tables/0/name"),
    "name-64-chars": ({"tables": [_table(name="F" * 64)]}, "tables/0/name"),
    "name-int": ({"tables": [_table(name=5)]}, "tables/0/name"),
    "no-columns": ({"tables": [{"name": "Fresh", "kind": "table"}]}, "tables/0"),
    "bad-type": (
        {"tables": [_table(), _table(name="Other", columns=[{"name": "A", "type": "varchar"}])]},
        "tables/1/columns/0/type",
    ),
    "nullok-not-bool": (
        {"tables": [_table(columns=[{"name": "A", "type": "text", "nullok": "yes"}])]},
        "tables/0/columns/0/nullok",
    ),
    "column-name": (
        {"tables": [_table(columns=[{"name": "A;--", "type": "text"}])]},
        "tables/0/columns/0/name",
    ),
    "fk-extra-key": (
        {"tables": [_table(foreign_keys=[{"column": "A", "table": "Subject", "x": 1}])]},
        "tables/0/foreign_keys/0",
    ),
    "fk-referenced-column": (
        {
            "tables": [
                _table(foreign_keys=[{"column": "A", "table": "B", "referenced_column": "ID"}])
            ]
        },
        "tables/0/foreign_keys/0/referenced_column",
    ),
}


def test_model_documents_breaking_the_json_schema(stocked: Catalog) -> None:
    before = catalog_state(stocked)
    for label, (document, path) in INVALID_DOCUMENTS.items():
        err = refused(label, lambda d=document: stocked.apply_model(d), ValidationError)
        assert path in str(err), (label, str(err))
    assert catalog_state(stocked) == before


def test_model_document_problems_are_reported_together(stocked: Catalog) -> None:
    document = {
        "tables": [
            _table(kind="weird"),
            _table(name="Other", columns=[{"name": "A", "type": "varchar"}]),
        ]
    }
    before = catalog_state(stocked)
    with pytest.raises(ValidationError) as info:
        stocked.apply_model(document)
    problems = info.value.problems
    assert len(problems) == 2, problems
    assert any("tables/0/kind" in p for p in problems)
    assert any("tables/1/columns/0/type" in p for p in problems)
    assert catalog_state(stocked) == before


def test_model_document_referencing_an_unknown_table(stocked: Catalog) -> None:
    document = {
        "tables": [
            _table(name="Fine", columns=[{"name": "A", "type": "text"}]),
            _table(
                name="Fresh",
                columns=[{"name": "Zed", "type": "text"}],
                foreign_keys=[{"column": "Zed", "table": "Zed", "referenced_column": "RID"}],
            ),
        ]
    }
    before = catalog_state(stocked)
    with pytest.raises(ValidationError, match="Zed"):
        stocked.apply_model(document)
    assert catalog_state(stocked) == before
    assert "Fine" not in stocked.list_tables()


def test_model_documents_with_bad_names_that_pass_the_json_schema(stocked: Catalog) -> None:
    [subject] = [t for t in stocked.model["tables"] if t["name"] == "Subject"]
    retyped = {
        **subject,
        "columns": [{**c, "type": "text"} if c["name"] == "Age" else c for c in subject["columns"]],
    }
    documents = {
        "reserved-table": (_table(name="select"), "select"),
        "case-clash-table": (_table(name="subject"), "Subject"),
        "reserved-column": (_table(columns=[{"name": "drop", "type": "text"}]), "drop"),
        "case-clash-columns": (
            _table(columns=[{"name": "A", "type": "text"}, {"name": "a", "type": "int4"}]),
            "A",
        ),
        "changed-column-type": (retyped, "Age"),
    }
    before = catalog_state(stocked)
    for label, (table, named_in_error) in documents.items():
        err = refused(label, lambda t=table: stocked.apply_model({"tables": [t]}), ValidationError)
        assert named_in_error in str(err), (label, str(err))
    assert catalog_state(stocked) == before


def test_model_document_table_without_schema_is_applied(stocked: Catalog) -> None:
    document = {"tables": [{"name": "Fresh", "kind": "table", "columns": []}]}
    assert stocked.apply_model(document) == ["Fresh"]
    assert "Fresh" in stocked.list_tables(kind="table")
