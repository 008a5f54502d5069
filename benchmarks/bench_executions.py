"""Execution throughput: uploads, lineage and bare executions, each against an aim.

One run measures four figures on the embedded default (SQLite + local object store), each
part in its own fresh temporary catalog:

* (a) big file: one ``--big-mib`` MiB file staged with ``exe.asset_file_path("Bench",
  "big.bin")``, written in the working directory, then ``exe.upload_execution_outputs()``
  timed, once with ``clean_folder=True`` (the file may be moved into the store) and once
  with ``clean_folder=False`` (copied while hashed). Baseline, in the same run: a plain
  single pass of MD5 + SHA-256 over the same bytes with ``hashlib`` in 1 MiB chunks.
  Ratio = baseline time / upload time, aim >= 0.8 for each mode.
* (b) many small files: ``--files`` files of ``--file-kib`` KiB staged with
  ``asset_file_path`` and written in the working directory (staging timed separately),
  then ``upload_execution_outputs()`` (default ``clean_folder=True``) timed; aim >= 5,000
  assets/s for the upload call.
* (c) lineage: a chain of ``--chain`` executions, execution i reading asset i-1 and
  writing asset i. The first link is made through the public API; the rest is inserted
  through the catalog's row layer (Execution, Bench, Bench_Asset_Type, Bench_Execution and
  Execution_Metadata_Execution rows; the row layer writes the provenance edges), so the
  graph has the same shape as one built through the API. Timed: the recursive SQL query
  alone (aim <= 20 ms) and ``cat.lineage(rid)`` end to end (aim <= 50 ms), upstream of
  the last asset.
* (d) bare executions: ``with cat.create_execution(cfg) as exe: exe.update_status(
  "Running", "step")`` with three parameters and no files; aim >= 500 executions/s.

Every part checks what it made (lengths, asset counts, node and edge counts). Figures are
medians; ``--repeat`` sets the rounds of (a) and the lineage calls of (c), ``--bulk-repeat``
the rounds of (b) and (d), which already time thousands of operations each.

    .venv/bin/python benchmarks/bench_executions.py [--quick] [--parts abcd] [--repeat N]
        [--bulk-repeat N] [--big-mib N] [--files N] [--file-kib N] [--chain N]
        [--executions N] [--json] [--dir DIR] [--profile DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from assetry import Catalog, ExecutionConfiguration
from assetry.sql import rows
from assetry.sql.lineage import walk
from assetry.store.hashing import Digests
from common import Figure, Report, Timing, load, median_wall, positive

# Imported up front: other work may edit the package while a long run is going.
_walk_statement: Callable[..., Any] | None
try:
    from assetry.sql.lineage import _walk_statement
except ImportError:  # private; the benchmark then times walk() instead
    _walk_statement = None

TABLE = "Bench"
SEED = 20240601
CHUNK = 1 << 20
# MLflow start_run + 3 params + 3 metrics, runs/s measured on these machines (a given
# reference figure: this script does not run MLflow).
MLFLOW_RUNS_PER_S = 54.0
PARAMETERS = {"learning_rate": 1e-3, "epochs": 10, "optimizer": "adam"}
DEFAULTS = {"big_mib": 1024, "files": 10_000, "chain": 10_000, "executions": 500}
QUICK = {"big_mib": 64, "files": 1_000, "chain": 1_000, "executions": 200}


# --- helpers --------------------------------------------------------------------------


class Clock:
    """Times sections (wall and CPU), optionally under one shared profiler."""

    def __init__(self, profile_dir: Path | None) -> None:
        self.profile_dir = profile_dir
        self.profiles: dict[str, cProfile.Profile] = {}

    @contextmanager
    def section(self, name: str, runs: list[Timing]) -> Iterator[None]:
        profile = None
        if self.profile_dir is not None:
            profile = self.profiles.setdefault(name, cProfile.Profile())
            profile.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            timing = Timing(time.perf_counter() - wall, time.process_time() - cpu)
            if profile is not None:
                profile.disable()
            runs.append(timing)

    def dump(self) -> None:
        if self.profile_dir is None:
            return
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        for name, profile in self.profiles.items():
            path = self.profile_dir / f"{name}.pstats"
            profile.dump_stats(path)
            print(f"\n=== profile of {name} ({path}), by own time ===", file=sys.stderr)
            stats = pstats.Stats(profile, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(20)


def cpu_share(runs: Sequence[Timing]) -> float:
    wall = sum(t.wall for t in runs)
    return sum(t.cpu for t in runs) / wall if wall else 0.0


def new_catalog(root: Path, name: str) -> Catalog:
    cat = Catalog.create(root / name)
    cat.create_asset(TABLE, comment="execution benchmark")
    return cat


def bench_workflow(cat: Catalog, name: str) -> str:
    # url/checksum given, so no git detection of this script.
    wf = cat.create_workflow(name, "Training", url="bench://" + name, checksum="bench")
    return wf.rid


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


# --- (b) many small files -------------------------------------------------------------


def part_files(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    rng = random.Random(SEED + 2)
    size = args.file_kib * 1024
    stage_runs: list[Timing] = []
    upload_runs: list[Timing] = []
    for i in range(args.bulk_repeat):
        payloads = [rng.randbytes(size) for _ in range(args.files)]
        cat = new_catalog(root, f"files-{i}")
        wf = bench_workflow(cat, "bench-files")
        cfg = ExecutionConfiguration(workflow=wf, description="small files")
        with cat.create_execution(cfg) as exe:
            with clock.section("b_staging", stage_runs):
                for n, payload in enumerate(payloads):
                    exe.asset_file_path(TABLE, f"f{n // 1000:02d}/{n:06d}.bin").write_bytes(payload)
            with clock.section("b_upload", upload_runs):
                out = exe.upload_execution_outputs(progress=False)
        if len(out[TABLE]) != args.files:
            raise SystemExit(f"files: {len(out[TABLE])} assets recorded, expected {args.files}")
        cat.close()
        shutil.rmtree(root / f"files-{i}")
    report.runs.update(b_staging=stage_runs, b_upload=upload_runs)
    report.figures.append(
        Figure("b", f"{args.files:,} x {args.file_kib} KiB files: upload assets/s",
               round(args.files / median_wall(upload_runs), 1), "/s", 5000, True)
    )  # fmt: skip
    report.notes["b"] = {
        "staging_s": round(median_wall(stage_runs), 3),
        "staging_files_per_s": round(args.files / median_wall(stage_runs), 1),
        "upload_s": round(median_wall(upload_runs), 3),
        "upload_cpu_share": round(cpu_share(upload_runs), 3),
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


# --- (d) bare executions --------------------------------------------------------------


def part_executions(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    runs: list[Timing] = []
    for i in range(args.bulk_repeat):
        cat = new_catalog(root, f"exes-{i}")
        wf = bench_workflow(cat, "bench-executions")

        def one(n: int, cat: Catalog = cat, wf: str = wf) -> None:
            cfg = ExecutionConfiguration(workflow=wf, parameters={**PARAMETERS, "seed": n})
            with cat.create_execution(cfg) as exe:
                exe.update_status("Running", "step")

        one(-1)  # warm: environment capture happens once per process
        with clock.section("d_executions", runs):
            for n in range(args.executions):
                one(n)
        done = cat.list_executions(status="Completed", workflow=wf)
        if len(done) != args.executions + 1:
            raise SystemExit(f"executions: {len(done)} completed, expected {args.executions}")
        cat.close()
        shutil.rmtree(root / f"exes-{i}")
    report.runs["d_executions"] = runs
    rate = args.executions / median_wall(runs)
    report.figures.append(
        Figure("d", "executions (3 params, status update, no files)/s", round(rate, 1), "/s",
               500, True)
    )  # fmt: skip
    report.notes["d"] = {
        "ms_per_execution": round(1000 / rate, 2),
        "cpu_share": round(cpu_share(runs), 3),
        "mlflow_runs_per_s": MLFLOW_RUNS_PER_S,
        "vs_mlflow": round(rate / MLFLOW_RUNS_PER_S, 2),
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
        help="smoke run: 64 MiB, 1,000 files, chain of 1,000, 200 executions, repeat 1 "
        "(explicit options still win)",
    )
    parser.add_argument("--parts", default="abcd", help="which parts to run (default abcd)")
    parser.add_argument("--big-mib", type=positive, help="(a) size of the big file in MiB (1024)")
    parser.add_argument("--files", type=positive, help="(b) number of small files (10000)")
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
        default=1,
        help="rounds of (b) and (d), each already thousands of operations; medians (default 1)",
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
    unknown = set(args.parts) - set("abcd")
    if unknown or not args.parts:
        parser.error(f"--parts takes letters from 'abcd', got {args.parts!r}")
    return args


PARTS = {"a": part_big, "b": part_files, "c": part_lineage, "d": part_executions}


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
    if "b" in notes:
        b = notes["b"]
        print(
            f"(b) median of {args.bulk_repeat} round(s); staging {args.files:,} files: "
            f"{b['staging_s']:.2f} s "
            f"({b['staging_files_per_s']:,.0f} files/s); upload {b['upload_s']:.2f} s, "
            f"cpu share {b['upload_cpu_share']:.0%} (the rest is fsync and waiting)"
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
        print(
            f"(d) {args.executions:,} executions, median of {args.bulk_repeat} round(s): "
            f"{d['ms_per_execution']:.2f} ms each, cpu share {d['cpu_share']:.0%}; "
            f"reference: MLflow start_run + 3 params + 3 metrics {d['mlflow_runs_per_s']:.0f} "
            f"runs/s on these machines ({d['vs_mlflow']:.1f}x)"
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
        settings={k: getattr(args, k) for k in ("big_mib", "files", "file_kib", "chain",
                                                "executions", "repeat", "bulk_repeat",
                                                "parts")},
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
    if args.json:
        data = asdict(report)
        for f, source in zip(data["figures"], report.figures, strict=True):
            f["passed"] = source.passed
        print(json.dumps(data, sort_keys=True))
    clock.dump()
    return 0


if __name__ == "__main__":
    sys.exit(main())
