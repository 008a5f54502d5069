"""Named artifacts: registering many small versions, and reading one out of a million.

1. Registration: ``--register`` small JSON objects registered as versions of ``--names``
   names with ``cat.artifacts.register`` (each: materialize, store the object durably,
   one write transaction with its provenance), against MLflow's ``log_dict`` of the same
   objects into one run per name (the peer, when ``mlflow`` is installed), interleaved
   rounds. Aim: assetry ≥ 3× MLflow's rate. Also printed: the durable floor (one
   synced object file and one synced SQLite commit per registration, raw calls), since
   MLflow's ``log_dict`` writes a file without syncing it or recording a row.
2. Reads at each of ``--sizes`` versions (a catalog filled through the SQL layer in bulk:
   versions of 1,000 names, each with a region partition and stage/team tags):
   ``get(name)`` (latest), ``query(name, region=...)`` (latest matching) and
   ``search("stage:production team:tNN")`` (two tags). Aims on SQLite: get and query
   ≤ 5 ms, search ≤ 50 ms at the largest size; growth from the smallest to the largest
   size printed (logarithmic: the look-ups walk indexes).

    .venv/bin/python benchmarks/bench_artifacts.py [--register 10000] [--names 100]
        [--sizes 10000,100000,1000000] [--reads 200]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from assetry import Catalog, NotFoundError
from assetry.sql import names
from assetry.sql.backend import SqlBackend
from common import Figure, load, positive, save_figures

NAMES_IN_BIG = 1000
REGIONS = [f"r{n:02d}" for n in range(20)]
STAGES = ("dev", "staging", "production", "archived", "candidate")
TEAMS = [f"t{n:02d}" for n in range(20)]


def register_rate(root: Path, count: int, names_: int) -> float:
    cat = Catalog.create(root / "register")
    started = time.perf_counter()
    for n in range(count):
        cat.artifacts.register(f"name_{n % names_:03d}", "Metrics", data={"n": n, "acc": n / count})
    elapsed = time.perf_counter() - started
    cat.close()
    return count / elapsed


def mlflow_rate(root: Path, count: int, names_: int) -> float | None:
    try:
        import mlflow
    except ImportError:
        return None
    # MLflow's recommended local set-up: a SQLite tracking database, artifacts in a folder.
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    client = mlflow.MlflowClient()
    experiment = client.create_experiment("bench", (root / "mlartifacts").as_uri())
    runs = [client.create_run(experiment).info.run_id for _ in range(names_)]
    started = time.perf_counter()
    for n in range(count):
        client.log_dict(runs[n % names_], {"n": n, "acc": n / count}, f"v{n // names_}.json")
    return count / (time.perf_counter() - started)


def floor_rate(root: Path, count: int) -> float:
    """The least a durable registration costs here: the object written to a temporary
    file, synced, renamed to its content address and its folder synced, then one row
    inserted and committed with a synced WAL (raw sqlite3 and os calls, no catalog)."""
    folder = root / "floor-objects"
    folder.mkdir()
    db = sqlite3.connect(root / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE version (name TEXT, number INT, sha256 TEXT, body TEXT)")
    started = time.perf_counter()
    for n in range(count):
        data = json.dumps({"n": n, "acc": n / count}).encode()
        key = hashlib.sha256(data).hexdigest()
        tmp = folder / f"{key}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, folder / key)
        fd = os.open(folder, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO version VALUES (?, ?, ?, ?)", (f"n{n % 100}", n, key, "{}"))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return count / elapsed


def fill(cat: Catalog, size: int) -> None:
    """``size`` versions of ``NAMES_IN_BIG`` names, written in bulk through the SQL layer
    (the registration path is measured in part 1; this builds a big catalog fast)."""
    seed = cat.artifacts.register("seed", "Model", data=[0], partitions={"region": "r00"})
    backend = cat._backend
    assert isinstance(backend, SqlBackend)
    rng = random.Random(7)
    per_name = size // NAMES_IN_BIG
    with backend.session(write=True) as s:
        now = s.now
        snapshot = s.snapshot()
        system = {"RMT": now, "RCB": "bench", "RMB": "bench", names.SNAPSHOT_COLUMN: snapshot}
        artifact_rids = s.new_rids(NAMES_IN_BIG)
        s.conn.execute(
            s.table("Artifact").insert(),
            [
                {"RID": rid, "RCT": now, **system, "Name": f"big_{i:04d}",
                 "Artifact_Type": "Model", "Partition_Keys": ["region"],
                 "Time_Partitioned": False}
                for i, rid in enumerate(artifact_rids)
            ],
        )  # fmt: skip
        version_t, tag_t, part_t = (
            s.table("Artifact_Version"),
            s.table("Artifact_Tag"),
            s.table("Artifact_Partition"),
        )
        base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        done = 0
        for version in range(1, per_name + 1):
            for start in range(0, NAMES_IN_BIG, 500):
                chunk = range(start, min(start + 500, NAMES_IN_BIG))
                rids = s.new_rids(3 * len(chunk) + 1)
                versions, tags, parts = [], [], []
                for k, i in enumerate(chunk):
                    rid, tag_a, part = rids[3 * k], rids[3 * k + 1], rids[3 * k + 2]
                    region = rng.choice(REGIONS)
                    created = base + dt.timedelta(seconds=done)
                    done += 1
                    versions.append(
                        {"RID": rid, "RCT": created, **system, "Artifact": artifact_rids[i],
                         "Name": f"big_{i:04d}", "Version": version, "Artifact_Type": "Model",
                         "Execution": seed.execution, "Partitions": {"region": region},
                         "Content": f"{i}-{version}", "Deleted": False}
                    )  # fmt: skip
                    tags.append(
                        {"RID": tag_a, "RCT": now, **system, "Artifact_Version": rid,
                         "Key": "stage", "Value": rng.choice(STAGES)}
                    )  # fmt: skip
                    parts.append(
                        {"RID": part, "RCT": now, **system, "Artifact_Version": rid,
                         "Artifact": artifact_rids[i], "Key": "region", "Value": region}
                    )  # fmt: skip
                team_rids = s.new_rids(len(versions))
                tags += [
                    {"RID": t, "RCT": now, **system, "Artifact_Version": v["RID"],
                     "Key": "team", "Value": rng.choice(TEAMS)}
                    for t, v in zip(team_rids, versions, strict=True)
                ]  # fmt: skip
                s.conn.execute(version_t.insert(), versions)
                s.conn.execute(tag_t.insert(), tags)
                s.conn.execute(part_t.insert(), parts)
    with backend.engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")


def timed_ms(call: Any, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def reads(root: Path, size: int, rounds: int) -> dict[str, float]:
    folder = root / f"big{size}"
    cat = Catalog.create(folder)
    started = time.perf_counter()
    fill(cat, size)
    print(f"  filled {size:,} versions in {time.perf_counter() - started:.1f} s")
    rng = random.Random(11)

    def get() -> None:
        cat.artifacts.get(f"big_{rng.randrange(NAMES_IN_BIG):04d}")

    def query() -> None:
        name = f"big_{rng.randrange(NAMES_IN_BIG):04d}"
        # A name may not use that region (NotFoundError): still a whole look-up.
        with contextlib.suppress(NotFoundError):
            cat.artifacts.query(name, region=rng.choice(REGIONS))

    def search() -> None:
        cat.artifacts.search(f"stage:production team:{rng.choice(TEAMS)}")

    out = {
        "get": timed_ms(get, rounds),
        "query": timed_ms(query, rounds),
        "search": timed_ms(search, max(10, rounds // 4)),
    }
    cat.close()
    shutil.rmtree(folder, ignore_errors=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--register", type=positive, default=10_000)
    parser.add_argument("--names", type=positive, default=100)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--reads", type=positive, default=200)
    parser.add_argument("--skip-register", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    warnings.simplefilter("ignore")
    print(f"bench_artifacts: load {load()}")
    with tempfile.TemporaryDirectory(prefix="bench-artifacts-") as tmp:
        root = Path(tmp)
        if not args.skip_register:
            ours = register_rate(root, args.register, args.names)
            peer = mlflow_rate(root, args.register, args.names)
            floor = floor_rate(root, min(args.register, 2000))
            print(f"register {args.register:,} JSON versions of {args.names} names:")
            print(f"  assetry          {ours:8.0f} versions/s   {ours / floor:.2f} of the floor")
            print(f"  durable floor    {floor:8.0f} /s (one synced object + one synced commit)")
            if peer is None:
                print("  mlflow log_dict  (mlflow not installed: pip install mlflow-skinny)")
            else:
                ratio = ours / peer
                verdict = "PASS" if ratio >= 3 else "MISS"
                print(
                    f"  mlflow log_dict  {peer:8.0f} dicts/s   ratio {ratio:.2f}x (aim >= 3) "
                    + verdict
                )
        summary: dict[str, object] = {"load": load()}
        if not args.skip_register:
            summary["register"] = {
                "versions_per_s": ours,
                "floor_per_s": floor,
                "mlflow_per_s": peer,
                "aim_ratio_to_mlflow": 3,
            }
        results = {}
        for size in sizes:
            print(f"reads over {size:,} versions:")
            results[size] = reads(root, size, args.reads)
            figures = results[size]
            print(
                f"  get latest {figures['get']:.2f} ms   query {figures['query']:.2f} ms   "
                f"search 2 tags {figures['search']:.2f} ms"
            )
        largest, smallest = max(results), min(results)
        for what, aim in (("get", 5.0), ("query", 5.0), ("search", 50.0)):
            value = results[largest][what]
            growth = value / results[smallest][what]
            verdict = "PASS" if value <= aim else "MISS"
            print(
                f"{what:7s} at {largest:,}: {value:.2f} ms (aim <= {aim:g}) {verdict}; "
                f"x{growth:.2f} from {smallest:,} to {largest:,} versions"
            )
        summary["reads_ms"] = results
        figures = [
            Figure("", f"{what} at {largest:,} versions", results[largest][what], "ms", aim, False)
            for what, aim in (("get", 5.0), ("query", 5.0), ("search", 50.0))
        ]
        register = summary.get("register")
        if isinstance(register, dict) and register["mlflow_per_s"]:
            figures.insert(
                0,
                Figure("", "register / MLflow log_dict", register["versions_per_s"]
                       / register["mlflow_per_s"], "x", 3.0, True),
            )  # fmt: skip
        save_figures("artifacts", figures, summary=summary)


if __name__ == "__main__":
    main()
