"""Lineage walks read on the database (``sql/lineage.py``): chains, bad arguments, rows of
any table, edges to deleted rows, and a catalog graph rendered.

Edges are written straight into ``assetry_edge`` (the row layer writes them in normal use);
the rows they connect are made with the public API, or the row layer for system tables,
so that node labels resolve (``tests/helpers.py``). What differs between backends (the
recursive query of each dialect, depths, cycles, long chains, dataset versions) is in the
Backend conformance suite, ``tests/conformance/backend/lineage.py``.
"""

from __future__ import annotations

import json
import re

import pytest

from assetry import Catalog, RIDNotFound, ValidationError
from assetry.records.lineage import LineageGraph
from assetry.sql.lineage import walk
from tests.conftest import BuildCatalog
from tests.helpers import (
    add_edges,
    build_world,
    dataset,
    executions,
    images,
    node_rids,
    workflow,
)

# --- helpers ----------------------------------------------------------------------------------


def lineage(
    cat: Catalog, rid: str, direction: str = "upstream", depth: int | None = None
) -> LineageGraph:
    with cat._backend.session() as s:
        return walk(s, rid, direction, depth)


# --- walks ---------------------------------------------------------------------------------------


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


def test_isolated_rid_and_rid_without_upstream(built_catalog: BuildCatalog) -> None:
    catalog, w = built_catalog(build_world)
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


def test_blank_or_missing_labels_fall_back_to_the_rid(built_catalog: BuildCatalog) -> None:
    catalog, w = built_catalog(build_world)
    blank, empty, none = (dataset(catalog, text) for text in (" \t\n", "", "x"))
    catalog.update("Dataset", [{"RID": none, "Description": None}])
    add_edges(
        catalog,
        [(w.a0, "Image", d, "Dataset", "member_of", None) for d in (blank, empty, none)],
    )
    labels = {n["rid"]: n["label"] for n in lineage(catalog, w.a0, "downstream").nodes}
    assert labels[blank] == blank and labels[empty] == empty and labels[none] == none
    assert labels[w.a0] == "raw.png"


def test_members_of_any_table_and_nested_datasets(built_catalog: BuildCatalog) -> None:
    catalog, w = built_catalog(build_world)
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


def test_edges_to_deleted_rows_keep_their_rid(built_catalog: BuildCatalog) -> None:
    catalog, w = built_catalog(build_world)
    gone = "ZZZZZZZZ-7"
    add_edges(catalog, [(w.e1, "Execution", gone, "Image", "generated", None)])
    g = lineage(catalog, gone, "upstream")
    node = {n["rid"]: n for n in g.nodes}[gone]
    assert node == {"rid": gone, "kind": "asset", "table": "Image", "label": gone}
    assert w.e1 in node_rids(g)


def test_unknown_relations_are_ignored(built_catalog: BuildCatalog) -> None:
    catalog, w = built_catalog(build_world)
    [odd] = images(catalog, "odd.png")
    add_edges(catalog, [(w.e1, "Execution", odd, "Image", "derived", None)])
    assert odd not in node_rids(lineage(catalog, w.e1, "both"))
    assert lineage(catalog, odd, "both").edges == []


# --- renderings ---------------------------------------------------------------------------------


def test_renderings_of_a_catalog_graph(built_catalog: BuildCatalog) -> None:
    catalog, w = built_catalog(build_world)
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
