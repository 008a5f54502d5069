"""Automatic capture (API §13): what recording costs a step, what a cache hit saves, and
what watching a folder costs against staging the same files by hand.

1. ``@step`` overhead: a function returning a 1 KiB dict, called ``--calls`` times as a
   step (one execution per call, the dict registered as an artifact version) on an
   embedded SQLite catalog, against calling it plainly with one MLflow run per call
   (``MlflowClient``: create_run, log_dict, set_terminated; SQLite tracking store, the
   peer when ``mlflow`` is installed). Overhead = time per call minus the plain call.
   Aim: assetry's overhead ≤ MLflow's.
2. Cache: a ``cache=True`` step called again with equal arguments (``--hits`` times):
   the hit (key, look-up, load, recording the reuse as an execution) against running the
   step (a miss: the body, a new execution, the output registered). Aim: ≤ 5 ms per hit.
3. Watched folder: ``--files`` files written into a folder an execution watches
   (captured once stable, uploaded at the end), against the same files written to the
   paths ``exe.asset_file_path`` gives and uploaded. Aim: by hand / watched ≥ 0.8.

    .venv/bin/python benchmarks/bench_capture.py [--calls 200] [--hits 200] [--files 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import assetry
from assetry import Catalog, ExecutionConfiguration
from common import Figure, load, positive, save_figures

PAYLOAD = {f"k{n:03d}": "v" * 8 for n in range(64)}  # 64 entries of ~16 bytes: 1 KiB


def report(values: int) -> dict[str, Any]:
    return {"values": values, **PAYLOAD}


def per_call(fn: Callable[[int], Any], calls: int) -> float:
    """Seconds per call of ``fn(n)`` for n in range(calls)."""
    started = time.perf_counter()
    for n in range(calls):
        fn(n)
    return (time.perf_counter() - started) / calls


def step_overhead(root: Path, calls: int) -> tuple[float, float]:
    """(seconds per plain call, seconds per step call)."""
    cat = Catalog.create(root / "steps")
    recorded = assetry.step(catalog=cat)(report)
    recorded(-1)  # workflow, environment: once per process
    plain = per_call(report, calls)
    stepped = per_call(recorded, calls)
    cat.close()
    return plain, stepped


def mlflow_per_call(root: Path, calls: int) -> float | None:
    try:
        import mlflow
    except ImportError:
        return None
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("bench", (root / "mlartifacts").as_uri())

    def logged(n: int) -> None:
        value = report(n)
        run = client.create_run(experiment).info.run_id
        client.log_dict(run, value, "report.json")
        client.set_terminated(run)

    logged(-1)
    return per_call(logged, calls)


def cache_figures(root: Path, hits: int) -> tuple[float, float, float]:
    """(seconds per hit, seconds per miss, seconds of recording an execution that
    reads one artifact version: the part of a hit that is not the cache's own)."""
    cat = Catalog.create(root / "cache")
    cached = assetry.step(catalog=cat, cache=True)(report)
    cached(-1)
    miss = per_call(cached, max(20, hits // 4))  # new arguments each time: all misses
    cached(0)
    started = time.perf_counter()
    for _ in range(hits):
        cached(0)
    hit = (time.perf_counter() - started) / hits
    run = cached.run(0)

    def record(_: int) -> None:
        config = ExecutionConfiguration(
            parameters={"values": 0}, artifacts=[v.rid for v in run.outputs]
        )
        exe = cat.create_execution(config)
        exe.update_status("Running")
        exe.update_status("Completed", "reused")
        shutil.rmtree(exe.working_dir)

    recording = per_call(record, max(20, hits // 4))
    cat.close()
    return hit, miss, recording


def write_files(count: int, size: int, path_of: Callable[[str], Path]) -> None:
    """``count`` distinct files of ``size`` bytes, each at ``path_of(name)``."""
    block = os.urandom(size)
    for n in range(count):
        path_of(f"part-{n:05d}.bin").write_bytes(block[: size - 8] + n.to_bytes(8, "big"))


def watched_seconds(root: Path, count: int, size: int, round_: int) -> float:
    cat = Catalog(root / "watch")
    wf = cat.create_workflow("bench", "Training", url="bench", checksum="bench")
    folder = root / f"watched-{round_}"
    folder.mkdir()
    started = time.perf_counter()
    config = ExecutionConfiguration(workflow=wf, watch=[folder])
    with cat.create_execution(config) as exe:
        write_files(count, size, lambda name: folder / name)
    uploaded = exe.upload_execution_outputs()
    elapsed = time.perf_counter() - started
    assert len(uploaded["Execution_Asset"]) == count, len(uploaded["Execution_Asset"])
    cat.close()
    return elapsed


def by_hand_seconds(root: Path, count: int, size: int, round_: int) -> float:
    cat = Catalog(root / "watch")
    wf = cat.create_workflow("bench", "Training", url="bench", checksum="bench")
    started = time.perf_counter()
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as exe:

        def staged(name: str) -> Path:
            return exe.asset_file_path("Execution_Asset", f"by-hand-{round_}/{name}")

        write_files(count, size, staged)
    uploaded = exe.upload_execution_outputs()
    elapsed = time.perf_counter() - started
    assert len(uploaded["Execution_Asset"]) == count
    cat.close()
    return elapsed


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=positive, default=200)
    parser.add_argument("--hits", type=positive, default=200)
    parser.add_argument("--files", type=positive, default=1000)
    parser.add_argument("--size", type=positive, default=4096, help="bytes per file")
    parser.add_argument("--rounds", type=positive, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"bench_capture: load {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp:
        root = Path(tmp)
        plain, stepped = step_overhead(root, args.calls)
        ours = stepped - plain
        peer = mlflow_per_call(root, args.calls)
        print(f"@step on a function returning a 1 KiB dict ({args.calls} calls):")
        print(f"  plain call        {plain * 1e3:8.3f} ms")
        print(f"  @step overhead    {ours * 1e3:8.2f} ms per call (an execution + an artifact)")
        if peer is None:
            print("  mlflow            (not installed: pip install mlflow-skinny)")
        else:
            theirs = peer - plain
            print(
                f"  mlflow run+log_dict {theirs * 1e3:6.2f} ms per call   "
                f"assetry/mlflow {ours / theirs:.2f} (aim <= 1) {verdict(ours <= theirs)}"
            )

        hit, miss, recording = cache_figures(root, args.hits)
        print(f"cache=True, {args.hits} hits:")
        print(f"  hit               {hit * 1e3:8.2f} ms (aim <= 5) {verdict(hit <= 0.005)}")
        print(
            f"    of which recording the hit's execution {recording * 1e3:.2f} ms, the "
            f"cache's own look-up and load {(hit - recording) * 1e3:.2f} ms"
        )
        print(f"  miss (runs it)    {miss * 1e3:8.2f} ms   hit is {miss / hit:.1f}x faster")

        Catalog.create(root / "watch").close()
        watched, by_hand = [], []
        for n in range(args.rounds):  # interleaved, so load changes hit both alike
            watched.append(watched_seconds(root, args.files, args.size, n))
            by_hand.append(by_hand_seconds(root, args.files, args.size, n))
        w, h = statistics.median(watched), statistics.median(by_hand)
        ratio = h / w
        print(
            f"{args.files:,} files of {args.size:,} bytes written during a run "
            f"(median of {args.rounds}):"
        )
        print(f"  by hand (asset_file_path + upload) {h:6.2f} s")
        print(f"  watched folder (capture + upload)  {w:6.2f} s")
        print(f"  by hand / watched {ratio:.2f} (aim >= 0.8) {verdict(ratio >= 0.8)}")
        figures = [
            Figure("", "cache hit", hit * 1e3, "ms", 5.0, False),
            Figure("", "by hand / watched folder (time ratio)", ratio, "x", 0.8, True),
        ]
        if peer is not None:
            figures.insert(
                0, Figure("", "@step overhead / MLflow run + log_dict", ours / (peer - plain),
                          "x", 1.0, False),
            )  # fmt: skip
        save_figures(
            "capture",
            figures,
            details={
                "step_overhead_ms": ours * 1e3,
                "mlflow_run_log_dict_ms": None if peer is None else (peer - plain) * 1e3,
                "cache_hit_ms": hit * 1e3,
                "cache_hit_aim_ms": 5,
                "cache_miss_ms": miss * 1e3,
                "watched_over_by_hand": ratio,
                "watched_aim": 0.8,
            },
        )


if __name__ == "__main__":
    main()
