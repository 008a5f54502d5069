"""Server mode under load: 8 concurrent clients against ``assetry serve``, each figure
beside the same work done on the embedded catalog in the same run.

One run, in a fresh temporary directory:

* setup: an embedded catalog with an asset table ``Image`` holding ``--assets`` assets, a
  vocabulary ``Species`` with 50 terms, a plain table ``Sample`` for inserts, and tokens;
  ``assetry serve --workers W`` on a free 127.0.0.1 port in a separate process group.
* for each operation: ``--clients`` threads, each with its own ``Catalog`` (remote: its
  own HTTP connection pool; embedded: its own connections), call the operation a fixed
  number of times; every call is timed. Reported: calls/s over the wall time, p50 and
  p99 latency, and remote/embedded for calls/s.
  - ``lookup_term``: one term by a synonym, in any case.
  - ``insert`` of 10 rows (one transaction), aim with ``lookup_term``: >= 0.5 of embedded.
  - ``insert``: one call of 1,000 rows (one transaction).
  - ``list_assets``: every asset of ``Image`` (``--assets`` rows with their types).
* upload: one ``--upload-mib`` file through ``HttpObjectStore.put_file`` (hash, then the
  resumable chunked upload, verified and stored by the server) against the embedded
  store's ``put_file`` of the same file (hash while copying), in MiB/s.

Client threads share this process's GIL and the server its two cores with them: on this
2-core machine the figures measure the whole system, not the server alone.

    .venv/bin/python benchmarks/bench_server.py [--quick] [--clients N] [--workers N]
                                                [--upload-mib N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assetry import Catalog, ColumnDef
from assetry.client.objects import HttpObjectStore
from assetry.client.transport import Transport
from assetry.server import auth
from assetry.store.local import LocalStore
from common import Figure, load, positive, save_figures

ROWS_PER_INSERT = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_catalog(root: Path, assets: int) -> tuple[str, str]:
    """The served catalog; return its location and an admin token."""
    location = str(root / "catalog")
    cat = Catalog.create(location)
    cat.create_asset("Image", [ColumnDef("Width", "int4")])
    cat.create_vocabulary("Species")
    for n in range(50):
        cat.add_term("Species", f"Species_{n}", synonyms=[f"sp{n}"])
    from assetry import TableDef

    cat.create_table(TableDef("Sample", [ColumnDef("Label", "text"), ColumnDef("Value", "float8")]))
    files = root / "seed"
    files.mkdir()
    paths = []
    for n in range(assets):
        path = files / f"img{n:05d}.png"
        path.write_bytes(f"image {n}".encode())
        paths.append(path)
    cat.upload_assets("Image", paths)
    token, _ = auth.create_token(cat._backend, "bench", "admin")  # type: ignore[arg-type]
    cat.close()
    return location, token


def start_server(location: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "assetry", "--catalog", location, "serve",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    stop_server(process)
    raise SystemExit("the server did not start")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def load_test(
    open_catalog: Callable[[], Catalog],
    call: Callable[[Catalog, int, int], object],
    clients: int,
    per_client: int,
) -> dict[str, float]:
    """Run ``call`` ``per_client`` times in each of ``clients`` threads."""
    catalogs = [open_catalog() for _ in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    barrier = threading.Barrier(clients + 1)

    def worker(n: int) -> None:
        mine = []
        barrier.wait()
        try:
            for i in range(per_client):
                start = time.perf_counter()
                call(catalogs[n], n, i)
                mine.append(time.perf_counter() - start)
        except BaseException as err:  # reported after the run
            errors.append(err)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for cat in catalogs:
        cat.close()
    if errors:
        raise errors[0]
    latencies.sort()
    return {
        "calls": len(latencies),
        "calls_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def operations(clients: int, quick: bool) -> dict[str, tuple[Callable[..., object], int]]:
    rows = [{"Label": f"r{i}", "Value": i / 7} for i in range(ROWS_PER_INSERT)]
    scale = 1 if quick else 4

    def lookup(cat: Catalog, n: int, i: int) -> object:
        return cat.lookup_term("Species", f"SP{(n + i) % 50}")

    return {
        "lookup_term": (lookup, 50 * scale),
        "insert_10_rows": (lambda cat, n, i: cat.insert("Sample", rows[:10]), 25 * scale),
        "insert_1000_rows": (lambda cat, n, i: cat.insert("Sample", rows), 2 * scale),
        "list_assets": (lambda cat, n, i: cat.list_assets("Image"), 5 * scale),
    }


def upload(root: Path, location: str, url: str, token: str, mib: int) -> dict[str, float]:
    big = root / "big.bin"
    block = os.urandom(1 << 20)
    with open(big, "wb") as out:
        for n in range(mib):
            out.write(block[:-8] + n.to_bytes(8, "big"))
    embedded = LocalStore(root / "embedded-objects")
    start = time.perf_counter()
    embedded.put_file(big)
    local_s = time.perf_counter() - start
    remote = HttpObjectStore(Transport(url, token))
    start = time.perf_counter()
    remote.put_file(big)
    remote_s = time.perf_counter() - start
    big.unlink()
    return {
        "embedded_mib_s": mib / local_s,
        "remote_mib_s": mib / remote_s,
        "ratio": local_s / remote_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls, a 128 MiB upload")
    parser.add_argument("--clients", type=positive, default=8)
    parser.add_argument("--workers", type=positive, default=2, help="server processes")
    parser.add_argument("--assets", type=positive, default=200)
    parser.add_argument("--upload-mib", type=positive, default=None, help="default 1024")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    mib = args.upload_mib or (128 if args.quick else 1024)
    report: dict[str, Any] = {
        "settings": {**vars(args), "upload_mib": mib},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": load(),
        },  # fmt: skip
        "operations": {},
    }
    with tempfile.TemporaryDirectory(prefix="assetry-bench-server-") as tmp:
        root = Path(tmp)
        location, token = build_catalog(root, args.assets)
        port = free_port()
        server = start_server(location, port, args.workers)
        url = f"http://127.0.0.1:{port}"
        os.environ["XDG_CACHE_HOME"] = str(root / "client-cache")
        try:
            for name, (call, per_client) in operations(args.clients, args.quick).items():
                embedded = load_test(lambda: Catalog(location), call, args.clients, per_client)
                remote = load_test(
                    lambda: Catalog(url, token=token), call, args.clients, per_client
                )
                report["operations"][name] = {
                    "embedded": embedded,
                    "remote": remote,
                    "remote_over_embedded": remote["calls_per_s"] / embedded["calls_per_s"],
                }
            report["upload"] = upload(root, location, url, token, mib)
        finally:
            stop_server(server)
    report["machine"]["load_after"] = load()
    figures = [
        Figure(
            "e",
            f"{name}: remote/embedded calls/s, {args.clients} clients",
            result["remote_over_embedded"],
            "x",
            0.5 if name in ("lookup_term", "insert_10_rows") else None,
            True,
        )
        for name, result in report["operations"].items()
    ]
    save_figures("server", figures, report=report)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    machine = report["machine"]
    print(
        f"server benchmark: {args.clients} clients, {args.workers} server workers, "
        f"load {machine['load_before']} -> {machine['load_after']}"
    )
    header = f"{'operation':18} {'mode':9} {'calls':>6} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    for name, result in report["operations"].items():
        for mode in ("embedded", "remote"):
            r = result[mode]
            print(f"{name:18} {mode:9} {r['calls']:>6} {r['calls_per_s']:>9.1f} "
                  f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}")  # fmt: skip
        print(f"{'':18} remote/embedded calls/s: {result['remote_over_embedded']:.2f}")
    up = report["upload"]
    print(
        f"upload {mib} MiB: embedded {up['embedded_mib_s']:.0f} MiB/s, "
        f"through the server {up['remote_mib_s']:.0f} MiB/s (ratio {up['ratio']:.2f})"
    )


if __name__ == "__main__":
    main()
