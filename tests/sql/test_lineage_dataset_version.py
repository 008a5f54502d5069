"""API.md section 6: "a dataset node carries its version".

Every dataset node of a lineage graph has a ``version``: the version recorded on a
``used`` edge of the walk (the newest when several executions used it), else the
dataset's latest version as of the walk's snapshot (``as_of`` when given), read for all
such nodes in one query; None only for a dataset that has no version at that snapshot.
The ``used`` records of PROV carry the version their own edge records, never the
fallback.
"""

from __future__ import annotations

import json

import pytest

from assetry import Catalog, ColumnDef, DatasetSpec, ExecutionConfiguration, TableDef
from assetry.records.lineage import LineageGraph
from assetry.sql.lineage import walk
from tests.sql.test_lineage import (
    add_edges,
    build_world,
    counting_statements,
    executions,
    lineage,
    workflow,
)


@pytest.fixture
def catalog(db_catalog: Catalog) -> Catalog:
    return db_catalog


def subjects_dataset(cat: Catalog, *names: str) -> tuple[str, list[str]]:
    """A dataset (created, so versioned, through the API) holding new Subject rows."""
    if "Subject" not in cat.list_tables():
        cat.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", "text")]))
        cat.add_dataset_element_type("Subject")
    members = cat.insert("Subject", [{"Name": n} for n in names])
    ds = cat.create_dataset(dataset_types=["Training"], description="d")
    cat.add_dataset_members(ds, members)  # 0.2.0
    return ds, members


def node(g: LineageGraph, rid: str) -> dict[str, object]:
    found = g.node(rid)
    assert found is not None, rid
    return found


def test_a_dataset_nobody_used_carries_its_latest_version(catalog: Catalog) -> None:
    ds, [s] = subjects_dataset(catalog, "a")
    for direction in ("upstream", "downstream", "both"):
        g = catalog.lineage(ds, direction=direction)
        assert node(g, ds) == {
            "rid": ds,
            "kind": "dataset",
            "table": "Dataset",
            "label": "d",
            "version": "0.2.0",
        }
    assert node(catalog.lineage(s, direction="downstream"), ds)["version"] == "0.2.0"
    catalog.increment_dataset_version(ds, "major")
    assert node(catalog.lineage(ds), ds)["version"] == "1.0.0"


def test_every_dataset_node_has_a_version_key(catalog: Catalog) -> None:
    w = build_world(catalog)  # D2 is a bare Dataset row: no version at all
    for root in (w.a0, w.a2, w.d, w.d2, w.wf):
        for direction in ("upstream", "downstream", "both"):
            g = lineage(catalog, root, direction)
            for n in g.nodes:
                assert ("version" in n) == (n["kind"] == "dataset"), n
    g = lineage(catalog, w.a0, "downstream")
    assert node(g, w.d2)["version"] is None
    assert "vNone" not in g.to_dot() + g.to_mermaid() + g.to_text()
    assert "assetry:version" not in g.to_prov()["entity"][f"assetry:{w.d2}"]


def test_the_used_version_wins_over_the_latest(catalog: Catalog) -> None:
    ds, _ = subjects_dataset(catalog, "a")
    catalog.increment_dataset_version(ds, "minor")  # 0.3.0, the latest
    wf = workflow(catalog)
    [e1] = executions(catalog, wf, "old run")
    add_edges(catalog, [(e1, "Execution", ds, "Dataset", "used", "0.1.0")])
    g = catalog.lineage(ds, direction="downstream")
    assert node(g, ds)["version"] == "0.1.0"
    assert node(catalog.lineage(e1, direction="upstream"), ds)["version"] == "0.1.0"
    # Walking upstream from the dataset goes to its members, not to who used it.
    assert node(catalog.lineage(ds, direction="upstream"), ds)["version"] == "0.3.0"


def test_the_newest_used_version_is_the_node_version_each_edge_keeps_its_own(
    catalog: Catalog,
) -> None:
    ds, _ = subjects_dataset(catalog, "a")
    wf = workflow(catalog)
    e1, e2, e3 = executions(catalog, wf, "first", "second", "unrecorded")
    add_edges(
        catalog,
        [
            (e1, "Execution", ds, "Dataset", "used", "0.1.0"),
            (e2, "Execution", ds, "Dataset", "used", "0.2.0"),
            (e3, "Execution", ds, "Dataset", "used", None),
        ],
    )
    g = catalog.lineage(ds, direction="downstream")
    assert node(g, ds)["version"] == "0.2.0"
    assert g.used_versions == {e1: {ds: "0.1.0"}, e2: {ds: "0.2.0"}}
    prov = g.to_prov()
    json.dumps(prov)
    used = {r["prov:activity"]: r.get("assetry:version") for r in prov["used"].values()}
    assert used == {f"assetry:{e1}": "0.1.0", f"assetry:{e2}": "0.2.0", f"assetry:{e3}": None}
    assert prov["entity"][f"assetry:{ds}"]["assetry:version"] == "0.2.0"


def test_a_used_record_never_takes_the_fallback_version(catalog: Catalog) -> None:
    ds, _ = subjects_dataset(catalog, "a")
    wf = workflow(catalog)
    [e1] = executions(catalog, wf, "no version recorded")
    add_edges(catalog, [(e1, "Execution", ds, "Dataset", "used", None)])
    g = catalog.lineage(ds, direction="downstream")
    assert node(g, ds)["version"] == "0.2.0"  # the latest: no edge records one
    [record] = g.to_prov()["used"].values()
    assert record == {"prov:activity": f"assetry:{e1}", "prov:entity": f"assetry:{ds}"}


def test_as_of_gives_the_latest_version_at_that_snapshot(catalog: Catalog) -> None:
    ds, _ = subjects_dataset(catalog, "a")
    first = catalog.dataset_history(ds)[0]
    catalog.increment_dataset_version(ds, "major")
    with catalog._backend.session() as s:
        then = walk(s, ds, "upstream", None, as_of=first.snapshot)
        now = walk(s, ds, "upstream", None)
        before = walk(s, ds, "upstream", 0, as_of=first.snapshot - 1)
    assert node(then, ds)["version"] == first.version == "0.1.0"
    assert node(now, ds)["version"] == "1.0.0"
    assert node(before, ds)["version"] is None  # not minted yet


def test_one_query_for_the_versions_of_all_dataset_nodes(catalog: Catalog) -> None:
    ds1, [s1] = subjects_dataset(catalog, "a")
    ds2, _ = subjects_dataset(catalog, "b")
    ds3, _ = subjects_dataset(catalog, "c")
    catalog.add_dataset_members(ds2, [s1])
    catalog.add_dataset_members(ds3, [ds1, ds2])  # nested: ds1, ds2 are members of ds3
    with catalog._backend.session() as s, counting_statements(catalog) as statements:
        g = walk(s, s1, "downstream", None)
    assert {n["rid"] for n in g.nodes if n["kind"] == "dataset"} == {ds1, ds2, ds3}
    assert [node(g, d)["version"] for d in (ds1, ds2, ds3)] == ["0.2.0", "0.3.0", "0.3.0"]
    version_queries = [q for q in statements if "Dataset_Version" in q]
    assert len(version_queries) == 1, version_queries


def test_no_version_query_when_every_dataset_node_has_a_used_version(catalog: Catalog) -> None:
    w = build_world(catalog)
    with catalog._backend.session() as s, counting_statements(catalog) as statements:
        g = walk(s, w.a2, "upstream", None)
    assert node(g, w.d)["version"] == "0.1.0"
    assert not [q for q in statements if "Dataset_Version" in q]


def test_renderings_show_the_version(catalog: Catalog) -> None:
    ds, [s] = subjects_dataset(catalog, "a")
    g = catalog.lineage(ds, direction="upstream")
    assert f"dataset Dataset {ds} v0.2.0" in g.to_dot()
    assert f"dataset Dataset {ds} v0.2.0" in g.to_mermaid()
    assert g.to_text().splitlines()[0] == f"{ds} (dataset Dataset v0.2.0) d"
    prov = g.to_prov()
    assert prov["entity"][f"assetry:{ds}"]["assetry:version"] == "0.2.0"
    assert "used" not in prov


def test_an_execution_that_used_a_dataset_version(catalog: Catalog) -> None:
    """Through the public API: the version an execution's configuration names."""
    ds, _ = subjects_dataset(catalog, "a")
    catalog.increment_dataset_version(ds, "major")
    wf = catalog.create_workflow("train", "Training", url="u", checksum="c")
    exe = catalog.create_execution(
        ExecutionConfiguration(workflow=wf, datasets=[DatasetSpec(ds, version="0.2.0")])
    )
    g = catalog.lineage(exe.rid, direction="upstream")
    assert node(g, ds)["version"] == "0.2.0"
    assert g.used_version(exe.rid, ds) == "0.2.0"
    assert node(catalog.lineage(ds, direction="upstream"), ds)["version"] == "1.0.0"


def test_a_graph_built_by_hand_keeps_its_node_versions_for_used_records() -> None:
    g = LineageGraph(
        nodes=[
            {"rid": "E", "kind": "execution", "table": "Execution", "label": "E"},
            {"rid": "D", "kind": "dataset", "table": "Dataset", "label": "D", "version": "1.0.0"},
        ],
        edges=[("E", "D", "used")],
        root="E",
        direction="upstream",
    )
    assert g.used_version("E", "D") == "1.0.0"
    [record] = g.to_prov()["used"].values()
    assert record["assetry:version"] == "1.0.0"


def test_a_remote_catalog_gives_the_same_versions(remote_catalog: Catalog) -> None:
    ds, [s] = subjects_dataset(remote_catalog, "a")
    wf = remote_catalog.create_workflow("train", "Training", url="u", checksum="c")
    exe = remote_catalog.create_execution(
        ExecutionConfiguration(workflow=wf, datasets=[DatasetSpec(ds, version="0.1.0")])
    )
    g = remote_catalog.lineage(s, direction="downstream")
    assert node(g, ds)["version"] == "0.1.0"  # the version the execution used
    assert g.used_versions == {exe.rid: {ds: "0.1.0"}}
    assert node(remote_catalog.lineage(ds, direction="upstream"), ds)["version"] == "0.2.0"
