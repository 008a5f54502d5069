"""API.md section 6: "a dataset node carries its version".

Every dataset node of a lineage graph has a ``version``: the version recorded on a
``used`` edge of the walk (the newest when several executions used it), else the
dataset's latest version as of the walk's snapshot (``as_of`` when given), read for all
such nodes in one query; None only for a dataset that has no version at that snapshot.
The ``used`` records of PROV carry the version their own edge records, never the
fallback.
"""

from __future__ import annotations

from assetry import Catalog, ColumnDef, TableDef
from assetry.records.lineage import LineageGraph
from tests.helpers import add_edges, build_world, executions, workflow
from tests.sql.test_lineage import lineage


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


def test_a_used_record_never_takes_the_fallback_version(catalog: Catalog) -> None:
    ds, _ = subjects_dataset(catalog, "a")
    wf = workflow(catalog)
    [e1] = executions(catalog, wf, "no version recorded")
    add_edges(catalog, [(e1, "Execution", ds, "Dataset", "used", None)])
    g = catalog.lineage(ds, direction="downstream")
    assert node(g, ds)["version"] == "0.2.0"  # the latest: no edge records one
    [record] = g.to_prov()["used"].values()
    assert record == {"prov:activity": f"assetry:{e1}", "prov:entity": f"assetry:{ds}"}


def test_renderings_show_the_version(catalog: Catalog) -> None:
    ds, [s] = subjects_dataset(catalog, "a")
    g = catalog.lineage(ds, direction="upstream")
    assert f"dataset Dataset {ds} v0.2.0" in g.to_dot()
    assert f"dataset Dataset {ds} v0.2.0" in g.to_mermaid()
    assert g.to_text().splitlines()[0] == f"{ds} (dataset Dataset v0.2.0) d"
    prov = g.to_prov()
    assert prov["entity"][f"assetry:{ds}"]["assetry:version"] == "0.2.0"
    assert "used" not in prov
