"""Lineage: one recursive query over the provenance edge table, and the graph's renderings.

Edges are written straight into ``assetry_edge`` (the row layer writes them in normal use);
the rows they connect are made with the public API, or the row layer for system tables,
so that node labels resolve.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from assetry import Catalog, RIDNotFound, ValidationError
from assetry.records.lineage import LineageGraph, step_target
from assetry.sql import internal
from assetry.sql.lineage import walk
from tests.helpers import insert_as_operations_do, stored_file


@pytest.fixture
def catalog(db_catalog: Catalog) -> Catalog:
    """These tests write edges straight into the database: database engines only (the
    remote catalog's lineage is covered in tests/server)."""
    return db_catalog


# --- helpers ----------------------------------------------------------------------------------


def lineage(
    cat: Catalog, rid: str, direction: str = "upstream", depth: int | None = None
) -> LineageGraph:
    with cat._backend.session() as s:
        return walk(s, rid, direction, depth)


def add_edges(cat: Catalog, edges: Sequence[tuple[str, str, str, str, str, str | None]]) -> None:
    """Insert ``(from_rid, from_table, to_rid, to_table, relation, detail)`` edges."""
    with cat._backend.session(write=True) as s:
        snapshot = s.snapshot()
        s.conn.execute(
            internal.edges.insert(),
            [
                {
                    "from_rid": f,
                    "from_table": ft,
                    "to_rid": t,
                    "to_table": tt,
                    "relation": rel,
                    "detail": detail,
                    "link_rid": t,
                    "snapshot": snapshot,
                }
                for f, ft, t, tt, rel, detail in edges
            ],
        )


def images(cat: Catalog, *names: str) -> list[str]:
    if "Image" not in cat.list_tables():
        cat.create_asset("Image", comment="test images")
    return cat.insert("Image", [stored_file(cat, n.encode(), n) for n in names])


def executions(cat: Catalog, workflow: str, *descriptions: str | None) -> list[str]:
    """New executions of ``workflow``, each with its ``executed`` edge (written here too, so
    the tests do not depend on whether the row layer writes it: duplicates collapse)."""
    rids = insert_as_operations_do(
        cat,
        "Execution",
        [
            {
                "Workflow": workflow,
                "Description": d,
                "Status": "Created",
                "Upload_Status": "Not_Started",
            }
            for d in descriptions
        ],
    )
    add_edges(cat, [(e, "Execution", workflow, "Workflow", "executed", None) for e in rids])
    return rids


def workflow(cat: Catalog, name: str = "train-unet") -> str:
    return insert_as_operations_do(cat, "Workflow", [{"Name": name, "Workflow_Type": "Training"}])[
        0
    ]


def dataset(cat: Catalog, description: str) -> str:
    return insert_as_operations_do(cat, "Dataset", [{"Description": description}])[0]


@dataclass
class World:
    """WF; A0 member_of D; E1 used D@0.1.0 and generated A1; E2 used A1 and generated
    A2, A3; A2 member_of D2; every execution executed WF."""

    wf: str
    a0: str
    a1: str
    a2: str
    a3: str
    d: str
    d2: str
    e1: str
    e2: str


def build_world(cat: Catalog) -> World:
    a0, a1, a2, a3 = images(cat, "raw.png", "clean.png", "mask.png", "log.png")
    wf = workflow(cat)
    e1, e2 = executions(cat, wf, "clean run", None)
    d, d2 = dataset(cat, "training set"), dataset(cat, "masks")
    add_edges(
        cat,
        [
            (a0, "Image", d, "Dataset", "member_of", None),
            (e1, "Execution", d, "Dataset", "used", "0.1.0"),
            (e1, "Execution", wf, "Workflow", "executed", None),
            (e1, "Execution", a1, "Image", "generated", None),
            (e2, "Execution", a1, "Image", "used", None),
            (e2, "Execution", wf, "Workflow", "executed", None),
            (e2, "Execution", a2, "Image", "generated", None),
            (e2, "Execution", a3, "Image", "generated", None),
            (a2, "Image", d2, "Dataset", "member_of", None),
        ],
    )
    return World(wf, a0, a1, a2, a3, d, d2, e1, e2)


def node_rids(g: LineageGraph) -> set[str]:
    return {n["rid"] for n in g.nodes}


@contextmanager
def counting_statements(cat: Catalog) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = cat._backend.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


# --- walks ---------------------------------------------------------------------------------------


def test_upstream_of_an_asset(catalog: Catalog) -> None:
    w = build_world(catalog)
    g = lineage(catalog, w.a2, "upstream")
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


def test_downstream_of_a_raw_asset(catalog: Catalog) -> None:
    w = build_world(catalog)
    g = lineage(catalog, w.a0, "downstream")
    assert node_rids(g) == {w.a0, w.d, w.e1, w.a1, w.e2, w.a2, w.a3, w.d2}
    assert w.wf not in node_rids(g)  # executions run workflows: that is upstream
    assert (w.e1, w.wf, "executed") not in g.edges
    assert (w.a2, w.d2, "member_of") in g.edges
    assert {n["rid"]: n for n in g.nodes}[w.d2]["kind"] == "dataset"
    assert {n["rid"]: n for n in g.nodes}[w.d2]["version"] is None  # a bare row: no version


def test_downstream_of_a_workflow(catalog: Catalog) -> None:
    w = build_world(catalog)
    g = lineage(catalog, w.wf, "downstream")
    assert node_rids(g) == {w.wf, w.e1, w.e2, w.a1, w.a2, w.a3, w.d2}


def test_both_is_the_union_of_the_two_walks(catalog: Catalog) -> None:
    w = build_world(catalog)
    both = lineage(catalog, w.e2, "both")
    up = lineage(catalog, w.e2, "upstream")
    down = lineage(catalog, w.e2, "downstream")
    assert node_rids(both) == node_rids(up) | node_rids(down)
    assert set(both.edges) == set(up.edges) | set(down.edges)
    # Not everything connected: A3's sibling-free neighbourhood upstream of E2 only.
    assert w.a3 in node_rids(both) and w.a0 in node_rids(both)
    one = lineage(catalog, w.e2, "both", depth=1)
    assert node_rids(one) == {w.e2, w.a1, w.wf, w.a2, w.a3}
    assert one.edges == sorted(
        [
            (w.e2, w.a1, "used"),
            (w.e2, w.wf, "executed"),
            (w.e2, w.a2, "generated"),
            (w.e2, w.a3, "generated"),
        ]
    )


def test_both_does_not_wander_sideways(catalog: Catalog) -> None:
    w = build_world(catalog)
    # Upstream of A3 reaches E2 and A1; A2 (E2's other output) is neither up- nor
    # downstream of A3.
    g = lineage(catalog, w.a3, "both")
    assert w.a2 not in node_rids(g) and w.d2 not in node_rids(g)


def test_depth_limits(catalog: Catalog) -> None:
    w = build_world(catalog)
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
        g = lineage(catalog, w.a2, "upstream", depth)
        assert node_rids(g) == nodes, depth
        # Every edge joins two nodes of the graph.
        assert all(f in nodes and t in nodes for f, t, _ in g.edges)
    zero = lineage(catalog, w.a2, "both", 0)
    assert zero.edges == [] and zero.nodes[0]["label"] == "mask.png"
    assert lineage(catalog, w.a2, "upstream", 1).edges == [(w.e2, w.a2, "generated")]


def test_three_hop_chain(catalog: Catalog) -> None:
    wf = workflow(catalog)
    a, b, c, d = images(catalog, "a", "b", "c", "d")
    x, y, z = executions(catalog, wf, "x", "y", "z")
    add_edges(
        catalog,
        [
            (x, "Execution", a, "Image", "used", None),
            (x, "Execution", b, "Image", "generated", None),
            (y, "Execution", b, "Image", "used", None),
            (y, "Execution", c, "Image", "generated", None),
            (z, "Execution", c, "Image", "used", None),
            (z, "Execution", d, "Image", "generated", None),
        ],
    )
    up = lineage(catalog, d, "upstream")
    assert node_rids(up) == {a, b, c, d, x, y, z, wf}
    assert len(up.edges) == 9
    assert node_rids(lineage(catalog, d, "upstream", 3)) == {d, z, c, wf, y}
    down = lineage(catalog, a, "downstream")
    assert node_rids(down) == {a, b, c, d, x, y, z}
    assert node_rids(lineage(catalog, a, "downstream", 3)) == {a, x, b, y}
    assert node_rids(lineage(catalog, c, "both")) == {a, b, c, d, x, y, z, wf}


def test_cycle_terminates(catalog: Catalog) -> None:
    wf = workflow(catalog)
    [e] = executions(catalog, wf, "augment")
    [a] = images(catalog, "augmented.png")
    ds = dataset(catalog, "grows")
    # E uses D and its output is added to D: a cycle E -> D -> A -> E (upstream).
    add_edges(
        catalog,
        [
            (e, "Execution", ds, "Dataset", "used", "1.0.0"),
            (e, "Execution", a, "Image", "generated", None),
            (a, "Image", ds, "Dataset", "member_of", None),
        ],
    )
    for direction in ("upstream", "downstream", "both"):
        for depth in (None, 50):
            g = lineage(catalog, a, direction, depth)
            assert {a, e, ds} <= node_rids(g)
    up = lineage(catalog, a, "upstream")
    assert node_rids(up) == {a, e, ds, wf}
    assert set(up.edges) == {
        (e, ds, "used"),
        (e, a, "generated"),
        (a, ds, "member_of"),
        (e, wf, "executed"),
    }
    down = lineage(catalog, ds, "downstream")
    assert node_rids(down) == {ds, e, a}
    assert "(see above)" in up.to_text()


def test_unknown_rid_and_bad_arguments(catalog: Catalog) -> None:
    build_world(catalog)
    with pytest.raises(RIDNotFound):
        lineage(catalog, "ZZZZZZZZ-1")
    with pytest.raises(RIDNotFound):
        lineage(catalog, "ZZZZZZZZ-1", "both", 0)
    for bad in ("", "  "):
        with pytest.raises(ValidationError):
            lineage(catalog, bad)
    wf = workflow(catalog, "other")
    with pytest.raises(ValidationError, match="direction"):
        lineage(catalog, wf, "sideways")
    for depth in (-1, True, 1.5):
        with pytest.raises(ValidationError, match="depth"):
            lineage(catalog, wf, "upstream", depth)  # type: ignore[arg-type]


def test_isolated_rid_and_rid_without_upstream(catalog: Catalog) -> None:
    w = build_world(catalog)
    lonely = workflow(catalog, "lonely")
    g = lineage(catalog, lonely.lower(), "both")  # RIDs are case-insensitive
    assert g.nodes == [{"rid": lonely, "kind": "workflow", "table": "Workflow", "label": "lonely"}]
    assert g.edges == [] and g.root == lonely
    # A raw input has edges, but none upstream.
    up = lineage(catalog, w.a0, "upstream")
    assert up.edges == []
    assert up.nodes == [{"rid": w.a0, "kind": "asset", "table": "Image", "label": "raw.png"}]
    # Any other row (not an asset, dataset, execution or workflow) is a "row".
    term = catalog.add_term("Asset_Type", "Mask").rid
    g = lineage(catalog, term)
    assert g.nodes == [{"rid": term, "kind": "row", "table": "Asset_Type", "label": "Mask"}]


def test_members_of_any_table_and_nested_datasets(catalog: Catalog) -> None:
    w = build_world(catalog)
    parent = dataset(catalog, "parent")
    term = catalog.add_term("Asset_Type", "Mask").rid
    add_edges(
        catalog,
        [
            (w.d, "Dataset", parent, "Dataset", "member_of", None),
            (term, "Asset_Type", parent, "Dataset", "member_of", None),
        ],
    )
    g = lineage(catalog, parent, "upstream")
    assert node_rids(g) == {parent, w.d, w.a0, term}
    kinds = {n["rid"]: n["kind"] for n in g.nodes}
    assert kinds[w.d] == "dataset" and kinds[term] == "row" and kinds[w.a0] == "asset"


def test_edges_to_deleted_rows_keep_their_rid(catalog: Catalog) -> None:
    w = build_world(catalog)
    gone = "ZZZZZZZZ-7"
    add_edges(catalog, [(w.e1, "Execution", gone, "Image", "generated", None)])
    g = lineage(catalog, gone, "upstream")
    node = {n["rid"]: n for n in g.nodes}[gone]
    assert node == {"rid": gone, "kind": "asset", "table": "Image", "label": gone}
    assert w.e1 in node_rids(g)


def test_unknown_relations_are_ignored(catalog: Catalog) -> None:
    w = build_world(catalog)
    [odd] = images(catalog, "odd.png")
    add_edges(catalog, [(w.e1, "Execution", odd, "Image", "derived", None)])
    assert odd not in node_rids(lineage(catalog, w.e1, "both"))
    assert lineage(catalog, odd, "both").edges == []


def test_dataset_version_is_the_highest_used(catalog: Catalog) -> None:
    w = build_world(catalog)
    [e3] = executions(catalog, w.wf, "later")
    add_edges(catalog, [(e3, "Execution", w.d, "Dataset", "used", "0.10.0")])
    g = lineage(catalog, w.d, "downstream")
    assert {n["rid"]: n for n in g.nodes}[w.d]["version"] == "0.10.0"


def test_one_recursive_statement_and_one_label_query_per_table(catalog: Catalog) -> None:
    w = build_world(catalog)
    with catalog._backend.session() as s, counting_statements(catalog) as statements:
        g = walk(s, w.a2, "upstream", None)
    assert len(g.nodes) == 7
    recursive = [q for q in statements if "RECURSIVE" in q.upper()]
    assert len(recursive) == 1
    # The walk plus one label query for each of Image, Execution, Workflow, Dataset.
    assert len(statements) == 5, statements


def test_long_chain(catalog: Catalog) -> None:
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
    up = lineage(catalog, assets[-1], "upstream")
    down = lineage(catalog, assets[0], "downstream")
    elapsed = time.monotonic() - started
    assert len(up.nodes) == 2 * n + 2  # with the workflow
    assert len(up.edges) == 3 * n
    assert len(down.nodes) == 2 * n + 1
    assert len(down.edges) == 2 * n
    assert {node["rid"]: node for node in up.nodes}[exes[0]]["label"] == "step 1"
    assert elapsed < 60, elapsed
    short = lineage(catalog, assets[-1], "upstream", 10)
    assert len(short.nodes) == 12  # 5 executions, 6 assets, the workflow
    text = down.to_text()
    assert text.count("\n") == 2 * n + 1 and "[4000]" in text


# --- renderings ---------------------------------------------------------------------------------


def test_renderings_of_a_catalog_graph(catalog: Catalog) -> None:
    w = build_world(catalog)
    g = lineage(catalog, w.a2, "upstream")

    dot = g.to_dot()
    assert dot.startswith('digraph "lineage" {') and dot.rstrip().endswith("}")
    assert f'"{w.e2}" -> "{w.a2}" [label="generated"];' in dot
    assert dot.count(" -> ") == len(g.edges)

    mermaid = g.to_mermaid()
    assert mermaid.startswith("flowchart LR\n")
    ids = set(re.findall(r"^\s+(n_\w+)[\[\(]", mermaid, flags=re.MULTILINE))
    assert len(ids) == len(g.nodes)
    assert mermaid.count("-->") == len(g.edges)
    assert '-->|"generated"|' in mermaid

    prov = g.to_prov()
    json.dumps(prov)
    assert prov["prefix"] == {"assetry": "urn:assetry:"}
    assert set(prov) == {
        "prefix",
        "entity",
        "activity",
        "used",
        "wasGeneratedBy",
        "hadMember",
        "wasAssociatedWith",
    }
    assert set(prov["activity"]) == {f"assetry:{w.e1}", f"assetry:{w.e2}"}
    assert set(prov["entity"]) == {f"assetry:{r}" for r in (w.a0, w.a1, w.a2, w.wf, w.d)}
    assert prov["entity"][f"assetry:{w.wf}"]["prov:type"]["$"] == "prov:Plan"
    assert prov["entity"][f"assetry:{w.d}"]["prov:type"]["$"] == "prov:Collection"
    assert prov["entity"][f"assetry:{w.a2}"]["prov:label"] == "mask.png"
    generated = list(prov["wasGeneratedBy"].values())
    assert {"prov:entity": f"assetry:{w.a2}", "prov:activity": f"assetry:{w.e2}"} in generated
    used = list(prov["used"].values())
    assert {
        "prov:activity": f"assetry:{w.e1}",
        "prov:entity": f"assetry:{w.d}",
        "assetry:version": "0.1.0",
    } in used
    assert list(prov["hadMember"].values()) == [
        {"prov:collection": f"assetry:{w.d}", "prov:entity": f"assetry:{w.a0}"}
    ]
    associations = list(prov["wasAssociatedWith"].values())
    assert {"prov:activity": f"assetry:{w.e1}", "prov:plan": f"assetry:{w.wf}"} in associations
    assert all(re.fullmatch(r"_:\w+\d+", key) for key in prov["used"])

    text = g.to_text()
    assert text.splitlines()[0] == f"{w.a2} (asset Image) mask.png"
    assert f"  generated by {w.e2} (execution Execution)" in text
    assert f"ran workflow {w.wf} (workflow Workflow) train-unet" in text
    assert "(dataset Dataset v0.1.0) training set" in text


def sample_graph() -> LineageGraph:
    return LineageGraph(
        nodes=[
            {"rid": "X-2", "kind": "asset", "table": "Image", "label": 'say "hi"\\ \n<b>#1</b>'},
            {"rid": "X-1", "kind": "execution", "table": "Execution", "label": "run [1] | end"},
            {"rid": "X-3", "kind": "workflow", "table": "Workflow", "label": "wf"},
            {"rid": "end", "kind": "row", "table": "T", "label": "end"},
        ],
        edges=[
            ("X-1", "X-2", "generated"),
            ("X-1", "X-3", "executed"),
            ("X-1", "X-2", "generated"),
            ("end", "X-1", "member_of"),
        ],
        root="X-2",
        direction="upstream",
    )


def test_graph_is_sorted_and_deduplicated() -> None:
    g = sample_graph()
    assert [n["rid"] for n in g.nodes] == ["X-1", "X-2", "X-3", "end"]
    assert g.edges == [
        ("X-1", "X-2", "generated"),
        ("X-1", "X-3", "executed"),
        ("end", "X-1", "member_of"),
    ]
    assert g.node("X-3") == {"rid": "X-3", "kind": "workflow", "table": "Workflow", "label": "wf"}
    assert g.node("nope") is None


def test_dot_escapes_labels() -> None:
    dot = sample_graph().to_dot()
    assert '"X-2" [label="say \\"hi\\"\\\\\\n' not in dot  # multi-line labels are shortened
    line = next(x for x in dot.splitlines() if x.startswith('  "X-2" ['))
    # Quotes and backslashes escaped; no raw newline inside a label.
    assert 'say \\"hi\\"\\\\' in line
    assert line.endswith("penwidth=2];")
    for x in dot.splitlines()[4:-1]:
        assert re.fullmatch(r'  "(?:[^"\\]|\\.)*"( -> "(?:[^"\\]|\\.)*")? \[.*\];', x), x
    g = LineageGraph(nodes=[{"rid": 'a"b', "kind": "row", "table": "T", "label": "x\ny"}])
    assert '"a\\"b" [label="x…\\nrow T a\\"b"' in g.to_dot()


def test_mermaid_ids_are_safe_and_labels_escaped() -> None:
    mermaid = sample_graph().to_mermaid()
    lines = mermaid.splitlines()
    node_lines = [x for x in lines[1:] if "-->" not in x and "style" not in x]
    assert len(node_lines) == 4
    for x in node_lines:
        assert re.match(r"^  n_[A-Za-z0-9_]+[\[\(]", x), x
    assert "n_end(" in mermaid  # "end" would end a flowchart; ids are prefixed
    label_text = next(x for x in lines if x.startswith("  n_X_2"))
    assert '"hi"' not in label_text and "#quot;hi#quot;" in label_text
    assert "<b>" not in label_text and "#lt;b#gt;" not in label_text  # shortened to line 1
    run = next(x for x in lines if x.startswith("  n_X_1"))
    assert "#91;1#93; #124; end" in run
    assert '  n_X_1 -->|"generated"| n_X_2' in lines
    assert "  style n_X_2 stroke-width:3px" in lines
    clash = LineageGraph(
        nodes=[
            {"rid": "a-b", "kind": "row", "table": "T", "label": "1"},
            {"rid": "a_b", "kind": "row", "table": "T", "label": "2"},
        ]
    ).to_mermaid()
    assert "n_a_b(" in clash and "n_a_b_2(" in clash


def test_prov_of_a_plain_graph() -> None:
    prov = sample_graph().to_prov(namespace="https://example.org/cat/")
    assert prov["prefix"] == {"assetry": "https://example.org/cat/"}
    assert set(prov["activity"]) == {"assetry:X-1"}
    assert prov["entity"]["assetry:X-3"]["prov:type"] == {
        "$": "prov:Plan",
        "type": "prov:QUALIFIED_NAME",
    }
    assert prov["wasAssociatedWith"] == {
        "_:wasAssociatedWith1": {"prov:activity": "assetry:X-1", "prov:plan": "assetry:X-3"}
    }
    assert prov["hadMember"] == {
        "_:hadMember1": {"prov:collection": "assetry:X-1", "prov:entity": "assetry:end"}
    }
    assert "used" not in prov
    assert json.loads(sample_graph().to_prov_json()) == sample_graph().to_prov()


def test_text_listing() -> None:
    text = sample_graph().to_text()
    lines = text.splitlines()
    assert lines[0].startswith("X-2 (asset Image) say")
    assert lines[1] == "  generated by X-1 (execution Execution) run [1] | end"
    assert lines[2] == "    has member end (row T)"
    assert lines[3] == "    ran workflow X-3 (workflow Workflow) wf"
    down = LineageGraph(nodes=sample_graph().nodes, edges=[], root="X-2", direction="both")
    assert down.to_text().splitlines()[1:] == [
        "upstream:",
        "  (nothing)",
        "downstream:",
        "  (nothing)",
    ]
    unrooted = LineageGraph(nodes=[], edges=[("a", "b", "used")]).to_text()
    assert unrooted == "a --used--> b\n"


def test_step_target() -> None:
    assert step_target(("E", "A", "generated"), "A", "upstream") == "E"
    assert step_target(("E", "A", "generated"), "E", "upstream") is None
    assert step_target(("E", "A", "generated"), "E", "downstream") == "A"
    assert step_target(("E", "A", "used"), "E", "upstream") == "A"
    assert step_target(("E", "A", "used"), "A", "downstream") == "E"
    assert step_target(("E", "W", "executed"), "E", "upstream") == "W"
    assert step_target(("E", "W", "executed"), "W", "downstream") == "E"
    assert step_target(("X", "D", "member_of"), "D", "upstream") == "X"
    assert step_target(("X", "D", "member_of"), "X", "downstream") == "D"
    assert step_target(("X", "D", "other"), "X", "downstream") is None
    assert step_target(("X", "D", "used"), "X", "both") is None
