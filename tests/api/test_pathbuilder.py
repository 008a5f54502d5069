"""pathBuilder: DerivaML-style path queries on every engine."""

from __future__ import annotations

import datetime as dt

import pytest

from assetry import BuiltinType, ColumnDef, TableDef, TableNotFound, ValidationError
from assetry.api.datapath import Column, DataPath
from assetry.records.outputs import OutputEntry
from tests.conftest import BuildCatalog
from tests.helpers import PathStock, path_stock, stock_for_paths, stored_file


@pytest.fixture
def stock(built_catalog: BuildCatalog) -> PathStock:
    """Species (vocabulary), Subject (domain table), Image (asset) and one execution."""
    return path_stock(*built_catalog(stock_for_paths))


def names(rows: list[dict[str, object]]) -> list[object]:
    return [row["Name"] for row in rows]


# --- the DerivaML form --------------------------------------------------------------------


def test_derivaml_association_query(stock: PathStock) -> None:
    cat, pb, exe = stock.cat, stock.pb, stock.execution
    img_in, _, other = stock.images
    backend = cat._backend  # the links an execution makes: an input, then an upload
    backend.link_assets(exe, {"Image": [img_in]}, "Input")
    backend.set_status(exe, "Upload_Status", "Pending")
    made = stored_file(cat, b"segmented", "out.png")
    entry = OutputEntry(
        "out.png", "Image", "out.png", made["URL"], made["MD5"], made["SHA256"], made["Length"]
    )
    [(_, img_out)] = backend.record_outputs(exe, [entry]).values()
    t = pb.schemas[cat.ml_schema].Image_Execution
    rows = t.filter(t.Execution == exe).filter(t.Asset_Role == "Output").entities().fetch()
    assert isinstance(rows, list)
    assert [(r["Image"], r["Execution"], r["Asset_Role"]) for r in rows] == [
        (img_out, exe, "Output")
    ]
    assert list(rows[0]) == ["RID", "RCT", "RMT", "RCB", "RMB", "Image", "Execution", "Asset_Role"]
    both = t.filter(t.Execution == exe).entities().fetch()
    assert sorted(r["Image"] for r in both) == sorted([img_in, img_out])
    assert t.filter(t.Image == other).entities().fetch() == []


def test_domain_table_form(stock: PathStock) -> None:
    pb, domain = stock.pb, stock.cat.domain_schema
    assert pb.schemas[domain].tables["Subject"].columns["Age"] == pb.schemas[domain].Subject.Age
    rows = pb.schemas[domain].Subject.filter(pb.schemas[domain].Subject.Age > 3).entities()
    assert names(rows.fetch()) == ["C"]


# --- operators --------------------------------------------------------------------------


def test_chained_filters_and_ranges(stock: PathStock) -> None:
    s = stock.pb.schemas[stock.cat.domain_schema].Subject
    base = s.filter(s.Age >= 1)
    assert sorted(names(base.entities().fetch())) == ["A", "B", "C"]  # type: ignore[type-var]
    narrowed = base.filter(s.Age < 5)
    assert narrowed is base  # as in deriva-py, filter changes the path and returns it
    assert names(narrowed.entities().fetch()) == ["A", "B"]
    assert names(narrowed.filter(s.Name != "A").entities().fetch()) == ["B"]
    # a table is never changed: each filter on it starts a new path
    assert len(s.entities().fetch()) == 4
    assert names(s.filter(s.Age > 3).entities().fetch()) == ["C"]


def test_filter_in_place_is_not_silently_lost(stock: PathStock) -> None:
    s = stock.pb.schemas[stock.cat.domain_schema].Subject
    path = s.path
    path.filter(s.Age == 3)  # the result not kept: the path itself is filtered
    assert names(path.entities().fetch()) == ["B"]


def test_rows_ordered_by_rid_with_limit(stock: PathStock) -> None:
    s = stock.pb.schemas[stock.cat.domain_schema].Subject
    rows = s.entities().fetch()
    assert [r["RID"] for r in rows] == sorted(stock.subjects.values())
    assert rows[0]["Age"] == 1 and isinstance(rows[0]["Born"], dt.date)
    assert list(rows[0]) == [
        "RID", "RCT", "RMT", "RCB", "RMB", "Name", "Age", "Weight", "Born", "Species",
    ]  # fmt: skip
    assert s.entities().fetch(limit=2) == rows[:2]
    assert s.entities().fetch(limit=0) == []
    with pytest.raises(ValidationError, match="limit"):
        s.entities().fetch(limit=-1)


def test_entities_iterate_and_len(stock: PathStock) -> None:
    i = stock.pb.schemas[stock.cat.domain_schema].Image
    entities = i.filter(i.Width > 10).entities()
    assert len(entities) == 2
    assert sorted(row["Width"] for row in entities) == [20, 30]


def test_empty_results(stock: PathStock) -> None:
    s = stock.pb.schemas[stock.cat.domain_schema].Subject
    assert s.filter(s.Age > 100).entities().fetch() == []
    assert s.filter(s.Name == "nobody").entities().fetch() == []
    assert list(s.filter(s.Age > 2).filter(s.Age < 3).entities()) == []
    empty = stock.pb.schemas[stock.cat.ml_schema].Dataset
    assert empty.entities().fetch() == []


# --- values -----------------------------------------------------------------------------


def test_bad_value_types(stock: PathStock) -> None:
    s = stock.pb.schemas[stock.cat.domain_schema].Subject
    with pytest.raises(ValidationError, match=r"Subject\.Age.*integer"):
        s.filter(s.Age > "abc").entities().fetch()
    with pytest.raises(ValidationError, match="Born"):
        s.filter(s.Born == "yesterday").entities().fetch()
    with pytest.raises(ValidationError, match="RID"):
        s.filter(s.RID == 7).entities().fetch()
    with pytest.raises(ValidationError, match="None"):
        s.filter(s.Age < None).entities().fetch()
    with pytest.raises(ValidationError) as err:  # every problem reported at once
        s.filter(s.Age == "x").filter(s.Weight == "y").entities().fetch()
    assert len(err.value.problems) == 2
    v = stock.pb.schemas[stock.cat.domain_schema].Species
    with pytest.raises(ValidationError, match="json"):
        v.filter(v.Synonyms == ["mouse"]).entities().fetch()


def test_backend_takes_plain_conditions(stock: PathStock) -> None:
    backend = stock.cat._backend
    rows = backend.query_rows("Subject", [("Age", ">=", 3), ["Species", "==", "RAT"]])
    assert names(rows) == ["C"]
    with pytest.raises(ValidationError) as err:
        backend.query_rows("Subject", [("Age", "LIKE", 3), ("Nope", "==", 1), ("Age",)])  # type: ignore[list-item]
    assert len(err.value.problems) == 3
    with pytest.raises(TableNotFound):
        backend.query_rows("Nope", [])
    with pytest.raises(ValidationError, match="limit"):
        backend.query_rows("Subject", [], limit=True)


def test_values_are_bound_not_spliced(stock: PathStock) -> None:
    s = stock.pb.schemas[stock.cat.domain_schema].Subject
    hostile = "A' OR '1'='1"
    assert s.filter(s.Name == hostile).entities().fetch() == []
    assert len(s.entities().fetch()) == 4


# --- navigation and errors --------------------------------------------------------------


def test_item_and_attribute_access(stock: PathStock) -> None:
    pb, cat = stock.pb, stock.cat
    for schema in (cat.ml_schema, cat.domain_schema):  # any table through either schema
        by_item = pb.schemas[schema].tables["Subject"]
        by_attr = pb.schemas[schema].Subject
        assert by_item.name == by_attr.name == "Subject"
        assert by_item.schema == cat.domain_schema
        assert pb.schemas[schema].tables["Execution"].schema == cat.ml_schema
    s = pb.schemas[cat.domain_schema].Subject
    assert isinstance(s.Age, Column) and s.columns["Age"] == s.Age
    assert list(s.columns)[:6] == ["RID", "RCT", "RMT", "RCB", "RMB", "Name"]
    assert "Age" in s.columns and "Nope" not in s.columns
    assert "Subject" in pb.schemas[cat.domain_schema].tables
    assert "Subject" in list(pb.schemas[cat.domain_schema].tables)
    assert "Execution" in list(pb.schemas[cat.ml_schema].tables)
    assert "Subject" not in list(pb.schemas[cat.ml_schema].tables)
    assert list(pb.schemas) == [cat.ml_schema, cat.domain_schema]
    assert isinstance(s.filter(s.Age == 1), DataPath)


def test_unknown_names(stock: PathStock) -> None:
    pb, domain = stock.pb, stock.cat.domain_schema
    with pytest.raises(ValidationError, match="no schema 'nope'"):
        pb.schemas["nope"]
    with pytest.raises(TableNotFound, match="Nope"):
        _ = pb.schemas[domain].Nope
    with pytest.raises(TableNotFound, match="Nope"):
        pb.schemas[domain].tables["Nope"]
    s = pb.schemas[domain].Subject
    with pytest.raises(ValidationError, match="'Subject' has no column 'Height'"):
        _ = s.Height
    with pytest.raises(ValidationError, match="'Subject' has no column 'Height'"):
        s.columns["Height"]
    # dunder and private lookups stay AttributeErrors, so hasattr and copy work
    assert not hasattr(s, "__array__")
    assert not hasattr(pb.schemas[domain], "_private")


def test_condition_misuse(stock: PathStock) -> None:
    pb, domain = stock.pb, stock.cat.domain_schema
    s, img = pb.schemas[domain].Subject, pb.schemas[domain].Image
    with pytest.raises(ValidationError, match=r"Image\.Width is not of a table in this path"):
        s.filter(img.Width > 3)
    with pytest.raises(ValidationError, match="condition"):
        s.filter(True)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="filter"):
        bool(s.Age == 3)
    assert bool(s.Age == s.Age) is True  # column vs column: a link's on=, true if same
    assert s.Age != s.Name
    assert s.Age in [s.Name, s.Age]


def test_new_tables_and_columns_are_found(stock: PathStock) -> None:
    pb, cat = stock.pb, stock.cat
    _ = pb.schemas[cat.domain_schema].Subject.Age  # model read and kept
    cat.create_table(TableDef("Late", column_defs=[ColumnDef("N", BuiltinType.int4)]))
    cat.add_column("Subject", ColumnDef("Height", BuiltinType.int4))
    late = pb.schemas[cat.domain_schema].Late
    cat.insert("Late", [{"N": 1}, {"N": 2}])
    assert [r["N"] for r in late.filter(late.N > 1).entities().fetch()] == [2]
    s = pb.schemas[cat.domain_schema].Subject
    assert s.filter(s.Height == None).entities().fetch()[0]["Height"] is None  # noqa: E711
