"""The web interface on a big catalog: how long the server takes to answer its pages.

A SQLite catalog holds a table of ``--rows`` rows (a text, a float, markdown and a
vocabulary column) and one execution with ``--lineage`` nodes around it (inputs made by
an ingest, outputs of its own). ``assetry ui``'s app serves it from a thread; each page
is asked ``--repeat`` times over loopback HTTP and the median time to the last byte is
printed (request parsing, the catalog's queries, the template, the answer):

- the table page: first page; a page deep in the table (keyset cursor near the end);
  filtered by a vocabulary term; each with its row count and vocabulary facets; and,
  held to no aim, sorted by the float, which has no index (a sort of the whole table);
- a row page (every column, links, references, history);
- the lineage explorer around the execution (both directions, every depth).

Aim: each ≤ 200 ms. No page reads a whole table: pages are keyset pages, counts and
facets are single aggregate queries.

    .venv/bin/python benchmarks/bench_ui.py [--rows 1000000] [--lineage 1000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import requests

from assetry import BuiltinType, Catalog, ColumnDef, ExecutionConfiguration, TableDef
from assetry.server.run import background_server
from assetry.ui.app import local_app
from common import Figure, load, positive, save_figures

AIM_MS = 200.0
BATCH = 20_000
SPECIES = ["Mus musculus", "Danio rerio", "Homo sapiens", "Rattus norvegicus"]


def fill_table(cat: Catalog, rows: int) -> None:
    cat.create_vocabulary("Species", comment="species")
    for name in SPECIES:
        cat.add_term("Species", name)
    cat.create_table(
        TableDef(
            "Sample",
            [
                ColumnDef("Name", BuiltinType.text, nullok=False),
                ColumnDef("Score", BuiltinType.float8),
                ColumnDef("Notes", BuiltinType.markdown),
            ],
            referenced_tables=["Species"],
            comment="One million samples.",
        )
    )
    for start in range(0, rows, BATCH):
        cat.insert(
            "Sample",
            [
                {
                    "Name": f"sample-{n:07d}",
                    "Score": (n * 7919 % 100_003) / 1000,
                    "Notes": "a *sample*" if n % 10 == 0 else None,
                    "Species": SPECIES[n % len(SPECIES)],
                }
                for n in range(start, min(start + BATCH, rows))
            ],
        )


def fill_lineage(cat: Catalog, nodes: int, folder: Path) -> str:
    """An execution with about ``nodes`` nodes around it; return its RID."""
    inputs = nodes // 2
    folder.mkdir()
    paths = []
    for n in range(inputs):
        path = folder / f"in-{n:04d}.txt"
        path.write_text(f"input {n}\n")
        paths.append(path)
    cat.create_asset("Image", comment="inputs and outputs")
    ingested = cat.upload_assets("Image", paths)
    wf = cat.create_workflow("bench-train", workflow_type="Training")
    config = ExecutionConfiguration(workflow=wf, assets=[a["RID"] for a in ingested])
    outputs = nodes - inputs - 6  # the run, two workflows, an ingest, two environments
    with cat.create_execution(config) as exe:
        for n in range(outputs):
            exe.asset_file_path("Image", f"out-{n:04d}.txt").write_text(f"output {n}\n")
    exe.upload_execution_outputs()
    return exe.rid


def timed(session: requests.Session, url: str, repeat: int) -> tuple[float, int]:
    """Median milliseconds to the last byte of ``url`` and its size."""
    times = []
    size = 0
    for _ in range(repeat):
        started = time.perf_counter()
        answer = session.get(url)
        body = answer.content
        times.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, body[:500])
        size = len(body)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=positive, default=1_000_000)
    parser.add_argument("--lineage", type=positive, default=1000)
    parser.add_argument("--repeat", type=positive, default=15)
    args = parser.parse_args()
    print(f"bench_ui: load {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        root = Path(tmp)
        cat = Catalog.create(root / "catalog")
        started = time.perf_counter()
        fill_table(cat, args.rows)
        print(f"filled {args.rows:,} rows in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
        run = fill_lineage(cat, args.lineage, root / "files")
        graph = cat.lineage(run, "both", None)
        print(
            f"lineage of {len(graph.nodes):,} nodes, {len(graph.edges):,} edges "
            f"built in {time.perf_counter() - started:.0f} s"
        )
        deep = cat.query_page("Sample", sort="RID", descending=True, limit=60)[-1]
        middle = cat.query_page("Sample", limit=1, after=[None, deep["RID"]])[0]
        after = json.dumps([deep["RID"], deep["RID"]])
        pages = [
            ("table, first page", "/table/Sample"),
            ("table, page near the end", f"/table/Sample?after={after}"),
            ("table, by Score (no index)", "/table/Sample?sort=Score&desc=1"),
            ("table, one species", "/table/Sample?f.Species=Danio+rerio"),
            ("row page", f"/row/{middle['RID']}"),
            (f"lineage, {len(graph.nodes):,} nodes", f"/lineage/{run}?direction=both&depth=all"),
        ]
        with background_server(local_app(cat)) as base, requests.Session() as session:
            timed(session, base + "/ui/", 2)  # warm: templates compiled, model read
            print(f"median time to the last byte over {args.repeat} requests:")
            figures: dict[str, dict[str, object]] = {}
            for name, url in pages:
                ms, size = timed(session, base + "/ui" + url, args.repeat)
                figures[name] = {
                    "ms": ms,
                    "bytes": size,
                    "aim_ms": None if "no index" in name else AIM_MS,
                }
                if "no index" in name:  # a full sort: shown, held to no aim
                    aim = "(context)"
                else:
                    aim = f"aim <= {AIM_MS:g} " + ("PASS" if ms <= AIM_MS else "MISS")
                print(f"  {name:32s} {ms:8.1f} ms  {size / 1000:8.1f} kB   {aim}")
        save_figures(
            "ui",
            [
                Figure("", f"{name}, {args.rows:,} rows", float(str(v["ms"])), "ms",
                       None if v["aim_ms"] is None else AIM_MS, False)
                for name, v in figures.items()
            ],
            pages=figures,
        )  # fmt: skip
        cat.close()


if __name__ == "__main__":
    main()
