"""Queries: path conditions (comparisons, NULL, dates, RIDs and terms in any case) and
search (words in any case, LIKE wildcards taken literally) as each database runs them."""

from __future__ import annotations

import datetime as dt

import pytest

from assetry import Catalog, ValidationError
from assetry.sql.pathbuilder import Condition
from tests.conformance.backend import Build
from tests.helpers import PathStock, path_stock, stock_for_paths


def names(rows: list[dict[str, object]]) -> list[object]:
    return [row["Name"] for row in rows]


class AbstractQueryTests:
    @pytest.fixture
    def stock(self, built: Build) -> PathStock:
        return path_stock(*built(stock_for_paths))

    def test_every_operator(self, stock: PathStock) -> None:
        s = stock.pb.schemas[stock.cat.domain_schema].Subject

        def query(cond: Condition) -> list[object]:
            return sorted(names(s.filter(cond).entities().fetch()))  # type: ignore[arg-type]

        assert query(s.Age == 3) == ["B"]
        assert query(s.Age != 3) == ["A", "C", "D"]  # != matches NULL, as in Python
        assert query(s.Age < 3) == ["A"]
        assert query(s.Age <= 3) == ["A", "B"]
        assert query(s.Age > 3) == ["C"]
        assert query(s.Age >= 3) == ["B", "C"]
        assert query(s.Age == None) == ["D"]  # noqa: E711
        assert query(s.Age != None) == ["A", "B", "C"]  # noqa: E711
        assert query(s.Weight > 2.0) == ["B", "C"]
        assert query(s.Born >= dt.date(2024, 2, 1)) == ["B", "C"]
        assert query(s.Born < "2024-02-01") == ["A"]
        assert query(s.Name > "A") == ["B", "C", "D"]

    def test_rid_case_insensitive(self, stock: PathStock) -> None:
        pb, domain = stock.pb, stock.cat.domain_schema
        s, img = pb.schemas[domain].Subject, pb.schemas[domain].Image
        b = stock.subjects["B"]
        assert names(s.filter(s.RID == b.lower()).entities().fetch()) == ["B"]
        assert names(s.filter(s.RID == f"  {b.lower()} ").entities().fetch()) == ["B"]
        a = stock.subjects["A"].lower()
        assert len(img.filter(img.Subject == a).entities().fetch()) == 3
        assert img.filter(img.Subject != a).entities().fetch() == []

    def test_vocabulary_synonyms(self, stock: PathStock) -> None:
        s = stock.pb.schemas[stock.cat.domain_schema].Subject
        assert names(s.filter(s.Species == "MOUSE").entities().fetch()) == ["A", "B"]
        assert names(s.filter(s.Species == "mus MUSCULUS").entities().fetch()) == ["A", "B"]
        assert names(s.filter(s.Species != "mouse").entities().fetch()) == ["C", "D"]
        assert s.filter(s.Species == "unicorn").entities().fetch() == []
        t = stock.pb.schemas[stock.cat.ml_schema].Execution
        assert len(t.filter(t.Status == "created").entities().fetch()) == 1

    def test_search(self, subject_image: Catalog) -> None:
        catalog = subject_image
        catalog.insert("Subject", [{"Name": "liver sample 100%"}, {"Name": "kidney"}])
        hits = catalog.search("LIVER 100%")
        assert [(h["Table"], h["Name"]) for h in hits] == [("Subject", "liver sample 100%")]
        assert catalog.search("mouse", tables=["Species"])[0]["Name"] == "Mus musculus"
        assert catalog.search("kid", tables=["Subject"], limit=1)[0]["Name"] == "kidney"
        assert catalog.search("_") == [] or all("_" in str(h) for h in catalog.search("_"))
        with pytest.raises(ValidationError):
            catalog.search("   ")
