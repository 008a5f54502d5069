"""Queries: path conditions (comparisons, NULL, dates, RIDs and terms in any case) and
search (words in any case, LIKE wildcards taken literally) as each database runs them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from assetry import Catalog, ValidationError
from assetry.api.datapath import Condition
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

    def test_paths_link_through_foreign_keys_either_way(self, stock: PathStock) -> None:
        d = stock.pb.schemas[stock.cat.domain_schema]
        s, img = d.Subject, d.Image
        path = s.filter(s.Name == "A").link(img)  # Image.Subject -> Subject.RID
        assert sorted(r["Width"] for r in path.entities().fetch()) == [10, 20, 30]
        back = img.filter(img.Width > 15).link(s)  # each subject once (a semi-join)
        assert names(back.entities().fetch()) == ["A"]
        assert names(path.Subject.entities().fetch()) == ["A"]  # another instance's rows
        terms = s.path.link(d.Species).filter(d.Species.Name == "Rattus norvegicus")
        assert [t["Name"] for t in terms.entities().fetch()] == ["Rattus norvegicus"]
        assert names(terms.Subject.entities().fetch()) == ["C"]

    def test_paths_and_or_not(self, stock: PathStock) -> None:
        s = stock.pb.schemas[stock.cat.domain_schema].Subject

        def query(cond: Any) -> list[object]:
            return names(s.filter(cond).entities().fetch())

        assert query((s.Age == 1) | (s.Age == 5)) == ["A", "C"]
        assert query((s.Age > 1) & (s.Species == "rat")) == ["C"]
        assert query(~(s.Age == 3)) == ["A", "C", "D"]  # NULL is "not 3", as in Python
        assert query(~((s.Age < 3) | (s.Age == None))) == ["B", "C"]  # noqa: E711
        assert query(s.Name.is_in(["a", "B", "zz"])) == ["B"]  # names compare exactly
        assert query(s.Age.is_in([5, None])) == ["C", "D"]
        with pytest.raises(ValidationError) as err:  # problems deep in a tree, all at once
            s.filter((s.Age == "x") | ~(s.Born > "never")).entities().fetch()
        assert len(err.value.problems) == 2

    def test_paths_attributes_and_outer_links(self, stock: PathStock) -> None:
        d = stock.pb.schemas[stock.cat.domain_schema]
        path = d.Subject.link(d.Image, join_type="left")
        rows = path.attributes(path.Subject.Name, path.Image.Width.alias("W")).fetch()
        got = [(r["Name"], r["W"]) for r in rows]  # ordered by Subject's RID, then Image's
        a = sorted(zip(stock.images, (10, 20, 30), strict=True))
        assert got == [("A", w) for _, w in a] + [("B", None), ("C", None), ("D", None)]
        inner = d.Subject.link(d.Image)
        assert len(inner.Subject.attributes(inner.Subject.Name).fetch()) == 1
        on = d.Subject.link(d.Image, on=(d.Subject.RID == d.Image.Subject))
        assert len(on.entities().fetch()) == 3

    def test_paths_insert_and_read_back(self, stock: PathStock) -> None:
        s = stock.pb.schemas[stock.cat.domain_schema].tables["Subject"]
        made = s.insert([{"Name": "E", "Age": 7, "Species": "MOUSE"}, {"Name": "F"}])
        assert [(r["Name"], r["Species"]) for r in made] == [("E", "Mus musculus"), ("F", None)]
        assert made[0]["RID"] and made[0]["RCT"] is not None
        assert names(s.filter(s.Age == 7).entities().fetch()) == ["E"]
        changed = s.update([{"RID": made[1]["RID"], "Age": 9}])
        assert changed[0]["Age"] == 9

    def test_paths_refuse_what_no_foreign_key_links(self, stock: PathStock) -> None:
        d = stock.pb.schemas[stock.cat.domain_schema]
        ml = stock.pb.schemas[stock.cat.ml_schema]
        with pytest.raises(ValidationError, match="no foreign key links Species and Dataset"):
            d.Species.link(ml.Dataset).entities().fetch()
        with pytest.raises(ValidationError, match="foreign key"):
            d.Subject.link(d.Image, on=(d.Subject.Name == d.Image.Filename)).entities().fetch()
        with pytest.raises(ValidationError, match="join_type"):
            d.Subject.link(d.Image, join_type="full")
