"""Parts (b) and (d) of ``bench_executions.py``: many small files and bare executions,
each against a peer or floor measured in the same run (``exec_peers.py``)."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
from pathlib import Path
from typing import Any

import exec_peers
from assetry import Catalog, ExecutionConfiguration
from common import Figure, Report, Timing, median_wall
from exec_shared import PARAMETERS, SEED, TABLE, Clock, bench_workflow, cpu_share, new_catalog

# --- (b) many small files -------------------------------------------------------------


def write_folder(folder: Path, count: int, size: int, rng: random.Random) -> list[str]:
    """(Re)write ``count`` files of fresh random bytes under ``folder`` (100 per
    sub-folder), so no upload finds its bytes already stored; their sorted paths."""
    paths = []
    for n in range(count):
        path = folder / f"f{n // 100:03d}" / f"{n:06d}.bin"
        if n % 100 == 0:
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
        paths.append(os.fspath(path))
    return paths


def stage_and_upload(cat: Catalog, wf: str, folder: Path, files: list[str] | None) -> int:
    """One execution staging ``folder`` (the batch call) or each of ``files`` (the
    per-file path), then uploading; the number of assets recorded."""
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        if files is None:
            exe.asset_file_path(TABLE, folder)
        else:
            for path in files:
                exe.asset_file_path(TABLE, path)
    return len(exe.upload_execution_outputs(progress=False).get(TABLE, []))


def part_folder(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    """(b1) a folder of small files: staged + uploaded against MLflow's log_artifacts."""
    rng = random.Random(SEED + 1)
    size, count = args.file_kib * 1024, args.folder_files
    folder = root / "folder"
    peer = exec_peers.Mlflow.make(root / "mlflow-b")
    # One catalog per way of staging, kept across rounds and warmed by one untimed round
    # (the environment is captured once per process; a used store has its folders).
    cats = {way: new_catalog(root, f"folder-{way}") for way in ("batch", "perfile")}
    wfs = {way: bench_workflow(cat, "bench-folder") for way, cat in cats.items()}
    runs: dict[str, list[Timing]] = {"batch": [], "perfile": [], "mlflow": []}
    ways = ["batch", "perfile"] + (["mlflow"] if peer is not None else [])
    for way in ("batch", "perfile"):
        files = write_folder(folder, count, size, rng)
        stage_and_upload(cats[way], wfs[way], folder, None if way == "batch" else files)
    for i in range(args.bulk_repeat):
        for way in ways[i % len(ways) :] + ways[: i % len(ways)]:  # rotated: interleaved
            files = write_folder(folder, count, size, rng)
            with clock.section(f"b1_{way}", runs[way]):
                if way == "mlflow":
                    assert peer is not None
                    peer.log_artifacts(folder)
                    made = count
                else:
                    made = stage_and_upload(
                        cats[way], wfs[way], folder, None if way == "batch" else files
                    )
            if made != count:
                raise SystemExit(f"folder ({way}): {made} assets recorded, expected {count}")
    for cat in cats.values():
        cat.close()
    report.runs.update({f"b1_{way}": r for way, r in runs.items() if r})
    note: dict[str, Any] = {"files": count}
    for way in ways:
        note[f"{way}_files_per_s"] = round(count / median_wall(runs[way]), 1)
    if peer is not None:
        theirs = median_wall(runs["mlflow"])
        for way, label in (("batch", "batch call"), ("perfile", "per-file path")):
            report.figures.append(
                Figure("b", f"{count:,} x {args.file_kib} KiB folder, {label}: MLflow time/ours",
                       round(theirs / median_wall(runs[way]), 3), "x", 0.5, True)
            )  # fmt: skip
    else:
        note["mlflow"] = "not installed (pip install mlflow-skinny): no ratio"
    report.notes["b1"] = note


def part_files(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    """(b2) the upload of many files written in the staging folder, against the floor."""
    rng = random.Random(SEED + 2)
    size = args.file_kib * 1024
    stage_runs: list[Timing] = []
    upload_runs: list[Timing] = []
    floor_runs: list[Timing] = []
    cat = new_catalog(root, "files")
    wf = bench_workflow(cat, "bench-files")
    stage_and_upload(cat, wf, root, [])  # warm: the environment asset
    for i in range(args.bulk_repeat):
        for phase in ("ours", "floor") if i % 2 == 0 else ("floor", "ours"):
            payloads = [rng.randbytes(size) for _ in range(args.files)]
            if phase == "floor":
                folder = root / f"floor-{i}"
                files = []
                for n, payload in enumerate(payloads):
                    path = folder / f"f{n // 1000:02d}" / f"{n:06d}.bin"
                    if n % 1000 == 0:
                        path.parent.mkdir(parents=True)
                    path.write_bytes(payload)
                    files.append(os.fspath(path))
                with clock.section("b2_floor", floor_runs):
                    exec_peers.upload_floor(files, root / f"floor-store-{i}")
                shutil.rmtree(folder)
                shutil.rmtree(root / f"floor-store-{i}")
                continue
            cfg = ExecutionConfiguration(workflow=wf, description="small files")
            with cat.create_execution(cfg) as exe:
                with clock.section("b2_staging", stage_runs):
                    for n, payload in enumerate(payloads):
                        name = f"f{n // 1000:02d}/{n:06d}.bin"
                        exe.asset_file_path(TABLE, name).write_bytes(payload)
                with clock.section("b2_upload", upload_runs):
                    out = exe.upload_execution_outputs(progress=False)
            if len(out[TABLE]) != args.files:
                raise SystemExit(f"files: {len(out[TABLE])} assets recorded, expected {args.files}")
    cat.close()
    report.runs.update(b2_staging=stage_runs, b2_upload=upload_runs, b2_floor=floor_runs)
    upload, floor = median_wall(upload_runs), median_wall(floor_runs)
    report.figures += [
        Figure("b", f"{args.files:,} x {args.file_kib} KiB files: upload assets/s",
               round(args.files / upload, 1), "/s", None, True),
        Figure("b", f"{args.files:,} x {args.file_kib} KiB files: floor time/upload time",
               round(floor / upload, 3), "x", 0.7, True),
    ]  # fmt: skip
    report.notes["b2"] = {
        "staging_s": round(median_wall(stage_runs), 3),
        "staging_us_per_file": round(median_wall(stage_runs) / args.files * 1e6, 1),
        "upload_s": round(upload, 3),
        "floor_s": round(floor, 3),
        "floor_files_per_s": round(args.files / floor, 1),
        "upload_cpu_share": round(cpu_share(upload_runs), 3),
    }


# --- (d) bare executions --------------------------------------------------------------


def part_executions(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    """Executions with 3 parameters, 3 metrics and a status update, against MLflow runs
    with 3 parameters and 3 metrics on its SQLite store, in interleaved rounds. assetry
    has no metrics API: the metrics go into the status update's detail."""
    runs: list[Timing] = []
    peer_runs: list[Timing] = []
    peer = exec_peers.Mlflow.make(root / "mlflow-d")
    cat = new_catalog(root, "exes")
    wf = bench_workflow(cat, "bench-executions")
    peer_count = max(20, args.executions // 5)  # MLflow is slower: rounds of similar length

    def one(n: int) -> None:
        cfg = ExecutionConfiguration(workflow=wf, parameters={**PARAMETERS, "seed": n})
        with cat.create_execution(cfg) as exe:
            exe.update_status("Running", f"loss={1 / (n + 2):.4f} accuracy=0.5 f1=0.25")

    one(-1)  # warm: environment capture happens once per process
    done = 1
    for i in range(args.bulk_repeat):
        for phase in ("ours", "mlflow") if i % 2 == 0 else ("mlflow", "ours"):
            if phase == "mlflow":
                if peer is not None:
                    with clock.section("d_mlflow", peer_runs):
                        for n in range(peer_count):
                            peer.run(n)
                continue
            with clock.section("d_executions", runs):
                for n in range(args.executions):
                    one(n)
            done += args.executions
    found = cat.list_executions(status="Completed", workflow=wf)
    if len(found) != done:
        raise SystemExit(f"executions: {len(found)} completed, expected {done}")
    cat.close()
    report.runs["d_executions"] = runs
    rate = args.executions / median_wall(runs)
    report.figures.append(
        Figure("d", "executions (3 params, 3 metrics, status update)/s", round(rate, 1), "/s",
               None, True)
    )  # fmt: skip
    note: dict[str, Any] = {
        "ms_per_execution": round(1000 / rate, 2),
        "cpu_ms_per_execution": round(
            statistics.median(t.cpu for t in runs) / args.executions * 1000, 2
        ),
        "cpu_share": round(cpu_share(runs), 3),
    }
    if peer is not None:
        report.runs["d_mlflow"] = peer_runs
        theirs = peer_count / median_wall(peer_runs)
        note["mlflow_runs_per_s"] = round(theirs, 1)
        report.figures.append(
            Figure("d", "executions/s / MLflow runs/s (side by side)", round(rate / theirs, 2),
                   "x", 5, True)
        )  # fmt: skip
    else:
        note["mlflow"] = "not installed (pip install mlflow-skinny): no ratio"
    report.notes["d"] = note


def part_small(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    part_folder(args, root, clock, report)
    part_files(args, root, clock, report)
