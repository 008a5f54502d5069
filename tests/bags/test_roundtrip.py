"""Export a dataset's bag from one catalog, import it into a fresh one: every kind of model
the API can build arrives whole.

Models are generated (hypothesis): vocabularies with terms, plain tables with a column of
each BuiltinType, references between plain tables, from asset tables, to vocabularies,
an association table, tables no row of the bag uses, and datasets nested in the exported
one. The fresh catalog must gain every table the bag's schema describes (also those with
no rows in the bag), every row in the bag with its RID and values, and the version's
members. The generated sweep runs on SQLite; one model with every kind at once is also
imported into PostgreSQL and through a server.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from assetry import BuiltinType, Catalog, ColumnDef, DatasetBag, DatasetSpec, TableDef
from tests.conftest import clone_sqlite
from tests.helpers import stored_file

PROFILE = settings(
    max_examples=int(os.environ.get("ASSETRY_ROUNDTRIP_EXAMPLES", "12")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# One value of each type that reads back exactly.
SAMPLES: dict[BuiltinType, list[Any]] = {
    BuiltinType.text: ["a", "", "liver, left", 'ü "q"'],
    BuiltinType.markdown: ["# T\n\n*x*"],
    BuiltinType.int2: [0, -3, 32767],
    BuiltinType.int4: [7, -2147483648],
    BuiltinType.int8: [2**40, -1],
    BuiltinType.float4: [0.5, -2.0],
    BuiltinType.float8: [0.1, 1e300],
    BuiltinType.boolean: [True, False],
    BuiltinType.date: [dt.date(2024, 2, 29)],
    BuiltinType.timestamp: [dt.datetime(2024, 5, 1, 12, 30)],
    BuiltinType.timestamptz: [dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.UTC)],
    BuiltinType.json: [{"lr": 0.001, "layers": [1, 2]}, [1, "x"], "s"],
    BuiltinType.uri: ["https://example.org/x"],
}


@dataclass
class Plan:
    """A model and its rows: what a user could build with the API."""

    vocabularies: dict[str, list[str]]  # name -> terms
    tables: list[tuple[str, list[BuiltinType], list[str]]]  # name, column types, references
    asset_refs: list[str]  # tables the asset table references
    association: bool  # an association table between the first two plain tables
    rows: dict[str, int]  # table -> number of rows
    members: list[str] = field(default_factory=list)  # tables whose rows join the dataset
    nested: bool = False


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    vocabularies = {
        f"V{i}": [f"t{i}{j}" for j in range(draw(st.integers(1, 3)))]
        for i in range(draw(st.integers(0, 2)))
    }
    tables = []
    for i in range(draw(st.integers(1, 3))):
        types = draw(st.lists(st.sampled_from(list(SAMPLES)), max_size=4, unique=True))
        earlier = [name for name, _, _ in tables] + list(vocabularies)
        refs = draw(st.lists(st.sampled_from(earlier), unique=True)) if earlier else []
        tables.append((f"T{i}", types, refs))
    names = [name for name, _, _ in tables]
    asset_refs = draw(st.lists(st.sampled_from(names + list(vocabularies)), unique=True))
    association = len(names) >= 2 and draw(st.booleans())
    rows = {name: draw(st.integers(0, 3)) for name in [*names, "Image"]}
    members = draw(st.lists(st.sampled_from([*names, "Image"]), unique=True))
    return Plan(vocabularies, tables, asset_refs, association, rows, members, draw(st.booleans()))


EVERY_KIND = Plan(
    vocabularies={"V0": ["t00", "t01"], "V1": ["t10"]},
    tables=[
        ("T0", list(SAMPLES), ["V0"]),
        ("T1", [BuiltinType.text], ["T0", "V1"]),
        ("T2", [BuiltinType.int4], ["T1"]),  # referenced by nothing the bag holds rows of
    ],
    asset_refs=["T1", "V0"],
    association=True,
    rows={"T0": 2, "T1": 2, "T2": 0, "Image": 2},
    members=["T1", "Image"],
    nested=True,
)


def build(cat: Catalog, plan: Plan) -> str:
    """Make ``plan`` in ``cat``: its model, rows and a dataset (with a nested one when the
    plan says); return the dataset's RID."""
    for name, terms in plan.vocabularies.items():
        cat.create_vocabulary(name)
        for term in terms:
            cat.add_term(name, term)
    made: dict[str, list[str]] = {}

    def values(refs: list[str], n: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for ref in refs:
            if ref in plan.vocabularies:
                terms = plan.vocabularies[ref]
                out[ref] = terms[n % len(terms)]
            elif made.get(ref):
                out[ref] = made[ref][n % len(made[ref])]
        return out

    for name, types, refs in plan.tables:
        columns = [ColumnDef(f"C_{t.value}", t) for t in types]
        cat.create_table(TableDef(name, column_defs=columns, referenced_tables=refs))
        rows = [
            {
                **{f"C_{t.value}": SAMPLES[t][n % len(SAMPLES[t])] for t in types},
                **values(refs, n),
            }
            for n in range(plan.rows.get(name, 0))
        ]
        made[name] = cat.insert(name, rows)
    cat.create_asset("Image", [ColumnDef("Width", BuiltinType.int4)], plan.asset_refs)
    made["Image"] = cat.insert(
        "Image",
        [
            {
                **stored_file(cat, f"image {n}".encode(), f"{n}.png"),
                "Width": n,
                **values(plan.asset_refs, n),
            }
            for n in range(plan.rows.get("Image", 0))
        ],
    )
    if plan.association:
        first, second = plan.tables[0][0], plan.tables[1][0]
        cat.apply_model(
            {
                "tables": [
                    {
                        "name": f"{first}_{second}",
                        "kind": "association",
                        "columns": [
                            {"name": first, "type": "text"},
                            {"name": second, "type": "text"},
                        ],
                        "foreign_keys": [
                            {"column": first, "table": first},
                            {"column": second, "table": second},
                        ],
                    }
                ]
            }
        )
        if made[first] and made[second]:
            cat.insert(f"{first}_{second}", [{first: made[first][0], second: made[second][0]}])
    for name in plan.members:
        cat.add_dataset_element_type(name)
    ds = cat.create_dataset(["Training"], description="exported")
    members = [rid for name in plan.members for rid in made.get(name, [])]
    if plan.nested:
        child = cat.create_dataset(["Testing"], description="nested")
        if members:
            cat.add_dataset_members(child, members[:1])
        cat.add_dataset_members(ds, [child])
    if members:
        cat.add_dataset_members(ds, members)
    return ds


def check_round_trip(source: Catalog, target: Catalog, ds: str, dest: Path) -> None:
    path = source.export_dataset_bag(DatasetSpec(ds), dest=dest)
    bag = DatasetBag(path)
    target.import_bag(bag)
    # every table of the bag's schema, also those without rows in the bag
    described = {t["name"] for t in bag.model["tables"]}
    assert described <= set(target.list_tables())
    for table in bag.list_tables():
        in_bag = {row["RID"]: row for row in bag.get_table_as_dict(table)}
        if not in_bag:
            continue
        here = {row["RID"]: row for row in target.get_table_as_dict(table) if row["RID"] in in_bag}
        kind = next(t["kind"] for t in bag.model["tables"] if t["name"] == table)
        if kind == "vocabulary":  # terms are matched by name across catalogs
            names = {row["Name"] for row in target.get_table_as_dict(table)}
            assert {row["Name"] for row in in_bag.values()} <= names
            continue
        if table == "Dataset_Version":  # of each dataset, the bag's newest version only
            newest = {}
            for rid, row in sorted(in_bag.items(), key=lambda item: _version(item[1])):
                newest[row["Dataset"]] = rid
            in_bag = {rid: in_bag[rid] for rid in newest.values()}
        assert here.keys() == in_bag.keys(), table
        for rid, row in in_bag.items():
            for column, value in row.items():
                if column not in ("RMT", "RMB", "Snapshot"):
                    assert _same(here[rid][column], value), (table, rid, column)
    want = source.list_dataset_members(ds, recurse=True)
    got = target.list_dataset_members(ds, recurse=True)
    assert {t: sorted(r["RID"] for r in rows) for t, rows in got.items() if rows} == {
        t: sorted(r["RID"] for r in rows) for t, rows in want.items() if rows
    }


def _version(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(part) for part in row["Version"].split("."))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a.replace(tzinfo=a.tzinfo or dt.UTC) == b.replace(tzinfo=b.tzinfo or dt.UTC)
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
    return bool(a == b)


@PROFILE
@given(plan=plans())
def test_generated_models_round_trip_through_a_bag(
    plan: Plan, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    work = tmp_path_factory.mktemp("roundtrip")
    source = clone_sqlite(sqlite_template, work / "source")
    target = clone_sqlite(sqlite_template, work / "target")
    try:
        ds = build(source, plan)
        note(repr(plan))
        check_round_trip(source, target, ds, work / "bag")
    finally:
        source.close()
        target.close()


def test_the_readme_bag_snippet_imports_into_a_fresh_catalog(tmp_path: Path) -> None:
    """A referenced table with no rows in the bag, a vocabulary referenced by name from
    an asset table: both are created by the import."""
    cat = Catalog.create(tmp_path / "a")
    cat.create_vocabulary("Species")
    cat.create_table(TableDef("Subject", [ColumnDef("Name")], ["Species"]))
    cat.create_vocabulary("Diagnosis")
    cat.create_asset("Image", referenced_tables=["Subject", "Diagnosis"])
    (tmp_path / "scan1.png").write_bytes(b"scan")
    raw = cat.upload_assets("Image", [tmp_path / "scan1.png"])
    cat.add_dataset_element_type("Image")
    ds = cat.create_dataset(["Training"])
    cat.add_dataset_members(ds, [a["RID"] for a in raw])
    path = cat.export_dataset_bag(
        DatasetSpec(ds, version="0.2.0"), dest=tmp_path / "out", archive="zip"
    )
    other = Catalog.create(tmp_path / "b")
    other.import_bag(path)
    assert {"Species", "Subject", "Diagnosis", "Image"} <= set(other.list_tables())
    assert [a["RID"] for a in other.list_assets("Image")] == [raw[0]["RID"]]
