"""Insert throughput: ``Catalog.insert`` against a raw SQLAlchemy Core executemany.

One run does both halves on the embedded default (SQLite), in a fresh temporary directory:

* api: ``Catalog.create`` + ``create_table("Bench", ...)`` (the six standard asset columns
  as plain columns, since generated asset rows name no stored object, plus four user
  columns of mixed types: ten value columns), then ``cat.insert`` of
  ``--rows`` rows in batches of ``--batch``; every call is one transaction.
* raw core: a plain SQLite file with the same connection settings as the catalog's engine
  (WAL, ``synchronous=FULL``, ``foreign_keys=ON``, ``BEGIN IMMEDIATE`` per transaction), a
  table with the same columns plus the system columns (RID, RCT, RMT, RCB, RMB,
  ``_snapshot``), and ``conn.execute(table.insert(), batch)`` of the same rows, with RIDs
  and system values pre-generated, one transaction per batch (``engine.begin()``).

Row generation happens before either timed section. The ratio api/raw is what to watch
(aim >= 0.5): absolute rows/s depend mostly on the disk's fsync latency.

    .venv/bin/python benchmarks/bench_insert.py [--rows N] [--batch N] [--repeat N]
                                                [--json] [--dir DIR] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import getpass
import json
import os
import platform
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from assetry import Catalog, ColumnDef, TableDef
from common import Figure, positive, save_figures

TABLE = "Bench"
SEED = 20240601
AIM = 0.5

USER_COLUMNS = [
    ColumnDef("Subject_Age", "int4", comment="an integer"),
    ColumnDef("Score", "float8", comment="a float"),
    ColumnDef("Notes", "text", comment="some text"),
    ColumnDef("Approved", "boolean", comment="a flag"),
]
# The asset columns as plain columns: asset rows must name objects in the catalog's store
# (the rows here are generated), and what is timed is the row path, not object checks.
FILE_COLUMNS = [
    ColumnDef("URL", "text", nullok=False),
    ColumnDef("Filename", "text"),
    ColumnDef("Length", "int8", nullok=False),
    ColumnDef("MD5", "text", nullok=False),
    ColumnDef("SHA256", "text", nullok=False),
    ColumnDef("Description", "markdown"),
]
NOTES = ["", "ok", "blurred, retake", "left eye", "right eye", "follow-up in 6 months"]
# Crockford base 32, as the catalog spells RIDs.
RID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

Row = dict[str, Any]


@dataclass
class Timing:
    """One timed half: wall seconds and this process's CPU seconds."""

    wall: float
    cpu: float


@dataclass
class Result:
    rows: int
    batch: int
    repeat: int
    api_rows_per_s: float
    raw_rows_per_s: float
    ratio: float
    api_cpu_share: float
    raw_cpu_share: float
    api_cpu_us_per_row: float
    raw_cpu_us_per_row: float
    cpu_ratio: float
    api_runs: list[Timing]
    raw_runs: list[Timing]
    settings: dict[str, dict[str, str]]
    machine: dict[str, Any]


# --- data -----------------------------------------------------------------------------


def user_rows(count: int, seed: int = SEED) -> list[Row]:
    """``count`` rows of the ten value columns, the same for every run with ``seed``."""
    rng = random.Random(seed)
    out: list[Row] = []
    for i in range(count):
        sha256 = f"{rng.getrandbits(256):064x}"
        out.append(
            {
                "URL": f"file:///objects/{sha256[:2]}/{sha256[2:]}",
                "Filename": f"scan_{i:07d}.png",
                "Length": rng.randrange(1_000, 50_000_000),
                "MD5": f"{rng.getrandbits(128):032x}",
                "SHA256": sha256,
                "Description": f"benchmark asset {i}",
                "Subject_Age": rng.randrange(0, 100),
                "Score": rng.random() * 100.0,
                "Notes": rng.choice(NOTES),
                "Approved": rng.random() < 0.5,
            }
        )
    return out


def _encode(number: int) -> str:
    digits = []
    while True:
        number, rest = divmod(number, 32)
        digits.append(RID_ALPHABET[rest])
        if number == 0:
            return "".join(reversed(digits))


def raw_batches(rows: Sequence[Row], batch: int, user: str) -> list[list[Row]]:
    """``rows`` in batches, each row with the system values the catalog would give it.

    RIDs are ``<8-char prefix>-<sequence in base 32>`` as the catalog makes them; every
    batch shares one timestamp and one snapshot number, as one catalog session does.
    """
    rng = random.Random(SEED + 1)
    prefix = "".join(rng.choice(RID_ALPHABET) for _ in range(8))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    out: list[list[Row]] = []
    for number, start in enumerate(range(0, len(rows), batch), start=1):
        stamp = {"RCT": now, "RMT": now, "RCB": user, "RMB": user, "_snapshot": number}
        out.append(
            [
                {**row, "RID": f"{prefix}-{_encode(100 + start + i)}", **stamp}
                for i, row in enumerate(rows[start : start + batch])
            ]
        )
    return out


def chunked(rows: Sequence[Row], batch: int) -> list[list[Row]]:
    return [list(rows[start : start + batch]) for start in range(0, len(rows), batch)]


# --- the two halves -------------------------------------------------------------------


def _timing(wall_start: float, cpu_start: float) -> Timing:
    return Timing(
        round(time.perf_counter() - wall_start, 4), round(time.process_time() - cpu_start, 4)
    )


def _pragmas(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {
            name: str(conn.exec_driver_sql(f"PRAGMA {name}").scalar())
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }


def run_api(
    directory: Path, batches: list[list[Row]], profile: cProfile.Profile | None
) -> tuple[Timing, dict[str, str]]:
    """Time inserting ``batches`` with ``Catalog.insert``; also the engine's pragmas."""
    expected = sum(map(len, batches))
    with Catalog.create(directory) as cat:
        cat.create_table(
            TableDef(TABLE, column_defs=FILE_COLUMNS + USER_COLUMNS, comment="insert benchmark")
        )
        returned: list[list[str]] = []
        if profile is not None:
            profile.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            returned.append(cat.insert(TABLE, batch))
        timing = _timing(wall, cpu)
        if profile is not None:
            profile.disable()
        distinct = len({rid for rids in returned for rid in rids})
        if distinct != expected:
            raise SystemExit(f"api: expected {expected} new RIDs, got {distinct}")
        # Private, used only to count rows cheaply and show the connection settings match;
        # skipped if the internals change.
        engine = getattr(getattr(cat, "_backend", None), "engine", None)
        settings: dict[str, str] = {}
        if isinstance(engine, sa.Engine):
            settings = _pragmas(engine)
            with engine.connect() as conn:
                query = sa.select(sa.func.count()).select_from(sa.table(TABLE))
                count = conn.execute(query).scalar_one()
            if count != expected:
                raise SystemExit(f"api: expected {expected} rows, found {count}")
    return timing, settings


def raw_engine(path: Path) -> sa.Engine:
    """A plain SQLite engine with the catalog's connection and transaction settings."""
    engine = sa.create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 60}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def raw_table(metadata: sa.MetaData) -> sa.Table:
    """The Bench table as the catalog lays it out, in plain SQLAlchemy types."""
    return sa.Table(
        TABLE,
        metadata,
        sa.Column("RID", sa.Text, primary_key=True),
        sa.Column("RCT", sa.DateTime(timezone=True), nullable=False),
        sa.Column("RMT", sa.DateTime(timezone=True), nullable=False),
        sa.Column("RCB", sa.Text),
        sa.Column("RMB", sa.Text),
        sa.Column("URL", sa.Text, nullable=False),
        sa.Column("Filename", sa.Text),
        sa.Column("Length", sa.BigInteger, nullable=False),
        sa.Column("MD5", sa.Text, nullable=False),
        sa.Column("SHA256", sa.Text, nullable=False),
        sa.Column("Description", sa.Text),
        sa.Column("Subject_Age", sa.Integer),
        sa.Column("Score", sa.Double),
        sa.Column("Notes", sa.Text),
        sa.Column("Approved", sa.Boolean),
        sa.Column("_snapshot", sa.BigInteger, nullable=False),
    )


def run_raw(path: Path, batches: list[list[Row]]) -> tuple[Timing, dict[str, str]]:
    """Time inserting ``batches`` with a Core executemany, one transaction each."""
    engine = raw_engine(path)
    try:
        metadata = sa.MetaData()
        table = raw_table(metadata)
        metadata.create_all(engine)
        wall, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            with engine.begin() as conn:
                conn.execute(table.insert(), batch)
        timing = _timing(wall, cpu)
        with engine.connect() as conn:
            inserted = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if inserted != sum(map(len, batches)):
            raise SystemExit(f"raw: expected {sum(map(len, batches))} rows, found {inserted}")
        return timing, _pragmas(engine)
    finally:
        engine.dispose()


# --- main -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=positive, default=100_000, help="rows to insert")
    parser.add_argument("--batch", type=positive, default=1_000, help="rows per insert call")
    parser.add_argument(
        "--repeat", type=positive, default=3, help="runs of each half; medians are reported"
    )
    parser.add_argument("--json", action="store_true", help="also print a JSON object")
    parser.add_argument("--dir", type=Path, help="where to make the temporary directory")
    parser.add_argument(
        "--profile", type=Path, help="cProfile the api half; write pstats to this file"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows = user_rows(args.rows)
    api_batches = chunked(rows, args.batch)
    user = os.environ.get("ASSETRY_USER") or getpass.getuser()
    core_batches = raw_batches(rows, args.batch, user)
    profile = cProfile.Profile() if args.profile else None

    api_runs: list[Timing] = []
    raw_runs: list[Timing] = []
    api_settings: dict[str, str] = {}
    raw_settings: dict[str, str] = {}
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="assetry-bench-", dir=args.dir) as tmp:
            # Alternate which half goes first, so neither always meets a warmer disk.
            for half in ("api", "raw") if i % 2 == 0 else ("raw", "api"):
                if half == "api":
                    timing, api_settings = run_api(Path(tmp) / "catalog", api_batches, profile)
                    api_runs.append(timing)
                else:
                    timing, raw_settings = run_raw(Path(tmp) / "raw.db", core_batches)
                    raw_runs.append(timing)

    api_wall = statistics.median(t.wall for t in api_runs)
    raw_wall = statistics.median(t.wall for t in raw_runs)
    api_rate, raw_rate = args.rows / api_wall, args.rows / raw_wall
    # CPU time per row is steadier than wall time on a busy machine.
    api_cpu = statistics.median(t.cpu for t in api_runs) / args.rows * 1e6
    raw_cpu = statistics.median(t.cpu for t in raw_runs) / args.rows * 1e6
    result = Result(
        rows=args.rows,
        batch=args.batch,
        repeat=args.repeat,
        api_rows_per_s=round(api_rate, 1),
        raw_rows_per_s=round(raw_rate, 1),
        ratio=round(api_rate / raw_rate, 3),
        api_cpu_share=round(sum(t.cpu for t in api_runs) / sum(t.wall for t in api_runs), 3),
        raw_cpu_share=round(sum(t.cpu for t in raw_runs) / sum(t.wall for t in raw_runs), 3),
        api_cpu_us_per_row=round(api_cpu, 2),
        raw_cpu_us_per_row=round(raw_cpu, 2),
        cpu_ratio=round(raw_cpu / api_cpu, 3),
        api_runs=api_runs,
        raw_runs=raw_runs,
        settings={"api": api_settings, "raw": raw_settings},
        machine=machine(),
    )
    m = result.machine
    print(
        f"machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}, "
        f"SQLite {m['sqlite']}, SQLAlchemy {m['sqlalchemy']}"
    )
    print(
        f"{args.rows:,} rows in batches of {args.batch:,}, median of {args.repeat} run(s); "
        f"sqlite {raw_settings}"
    )
    if api_settings and api_settings != raw_settings:
        print(f"WARNING: the catalog's sqlite settings differ: {api_settings}")
    print(
        f"cpu per row: api {api_cpu:.1f} us, raw {raw_cpu:.1f} us (cpu ratio "
        f"{result.cpu_ratio:.2f}); cpu share of wall time: api {result.api_cpu_share:.0%}, "
        f"raw {result.raw_cpu_share:.0%} (the rest is fsync and waiting for a core)"
    )
    print(
        f"api: {api_rate:,.0f} rows/s  raw core: {raw_rate:,.0f} rows/s  "
        f"ratio: {result.ratio:.2f} (aim >= {AIM})"
    )
    save_figures(
        "insert",
        [
            Figure("", "Catalog.insert rows/s / raw Core rows/s", result.ratio, "x", AIM, True),
            Figure("", "Catalog.insert", api_rate, "rows/s", None, True),
            Figure("", "raw SQLAlchemy Core", raw_rate, "rows/s", None, True),
        ],
        result=asdict(result),
    )
    if args.json:
        print(json.dumps(asdict(result), sort_keys=True))
    if profile is not None:
        profile.dump_stats(args.profile)
        stats = pstats.Stats(profile, stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(30)
        print(f"profile of the api half written to {args.profile}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
