"""Large objects through a server in front of S3, against boto3 talking to the same S3.

One run, in a fresh temporary directory:

* ``moto_server`` (S3) and ``assetry serve --store s3://...`` in processes of their own,
  on free 127.0.0.1 ports; a file of ``--mib`` random MiB.
* **boto3** (the peer): ``upload_file`` and ``download_file`` of the file with boto3's
  default transfer settings (8 MiB parts, 10 threads), straight to the bucket.
* **direct**: ``HttpObjectStore.put_file`` of the same file through the server, which
  hands out presigned URLs (the client hashes the file, sends its parts to S3 four at a
  time; the server reads the object once to check it, then copies it to its content
  key), and ``get_file`` (a presigned GET, verified while it is written).
* **through the server** (for context): the same calls with direct transfers turned off,
  so the bytes stream through the server (resumable chunks, then the server's own
  multipart upload to S3).

Each round uses a fresh object (the file's first bytes change) so nothing is skipped
as already stored; the halves alternate order; medians of ``--rounds``. Aims: direct
upload and download each >= 0.8 of boto3's MiB/s.

    .venv/bin/python benchmarks/bench_transfers.py [--mib 1024] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import requests

from assetry import Catalog
from assetry.client import direct
from assetry.client.objects import HttpObjectStore
from assetry.server import auth
from common import Figure, load, positive, save_figures

BIN = Path(sys.executable).parent
MiB = 1 << 20
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def process(argv: list[str], ready_url: str) -> Iterator[None]:
    """A child process in its own group, waited for until ``ready_url`` answers."""
    child = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(ready_url, timeout=2)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError(f"{argv[0]} did not start") from None
                time.sleep(0.2)
        yield
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=30)


def timed(action: Callable[[], object], mib: int) -> float:
    """MiB/s of one call of ``action``."""
    start = time.perf_counter()
    action()
    return mib / (time.perf_counter() - start)


def fresh(path: Path, round_number: int) -> None:
    """Change the file's first bytes so each round stores a new object."""
    with open(path, "r+b") as handle:
        handle.write(f"round {round_number} {time.time_ns()}".encode().ljust(64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=positive, default=1024, help="object size (1024)")
    parser.add_argument("--rounds", type=positive, default=3, help="rounds (3)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)

    with tempfile.TemporaryDirectory(prefix="bench-transfers-") as tmp:
        root = Path(tmp)
        s3_port, server_port = free_port(), free_port()
        endpoint = f"http://127.0.0.1:{s3_port}"
        with process([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)], endpoint):
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            s3.create_bucket(Bucket="bench-transfers")
            store_url = f"s3://bench-transfers/objects?endpoint_url={endpoint}&region=us-east-1"
            catalog = Catalog.create(root / "catalog", store=store_url)
            token = auth.create_token(catalog._backend, "bench", "writer")[0]  # type: ignore[arg-type]
            catalog.close()
            url = f"http://127.0.0.1:{server_port}"
            serve = [str(BIN / "assetry"), "--catalog", str(root / "catalog"), "serve"]
            serve += ["--host", "127.0.0.1", "--port", str(server_port), "--log-level", "warning"]
            with process(serve, f"{url}/health"):
                results = measure(root, s3, url, token, args.mib, args.rounds)
    report(results, args)


def measure(
    root: Path, s3: Any, url: str, token: str, mib: int, rounds: int
) -> dict[str, list[float]]:
    source = root / "object.bin"
    with open(source, "wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MiB))
    store = HttpObjectStore(Catalog(url, token=token)._backend.transport)  # type: ignore[attr-defined]
    results: dict[str, list[float]] = {}

    def record(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    def boto3_half(n: int) -> None:
        key = f"peer/{n}"
        record(
            "boto3 upload", timed(lambda: s3.upload_file(str(source), "bench-transfers", key), mib)
        )
        back = root / "peer.bin"
        record(
            "boto3 download",
            timed(lambda: s3.download_file("bench-transfers", key, str(back)), mib),
        )
        back.unlink()
        s3.delete_object(Bucket="bench-transfers", Key=key)

    def assetry_half(name: str, minimum: int) -> Callable[[int], None]:
        def run(n: int) -> None:
            direct.DIRECT_MIN_BYTES = minimum
            digests: list[Any] = []
            record(f"{name} upload", timed(lambda: digests.append(store.put_file(source)), mib))
            back = root / "back.bin"
            record(
                f"{name} download",
                timed(lambda: store.get_file(digests[0].sha256, back, expected=digests[0]), mib),
            )
            back.unlink()

        return run

    halves: list[Callable[[int], None]] = [
        boto3_half,
        assetry_half("direct", 8 * MiB),
        assetry_half("through the server", 1 << 62),
    ]
    for n in range(rounds):
        order = halves if n % 2 == 0 else list(reversed(halves))
        for half in order:
            fresh(source, n * 10 + halves.index(half))
            half(n)
    return results


def report(results: dict[str, list[float]], args: argparse.Namespace) -> None:
    median = {name: statistics.median(values) for name, values in results.items()}
    figures = [
        Figure("e", f"direct {way} / boto3", median[f"direct {way}"] / median[f"boto3 {way}"],
               "x", 0.8, True)
        for way in ("upload", "download")
    ] + [
        Figure("e", f"through the server {way} / boto3",
               median[f"through the server {way}"] / median[f"boto3 {way}"], "x", None, True)
        for way in ("upload", "download")
    ]  # fmt: skip
    machine = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load": load(),
    }
    print(f"machine: {machine['platform']}, {machine['cpus']} CPUs, load {machine['load']}")
    print(f"{args.mib} MiB object, median of {args.rounds} rounds (moto_server as S3)")
    for name, value in sorted(median.items()):
        print(f"  {name:32s} {value:8.1f} MiB/s")
    for f in figures:
        print(f"  {f.name:32s} {f.value:8.2f}   aim {f.aim_text:6s} {f.verdict}")
    data = {
        "machine": machine,
        "settings": vars(args),
        "mib_per_s": median,
        "rounds": results,
        "figures": [vars(f) | {"verdict": f.verdict} for f in figures],
    }
    path = save_figures("transfers", figures, mib_per_s=median, rounds=results, settings=vars(args))
    print(f"figures written to {path}")
    if args.json:
        print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
