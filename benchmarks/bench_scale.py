"""A catalog of a million asset rows: inserts against raw Core, point reads, search, upload.

For each engine (SQLite always; PostgreSQL when it answers at 127.0.0.1:5432, user
postgres, trust auth) one asset table ``Scan`` grows 10k -> 100k -> 1M rows (up to
``--max-rows``), built with ``cat.insert`` in batches of 10,000 rows (the bulk path: one
transaction, one statement per kind of write, per batch). The same rows go into a
plain table of the same definition (same columns, keys and indexes; no RID registry, no
search index, no checks) through raw SQLAlchemy Core, ``conn.execute(t.insert(),
batch)``, one transaction per batch: the insert floor. At each size, the median of
``--probes`` calls of:

- get by RID: ``get_table_as_dict("Scan", filters={"RID": rid})``
- filter on an indexed column: ``filters={"Width": w}`` (``Width`` indexed by
  ``cat.create_index``; one row per value)
- ``resolve_rid(rid)`` and ``history(rid)`` (the RID registry: one key probe)
- ``search`` of two words that share ~1 row in 1,000,000 (the text-search index)

and ``upload_assets`` of 100 new 1 KiB files into ``Scan`` (each file looked up by
"same bytes, same name" first: the plan of that query is printed, and must use an index).
Aims (issue 18 f): insert api/raw >= 0.5; every read <= 10 ms at 1M rows.

    .venv/bin/python benchmarks/bench_scale.py [--max-rows 1000000] [--probes 30]
                                               [--engines sqlite,postgres] [--dir DIR]

Figures go to ``build/bench/scale.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from assetry import Catalog, ColumnDef
from assetry.sql import model as model_mod
from assetry.sql.engine import WRITE_OPTION, make_engine
from common import Figure, load, positive, save_figures

SIZES = (10_000, 100_000, 1_000_000)
BATCH = 10_000
OBJECTS = 256
UPLOAD_FILES = 100
INSERT_AIM = 0.5
READ_AIM_MS = 10.0
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _words(count: int, seed: int) -> list[str]:
    """``count`` distinct made-up words of 7 letters (g-z: no hex digits, so checksums
    share none of their trigrams), the same every run."""
    rng = random.Random(seed)
    out: set[str] = set()
    while len(out) < count:
        out.add("".join(rng.choice("ghijklmnopqrstuvwxyz") for _ in range(7)))
    return sorted(out)


# Two vocabularies of coprime sizes: the pair (A[i % 1009], B[i % 991]) repeats every
# 999,919 rows, so a two-word search finds about one row in a million.
WORDS_A = _words(1009, 1)
WORDS_B = _words(991, 2)


def pg_url(database: str) -> str:
    return sa.engine.make_url(PG_ADMIN).set(database=database).render_as_string(False)


def pg_admin() -> sa.Engine | None:
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:
        engine.dispose()
        return None
    return engine


class Side:
    """One engine's catalog and raw-Core floor database."""

    def __init__(self, engine_name: str, root: Path, admin: sa.Engine | None) -> None:
        self.name = engine_name
        self.root = root
        self.admin = admin
        self.databases: list[str] = []
        if engine_name == "sqlite":
            self.catalog_url = str(root / "catalog")
            self.raw_url = f"sqlite:///{root / 'raw.db'}"
        else:
            self.catalog_url = self._database()
            self.raw_url = self._database()

    def _database(self) -> str:
        assert self.admin is not None
        name = f"assetry_bench_scale_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return pg_url(name)

    def drop(self) -> None:
        if self.admin is None:
            return
        for name in self.databases:
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def median_ms(call: Callable[[Any], object], arguments: list[Any]) -> float:
    times = []
    for argument in arguments:
        start = time.perf_counter()
        call(argument)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def seed_objects(cat: Catalog, folder: Path) -> list[dict[str, Any]]:
    """``OBJECTS`` small files stored in the catalog (as assets of ``Seed``): the objects
    the generated ``Scan`` rows name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(OBJECTS):
        path = folder / f"seed-{n}.bin"
        path.write_bytes(f"seed object {n}\n".encode() * 16)
        paths.append(path)
    cat.create_asset("Seed")
    return [
        {"URL": a["URL"], "Length": a["Length"], "MD5": a["MD5"], "SHA256": a["SHA256"]}
        for a in cat.upload_assets("Seed", paths)
    ]


def user_rows(start: int, count: int, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for i in range(start, start + count):
        obj = objects[i % len(objects)]
        rows.append(
            {
                **obj,
                "Filename": f"scan-{i:07d}.bin",
                "Description": f"scan {WORDS_A[i % len(WORDS_A)]} {WORDS_B[i % len(WORDS_B)]}",
                "Width": i,
                "Label": f"label {i % 97}",
            }
        )
    return rows


def raw_rows(rows: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """The rows with the system values the catalog would give them (made before timing)."""
    stamp = dt.datetime.now(dt.UTC)
    return [
        {
            **row,
            "RID": f"RAWRAWRA-{start + n:X}",
            "RCT": stamp,
            "RMT": stamp,
            "RCB": "bench",
            "RMB": "bench",
            "_snapshot": 1,
        }
        for n, row in enumerate(rows)
    ]


class Grower:
    """Grows ``Scan`` in the catalog and the floor table side by side, timing both."""

    def __init__(self, side: Side, cat: Catalog, objects: list[dict[str, Any]]) -> None:
        self.side = side
        self.cat = cat
        self.objects = objects
        self.count = 0  # rows made (also the next row's number)
        self.inserted = 0  # rows inserted by both sides
        self.api_seconds = 0.0
        self.raw_seconds = 0.0
        self.rids: list[str] = []
        table_model = model_mod.Model.from_doc(cat.model).table("Scan")
        self.raw_engine = make_engine(side.raw_url)
        self.raw_table = model_mod.sa_table(table_model, sa.MetaData())
        self.raw_table.create(self.raw_engine)

    def grow_to(self, size: int) -> None:
        while self.count < size:
            batch = min(BATCH, size - self.count)
            rows = user_rows(self.count, batch, self.objects)
            raw = raw_rows(rows, self.count)
            start = time.perf_counter()
            rids = self.cat.insert("Scan", rows)
            self.api_seconds += time.perf_counter() - start
            start = time.perf_counter()
            with self.raw_engine.connect() as conn:
                conn.execution_options(**{WRITE_OPTION: True})
                with conn.begin():
                    conn.execute(self.raw_table.insert(), raw)
            self.raw_seconds += time.perf_counter() - start
            # Keep a sample of RIDs to probe (ten per batch), not all of them.
            self.rids.extend(rids[:: max(1, batch // 10)])
            self.count += batch
            self.inserted += batch

    def close(self) -> None:
        self.raw_engine.dispose()


def lookup_plan(cat: Catalog) -> str:
    """The plan of ``upload_assets``' "same bytes, same name" query on ``Scan``."""
    backend = cat._backend
    with backend.session() as s:  # type: ignore[attr-defined]
        t = s.table("Scan")
        query = (
            sa.select(t.c.RID)
            .where(t.c.SHA256 == "0" * 64, t.c.Filename == "x")
            .order_by(t.c.RID)
            .limit(1)
        )
        text = str(query.compile(dialect=s.conn.dialect, compile_kwargs={"literal_binds": True}))
        if s.dialect == "sqlite":
            rows = s.conn.exec_driver_sql("EXPLAIN QUERY PLAN " + text).fetchall()
            return "; ".join(str(r[-1]) for r in rows)
        rows = s.conn.exec_driver_sql("EXPLAIN " + text).fetchall()
        return "; ".join(str(r[0]).strip() for r in rows)


def upload_files(folder: Path, tag: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(UPLOAD_FILES):
        path = folder / f"upload-{tag}-{n:03d}.bin"
        path.write_bytes(hashlib.sha256(f"{tag}/{n}".encode()).digest() * 32)
        paths.append(path)
    return paths


def run_engine(
    side: Side, sizes: list[int], probes: int, figures: list[Figure], out: dict[str, Any]
) -> None:
    rng = random.Random(18)
    cat = Catalog.create(side.catalog_url, store=str(side.root / f"{side.name}-objects"))
    cat.create_asset(
        "Scan",
        column_defs=[ColumnDef("Width", "int4"), ColumnDef("Label", "text", index=True)],
    )
    cat.create_index("Scan", "Width")
    objects = seed_objects(cat, side.root / "seed")
    cat.upload_assets("Scan", upload_files(side.root / "warm", "warm"))  # capture env once
    grower = Grower(side, cat, objects)
    engine_out: dict[str, Any] = out.setdefault(side.name, {})
    first: dict[str, float] = {}
    try:
        for size in sizes:
            grower.grow_to(size)
            ratio = grower.raw_seconds / grower.api_seconds
            sample = rng.sample(grower.rids, min(probes, len(grower.rids)))
            widths = [rng.randrange(size) for _ in range(probes)]
            pairs = [rng.randrange(size) for _ in range(probes)]
            words = [f"{WORDS_A[i % len(WORDS_A)]} {WORDS_B[i % len(WORDS_B)]}" for i in pairs]
            reads = {
                "get by RID": median_ms(
                    lambda r: list(cat.get_table_as_dict("Scan", filters={"RID": r})), sample
                ),
                "filter on an indexed column": median_ms(
                    lambda w: list(cat.get_table_as_dict("Scan", filters={"Width": w})), widths
                ),
                "resolve_rid": median_ms(cat.resolve_rid, sample),
                "history": median_ms(cat.history, sample),
                "search of two words": median_ms(
                    lambda text: cat.search(text, tables=["Scan"]), words
                ),
            }
            assert all(len(cat.search(w, tables=["Scan"])) >= 1 for w in words[:3])
            paths = upload_files(side.root / f"up-{size}", f"{side.name}-{size}")
            start = time.perf_counter()
            cat.upload_assets("Scan", paths)
            upload_ms = (time.perf_counter() - start) * 1000
            grower.count += UPLOAD_FILES  # row numbers those files took
            plan = lookup_plan(cat)
            row: dict[str, Any] = {
                "rows": size,
                "api_rows_per_s": grower.inserted / grower.api_seconds,
                "raw_rows_per_s": grower.inserted / grower.raw_seconds,
                "insert_ratio": ratio,
                "reads_ms": reads,
                "upload_100_ms": upload_ms,
                "lookup_plan": plan,
            }
            engine_out[str(size)] = row
            print(
                f"{side.name:8} {size:>9,} rows  insert api/raw {ratio:.2f} "
                f"({row['api_rows_per_s']:,.0f} vs {row['raw_rows_per_s']:,.0f} rows/s)  "
                f"upload 100 {upload_ms:,.0f} ms  load {load()}"
            )
            for name, ms in reads.items():
                first.setdefault(name, ms)
                growth = ms / first[name] if first[name] else float("nan")
                print(f"    {name:30} {ms:8.2f} ms   x{growth:.2f} since {sizes[0]:,}")
            print(f"    lookup plan: {plan}")
            if size == sizes[-1]:
                part = f"{side.name} {size:,} rows"
                figures.append(Figure(part, "insert api/raw", ratio, "x", INSERT_AIM, True))
                for name, ms in reads.items():
                    aim = READ_AIM_MS if size >= 1_000_000 else None
                    figures.append(Figure(part, name, ms, "ms", aim, False))
                figures.append(
                    Figure(part, "upload_assets of 100 files", upload_ms, "ms", None, False)
                )
                uses_index = "INDEX" in plan.upper() and "SCAN Scan" not in plan
                engine_out["lookup_uses_index"] = uses_index
    finally:
        grower.close()
        cat.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-rows", type=positive, default=SIZES[-1])
    parser.add_argument("--probes", type=positive, default=30)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--dir", type=Path, help="work here (default: a temporary folder)")
    args = parser.parse_args()
    sizes = [s for s in SIZES if s <= args.max_rows] or [args.max_rows]
    root = Path(args.dir or tempfile.mkdtemp(prefix="assetry-bench-scale-"))
    root.mkdir(parents=True, exist_ok=True)
    admin = pg_admin()
    print(f"sizes {sizes}; {os.cpu_count()} cores; load average before {load()}")
    figures: list[Figure] = []
    out: dict[str, Any] = {}
    try:
        for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
            if name == "postgres" and admin is None:
                print("postgres: not reachable at 127.0.0.1:5432, skipped")
                continue
            side = Side(name, root / name, admin)
            side.root.mkdir(parents=True, exist_ok=True)
            try:
                run_engine(side, sizes, args.probes, figures, out)
            finally:
                side.drop()
    finally:
        if admin is not None:
            admin.dispose()
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(f"{'figure':52} {'value':>10} {'aim':>8}")
    for f in figures:
        label = f"{f.part}: {f.name}"
        print(f"{label:52} {f.value:10.2f} {f.unit:2} {f.aim_text:>8} {f.verdict}")
    path = save_figures("scale", figures, sizes=sizes, engines=out)
    print(f"figures written to {path}")


if __name__ == "__main__":
    main()
