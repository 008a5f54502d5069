"""Execution throughput: uploads, lineage and bare executions, each against an aim.

One run measures four figures on the embedded default (SQLite + local object store), each
part in its own fresh temporary catalog:

* (a) big file: one ``--big-mib`` MiB file staged with ``exe.asset_file_path("Bench",
  "big.bin")``, written in the working directory, then ``exe.upload_execution_outputs()``
  timed, once with ``clean_folder=True`` (the file may be moved into the store) and once
  with ``clean_folder=False`` (copied while hashed). Baseline, in the same run: a plain
  single pass of MD5 + SHA-256 over the same bytes with ``hashlib`` in 1 MiB chunks.
  Ratio = baseline time / upload time, aim >= 0.8 for each mode.
* (b) many small files, two figures against peers measured in the same run:
  - (b1) a folder of ``--folder-files`` (1,000) files of ``--file-kib`` KiB: one
    execution that stages it and uploads it, end to end (``create_execution``, staging,
    ``upload_execution_outputs()``), once through the batch call
    ``exe.asset_file_path("Bench", folder)`` and once through the per-file path (one
    ``asset_file_path`` per file), against MLflow's ``log_artifacts`` of the same folder in
    a run (``exec_peers.py``; skipped when MLflow is not installed). Ratio = MLflow's
    time / ours, aim >= 0.5 each.
  - (b2) ``--files`` (10,000) files written at ``asset_file_path`` paths in the working
    directory, then ``upload_execution_outputs()`` timed against the floor script of
    ``exec_peers.py`` (raw sqlite3 + os: the same reads, hashes, renames, inserts and
    syncs) on the same number of files. Ratio = floor time / upload time, aim >= 0.7.
* (c) lineage: a chain of ``--chain`` executions, execution i reading asset i-1 and
  writing asset i. The first link is made through the public API; the rest is inserted
  through the catalog's row layer (Execution, Bench, Bench_Asset_Type, Bench_Execution and
  Execution_Metadata_Execution rows; the row layer writes the provenance edges), so the
  graph has the same shape as one built through the API. Timed: the recursive SQL query
  alone (aim <= 20 ms) and ``cat.lineage(rid)`` end to end (aim <= 50 ms), upstream of
  the last asset.
* (d) executions: ``with cat.create_execution(cfg) as exe: exe.update_status("Running",
  detail)`` with three parameters and three metrics (in the detail: assetry has no
  metrics API), against MLflow's ``start_run`` + ``log_params`` + ``log_metrics`` on its
  SQLite store in the same run; aim >= 5x MLflow's runs/s.

Every part checks what it made (lengths, asset counts, node and edge counts). Figures are
medians; ``--repeat`` sets the rounds of (a) and the lineage calls of (c), ``--bulk-repeat``
the interleaved rounds of (b) and (d). The figures are also written as JSON to
``build/bench/executions.json``.

    .venv/bin/python benchmarks/bench_executions.py [--quick] [--parts abcd] [--repeat N]
        [--bulk-repeat N] [--big-mib N] [--files N] [--folder-files N] [--file-kib N] [--chain N]
        [--executions N] [--json] [--dir DIR] [--profile DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from assetry import Catalog, ExecutionConfiguration
from assetry.sql import rows
from assetry.sql.lineage import walk
from assetry.store.hashing import Digests
from common import Figure, Report, Timing, load, median_wall, positive, write_json
from exec_parts_bd import part_executions, part_small
from exec_shared import SEED, TABLE, Clock, bench_workflow, new_catalog

# Imported up front: other work may edit the package while a long run is going.
_walk_statement: Callable[..., Any] | None
try:
    from assetry.sql.lineage import _walk_statement
except ImportError:  # private; the benchmark then times walk() instead
    _walk_statement = None

CHUNK = 1 << 20
DEFAULTS = {"big_mib": 1024, "files": 10_000, "folder_files": 1_000, "chain": 10_000,
            "executions": 500}  # fmt: skip
QUICK = {"big_mib": 64, "files": 1_000, "folder_files": 1_000, "chain": 1_000, "executions": 200}


def fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def read_through(path: Path) -> None:
    """Read the file once (into the page cache), hashing nothing."""
    with open(path, "rb", buffering=0) as handle:
        buffer = bytearray(CHUNK)
        while handle.readinto(buffer):
            pass


def baseline_hash(path: Path) -> tuple[str, str, int]:
    """The baseline: one pass of MD5 + SHA-256 over the file in 1 MiB chunks."""
    md5, sha256, length = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
            length += len(chunk)
    return md5.hexdigest(), sha256.hexdigest(), length


# --- (a) one big file -----------------------------------------------------------------


def make_big_file(path: Path, mib: int) -> None:
    rng = random.Random(SEED)
    with open(path, "wb") as out:
        for _ in range(mib):
            out.write(rng.randbytes(CHUNK))
        out.flush()
        os.fsync(out.fileno())


def stage_big(exe: Any, source: Path, tag: bytes) -> None:
    """Write ``source``'s bytes at ``exe.asset_file_path("Bench", "big.bin")``, the first
    bytes replaced by ``tag`` so every upload stores a new object; then fsync the file and
    read it once, so the timed upload starts, like the baseline, from the page cache."""
    staged = exe.asset_file_path(TABLE, "big.bin")
    shutil.copyfile(source, staged)
    with open(staged, "r+b") as handle:
        handle.write(tag)
    fsync_file(staged)
    read_through(staged)


def part_big(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    size = args.big_mib * CHUNK
    base_runs: list[Timing] = []
    move_runs: list[Timing] = []
    copy_runs: list[Timing] = []
    source = root / "source.bin"
    make_big_file(source, args.big_mib)
    expected = baseline_hash(source)
    for i in range(args.repeat):
        cat = new_catalog(root, f"big-{i}")
        wf = bench_workflow(cat, "bench-big")
        # Alternate the order, so no phase always meets a warmer (or busier) disk.
        order = ("base", "move", "copy") if i % 2 == 0 else ("copy", "move", "base")
        for phase in order:
            if phase == "base":
                read_through(source)
                with clock.section("a_baseline", base_runs):
                    found = baseline_hash(source)
                if found != expected:
                    raise SystemExit("baseline: the source file changed")
                continue
            move = phase == "move"
            cfg = ExecutionConfiguration(workflow=wf, description=f"big file, {phase}")
            with cat.create_execution(cfg) as exe:
                stage_big(exe, source, f"round {i} {phase}".encode().ljust(16))
                with clock.section(f"a_upload_{phase}", move_runs if move else copy_runs):
                    out = exe.upload_execution_outputs(clean_folder=move, progress=False)
            [asset] = out[TABLE]
            if asset["Length"] != size:
                raise SystemExit(f"{phase}: stored {asset['Length']} bytes, expected {size}")
            if exe.working_dir.exists():
                shutil.rmtree(exe.working_dir)  # the copied file, kept by clean_folder=False
        cat.close()
        shutil.rmtree(root / f"big-{i}")
    source.unlink()
    base = median_wall(base_runs)
    report.runs.update(a_baseline=base_runs, a_upload_move=move_runs, a_upload_copy=copy_runs)
    for mode, runs in (("move", move_runs), ("copy", copy_runs)):
        upload = median_wall(runs)
        report.figures.append(
            Figure("a", f"big file, clean_folder={mode == 'move'} ({mode}): baseline/upload",
                   round(base / upload, 3), "x", 0.8, True)
        )  # fmt: skip
    report.notes["a"] = {
        "mib": args.big_mib,
        "baseline_mib_per_s": round(args.big_mib / base, 1),
        "move_mib_per_s": round(args.big_mib / median_wall(move_runs), 1),
        "copy_mib_per_s": round(args.big_mib / median_wall(copy_runs), 1),
    }


# --- (c) lineage of a long chain ------------------------------------------------------


def chain_asset(n: int, stored: Digests) -> dict[str, Any]:
    """The asset row of chain step ``n``: every step names one stored object (asset rows
    must name stored bytes), under its own file name."""
    return {
        "URL": f"/objects/{stored.sha256}",
        "Filename": f"step_{n:06d}.bin",
        "Length": stored.length,
        "MD5": stored.md5,
        "SHA256": stored.sha256,
        "Description": f"output of chain step {n}",
    }


def insert_rows(cat: Catalog, table: str, values: list[dict[str, Any]]) -> list[str]:
    """Rows written by the catalog's own row layer (checks, history, provenance edges), as
    its operations write them: executions and execution links are refused to the
    generic ``cat.insert``."""
    backend: Any = cat._backend
    with backend.session(write=True) as session:
        return rows.insert(session, table, values)


def build_chain(cat: Catalog, length: int, batch: int = 1000) -> tuple[str, str]:
    """A chain of ``length`` executions; return (workflow RID, RID of the last asset).

    Step 0 goes through the public API (so the environment asset exists and the links
    are what the API writes); steps 1.. are inserted through the catalog's row layer,
    with the same links: Output of its asset, Input of the previous asset and of the
    environment asset, and the workflow.
    """
    wf = bench_workflow(cat, "bench-chain")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        exe.asset_file_path(TABLE, "step_000000.bin").write_bytes(b"chain 0")
    [first] = exe.upload_execution_outputs(progress=False)[TABLE]
    [env] = [a["RID"] for a in cat.list_execution_assets(exe, role="Input")]
    previous = first["RID"]
    stored = cat._context.store().put_stream(io.BytesIO(b"chain step"))
    for start in range(1, length, batch):
        steps = range(start, min(start + batch, length))
        exes = insert_rows(
            cat,
            "Execution",
            [{"Workflow": wf, "Description": f"chain step {n}", "Status": "Completed",
              "Upload_Status": "Uploaded", "Parameters": {"step": n}} for n in steps],
        )  # fmt: skip
        outputs = insert_rows(cat, TABLE, [chain_asset(n, stored) for n in steps])
        insert_rows(
            cat, f"{TABLE}_Asset_Type", [{TABLE: rid, "Asset_Type": TABLE} for rid in outputs]
        )
        inputs = [previous, *outputs[:-1]]
        links = [(exe, asset, "Output") for exe, asset in zip(exes, outputs, strict=True)]
        links += [(exe, asset, "Input") for exe, asset in zip(exes, inputs, strict=True)]
        insert_rows(
            cat,
            f"{TABLE}_Execution",
            [{TABLE: asset, "Execution": exe, "Asset_Role": role} for exe, asset, role in links],
        )
        insert_rows(
            cat,
            "Execution_Metadata_Execution",
            [{"Execution_Metadata": env, "Execution": e, "Asset_Role": "Input"} for e in exes],
        )
        previous = outputs[-1]
    return wf, previous


def lineage_sql(cat: Catalog, rid: str) -> tuple[str, Callable[[], int]]:
    """A callable running the recursive lineage query alone in a read session, and what
    it times. Uses private names (``_backend``, ``_walk_statement``); falls back to the
    whole ``walk`` inside the session if they change."""
    backend: Any = cat._backend
    if _walk_statement is None:

        def run_walk() -> int:
            with backend.session() as s:
                return len(walk(s, rid, "upstream", None).edges)

        return "lineage.walk() in a session", run_walk

    with backend.session() as s:
        dialect = s.dialect
    try:  # the statement has one form per engine
        statement = _walk_statement(rid, "upstream", None, dialect=dialect)
    except TypeError:
        statement = _walk_statement(rid, "upstream", None)

    def run() -> int:
        with backend.session() as s:
            return len(s.conn.execute(statement).all())

    return "recursive query, rows fetched", run


def lineage_raw(cat: Catalog, rid: str) -> Callable[[], int] | None:
    """The peer of (c): the same recursive CTE over the same edge table, as SQL text
    run on a plain ``sqlite3`` connection and fetched as tuples (None off SQLite)."""
    backend: Any = cat._backend
    if _walk_statement is None or backend.engine.dialect.name != "sqlite":
        return None
    statement = _walk_statement(rid, "upstream", None, dialect="sqlite")
    sql = str(
        statement.compile(dialect=backend.engine.dialect, compile_kwargs={"literal_binds": True})
    )
    db = sqlite3.connect(backend.engine.url.database)

    def run() -> int:
        return len(db.execute(sql).fetchall())

    return run


def part_lineage(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    cat = new_catalog(root, "chain")
    build: list[Timing] = []
    with clock.section("c_build", build):
        _, last = build_chain(cat, args.chain)
    nodes, edges = 2 * args.chain + 2, 4 * args.chain - 1
    what, sql = lineage_sql(cat, last)
    graph = cat.lineage(last)  # also warms the statement cache and the page cache
    if (len(graph.nodes), len(graph.edges)) != (nodes, edges) or sql() != edges:
        raise SystemExit(
            f"chain: lineage has {len(graph.nodes)} nodes and {len(graph.edges)} edges, "
            f"expected {nodes} and {edges}"
        )
    raw = lineage_raw(cat, last)
    if raw is not None and raw() != sql():
        raise SystemExit("chain: the raw recursive query returns other rows than the catalog's")
    calls = 2 * args.repeat + 1
    sql_runs: list[Timing] = []
    api_runs: list[Timing] = []
    raw_runs: list[Timing] = []
    for _ in range(calls):  # interleaved rounds
        if raw is not None:
            with clock.section("c_raw", raw_runs):
                raw()
        with clock.section("c_sql", sql_runs):
            sql()
        with clock.section("c_lineage", api_runs):
            cat.lineage(last)
    cat.close()
    shutil.rmtree(root / "chain")
    report.runs.update(c_build=build, c_sql=sql_runs, c_lineage=api_runs)
    sql_ms, api_ms = median_wall(sql_runs) * 1000, median_wall(api_runs) * 1000
    report.figures += [
        Figure("c", f"lineage, {args.chain:,}-step chain: SQL query", round(sql_ms, 2), "ms",
               None, False),
        Figure("c", f"lineage, {args.chain:,}-step chain: cat.lineage", round(api_ms, 2), "ms",
               None, False),
    ]  # fmt: skip
    if raw_runs:
        raw_ms = median_wall(raw_runs) * 1000
        report.figures += [
            Figure("c", f"lineage, {args.chain:,}-step chain: raw sqlite3 CTE", round(raw_ms, 2),
                   "ms", None, False),
            Figure("c", "cat.lineage / raw CTE (x)", round(api_ms / raw_ms, 2), "x", 1.5, False),
        ]  # fmt: skip
    report.notes["c"] = {
        "build": "step 0 through the public API, steps 1.. through the row layer, 1,000 per call",
        "build_s": round(build[0].wall, 2),
        "sql_timed": what,
        "nodes": nodes,
        "edges": edges,
        "calls": calls,
        "sql_cpu_ms": round(statistics.median(t.cpu for t in sql_runs) * 1000, 2),
        "lineage_cpu_ms": round(statistics.median(t.cpu for t in api_runs) * 1000, 2),
        "lineage_us_per_edge": round(api_ms * 1000 / edges, 2),
    }


# --- main -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "load_before": load(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 64 MiB, 1,000 files, chain of 1,000, 200 executions, repeat 1, "
        "bulk-repeat 1 "
        "(explicit options still win)",
    )
    parser.add_argument("--parts", default="abcd", help="which parts to run (default abcd)")
    parser.add_argument("--big-mib", type=positive, help="(a) size of the big file in MiB (1024)")
    parser.add_argument("--files", type=positive, help="(b2) files uploaded (10000)")
    parser.add_argument(
        "--folder-files", type=positive, help="(b1) files in the folder staged (1000)"
    )
    parser.add_argument("--file-kib", type=positive, default=4, help="(b) KiB per file (4)")
    parser.add_argument("--chain", type=positive, help="(c) executions in the chain (10000)")
    parser.add_argument("--executions", type=positive, help="(d) executions to time (500)")
    parser.add_argument(
        "--repeat",
        type=positive,
        help="rounds of (a), and 2N+1 lineage calls in (c); medians (default 3, quick 1)",
    )
    parser.add_argument(
        "--bulk-repeat",
        type=positive,
        help="interleaved rounds of (b) and (d) (ours and the peer's); medians (default 3)",
    )
    parser.add_argument("--json", action="store_true", help="also print a JSON object")
    parser.add_argument("--dir", type=Path, help="where to make the temporary directory")
    parser.add_argument(
        "--profile", type=Path, help="cProfile every timed section; write pstats files here"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else DEFAULTS
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.bulk_repeat is None:
        args.bulk_repeat = 1 if args.quick else 3
    unknown = set(args.parts) - set("abcd")
    if unknown or not args.parts:
        parser.error(f"--parts takes letters from 'abcd', got {args.parts!r}")
    return args


PARTS = {"a": part_big, "b": part_small, "c": part_lineage, "d": part_executions}


def print_report(report: Report, args: argparse.Namespace) -> None:
    m = report.machine
    print(
        f"machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}, "
        f"SQLite {m['sqlite']}, SQLAlchemy {m['sqlalchemy']}; load average (1/5 min) "
        f"before {m['load_before']}, after {m['load_after']}"
    )
    notes = report.notes
    if "a" in notes:
        a = notes["a"]
        print(
            f"(a) {a['mib']:,} MiB, median of {args.repeat} round(s): baseline md5+sha256 "
            f"{a['baseline_mib_per_s']:,} MiB/s, upload move {a['move_mib_per_s']:,} MiB/s, "
            f"copy {a['copy_mib_per_s']:,} MiB/s (all from the page cache: each file is "
            "fsynced and read once before its timed phase; phase order alternates)"
        )
    if "b1" in notes:
        b1 = notes["b1"]
        rates = ", ".join(
            f"{way} {b1[f'{way}_files_per_s']:,.0f}"
            for way in ("batch", "perfile", "mlflow")
            if f"{way}_files_per_s" in b1
        )
        print(
            f"(b1) folder of {b1['files']:,} files, staged + uploaded end to end, median of "
            f"{args.bulk_repeat} interleaved round(s), files/s: {rates}"
            + (f" ({b1['mlflow']})" if "mlflow" in b1 else "")
        )
    if "b2" in notes:
        b = notes["b2"]
        print(
            f"(b2) median of {args.bulk_repeat} round(s); staging {args.files:,} files (and "
            f"writing them): {b['staging_s']:.2f} s ({b['staging_us_per_file']:.0f} us per "
            f"file); upload {b['upload_s']:.2f} s, cpu share {b['upload_cpu_share']:.0%}; "
            f"floor {b['floor_s']:.2f} s ({b['floor_files_per_s']:,.0f} files/s)"
        )
    if "c" in notes:
        c = notes["c"]
        print(
            f"(c) chain built in {c['build_s']:.1f} s ({c['build']}); upstream graph "
            f"{c['nodes']:,} nodes, {c['edges']:,} edges; median of {c['calls']} calls; "
            f"SQL timed as: {c['sql_timed']}; cpu: SQL {c['sql_cpu_ms']:.1f} ms, cat.lineage "
            f"{c['lineage_cpu_ms']:.1f} ms ({c['lineage_us_per_edge']:.1f} us per edge)"
        )
    if "d" in notes:
        d = notes["d"]
        peer = (
            f"MLflow start_run + 3 params + 3 metrics {d['mlflow_runs_per_s']:.1f} runs/s "
            "in the same rounds"
            if "mlflow_runs_per_s" in d
            else d["mlflow"]
        )
        print(
            f"(d) {args.executions:,} executions, median of {args.bulk_repeat} round(s): "
            f"{d['ms_per_execution']:.2f} ms each ({d['cpu_ms_per_execution']:.2f} ms cpu); "
            f"{peer}"
        )
    width = max(len(f.name) for f in report.figures) if report.figures else 10
    print()
    print(f"{'part':<4}  {'figure':<{width}}  {'value':>10}  {'aim':>10}  result")
    for f in report.figures:
        aim = f.aim_text
        value = f"{f.value:,.2f}" if f.value < 100 else f"{f.value:,.0f}"
        print(f"{f.part:<4}  {f.name:<{width}}  {value + ' ' + f.unit:>10}  {aim:>10}  {f.verdict}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report(
        settings={k: getattr(args, k) for k in ("big_mib", "files", "folder_files", "file_kib",
                                                "chain", "executions", "repeat",
                                                "bulk_repeat", "parts")},
        machine=machine(),
    )  # fmt: skip
    clock = Clock(args.profile)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="assetry-bench-exe-", dir=args.dir) as tmp:
        for part in sorted(set(args.parts)):
            part_started = time.perf_counter()
            PARTS[part](args, Path(tmp), clock, report)
            seconds = time.perf_counter() - part_started
            report.notes.setdefault("part_s", {})[part] = round(seconds, 1)
            print(f"[part {part}: {seconds:.1f} s, load average now {load()}]", flush=True)
    report.machine["load_after"] = load()
    report.notes["total_s"] = round(time.perf_counter() - started, 1)
    print_report(report, args)
    print(f"total {report.notes['total_s']:.0f} s")
    data = asdict(report)
    for f, source in zip(data["figures"], report.figures, strict=True):
        f["passed"] = source.passed
    print(f"figures written to {write_json('executions', data)}")
    if args.json:
        print(json.dumps(data, sort_keys=True))
    clock.dump()
    return 0


if __name__ == "__main__":
    sys.exit(main())
