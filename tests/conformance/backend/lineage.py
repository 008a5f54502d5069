"""Lineage: one recursive query over the provenance edge table (PostgreSQL allows the
recursive reference only once, so its statement differs from SQLite's), walked up, down
and both ways, to a depth, through cycles and long chains, and dataset nodes carrying
their versions.

The graph is written into the database behind ``catalog`` (``database``) edge by edge;
the walks are read through ``catalog.lineage``, the public API of each backend."""

from __future__ import annotations

import json
import time
from pathlib import Path

from assetry import Catalog, ColumnDef, DatasetSpec, ExecutionConfiguration, TableDef
from assetry.records.lineage import LineageGraph
from assetry.sql.lineage import walk
from tests.helpers import (
    add_edges,
    build_world,
    counting_statements,
    dataset,
    executions,
    images,
    node_rids,
    workflow,
)


def node(g: LineageGraph, rid: str) -> dict[str, object]:
    found = g.node(rid)
    assert found is not None, rid
    return found


def subjects_dataset(cat: Catalog, *names: str) -> tuple[str, list[str]]:
    """A dataset (created, so versioned, through the API) holding new Subject rows."""
    if "Subject" not in cat.list_tables():
        cat.create_table(TableDef("Subject", column_defs=[ColumnDef("Name", "text")]))
        cat.add_dataset_element_type("Subject")
    members = cat.insert("Subject", [{"Name": n} for n in names])
    ds = cat.create_dataset(dataset_types=["Training"], description="d")
    cat.add_dataset_members(ds, members)  # 0.2.0
    return ds, members


class AbstractLineageTests:
    def test_upstream_of_an_asset(self, catalog: Catalog, database: Catalog) -> None:
        w = build_world(database)
        g = catalog.lineage(w.a2, "upstream")
        assert node_rids(g) == {w.a2, w.e2, w.a1, w.wf, w.e1, w.d, w.a0}
        assert g.edges == sorted(
            [
                (w.e2, w.a2, "generated"),
                (w.e2, w.a1, "used"),
                (w.e2, w.wf, "executed"),
                (w.e1, w.a1, "generated"),
                (w.e1, w.d, "used"),
                (w.e1, w.wf, "executed"),
                (w.a0, w.d, "member_of"),
            ]
        )
        assert g.root == w.a2 and g.direction == "upstream"
        by_rid = {n["rid"]: n for n in g.nodes}
        assert by_rid[w.a2] == {"rid": w.a2, "kind": "asset", "table": "Image", "label": "mask.png"}
        assert by_rid[w.e1] == {
            "rid": w.e1,
            "kind": "execution",
            "table": "Execution",
            "label": "clean run",
        }
        assert by_rid[w.e2]["label"] == w.e2  # no description: the RID
        assert by_rid[w.wf] == {
            "rid": w.wf,
            "kind": "workflow",
            "table": "Workflow",
            "label": "train-unet",
        }
        assert by_rid[w.d] == {
            "rid": w.d,
            "kind": "dataset",
            "table": "Dataset",
            "label": "training set",
            "version": "0.1.0",
        }
        assert [n["rid"] for n in g.nodes] == sorted(by_rid)

    def test_downstream_of_a_raw_asset(self, catalog: Catalog, database: Catalog) -> None:
        w = build_world(database)
        g = catalog.lineage(w.a0, "downstream")
        assert node_rids(g) == {w.a0, w.d, w.e1, w.a1, w.e2, w.a2, w.a3, w.d2}
        assert w.wf not in node_rids(g)  # executions run workflows: that is upstream
        assert (w.e1, w.wf, "executed") not in g.edges
        assert (w.a2, w.d2, "member_of") in g.edges
        assert {n["rid"]: n for n in g.nodes}[w.d2]["kind"] == "dataset"
        assert {n["rid"]: n for n in g.nodes}[w.d2]["version"] is None  # a bare row

    def test_downstream_of_a_workflow(self, catalog: Catalog, database: Catalog) -> None:
        w = build_world(database)
        g = catalog.lineage(w.wf, "downstream")
        assert node_rids(g) == {w.wf, w.e1, w.e2, w.a1, w.a2, w.a3, w.d2}

    def test_both_is_the_union_of_the_two_walks(self, catalog: Catalog, database: Catalog) -> None:
        w = build_world(database)
        both = catalog.lineage(w.e2, "both")
        up = catalog.lineage(w.e2, "upstream")
        down = catalog.lineage(w.e2, "downstream")
        assert node_rids(both) == node_rids(up) | node_rids(down)
        assert set(both.edges) == set(up.edges) | set(down.edges)
        # Not everything connected: A3's sibling-free neighbourhood upstream of E2 only.
        assert w.a3 in node_rids(both) and w.a0 in node_rids(both)
        one = catalog.lineage(w.e2, "both", depth=1)
        assert node_rids(one) == {w.e2, w.a1, w.wf, w.a2, w.a3}
        assert one.edges == sorted(
            [
                (w.e2, w.a1, "used"),
                (w.e2, w.wf, "executed"),
                (w.e2, w.a2, "generated"),
                (w.e2, w.a3, "generated"),
            ]
        )

    def test_both_does_not_wander_sideways(self, catalog: Catalog, database: Catalog) -> None:
        w = build_world(database)
        # Upstream of A3 reaches E2 and A1; A2 (E2's other output) is neither up- nor
        # downstream of A3.
        g = catalog.lineage(w.a3, "both")
        assert w.a2 not in node_rids(g) and w.d2 not in node_rids(g)

    def test_depth_limits(self, catalog: Catalog, database: Catalog) -> None:
        w = build_world(database)
        expected = [
            {w.a2},
            {w.a2, w.e2},
            {w.a2, w.e2, w.a1, w.wf},
            {w.a2, w.e2, w.a1, w.wf, w.e1},
            {w.a2, w.e2, w.a1, w.wf, w.e1, w.d},
            {w.a2, w.e2, w.a1, w.wf, w.e1, w.d, w.a0},
            {w.a2, w.e2, w.a1, w.wf, w.e1, w.d, w.a0},
        ]
        for depth, nodes in enumerate(expected):
            g = catalog.lineage(w.a2, "upstream", depth)
            assert node_rids(g) == nodes, depth
            # Every edge joins two nodes of the graph.
            assert all(f in nodes and t in nodes for f, t, _ in g.edges)
        zero = catalog.lineage(w.a2, "both", 0)
        assert zero.edges == [] and zero.nodes[0]["label"] == "mask.png"
        assert catalog.lineage(w.a2, "upstream", 1).edges == [(w.e2, w.a2, "generated")]

    def test_cycle_terminates(self, catalog: Catalog, database: Catalog) -> None:
        wf = workflow(database)
        [e] = executions(database, wf, "augment")
        [a] = images(database, "augmented.png")
        ds = dataset(database, "grows")
        # E uses D and its output is added to D: a cycle E -> D -> A -> E (upstream).
        add_edges(
            database,
            [
                (e, "Execution", ds, "Dataset", "used", "1.0.0"),
                (e, "Execution", a, "Image", "generated", None),
                (a, "Image", ds, "Dataset", "member_of", None),
            ],
        )
        for direction in ("upstream", "downstream", "both"):
            for depth in (None, 50):
                g = catalog.lineage(a, direction, depth)
                assert {a, e, ds} <= node_rids(g)
        up = catalog.lineage(a, "upstream")
        assert node_rids(up) == {a, e, ds, wf}
        assert set(up.edges) == {
            (e, ds, "used"),
            (e, a, "generated"),
            (a, ds, "member_of"),
            (e, wf, "executed"),
        }
        down = catalog.lineage(ds, "downstream")
        assert node_rids(down) == {ds, e, a}
        assert "(see above)" in up.to_text()

    # --- dataset nodes and their versions -------------------------------------------------

    def test_dataset_version_is_the_highest_used(self, catalog: Catalog, database: Catalog) -> None:
        w = build_world(database)
        [e3] = executions(database, w.wf, "later")
        add_edges(database, [(e3, "Execution", w.d, "Dataset", "used", "0.10.0")])
        g = catalog.lineage(w.d, "downstream")
        assert {n["rid"]: n for n in g.nodes}[w.d]["version"] == "0.10.0"

    def test_a_dataset_nobody_used_carries_its_latest_version(self, catalog: Catalog) -> None:
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

    def test_the_newest_used_version_is_the_node_version_each_edge_keeps_its_own(
        self, catalog: Catalog, database: Catalog
    ) -> None:
        ds, _ = subjects_dataset(catalog, "a")
        wf = workflow(database)
        e1, e2, e3 = executions(database, wf, "first", "second", "unrecorded")
        add_edges(
            database,
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

    # --- through the public API only ------------------------------------------------------

    def test_lineage_of_a_derived_asset(self, catalog: Catalog, tmp_path: Path) -> None:
        cat = catalog
        cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
        raw_file = tmp_path / "raw.png"
        raw_file.write_bytes(b"raw")
        [raw] = cat.upload_assets("Image", [raw_file])
        wf = cat.create_workflow("derive", "Feature_Creation", url="u", checksum="c")
        with cat.create_execution(ExecutionConfiguration(workflow=wf, assets=[raw["RID"]])) as exe:
            exe.asset_file_path("Image", "derived.png").write_bytes(b"derived")
        [derived] = exe.upload_execution_outputs()["Image"]

        up = cat.lineage(derived["RID"])
        kinds = {n["rid"]: n["kind"] for n in up.nodes}
        assert kinds[derived["RID"]] == "asset" and kinds[raw["RID"]] == "asset"
        assert kinds[exe.rid] == "execution" and kinds[wf.rid] == "workflow"
        assert (exe.rid, derived["RID"], "generated") in up.edges
        assert (exe.rid, raw["RID"], "used") in up.edges
        assert (exe.rid, wf.rid, "executed") in up.edges
        ingest = cat.list_asset_executions(raw["RID"], role="Output")[0]["RID"]
        assert (ingest, raw["RID"], "generated") in up.edges  # two hops up
        down = cat.lineage(raw["RID"], direction="downstream")
        assert derived["RID"] in {n["rid"] for n in down.nodes}
        assert "derived.png" in up.to_dot() and "flowchart" in up.to_mermaid()
        assert up.to_prov()["wasGeneratedBy"]

    def test_an_execution_that_used_a_dataset_version(self, catalog: Catalog) -> None:
        """The version an execution's configuration names is the version its edge keeps."""
        ds, [s] = subjects_dataset(catalog, "a")
        catalog.increment_dataset_version(ds, "major")
        wf = catalog.create_workflow("train", "Training", url="u", checksum="c")
        exe = catalog.create_execution(
            ExecutionConfiguration(workflow=wf, datasets=[DatasetSpec(ds, version="0.2.0")])
        )
        g = catalog.lineage(exe.rid, direction="upstream")
        assert node(g, ds)["version"] == "0.2.0"
        assert g.used_version(exe.rid, ds) == "0.2.0"
        assert g.used_versions == {exe.rid: {ds: "0.2.0"}}
        assert node(catalog.lineage(s, direction="downstream"), ds)["version"] == "0.2.0"
        assert node(catalog.lineage(ds, direction="upstream"), ds)["version"] == "1.0.0"


class AbstractLineageQueryTests:
    """The statements a walk takes, read on the database engine itself, and a chain
    longer than any recursion limit (database backends only)."""

    def test_long_chain(self, catalog: Catalog) -> None:
        n = 2000
        wf = workflow(catalog)
        assets = images(catalog, *(f"f{i}.bin" for i in range(n + 1)))
        exes = executions(catalog, wf, *(f"step {i}" for i in range(1, n + 1)))
        edges: list[tuple[str, str, str, str, str, str | None]] = []
        for i, e in enumerate(exes):
            edges.append((e, "Execution", assets[i], "Image", "used", None))
            edges.append((e, "Execution", assets[i + 1], "Image", "generated", None))
        add_edges(catalog, edges)
        started = time.monotonic()
        up = catalog.lineage(assets[-1], "upstream")
        down = catalog.lineage(assets[0], "downstream")
        elapsed = time.monotonic() - started
        assert len(up.nodes) == 2 * n + 2  # with the workflow
        assert len(up.edges) == 3 * n
        assert len(down.nodes) == 2 * n + 1
        assert len(down.edges) == 2 * n
        assert {node["rid"]: node for node in up.nodes}[exes[0]]["label"] == "step 1"
        assert elapsed < 60, elapsed
        short = catalog.lineage(assets[-1], "upstream", 10)
        assert len(short.nodes) == 12  # 5 executions, 6 assets, the workflow
        text = down.to_text()
        assert text.count("\n") == 2 * n + 1 and "[4000]" in text

    def test_one_recursive_statement_and_one_label_query_per_table(self, catalog: Catalog) -> None:
        w = build_world(catalog)
        with catalog._backend.session() as s, counting_statements(catalog) as statements:
            g = walk(s, w.a2, "upstream", None)
        assert len(g.nodes) == 7
        recursive = [q for q in statements if "RECURSIVE" in q.upper()]
        assert len(recursive) == 1
        # The walk plus one label query for each of Image, Execution, Workflow, Dataset.
        assert len(statements) == 5, statements

    def test_one_query_for_the_versions_of_all_dataset_nodes(self, catalog: Catalog) -> None:
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

    def test_no_version_query_when_every_dataset_node_has_a_used_version(
        self, catalog: Catalog
    ) -> None:
        w = build_world(catalog)
        with catalog._backend.session() as s, counting_statements(catalog) as statements:
            g = walk(s, w.a2, "upstream", None)
        assert node(g, w.d)["version"] == "0.1.0"
        assert not [q for q in statements if "Dataset_Version" in q]

    def test_as_of_gives_the_latest_version_at_that_snapshot(self, catalog: Catalog) -> None:
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

    def test_removed_links_leave_history_in_the_edge_table(self, catalog: Catalog) -> None:
        cat = catalog
        cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
        wf = cat.create_workflow("train", "Training", url="https://x/y.py", checksum="sha256:1")
        exe = cat.create_execution(ExecutionConfiguration(workflow=wf.rid))
        exe.asset_file_path("Image", "a.png").write_bytes(b"a")
        [asset] = exe.upload_execution_outputs()["Image"]
        before = cat.snapshot()
        links = list(cat.get_table_as_dict("Image_Execution", filters={"Image": asset["RID"]}))
        cat.delete("Image_Execution", [links[0]["RID"]])
        assert cat.list_asset_executions(asset["RID"]) == []
        assert exe.rid not in {n["rid"] for n in cat.lineage(asset["RID"]).nodes}
        with cat._backend.session() as s:
            then = walk(s, asset["RID"], "upstream", None, as_of=before)
        assert (exe.rid, asset["RID"], "generated") in then.edges
