"""Reads of a large table against plain SQL on the same SQLite file, in the same run.

One catalog with a table ``Item`` of ``--rows`` rows (RID, the system columns, an int, a
text, a float) and a dataset holding ``--members`` of them. Timed, interleaved rounds,
medians:

* ``get_table_as_dataframe("Item")`` against a plain ``SELECT`` of the same columns with
  ``sqlite3`` turned into a DataFrame (``DataFrame.from_records``); aim: time <= 1.3x
  the plain one, peak memory (tracemalloc) <= 1.3x;
* ``list_dataset_members(ds)`` against a plain ``SELECT`` joining the membership table to
  ``Item`` (tuples, no dicts); aim <= 1.3x;
* one page (1,000 members) of ``list_dataset_members(ds, table=, after=)`` in the middle
  of the dataset; aim <= 10 ms;
* peak memory of streaming every row with ``get_table_as_dict``; aim < 200 MiB.

    .venv/bin/python benchmarks/bench_reads.py [--rows N] [--members N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from assetry import Catalog, ColumnDef, TableDef
from common import Figure, Report, load, positive, write_json

BATCH = 50_000
PAGE = 1_000


def build(root: Path, rows: int, members: int) -> tuple[Catalog, str]:
    cat = Catalog.create(root / "catalog")
    cat.create_table(
        TableDef("Item", [ColumnDef("N", "int4"), ColumnDef("Name", "text"),
                          ColumnDef("Score", "float8")])
    )  # fmt: skip
    cat.add_dataset_element_type("Item")
    rids: list[str] = []
    for start in range(0, rows, BATCH):
        chunk = range(start, min(rows, start + BATCH))
        rids += cat.insert("Item", [{"N": n, "Name": f"item {n}", "Score": n / 7} for n in chunk])
    ds = cat.create_dataset(description="bench_reads")
    cat.add_dataset_members(ds, rids[:members])
    return cat, ds


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=positive, default=100_000, help="rows of Item (100000)")
    parser.add_argument("--members", type=positive, help="dataset members (min(rows, 100000))")
    parser.add_argument("--repeat", type=positive, default=5, help="rounds (5)")
    parser.add_argument("--dir", type=Path, help="where to make the temporary directory")
    args = parser.parse_args(argv)
    members = args.members or min(args.rows, 100_000)
    report = Report(
        settings={"rows": args.rows, "members": members, "repeat": args.repeat},
        machine={"platform": platform.platform(), "cpus": os.cpu_count(),
                 "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                 "load_before": load()},
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="assetry-bench-reads-", dir=args.dir) as tmp:
        started = time.perf_counter()
        cat, ds = build(Path(tmp), args.rows, members)
        print(f"built {args.rows:,} rows, {members:,} members in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        db = sqlite3.connect(Path(tmp) / "catalog" / "catalog.db")
        names = [name for name in cat.get_table_as_dataframe("Item", filters={"N": -1}).columns]
        cols = ", ".join(f'i."{c}"' for c in names)
        # The column names are the benchmark's own table's, read from the catalog.
        plain_sql = f'SELECT {cols} FROM "Item" i ORDER BY i."RID"'  # noqa: S608
        members_sql = (
            f'SELECT {cols} FROM "Dataset_Item" l JOIN "Item" i ON i."RID" = l."Item" '  # noqa: S608
            'WHERE l."Dataset" = ? ORDER BY l."Item"'
        )
        rids = [r for (r,) in db.execute('SELECT "Item" FROM "Dataset_Item" WHERE "Dataset" = ? '
                                         'ORDER BY "Item"', (ds,))]  # fmt: skip
        middle = rids[len(rids) // 2]

        def plain_frame() -> pd.DataFrame:
            return pd.DataFrame.from_records(db.execute(plain_sql).fetchall(), columns=names)

        runs: dict[str, list[float]] = {k: [] for k in
                                        ("frame", "plain_frame", "members", "plain_members",
                                         "page", "dict_stream")}  # fmt: skip
        phases: dict[str, Callable[[], Any]] = {
            "frame": lambda: cat.get_table_as_dataframe("Item"),
            "plain_frame": plain_frame,
            "members": lambda: cat.list_dataset_members(ds),
            "plain_members": lambda: db.execute(members_sql, (ds,)).fetchall(),
            "page": lambda: cat.list_dataset_members(ds, table="Item", after=middle, limit=PAGE),
            "dict_stream": lambda: sum(1 for _ in cat.get_table_as_dict("Item")),
        }
        for i in range(args.repeat):
            order = list(phases) if i % 2 == 0 else list(reversed(phases))
            for name in order:
                runs[name].append(timed(phases[name]))
        memory = {
            "frame": peak(phases["frame"]),
            "plain_frame": peak(plain_frame),
            "dict_stream": peak(phases["dict_stream"]),
        }
        cat.close()
    med = {k: statistics.median(v) for k, v in runs.items()}
    mib = 1 << 20
    rows = f"{args.rows:,} rows"
    report.figures += [
        Figure("reads", f"get_table_as_dataframe / plain SELECT, {rows}",
               round(med["frame"] / med["plain_frame"], 3), "x", 1.3, False),
        Figure("reads", f"dataframe peak memory / plain SELECT's, {rows}",
               round(memory["frame"] / memory["plain_frame"], 3), "x", 1.3, False),
        Figure("reads", f"list_dataset_members / plain SELECT, {members:,} members",
               round(med["members"] / med["plain_members"], 3), "x", 1.3, False),
        Figure("reads", f"a page of {PAGE:,} members at the middle",
               round(med["page"] * 1000, 2), "ms", 10, False),
        Figure("reads", f"get_table_as_dict peak memory, {rows}",
               round(memory["dict_stream"] / mib, 1), "MiB", 200, False),
    ]  # fmt: skip
    report.notes = {
        "median_s": {k: round(v, 4) for k, v in med.items()},
        "peak_mib": {k: round(v / mib, 1) for k, v in memory.items()},
    }
    report.machine["load_after"] = load()
    m = report.machine
    print(
        f"machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}, SQLite "
        f"{m['sqlite']}; load (1/5 min) before {m['load_before']}, after {m['load_after']}"
    )
    print(f"medians of {args.repeat} interleaved rounds (s): " + ", ".join(
        f"{k} {v:.3f}" for k, v in med.items()))  # fmt: skip
    print("peak memory (MiB, tracemalloc): " + ", ".join(
        f"{k} {v / mib:.1f}" for k, v in memory.items()))  # fmt: skip
    width = max(len(f.name) for f in report.figures)
    print(f"\n{'figure':<{width}}  {'value':>10}  {'aim':>8}  result")
    for f in report.figures:
        print(f"{f.name:<{width}}  {f'{f.value:,.2f} {f.unit}':>10}  {f.aim_text:>8}  {f.verdict}")
    data = asdict(report)
    for f, source in zip(data["figures"], report.figures, strict=True):
        f["passed"] = source.passed
    name = "reads" if args.rows == 100_000 else f"reads-{args.rows}"
    print(f"figures written to {write_json(name, data)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
