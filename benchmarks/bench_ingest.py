"""``upload_assets`` into a big asset table: does ingest time grow with the table?

``upload_assets`` looks for the same bytes under the same file name before adding an
asset (re-ingesting returns the existing asset). Unindexed, that look-up read the whole
table: 100 files took 262 ms into a 10,000-row table and 18.4 s into a 1,000,000-row one.
Asset tables are now indexed by Filename, MD5 and SHA256.

For each table size: a fresh embedded catalog, an asset table filled with that many rows
(through ``cat.insert``, every row naming one stored object under its own file name),
then, timed: ``upload_assets`` of ``--files`` new small files, and, as the floor, an
execution uploading the same number of new files into the same table
(``upload_execution_outputs``, which keys staged files by execution, not by content).
Printed: both times per size and the ratio of the biggest table's ingest time to the
smallest's (aim <= 1.5: independent of the table's size).

    .venv/bin/python benchmarks/bench_ingest.py [--sizes 10000,1000000] [--files 100]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from pathlib import Path

from assetry import Catalog, ExecutionConfiguration
from common import Figure, load, positive, save_figures

TABLE = "Scan"
AIM = 1.5


def filled_catalog(root: Path, rows: int) -> Catalog:
    cat = Catalog.create(root / f"c{rows}")
    cat.create_asset(TABLE)
    stored = cat._context.store().put_stream(io.BytesIO(b"one object for every filler row"))
    base = {
        "URL": f"/objects/{stored.sha256}",
        "Length": stored.length,
        "MD5": stored.md5,
        "SHA256": stored.sha256,
    }
    for start in range(0, rows, 10_000):
        batch = range(start, min(start + 10_000, rows))
        cat.insert(TABLE, [{**base, "Filename": f"filler_{n:08d}.png"} for n in batch])
    return cat


def files(folder: Path, count: int, tag: str) -> list[Path]:
    folder.mkdir(parents=True)
    out = []
    for n in range(count):
        path = folder / f"{tag}_{n:04d}.png"
        path.write_bytes(f"{tag} {n}".encode() * 64)
        out.append(path)
    return out


def measure(root: Path, rows: int, count: int) -> tuple[float, float]:
    cat = filled_catalog(root, rows)
    try:
        new = files(root / f"in{rows}", count, "ingest")
        started = time.perf_counter()
        added = cat.upload_assets(TABLE, new)
        ingest = time.perf_counter() - started
        assert len(added) == count
        wf = cat.create_workflow("bench", "Training", url="bench://ingest", checksum="bench")
        exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
        for n in range(count):
            exe.asset_file_path(TABLE, f"run_{n:04d}.png").write_bytes(b"run %d" % n * 64)
        started = time.perf_counter()
        exe.upload_execution_outputs(progress=False)
        floor = time.perf_counter() - started
        return ingest, floor
    finally:
        cat.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="asset table sizes")
    parser.add_argument("--files", type=positive, default=100, help="files ingested")
    parser.add_argument("--dir", default=None, help="where to make the catalogs")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"load average before {load()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="assetry-bench-", dir=args.dir) as tmp:
        for rows in sizes:
            ingest, floor = measure(Path(tmp), rows, args.files)
            results[rows] = ingest
            print(
                f"{rows:>10,} rows: upload_assets of {args.files} files {ingest * 1000:8.1f} ms; "
                f"an execution's upload of {args.files} files {floor * 1000:8.1f} ms"
            )
    ratio = results[max(sizes)] / results[min(sizes)]
    verdict = "PASS" if ratio <= AIM else "MISS"
    print(
        f"ingest time, {max(sizes):,} rows / {min(sizes):,} rows: {ratio:.2f} x "
        f"(aim <= {AIM}) {verdict}; load average after {load()}"
    )
    save_figures(
        "ingest",
        [
            Figure("f", f"upload_assets of {args.files} files, {max(sizes):,} / {min(sizes):,} "
                   "rows (time ratio)", ratio, "x", AIM, False),
        ],
        seconds_by_rows=results,
    )  # fmt: skip


if __name__ == "__main__":
    main()
