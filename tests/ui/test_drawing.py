"""The pieces the pages draw with: the lineage layout and netpbm images as PNG."""

from __future__ import annotations

import struct
import zlib

import pytest

from assetry.errors import ValidationError
from assetry.ui import lineage, netpbm


def node(rid: str, kind: str = "asset") -> dict[str, str]:
    return {"rid": rid, "kind": kind, "table": "T", "label": rid}


def test_data_flows_left_to_right_around_the_root() -> None:
    nodes = [node("in1"), node("in2"), node("wf", "workflow"), node("run", "execution")]
    nodes += [node("out"), node("ds", "dataset"), node("next", "execution")]
    edges = [
        ("run", "in1", "used"),
        ("run", "in2", "used"),
        ("run", "wf", "executed"),
        ("run", "out", "generated"),
        ("out", "ds", "member_of"),
        ("next", "ds", "used"),
    ]
    drawn = lineage.layout(nodes, edges, "out")
    x = {n.rid: n.x for n in drawn["nodes"]}
    assert x["in1"] == x["in2"] == x["wf"] < x["run"] < x["out"] < x["ds"] < x["next"]
    places = {(n.x, n.y) for n in drawn["nodes"]}
    assert len(places) == len(nodes)  # no two boxes on one another
    assert [n.rid for n in drawn["nodes"] if n.root] == ["out"]
    assert len(drawn["edges"]) == len(edges)
    right = max(n.x for n in drawn["nodes"]) + lineage.NODE_W
    bottom = max(n.y for n in drawn["nodes"]) + lineage.NODE_H
    assert drawn["width"] >= right and drawn["height"] >= bottom


def test_columns_are_ordered_to_keep_edges_short() -> None:
    # two runs, each with its own inputs: each input sits beside its run
    nodes = [node("root", "row")] + [node(r, "execution") for r in ("b", "a")]
    nodes += [node(i) for i in ("a1", "b1")]
    edges = [("a", "a1", "used"), ("b", "b1", "used")]
    edges += [("a", "root", "generated"), ("b", "root", "generated")]
    drawn = lineage.layout(nodes, edges, "root")
    y = {n.rid: n.y for n in drawn["nodes"]}
    assert (y["a"] < y["b"]) == (y["a1"] < y["b1"])


def test_a_graph_of_parts_and_cycles_is_still_drawn() -> None:
    nodes = [node("a"), node("b"), node("lonely")]
    edges = [("a", "b", "generated"), ("b", "a", "generated")]
    drawn = lineage.layout(nodes, edges, "a")
    assert {n.rid for n in drawn["nodes"]} == {"a", "b", "lonely"}


def png_rows(png: bytes) -> tuple[tuple[int, ...], list[bytes]]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos, header, data = 8, b"", b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, body = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        crc = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])[0]
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    raw = zlib.decompress(data)
    stride = len(raw) // height
    rows = [raw[i * stride : (i + 1) * stride] for i in range(height)]
    assert all(r[0] == 0 for r in rows)  # no filter
    return (width, height, depth, color), [r[1:] for r in rows]


def test_pgm_and_ppm_become_png_with_the_same_pixels() -> None:
    pixels = bytes(range(12))
    header, rows = png_rows(netpbm.to_png(b"P5\n# a comment\n4 3\n255\n" + pixels))
    assert header == (4, 3, 8, 0) and b"".join(rows) == pixels
    header, rows = png_rows(netpbm.to_png(b"P6 2 1 255\n" + bytes([1, 2, 3, 4, 5, 6])))
    assert header == (2, 1, 8, 2) and rows == [bytes([1, 2, 3, 4, 5, 6])]
    _, rows = png_rows(netpbm.to_png(b"P5 2 1 15\n" + bytes([15, 5])))
    assert rows == [bytes([255, 85])]  # scaled to the full range
    header, rows = png_rows(netpbm.to_png(b"P5 1 1 65535\n" + b"\x12\x34"))
    assert header == (1, 1, 16, 0) and rows == [b"\x12\x34"]


@pytest.mark.parametrize(
    "data", [b"P5 4 3 255\n" + bytes(5), b"P2 1 1 255\n0", b"P5 0 1 255\n", b"P5 99999 99999 255\n"]
)
def test_bad_netpbm_files_are_refused(data: bytes) -> None:
    with pytest.raises(ValidationError):
        netpbm.to_png(data)
