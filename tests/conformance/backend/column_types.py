"""Column types: a value of each BuiltinType (dates, timestamps, JSON objects and arrays,
floats, NULLs) comes back as it was written, row by row and in bulk, and values a
database cannot hold are refused with a ValidationError before they reach it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from assetry import BuiltinType, Catalog, ColumnDef, TableDef, ValidationError
from assetry.api.datapath import Condition
from tests.helpers import (
    GOOD_VALUES,
    STORED_GOOD_VALUES,
    TYPES,
    catalog_state,
)

ALL_TYPES = [
    ("text", "héllo, wörld"),
    ("markdown", "# Title\n\n*body*"),
    ("int2", -32768),
    ("int4", 2**31 - 1),
    ("int8", -(2**63)),
    ("float4", 0.5),
    ("float8", 1.0e-300),
    ("boolean", False),
    ("date", dt.date(1999, 12, 31)),
    ("timestamp", dt.datetime(2024, 2, 29, 23, 59, 59, 123456)),
    ("timestamptz", dt.datetime(2024, 2, 29, 23, 59, 59, 123456, tzinfo=dt.UTC)),
    ("json", {"a": [1, 2.5, None, True], "b": {"c": "d"}}),
    ("uri", "https://example.org/x?y=1"),
]
# JSON holds arrays too (there is no array column type): one at the top of a value.
ROUND_TRIPS = [*ALL_TYPES, ("json", [1, "two", None, [3.5, {"k": False}]])]
ROUND_TRIP_IDS = [*(k for k, _ in ALL_TYPES), "json-array"]


def _insert_refused(cat: Catalog, column: str, value: Any) -> None:
    """Inserting ``value`` into ``column`` of Typed is a ValidationError that changes nothing."""
    before = catalog_state(cat)
    with pytest.raises(ValidationError) as info:
        cat.insert("Typed", [{"Required": "r", column: value}])
    [problem] = info.value.problems
    assert "row 0" in problem and column in problem
    assert catalog_state(cat) == before


class AbstractColumnTypeTests:
    # --- round trips -----------------------------------------------------------------------

    def test_every_builtin_type_round_trips(self, catalog: Catalog) -> None:
        """A value of each type (and a JSON array), inserted row by row, reads back equal
        and of its type; a NULL of each type reads back None."""
        columns = [ColumnDef(f"V{i}", kind) for i, (kind, _) in enumerate(ROUND_TRIPS)]
        catalog.create_table(TableDef("Typed", column_defs=columns))
        row = {f"V{i}": value for i, (_, value) in enumerate(ROUND_TRIPS)}
        [rid] = catalog.insert("Typed", [row])
        [nulls] = catalog.insert("Typed", [{}])
        got = {r["RID"]: r for r in catalog.get_table_as_dict("Typed")}
        for i, (_, value) in enumerate(ROUND_TRIPS):
            label = ROUND_TRIP_IDS[i]
            assert got[rid][f"V{i}"] == value, label
            assert type(got[rid][f"V{i}"]) is type(value), label
            assert got[nulls][f"V{i}"] is None, label

    def test_every_type_round_trips_through_the_bulk_insert(self, catalog: Catalog) -> None:
        columns = [ColumnDef(f"C_{kind}", kind) for kind, _ in ALL_TYPES]
        catalog.create_table(TableDef("Wide", column_defs=columns))
        row = {f"C_{kind}": value for kind, value in ALL_TYPES}
        rows = [row] * 40 + [dict.fromkeys(row)] * 40  # past the bulk threshold, NULLs too
        catalog.insert("Wide", rows)
        got = list(catalog.get_table_as_dict("Wide"))
        assert len(got) == 80
        full = [g for g in got if g["C_text"] is not None]
        empty = [g for g in got if g["C_text"] is None]
        assert len(full) == 40 and len(empty) == 40
        for g in full:
            for kind, value in ALL_TYPES:
                assert g[f"C_{kind}"] == value and type(g[f"C_{kind}"]) is type(value), kind
        assert all(g[f"C_{kind}"] is None for g in empty for kind, _ in ALL_TYPES)
        assert full[0]["RCT"].tzinfo is not None

    def test_good_values_of_every_type_are_accepted(self, stocked: Catalog) -> None:
        """Values given as text (dates, timestamps) are stored as their type."""
        row = {f"C_{t}": v for t, v in GOOD_VALUES.items()}
        [rid] = stocked.insert("Typed", [{**row, "Required": "r"}])
        stored = stocked.resolve_rid(rid).row
        for kind in TYPES:
            assert stored[f"C_{kind}"] == STORED_GOOD_VALUES[kind], kind

    def test_jsonb_column_holds_json(self, catalog: Catalog) -> None:
        catalog.create_table(TableDef("Config", column_defs=[ColumnDef("Doc", BuiltinType.jsonb)]))
        [rid] = catalog.insert("Config", [{"Doc": {"lr": 0.001, "layers": [1, 2]}}])
        assert catalog.resolve_rid(rid).row["Doc"] == {"lr": 0.001, "layers": [1, 2]}

    def test_defaults_and_not_null(self, catalog: Catalog) -> None:
        catalog.create_table(
            TableDef(
                "Run",
                column_defs=[
                    ColumnDef("Name", "text", nullok=False),
                    ColumnDef("Epochs", "int4", default=10),
                ],
            )
        )
        catalog.insert("Run", [{"Name": "a"}])
        [row] = catalog.get_table_as_dict("Run")
        assert row["Epochs"] == 10

    def test_dataframe_types_and_filters(self, subject_image: Catalog) -> None:
        catalog = subject_image
        [a, _b] = catalog.insert("Subject", [{"Name": "a", "Age": 3}, {"Name": "b"}])
        frame = catalog.get_table_as_dataframe("Subject")
        assert list(frame.columns) == ["RID", "RCT", "RMT", "RCB", "RMB", "Name", "Age", "Species"]
        assert str(frame["Age"].dtype) == "Int64"
        assert frame["Age"].isna().sum() == 1
        only = catalog.get_table_as_dataframe("Subject", filters={"RID": a.lower()})
        assert list(only["Name"]) == ["a"]
        empty = catalog.get_table_as_dataframe("Image")
        assert isinstance(empty, pd.DataFrame) and empty.empty and "URL" in empty.columns
        with pytest.raises(ValidationError, match="no column 'Nope'"):
            catalog.get_table_as_dataframe("Subject", filters={"Nope": 1})

    def test_filter_values_are_checked_and_float4_matches(self, catalog: Catalog) -> None:
        catalog.create_table(
            TableDef("Num", column_defs=[ColumnDef("N", "int4"), ColumnDef("F", "float4")])
        )
        [rid] = catalog.insert("Num", [{"N": 1, "F": 0.1}])
        with pytest.raises(ValidationError, match="'N'"):
            list(catalog.get_table_as_dict("Num", filters={"N": "abc"}))
        assert [r["RID"] for r in catalog.get_table_as_dict("Num", filters={"F": 0.1})] == [rid]
        assert [r["RID"] for r in catalog.get_table_as_dict("Num", filters={"N": [1, 2]})] == [rid]

    def test_float4_boolean_and_timestamps_in_path_queries(self, catalog: Catalog) -> None:
        cat = catalog
        cat.create_table(TableDef("Reading", column_defs=[
            ColumnDef("F4", BuiltinType.float4),
            ColumnDef("Ok", BuiltinType.boolean),
            ColumnDef("At", BuiltinType.timestamptz),
            ColumnDef("Local", BuiltinType.timestamp),
        ]))  # fmt: skip
        cat.insert("Reading", [
            {"F4": 0.1, "Ok": True, "At": "2024-01-01T10:00:00+02:00",
             "Local": "2024-01-01T10:00"},
            {"F4": 0.5, "Ok": False, "At": "2024-01-02T10:00:00+00:00",
             "Local": "2024-01-02T10:00"},
        ])  # fmt: skip
        r = cat.pathBuilder().schemas[cat.domain_schema].Reading

        def count(cond: Condition) -> int:
            return len(r.filter(cond).entities().fetch())

        assert count(r.F4 == 0.1) == 1  # a stored real equals the literal it was written as
        assert count(r.F4 > 0.1) == 1
        assert count(r.Ok == True) == 1  # noqa: E712
        assert count(r.Ok != True) == 1  # noqa: E712
        assert count(r.At == "2024-01-01T08:00:00Z") == 1  # compared in UTC
        assert count(r.At > dt.datetime(2024, 1, 1, 9, tzinfo=dt.UTC)) == 1
        assert count(r.Local >= dt.datetime(2024, 1, 1, 12)) == 1
        assert count(r.RCT <= dt.datetime.now(dt.UTC)) == 2
        with pytest.raises(ValidationError, match="true or false"):
            count(r.Ok == "yes")

    # --- values no database column can hold ------------------------------------------------

    def test_float4_out_of_range_is_validation_error(self, stocked: Catalog) -> None:
        for value in (1e39, -1e300):
            _insert_refused(stocked, "C_float4", value)

    def test_nul_character_in_json_is_validation_error(self, stocked: Catalog) -> None:
        for value in ({"a": "x\x00y"}, {"k\x00": 1}, ["\x00"]):
            _insert_refused(stocked, "C_json", value)

    def test_unencodable_text_is_validation_error(self, stocked: Catalog) -> None:
        for column in ("C_text", "C_markdown", "C_uri"):
            _insert_refused(stocked, column, "a\ud800b")

    def test_nat_is_validation_error(self, stocked: Catalog) -> None:
        _insert_refused(stocked, "C_timestamptz", pd.NaT)

    def test_timestamp_out_of_range_after_utc_conversion_is_validation_error(
        self, stocked: Catalog
    ) -> None:
        plus5 = dt.timezone(dt.timedelta(hours=5))
        _insert_refused(stocked, "C_timestamptz", dt.datetime(1, 1, 1, tzinfo=plus5))
