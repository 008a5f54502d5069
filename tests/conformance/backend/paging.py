"""Paging: listings larger than a page stream page by page, every page read at the
snapshot of the first, in RID order, with limit and offset across pages.

``PAGE_SIZE`` is made small (as a test may: the composite written once in ``Backend``
and the SQL backend read it when called), so a few rows span many pages."""

from __future__ import annotations

import pytest

from assetry import Catalog, ColumnDef, TableDef

PAGE = 7


class AbstractPagingTests:
    @pytest.fixture
    def small_pages(self, monkeypatch: pytest.MonkeyPatch) -> int:
        from assetry import backend
        from assetry.sql import backend as sql_backend

        monkeypatch.setattr(backend, "PAGE_SIZE", PAGE)  # the composite the client pages with
        monkeypatch.setattr(sql_backend, "PAGE_SIZE", PAGE)  # a page the server answers
        return PAGE

    def test_listings_are_paged_and_read_at_one_snapshot(
        self, catalog: Catalog, small_pages: int
    ) -> None:
        catalog.create_table(TableDef("Note", [ColumnDef("Name")]))
        rids = catalog.insert("Note", [{"Name": f"n{i:02d}"} for i in range(30)])
        pages = catalog.get_table_as_dict("Note")
        first = next(pages)
        catalog.insert("Note", [{"Name": "late"}])
        rest = list(pages)
        assert [first["RID"], *(r["RID"] for r in rest)] == sorted(rids)
        assert [r["RID"] for r in catalog.get_table_as_dict("Note", limit=9, offset=3)] == (
            sorted(rids)[3:12]
        )
        assert len(catalog.get_table_as_dataframe("Note")) == 31

    def test_get_table_as_dict_streams_pages(self, catalog: Catalog, small_pages: int) -> None:
        n = 5 * small_pages + 3  # five full pages and a short one
        catalog.create_table(TableDef("Many", column_defs=[ColumnDef("N", "int4")]))
        catalog.insert("Many", [{"N": i} for i in range(n)])
        rows = catalog.get_table_as_dict("Many")
        first = next(rows)
        assert set(first) >= {"RID", "N"}
        assert len(list(rows)) == n - 1
        start = 2 * small_pages - 2  # a window across a page boundary
        page = list(catalog.get_table_as_dict("Many", limit=4, offset=start))
        everything = [r["RID"] for r in catalog.get_table_as_dict("Many")]
        assert [r["RID"] for r in page] == everything[start : start + 4]
        assert everything == sorted(everything)
        assert list(catalog.get_table_as_dict("Many", limit=0)) == []
