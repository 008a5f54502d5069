"""Concurrency soak: 4 processes x mixed operations against one catalog, bounded in time.

Each worker process opens the catalog by its location and, until its time is up, cycles
through: insert rows, upload assets from an execution, mint a dataset version (by adding
members, or on demand), export a bag of its dataset. Every RID a worker gets back is
reported to the parent, which checks afterwards that nothing was lost (every RID exists,
counts match, every version is in the dataset's history), that no worker hit an error
(no "database is locked", no deadlock: the test ends), and writes the figures to
``build/figures/soak-<engine>.json``.

``ASSETRY_SOAK_SECONDS`` sets each engine's run time (default 10 s; ``make soak`` runs
longer).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from assetry import Catalog, ColumnDef, DatasetSpec, ExecutionConfiguration, TableDef

WORKERS = 4
SECONDS = float(os.environ.get("ASSETRY_SOAK_SECONDS", "10"))
ROWS_PER_INSERT = 5
FILES_PER_UPLOAD = 2
OPERATIONS = ("insert", "upload", "version", "export", "insert", "upload")
FIGURES = Path(__file__).resolve().parents[2] / "build" / "figures"


def _prepare(cat: Catalog) -> tuple[str, list[str]]:
    """The schema every worker writes to, a workflow and one dataset per worker."""
    cat.create_table(
        TableDef(
            "Event",
            [ColumnDef("Worker", "int4", nullok=False), ColumnDef("N", "int4", nullok=False)],
        )
    )
    cat.create_asset("Image", column_defs=[ColumnDef("Worker", "int4")])
    cat.add_dataset_element_type("Event")
    cat.add_dataset_element_type("Image")
    wf = cat.create_workflow("soak", "Training", url="https://example.org/soak.py", checksum="1")
    datasets = [cat.create_dataset("Training", description=f"worker {w}") for w in range(WORKERS)]
    return wf.rid, datasets


def _worker(
    location: str, worker: int, workflow: str, dataset: str, out_dir: str, seconds: float
) -> None:
    """Run mixed operations for ``seconds``; write what happened to ``<out_dir>/<n>.json``."""
    result: dict[str, Any] = {
        "worker": worker,
        "events": [],
        "assets": [],
        "members": [],
        "versions": [],
        "bags": 0,
        "ops": {},
        "errors": [],
    }
    ops: Counter[str] = Counter()
    scratch = Path(out_dir) / f"scratch-{worker}"
    started = time.monotonic()
    try:
        with Catalog(location) as cat:
            step = 0
            pending: list[str] = []  # RIDs not yet added to the dataset
            while time.monotonic() - started < seconds:
                op = OPERATIONS[(step + worker) % len(OPERATIONS)]
                step += 1
                try:
                    if op == "insert":
                        rows = [{"Worker": worker, "N": step} for _ in range(ROWS_PER_INSERT)]
                        rids = cat.insert("Event", rows)
                        result["events"] += rids
                        pending += rids[:2]
                    elif op == "upload":
                        cfg = ExecutionConfiguration(workflow=workflow, description="soak")
                        with cat.create_execution(cfg) as exe:
                            for f in range(FILES_PER_UPLOAD):
                                path = exe.asset_file_path("Image", f"w{worker}/{step}-{f}.bin")
                                path.write_bytes(f"{worker}:{step}:{f}".encode() * 64)
                        out = exe.upload_execution_outputs()
                        rids = [a["RID"] for a in out["Image"]]
                        result["assets"] += rids
                        pending += rids[:1]
                    elif op == "version":
                        if pending:
                            version = cat.add_dataset_members(dataset, pending)
                            assert version is not None, "new members minted no version"
                            result["members"] += pending
                            pending = []
                        else:
                            version = cat.increment_dataset_version(dataset, "patch")
                        result["versions"].append(str(version))
                    else:
                        dest = scratch / str(step)
                        bag = cat.export_dataset_bag(DatasetSpec(dataset), dest=dest)
                        assert (Path(bag) / "bagit.txt").is_file()
                        shutil.rmtree(scratch, ignore_errors=True)
                        result["bags"] += 1
                    ops[op] += 1
                except Exception:
                    result["errors"].append(f"{op}: {traceback.format_exc()}")
    except Exception:
        result["errors"].append(f"worker: {traceback.format_exc()}")
    result["seconds"] = time.monotonic() - started
    result["ops"] = dict(ops)
    tmp = Path(out_dir) / f".{worker}.json"
    tmp.write_text(json.dumps(result))
    os.replace(tmp, Path(out_dir) / f"{worker}.json")


def soak(cat: Catalog, engine: str, tmp_path: Path) -> None:
    workflow, datasets = _prepare(cat)
    start_snapshot = cat.snapshot()
    out_dir = tmp_path / "soak"
    out_dir.mkdir()
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(
            target=_worker,
            args=(cat.location, w, workflow, datasets[w], str(out_dir), SECONDS),
        )
        for w in range(WORKERS)
    ]
    wall = time.monotonic()
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=SECONDS + 180)  # a deadlock shows as a worker still alive
    wall = time.monotonic() - wall
    alive = [p.pid for p in procs if p.is_alive()]
    for p in procs:
        if p.is_alive():
            p.kill()
    assert alive == [], f"workers {alive} still running after {SECONDS + 180:.0f} s"
    assert [p.exitcode for p in procs] == [0] * WORKERS
    results = [json.loads((out_dir / f"{w}.json").read_text()) for w in range(WORKERS)]

    errors = [e for r in results for e in r["errors"]]
    ops: Counter[str] = Counter()
    for r in results:
        ops.update(r["ops"])
    seconds = max(r["seconds"] for r in results)
    summary = {
        "engine": engine,
        "workers": WORKERS,
        "seconds": round(seconds, 2),
        "wall_seconds": round(wall, 2),
        "operations": sum(ops.values()),
        "operations_per_second": round(sum(ops.values()) / seconds, 2),
        "by_operation": dict(sorted(ops.items())),
        "rows_inserted": sum(len(r["events"]) for r in results),
        "assets_uploaded": sum(len(r["assets"]) for r in results),
        "versions_minted": sum(len(r["versions"]) for r in results),
        "bags_exported": sum(r["bags"] for r in results),
        "errors": len(errors),
        "database_locked": sum("database is locked" in e for e in errors),
        "snapshots": cat.snapshot() - start_snapshot,
        "command": "ASSETRY_SOAK_SECONDS=... pytest -q -n 0 tests/sql/test_soak.py",
    }
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"soak-{engine}.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"\nsoak {engine}: {json.dumps(summary)}")
    assert errors == [], "\n".join(errors[:5])
    assert all(r["ops"].get(op, 0) > 0 for r in results for op in set(OPERATIONS)), ops

    # No lost rows: every RID a worker got back exists, and nothing else was written.
    events = {row["RID"]: row for row in cat.get_table_as_dict("Event")}
    assert len(events) == summary["rows_inserted"]
    for r in results:
        assert set(r["events"]) <= events.keys()
        assert all(events[rid]["Worker"] == r["worker"] for rid in r["events"])
    assets = {a["RID"] for a in cat.list_assets("Image")}
    uploaded = [rid for r in results for rid in r["assets"]]
    assert len(uploaded) == len(set(uploaded)) == len(assets)
    assert set(uploaded) == assets
    for r, ds in zip(results, datasets, strict=True):
        members = cat.list_dataset_members(ds)
        got = {row["RID"] for rows in members.values() for row in rows}
        assert got == set(r["members"])
        history = [str(v.version) for v in cat.dataset_history(ds)]
        assert len(history) == len(set(history)) == 1 + len(r["versions"])
        assert set(r["versions"]) <= set(history)


def test_soak_sqlite(sqlite_catalog: Catalog, tmp_path: Path) -> None:
    soak(sqlite_catalog, "sqlite", tmp_path)


def test_soak_postgres(postgres_catalog: Catalog, tmp_path: Path) -> None:
    soak(postgres_catalog, "postgres", tmp_path)
