"""The peers and floors of ``bench_executions.py`` (b) and (d), run in the same process.

* MLflow (when installed: ``pip install mlflow-skinny``), as its documentation sets it up
  locally: a SQLite tracking database and a local artifact folder. ``mlflow_artifacts``
  times ``with mlflow.start_run(): mlflow.log_artifacts(folder)``; ``mlflow_runs`` times
  ``start_run`` + ``log_params`` (3) + ``log_metrics`` (3) + the run's end.
* The upload floor: what an upload of staged files has to do at least, written with raw
  ``sqlite3`` and ``os`` calls and no catalog: read and hash each file (MD5 + SHA-256),
  journal its digests (one write and fsync per batch), rename it into a content-addressed
  folder, ``syncfs`` the store once per batch, insert its asset row, type row, output
  link, ledger entry and provenance edge (one transaction per batch, WAL with
  ``synchronous=FULL`` as the catalog), and read the asset rows back.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

BATCH = 500  # the upload driver's batch
PARAMS = {"learning_rate": 1e-3, "epochs": 10, "optimizer": "adam"}


class Mlflow:
    """One MLflow tracking set-up under ``root`` (None when MLflow is not installed)."""

    def __init__(self, root: Path) -> None:
        import mlflow

        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("mlflow").setLevel(logging.WARNING)
        root.mkdir(parents=True, exist_ok=True)
        self.mlflow = mlflow
        mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
        client = mlflow.MlflowClient()
        experiment = client.create_experiment(
            f"bench-{uuid.uuid4().hex[:8]}", (root / "mlartifacts").as_uri()
        )
        mlflow.set_experiment(experiment_id=experiment)
        self.run(0)  # warm: the first run creates the experiment's folders

    @classmethod
    def make(cls, root: Path) -> Mlflow | None:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            return None
        return cls(root)

    def run(self, n: int) -> None:
        """One run with 3 parameters and 3 metrics."""
        mlflow = self.mlflow
        with mlflow.start_run():
            mlflow.log_params(PARAMS)
            mlflow.log_metrics({"loss": 1.0 / (n + 1), "accuracy": 0.5, "f1": 0.25})

    def log_artifacts(self, folder: Path) -> None:
        with self.mlflow.start_run():
            self.mlflow.log_artifacts(str(folder))


_LIBC: Any = None


def syncfs(path: str) -> None:
    """Sync the file system holding ``path`` (``os.sync`` where syncfs is missing)."""
    global _LIBC
    if _LIBC is None:
        libc = ctypes.CDLL(None, use_errno=True)
        _LIBC = libc if hasattr(libc, "syncfs") else False
    if _LIBC is False:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC.syncfs(fd) != 0:
            raise OSError(ctypes.get_errno(), "syncfs")
    finally:
        os.close(fd)


_SCHEMA = """
CREATE TABLE asset (RID TEXT PRIMARY KEY, RCT TEXT, RMT TEXT, RCB TEXT, RMB TEXT, URL TEXT,
    Filename TEXT, Length INTEGER, MD5 TEXT, SHA256 TEXT, Description TEXT, snap INTEGER);
CREATE TABLE asset_type (RID TEXT PRIMARY KEY, asset TEXT REFERENCES asset, type TEXT);
CREATE TABLE asset_execution (RID TEXT PRIMARY KEY, asset TEXT REFERENCES asset,
    execution TEXT, role TEXT);
CREATE TABLE ledger (execution TEXT, staged_name TEXT, tbl TEXT, rid TEXT, sha256 TEXT,
    PRIMARY KEY (execution, staged_name));
CREATE TABLE edge (from_rid TEXT, to_rid TEXT, relation TEXT, snap INTEGER);
CREATE INDEX edge_from ON edge (from_rid);
CREATE INDEX edge_to ON edge (to_rid);
"""


def upload_floor(files: list[str], root: Path) -> float:
    """Seconds the floor takes to upload ``files`` (moved into ``root/objects``)."""
    objects = root / "objects"
    objects.mkdir(parents=True)
    db = sqlite3.connect(root / "floor.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(_SCHEMA)
    made: set[str] = set()
    journal = root / "stored.jsonl"
    prefix = os.fspath(objects)
    started = time.perf_counter()
    rid = 0
    for start in range(0, len(files), BATCH):
        batch = files[start : start + BATCH]
        digests = []
        for path in batch:
            with open(path, "rb") as handle:
                data = handle.read()
            digests.append((path, hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest(),
                            len(data)))  # fmt: skip
        with open(journal, "a") as out:
            out.write("".join(json.dumps([p, m, s, n]) + "\n" for p, m, s, n in digests))
            out.flush()
            os.fsync(out.fileno())
        for path, _, sha, _ in digests:
            folder = f"{prefix}/{sha[:2]}"
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            os.replace(path, f"{folder}/{sha[2:]}")
        syncfs(prefix)
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        assets, types, links, ledger, edges = [], [], [], [], []
        for path, md5, sha, length in digests:
            rid += 1
            a, t, x = f"A{rid}", f"T{rid}", f"X{rid}"
            assets.append((a, now, now, "me", "me", f"/objects/{sha}", os.path.basename(path),
                           length, md5, sha, None, 1))  # fmt: skip
            types.append((t, a, "Bench"))
            links.append((x, a, "EXE", "Output"))
            ledger.append(("EXE", path, "Bench", a, sha))
            edges.append(("EXE", a, "generated", 1))
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO asset VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", assets)
        db.executemany("INSERT INTO asset_type VALUES (?,?,?)", types)
        db.executemany("INSERT INTO asset_execution VALUES (?,?,?,?)", links)
        db.executemany("INSERT INTO ledger VALUES (?,?,?,?,?)", ledger)
        db.executemany("INSERT INTO edge VALUES (?,?,?,?)", edges)
        db.execute("COMMIT")
        wanted = json.dumps([row[0] for row in assets])
        db.execute(
            "SELECT a.*, t.type FROM asset a JOIN asset_type t ON t.asset = a.RID "
            "WHERE a.RID IN (SELECT value FROM json_each(?))",
            (wanted,),
        ).fetchall()
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed
