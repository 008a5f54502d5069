"""Browsing (what the web interface's table pages read): sorted keyset pages in either
direction with NULLs first, counts and value counts under conditions."""

from __future__ import annotations

import pytest

from assetry import Catalog, ColumnDef, TableDef, ValidationError


def _walk(
    catalog: Catalog, sort: str, descending: bool, size: int, conditions: list | None = None
) -> list[str]:
    """Every RID of table Reading, page by page along ``sort``."""
    seen: list[str] = []
    after = None
    while True:
        page = catalog.query_page(
            "Reading", conditions or [], sort=sort, descending=descending, after=after, limit=size
        )
        seen += [row["RID"] for row in page]
        if len(page) < size:
            return seen
        after = [page[-1][sort], page[-1]["RID"]]


class AbstractBrowsingTests:
    @pytest.fixture
    def readings(self, catalog: Catalog) -> list[dict]:
        catalog.create_vocabulary("Unit")
        for name in ("cm", "mm"):
            catalog.add_term("Unit", name, synonyms=[name.upper() + "S"])
        catalog.create_table(
            TableDef(
                "Reading",
                [ColumnDef("Value", "float8"), ColumnDef("Taken", "timestamptz")],
                referenced_tables=["Unit"],
            )
        )
        values = [3.0, None, 1.0, 3.0, None, 2.0, 3.0, 1.0, None, 2.0, 5.0]
        rows = [
            {
                "Value": v,
                "Unit": "cm" if i % 3 else "mm",
                "Taken": f"2026-01-{i % 4 + 1:02d}T00:00:00+00:00",
            }
            for i, v in enumerate(values)
        ]
        rids = catalog.insert("Reading", rows)
        return [{**row, "RID": rid} for row, rid in zip(rows, rids, strict=True)]

    @pytest.mark.parametrize("size", [1, 2, 3, 20])
    @pytest.mark.parametrize("descending", [False, True])
    def test_keyset_pages_walk_every_row_once_in_order(
        self, catalog: Catalog, readings: list[dict], size: int, descending: bool
    ) -> None:
        def key(row: dict) -> tuple:
            return (row["Value"] is not None, row["Value"] or 0.0, row["RID"])

        wanted = [r["RID"] for r in sorted(readings, key=key, reverse=descending)]
        assert _walk(catalog, "Value", descending, size) == wanted
        by_rid = sorted(r["RID"] for r in readings)
        assert _walk(catalog, "RID", descending, size) == (by_rid[::-1] if descending else by_rid)

    def test_pages_meet_conditions_and_vocabulary_synonyms(
        self, catalog: Catalog, readings: list[dict]
    ) -> None:
        mm = sorted(r["RID"] for r in readings if r["Unit"] == "mm")
        assert _walk(catalog, "Taken", False, 2, [("Unit", "==", "MMS")]) == sorted(
            mm, key=lambda rid: (next(r["Taken"] for r in readings if r["RID"] == rid), rid)
        )
        assert catalog.count_rows("Reading", [("Unit", "==", "mms")]) == len(mm)
        assert catalog.count_rows("Reading") == len(readings)
        assert catalog.count_rows("Reading", [("Value", ">", 2.0)]) == 4

    def test_value_counts_most_frequent_first(self, catalog: Catalog, readings: list[dict]) -> None:
        assert catalog.value_counts("Reading", "Value") == [
            (None, 3),
            (3.0, 3),
            (1.0, 2),
            (2.0, 2),
            (5.0, 1),
        ]
        assert catalog.value_counts("Reading", "Unit", [("Value", "==", 3.0)]) == [("mm", 3)]
        # a tie is broken by the value
        assert catalog.value_counts("Reading", "Unit", [("Value", "==", 2.0)], limit=1) == [
            ("cm", 1)
        ]

    def test_bad_arguments_are_validation_errors(
        self, catalog: Catalog, readings: list[dict]
    ) -> None:
        with pytest.raises(ValidationError, match="expected a number"):
            catalog.query_page("Reading", [("Value", "==", "abc")])
        with pytest.raises(ValidationError, match="no column 'Nope'"):
            catalog.query_page("Reading", sort="Nope")
        with pytest.raises(ValidationError, match="after must be"):
            catalog.query_page("Reading", sort="Value", after=["x"])
        with pytest.raises(ValidationError, match="limit must be at most"):
            catalog.query_page("Reading", limit=100_000)
        with pytest.raises(ValidationError, match="expected a number"):
            catalog.query_page("Reading", sort="Value", after=["abc", readings[0]["RID"]])
