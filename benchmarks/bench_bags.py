"""Bag export and materialize: ``export_dataset_bag`` and ``DatasetBag.materialize``
against ``bagit.make_bag`` and a plain hash, each against an aim.

One run measures four parts on the embedded default (SQLite + local object store); each
part has its own fresh catalog in one temporary directory:

* (a) many small files: ``--files`` assets of ``--file-kib`` KiB in one dataset. Timed:
  ``cat.export_dataset_bag(DatasetSpec(ds), dest)`` (materialized, copies) against
  ``bagit.make_bag(dir, checksums=["md5", "sha256"], processes=1)`` on a fresh, untimed
  copy of the same files. Figure: make_bag time / export time, aim >= 4. Shown too, not a
  figure: the copy floor (``copy_floor``) and make_bag / floor.
* (b) one big file: one ``--big-mib`` MiB asset in its own dataset. Timed: the export with
  copies and with ``link=True`` against ``make_bag`` on a copy of the file. Figures:
  make_bag time / export time, aims >= 3 (copies) and >= 20 (links).
* (c) materialize over HTTP: the bag of (b) exported with ``materialize=False``, its
  fetch.txt pointed at the same object served by an ``http.server.ThreadingHTTPServer`` on
  127.0.0.1 (the tag manifests fixed to match). Timed: ``DatasetBag(bag).materialize()``
  against one pass of MD5 + SHA-256 over the served file with ``hashlib`` in 1 MiB chunks.
  Figure: baseline time / materialize time, aim >= 0.7.
* (d) many members: ``--members`` rows of a plain table added to one dataset in chunks of
  10,000 (one version each). Timed: the export with ``materialize=False``; aim <= 5 s.

Page cache: before every timed phase the script calls ``os.sync()`` (so no phase pays for
an earlier phase's dirty pages) and reads the phase's input files once, so every phase
reads from memory; the order of the phases alternates between rounds. Figures are
medians of ``--repeat`` rounds. Two more things keep the figures about the code rather
than the VM: nothing made during a run is deleted before the end, except the 1 GiB files
(see ``inode_probe``); and just before each timed phase that writes a big file (the
export with copies in (b), the materialize in (c)) the script writes and frees
``--big-mib`` MiB, untimed (see ``prime_memory``).

    .venv/bin/python benchmarks/bench_bags.py [--quick] [--parts abcd] [--repeat N]
        [--files N] [--file-kib N] [--big-mib N] [--members N] [--json] [--dir DIR]
        [--profile DIR]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import http.server
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import thread as futures_thread
from contextlib import contextmanager
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import bagit
import sqlalchemy as sa

from assetry import Catalog, ColumnDef, DatasetSpec, ExecutionConfiguration, TableDef
from assetry.bags.reader import DatasetBag
from common import Figure, Report, Timing, load, median_wall, positive, write_json

TABLE = "Bench"
ITEMS = "Item"
SEED = 20240601
CHUNK = 1 << 20
MEMBER_CHUNK = 10_000  # members per add_dataset_members call (one version each)
STAGE_CHUNK = 2_000  # small files per execution when ingesting (a)
CHECKSUMS = ["md5", "sha256"]
DEFAULTS = {"files": 10_000, "big_mib": 1024, "members": 100_000}
QUICK = {"files": 1_000, "big_mib": 64, "members": 10_000}


# --- timing and profiling -------------------------------------------------------------


class Clock:
    """Times sections (wall and CPU). With a profile directory, every section runs under
    cProfile, and so does every ``ThreadPoolExecutor`` work item started during it (the
    writer copies and the fetcher downloads on pool threads, which a profiler enabled in
    the main thread does not see); those go to ``<section>.threads``."""

    def __init__(self, profile_dir: Path | None) -> None:
        self.profile_dir = profile_dir
        self.profiles: dict[str, list[cProfile.Profile]] = {}
        self._current: str | None = None
        self._lock = threading.Lock()
        if profile_dir is not None:
            self._profile_pool_threads()

    def _profile_pool_threads(self) -> None:
        # Private to concurrent.futures (stable from 3.8 to 3.13); only with --profile.
        original = futures_thread._WorkItem.run
        clock = self

        def run(item: Any) -> None:
            name = clock._current
            if name is None or threading.current_thread() is threading.main_thread():
                original(item)
                return
            profile = cProfile.Profile()
            profile.enable()
            try:
                original(item)
            finally:
                profile.disable()
                with clock._lock:
                    clock.profiles.setdefault(f"{name}.threads", []).append(profile)

        futures_thread._WorkItem.run = run  # type: ignore[method-assign,assignment]

    @contextmanager
    def section(self, name: str, runs: list[Timing]) -> Iterator[None]:
        profile = None
        if self.profile_dir is not None:
            profile = cProfile.Profile()
            self.profiles.setdefault(name, []).append(profile)
            self._current = name
            profile.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            timing = Timing(time.perf_counter() - wall, time.process_time() - cpu)
            if profile is not None:
                profile.disable()
                self._current = None
            runs.append(timing)

    def dump(self) -> None:
        if self.profile_dir is None:
            return
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        for name, profiles in sorted(self.profiles.items()):
            stats = pstats.Stats(profiles[0], stream=sys.stderr)
            for more in profiles[1:]:
                stats.add(more)
            path = self.profile_dir / f"{name}.pstats"
            stats.dump_stats(path)
            print(f"\n=== profile of {name} ({path}), by own time ===", file=sys.stderr)
            stats.sort_stats("tottime").print_stats(20)


def median_cpu(runs: Sequence[Timing]) -> float:
    return statistics.median(t.cpu for t in runs)


# --- files ----------------------------------------------------------------------------


def read_through(paths: Sequence[Path]) -> None:
    """Read each file once (into the page cache), hashing nothing."""
    buffer = bytearray(CHUNK)
    for path in paths:
        with open(path, "rb", buffering=0) as handle:
            while handle.readinto(buffer):
                pass


def settle(paths: Sequence[Path], prime: tuple[Path, int] | None = None) -> None:
    """Before a timed phase: write back every dirty page (``os.sync``), so the phase does
    not pay for the previous one's writes, then read the phase's inputs into the cache;
    with ``prime`` (folder, MiB), then make that much memory warm (``prime_memory``)."""
    os.sync()
    read_through(paths)
    if prime is not None:
        prime_memory(*prime)


def inode_probe(folder: Path, pairs: int = 1_000) -> float:
    """Microseconds to create one folder with one empty file in it, averaged over
    ``pairs``: what an export pays per asset before copying a byte.

    On ext4 without a journal (as on the development VM) every new inode is checked
    against the inodes freed in the last one to five minutes, so creating files right
    after deleting many (``rmtree`` of an earlier bag, by this run or another process)
    gets much slower. This run deletes nothing during a part, only the temporary
    directory at the end; this probe shows how the file system stood.
    """
    folder.mkdir(parents=True)
    started = time.perf_counter()
    for n in range(pairs):
        os.mkdir(folder / str(n))
        os.close(os.open(folder / str(n) / "f", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    return (time.perf_counter() - started) / pairs * 1e6


def copy_floor(entries: Sequence[tuple[Path, str]], folder: Path) -> float:
    """Seconds of the least any export of (a) must do: a bare loop, on this thread, that
    for each asset makes its folder and copies its stored file into it with the fewest
    system calls (``mkdir``, two ``open``, one ``copy_file_range`` or ``sendfile``, two
    ``close``), in the bag's layout (``entries``: stored file, bag path). No SQL, no CSV,
    no manifests, no mtimes. Not a figure: it shows how far the file system alone leaves
    an export from make_bag."""
    pairs = [(str(stored), str(folder / path)) for stored, path in entries]
    for table in {os.path.dirname(os.path.dirname(target)) for _, target in pairs}:
        os.makedirs(table)
    sizes = [os.stat(stored).st_size for stored, _ in pairs]
    copy = getattr(os, "copy_file_range", None)
    new_file = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    settle([stored for stored, _ in entries])
    started = time.perf_counter()
    for (stored, target), size in zip(pairs, sizes, strict=True):
        os.mkdir(os.path.dirname(target))
        source = os.open(stored, os.O_RDONLY)
        out = os.open(target, new_file, 0o644)
        if copy is not None:
            copy(source, out, size)
        else:
            os.sendfile(out, source, 0, size)
        os.close(out)
        os.close(source)
    return time.perf_counter() - started


def link_floor(entries: Sequence[tuple[Path, str]], folder: Path) -> float:
    """Seconds of the least an export of (a) with ``link=True`` must do: the same bare
    loop as ``copy_floor`` with one ``mkdir`` and one ``link`` per asset."""
    pairs = [(str(stored), str(folder / path)) for stored, path in entries]
    for table in {os.path.dirname(os.path.dirname(target)) for _, target in pairs}:
        os.makedirs(table)
    settle([stored for stored, _ in entries])
    started = time.perf_counter()
    for stored, target in pairs:
        os.mkdir(os.path.dirname(target))
        os.link(stored, target)
    return time.perf_counter() - started


def prime_memory(folder: Path, mib: int) -> float:
    """Write ``mib`` MiB to a file and delete it; seconds taken.

    On the development VM (Firecracker, with a virtio balloon), writing into memory that
    has been free for more than a few seconds costs 1.2 to 1.7 s per GiB, against about
    0.3 s into memory freed just before: free memory seems to go back to the host and
    come back on first touch. A phase that writes a big file therefore pays up to 1.5 s
    or not depending on what ran before it. Writing and freeing as much just before such a
    phase (untimed) gives every round the warm case. Elsewhere this changes nothing.
    """
    path = folder / "prime.bin"
    block = bytes(CHUNK)
    started = time.perf_counter()
    with open(path, "wb") as out:
        for _ in range(mib):
            out.write(block)
    path.unlink()
    return time.perf_counter() - started


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def baseline_hash(path: Path) -> tuple[str, str, int]:
    """One pass of MD5 + SHA-256 over the file in 1 MiB chunks."""
    md5, sha256, length = hashlib.md5(usedforsecurity=False), hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            md5.update(chunk)
            sha256.update(chunk)
            length += len(chunk)
    return md5.hexdigest(), sha256.hexdigest(), length


def make_bag(folder: Path) -> bagit.Bag:
    """The baseline. make_bag chdirs into ``folder`` while it works (and back): only
    ever give it a temporary folder, and never run it next to other threads' work."""
    return bagit.make_bag(str(folder), checksums=CHECKSUMS, processes=1)


def fetch_entries(bag_dir: Path) -> list[tuple[str, int, str]]:
    """fetch.txt as (url, length, bag path) triples."""
    out = []
    for line in (bag_dir / "fetch.txt").read_text(encoding="utf-8").splitlines():
        url, length, path = line.split(None, 2)
        out.append((url, int(length), path))
    return out


def url_path(url: str) -> Path:
    parsed = urlparse(url)
    if parsed.scheme != "file":
        raise SystemExit(f"expected a file:// URL in fetch.txt (a local store), got {url}")
    return Path(url2pathname(parsed.path))


def object_files(cat: Catalog, ds: str, root: Path) -> list[Path]:
    """The store files of a dataset's assets (see ``object_entries``)."""
    return [stored for stored, _ in object_entries(cat, ds, root)]


def object_entries(cat: Catalog, ds: str, root: Path) -> list[tuple[Path, str]]:
    """The store file and bag path of each of a dataset's assets, read from the fetch.txt
    of an untimed unmaterialized export (so the store's layout is not assumed). The bag
    is left in ``root``, as everything else until the end of the run (see
    ``inode_probe``)."""
    bag_dir = cat.export_dataset_bag(DatasetSpec(ds, materialize=False), root / "listing")
    if not has_fetch(bag_dir):
        return []
    return [(url_path(url), path) for url, _, path in fetch_entries(bag_dir)]


def has_fetch(bag_dir: Path) -> bool:
    return (bag_dir / "fetch.txt").is_file()


def oxum(bag_dir: Path) -> tuple[int, int]:
    """(octets, files) from bag-info.txt's Payload-Oxum."""
    for line in (bag_dir / "bag-info.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("Payload-Oxum:"):
            octets, files = line.split(":", 1)[1].strip().split(".")
            return int(octets), int(files)
    raise SystemExit(f"{bag_dir}: bag-info.txt has no Payload-Oxum")


def scope_seconds(cat: Catalog, ds: str) -> float | None:
    """Seconds of the scope query alone (``_backend.bag_content``, private; None if it
    changes): the part of an export spent in SQL and Python before any file is written."""
    bag_content: Callable[[str, str | None], Any] | None = getattr(
        getattr(cat, "_backend", None), "bag_content", None
    )
    if bag_content is None:
        return None
    started = time.perf_counter()
    bag_content(ds, None)
    return time.perf_counter() - started


def new_catalog(root: Path, name: str) -> tuple[Catalog, str]:
    """A fresh catalog with asset table ``Bench`` (a dataset element type) and a
    workflow; returns the catalog and the workflow's RID."""
    cat = Catalog.create(root / name)
    cat.create_asset(TABLE, comment="bag benchmark")
    cat.add_dataset_element_type(TABLE)
    # url/checksum given, so no git detection of this script.
    wf = cat.create_workflow("bench-bags", "Training", url="bench://bags", checksum="bench")
    return cat, wf.rid


# --- (a) many small files -------------------------------------------------------------


def part_files(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    rng = random.Random(SEED)
    size = args.file_kib * 1024
    payloads = [rng.randbytes(size) for _ in range(args.files)]
    names = [f"f{n // 1000:02d}/{n:06d}.bin" for n in range(args.files)]
    cat, wf = new_catalog(root, "files")
    ingest: list[Timing] = []
    rids: list[str] = []
    with clock.section("a_ingest", ingest):  # not a figure; shown for scale
        for start in range(0, args.files, STAGE_CHUNK):
            cfg = ExecutionConfiguration(workflow=wf, description=f"small files from {start}")
            with cat.create_execution(cfg) as exe:
                for n in range(start, min(start + STAGE_CHUNK, args.files)):
                    exe.asset_file_path(TABLE, names[n]).write_bytes(payloads[n])
            # clean_folder=False: keep the staged files (see inode_probe: no deletions).
            outputs = exe.upload_execution_outputs(clean_folder=False, progress=False)
            rids += [a["RID"] for a in outputs[TABLE]]
    if len(set(rids)) != args.files:
        raise SystemExit(f"files: {len(set(rids))} assets, expected {args.files}")
    ds = cat.create_dataset(description="bag benchmark: small files")
    version = cat.add_dataset_members(ds, rids)
    entries = object_entries(cat, ds, root)
    stored = [path for path, _ in entries]
    if len(stored) != args.files:
        raise SystemExit(f"files: the dataset lists {len(stored)} objects, not {args.files}")

    probe_before = inode_probe(root / "a-probe-before")
    export_runs: list[Timing] = []
    bagit_runs: list[Timing] = []
    link_runs: list[Timing] = []
    floors: list[float] = []
    link_floors: list[float] = []
    validate_runs: list[Timing] = []
    bagit_validate_runs: list[Timing] = []
    phases = ["export", "floor", "link", "link_floor", "bagit", "validate"]
    for i in range(args.repeat):
        out, copy = root / f"a-export-{i}", root / f"a-bagit-{i}"
        for phase in phases if i % 2 == 0 else list(reversed(phases)):
            if phase == "floor":
                floors.append(copy_floor(entries, root / f"a-floor-{i}"))
            elif phase == "link_floor":
                link_floors.append(link_floor(entries, root / f"a-link-floor-{i}"))
            elif phase == "link":
                settle(stored)
                with clock.section("a_link", link_runs):
                    cat.export_dataset_bag(DatasetSpec(ds), root / f"a-link-{i}", link=True)
            elif phase == "validate":
                # Both validators on the same exported bag (made untimed), each after
                # a settle.
                target = cat.export_dataset_bag(DatasetSpec(ds), root / f"a-validate-{i}")
                payload = files_under(target)
                for who in ("ours", "bagit") if i % 2 == 0 else ("bagit", "ours"):
                    settle(payload)
                    if who == "ours":
                        with clock.section("a_validate", validate_runs):
                            DatasetBag(target).validate()
                    else:
                        with clock.section("a_bagit_validate", bagit_validate_runs):
                            bagit.Bag(str(target)).validate(processes=1)
            elif phase == "export":
                settle(stored)
                with clock.section("a_export", export_runs):
                    bag_dir = cat.export_dataset_bag(DatasetSpec(ds), out)
                octets, files = oxum(bag_dir)
                if files < args.files or octets < args.files * size:
                    raise SystemExit(f"export: Payload-Oxum {octets}.{files} is too small")
                if i == 0:
                    DatasetBag(bag_dir).validate()  # untimed: the export is a good bag
            else:
                for name, payload in zip(names, payloads, strict=True):  # the untimed copy
                    target = copy / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(payload)
                settle(files_under(copy))
                with clock.section("a_bagit", bagit_runs):
                    bag = make_bag(copy)
                if len(bag.payload_entries()) != args.files:
                    raise SystemExit(f"make_bag: {len(bag.payload_entries())} payload files")
    probe_after = inode_probe(root / "a-probe-after")
    floor, floor_link = statistics.median(floors), statistics.median(link_floors)
    scope = scope_seconds(cat, ds)
    cat.close()

    export, base = median_wall(export_runs), median_wall(bagit_runs)
    linked = median_wall(link_runs)
    ours, theirs = median_wall(validate_runs), median_wall(bagit_validate_runs)
    report.runs.update(a_ingest=ingest, a_export=export_runs, a_bagit=bagit_runs,
                       a_link=link_runs, a_validate=validate_runs,
                       a_bagit_validate=bagit_validate_runs)  # fmt: skip
    report.figures += [
        Figure("a", f"{args.files:,} x {args.file_kib} KiB: copy floor / export",
               round(floor / export, 3), "x", 0.8, True),
        Figure("a", f"{args.files:,} x {args.file_kib} KiB: link floor / export link=True",
               round(floor_link / linked, 3), "x", 0.8, True),
        Figure("a", "validate: bagit validate / ours (same bag)",
               round(theirs / ours, 3), "x", 1.0, True),
        Figure("a", f"{args.files:,} x {args.file_kib} KiB: make_bag / export",
               round(base / export, 3), "x", None, True),
    ]  # fmt: skip
    report.notes["a"] = {
        "dataset_version": version,
        "ingest_s": round(ingest[0].wall, 1),
        "export_s": round(export, 3),
        "export_cpu_s": round(median_cpu(export_runs), 3),
        "export_files_per_s": round(args.files / export, 1),
        "bagit_s": round(base, 3),
        "bagit_cpu_s": round(median_cpu(bagit_runs), 3),
        "bagit_files_per_s": round(args.files / base, 1),
        "scope_s": None if scope is None else round(scope, 3),
        "inode_probe_us": [round(probe_before, 1), round(probe_after, 1)],
        "floor_s": round(floor, 3),
        "bagit_over_floor": round(base / floor, 2),
        "link_s": round(linked, 3),
        "link_floor_s": round(floor_link, 3),
        "validate_s": round(ours, 3),
        "bagit_validate_s": round(theirs, 3),
    }


# --- (b) one big file, and (c) materializing it over HTTP -----------------------------


def ingest_big(cat: Catalog, wf: str, mib: int) -> str:
    """One asset of ``mib`` MiB (from a fixed seed) in its own dataset; its RID."""
    rng = random.Random(SEED + 1)
    cfg = ExecutionConfiguration(workflow=wf, description="one big file")
    with cat.create_execution(cfg) as exe, open(exe.asset_file_path(TABLE, "big.bin"), "wb") as f:
        for _ in range(mib):
            f.write(rng.randbytes(CHUNK))
    [asset] = exe.upload_execution_outputs(progress=False)[TABLE]
    if asset["Length"] != mib * CHUNK:
        raise SystemExit(f"big file: stored {asset['Length']} bytes, expected {mib} MiB")
    ds = cat.create_dataset(description="bag benchmark: one big file")
    cat.add_dataset_members(ds, [asset["RID"]])
    return ds


def part_big(
    args: argparse.Namespace, root: Path, clock: Clock, report: Report, cat: Catalog, ds: str
) -> None:
    [stored] = object_files(cat, ds, root)
    size = args.big_mib * CHUNK
    runs: dict[str, list[Timing]] = {"copy": [], "link": [], "bagit": []}
    for i in range(args.repeat):
        order = ("copy", "link", "bagit") if i % 2 == 0 else ("bagit", "link", "copy")
        for phase in order:
            out = root / f"b-{phase}-{i}"
            if phase == "bagit":
                out.mkdir()
                shutil.copyfile(stored, out / "big.bin")  # the untimed copy
                settle([out / "big.bin"])
                with clock.section("b_bagit", runs["bagit"]):
                    make_bag(out)
                continue
            settle([stored], (root, args.big_mib) if phase == "copy" else None)
            with clock.section(f"b_export_{phase}", runs[phase]):
                bag_dir = cat.export_dataset_bag(DatasetSpec(ds), out, link=phase == "link")
            [payload] = files_under(bag_dir / "data" / "assets")
            if payload.stat().st_size != size:
                raise SystemExit(f"big export ({phase}): {payload.stat().st_size} bytes")
            if (payload.stat().st_nlink > 1) != (phase == "link"):
                raise SystemExit(f"big export ({phase}): {payload.stat().st_nlink} links")
        for phase in ("copy", "link", "bagit"):  # 1 GiB each, but only a few inodes
            shutil.rmtree(root / f"b-{phase}-{i}")
    base = median_wall(runs["bagit"])
    report.runs.update({f"b_{k}": v for k, v in runs.items()})
    for phase, aim in (("copy", 3), ("link", 20)):
        report.figures.append(
            Figure("b", f"{args.big_mib:,} MiB, {phase}: make_bag / export",
                   round(base / median_wall(runs[phase]), 3), "x", aim, True)
        )  # fmt: skip
    report.notes["b"] = {
        "mib": args.big_mib,
        "bagit_s": round(base, 3),
        "bagit_mib_per_s": round(args.big_mib / base, 1),
        "copy_s": round(median_wall(runs["copy"]), 3),
        "copy_mib_per_s": round(args.big_mib / median_wall(runs["copy"]), 1),
        "link_s": round(median_wall(runs["link"]), 4),
    }


class _ObjectHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with ``sendfile`` (so the server thread costs almost no CPU and the
    figure is the client's), without logging."""

    def copyfile(self, source: Any, outputfile: Any) -> None:
        self.connection.sendfile(source)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) from a thread; yield its base URL."""
    handler = partial(_ObjectHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    worker = threading.Thread(target=server.serve_forever, name="bench-http", daemon=True)
    worker.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        worker.join()


def point_fetch_at(bag_dir: Path, base_url: str, served: Path) -> None:
    """Rewrite fetch.txt's URLs (files under ``served``) to ``base_url``, and the
    tag manifests' lines for fetch.txt to match."""
    lines = []
    for url, length, path in fetch_entries(bag_dir):
        relative = url_path(url).relative_to(served).as_posix()
        lines.append(f"{base_url}/{relative} {length} {path}\n")
    data = "".join(lines).encode("utf-8")
    (bag_dir / "fetch.txt").write_bytes(data)
    for algorithm in CHECKSUMS:
        manifest = bag_dir / f"tagmanifest-{algorithm}.txt"
        digest = hashlib.new(algorithm, data).hexdigest()
        fixed = []
        for line in manifest.read_text(encoding="utf-8").splitlines():
            old, name = line.split(None, 1)
            fixed.append(f"{digest if name == 'fetch.txt' else old}  {name}\n")
        manifest.write_text("".join(fixed), encoding="utf-8")


def part_fetch(
    args: argparse.Namespace, root: Path, clock: Clock, report: Report, cat: Catalog, ds: str
) -> None:
    bag_dir = cat.export_dataset_bag(DatasetSpec(ds, materialize=False), root / "c-bag")
    [(url, length, path)] = fetch_entries(bag_dir)
    stored = url_path(url)
    served = stored.parent.parent
    expected = baseline_hash(stored)
    fetched = bag_dir / path
    base_runs: list[Timing] = []
    fetch_runs: list[Timing] = []
    with serve(served) as base_url:
        point_fetch_at(bag_dir, base_url, served)
        for i in range(args.repeat):
            for phase in ("base", "fetch") if i % 2 == 0 else ("fetch", "base"):
                settle([stored], None if phase == "base" else (root, args.big_mib))
                if phase == "base":
                    with clock.section("c_baseline", base_runs):
                        found = baseline_hash(stored)
                    if found != expected:
                        raise SystemExit("baseline: the stored object changed")
                    continue
                with clock.section("c_materialize", fetch_runs):
                    DatasetBag(bag_dir).materialize()
                if fetched.stat().st_size != length:
                    raise SystemExit(f"materialize: {fetched.stat().st_size} bytes, not {length}")
                if i == 0:
                    DatasetBag(bag_dir).validate()  # untimed: the patched bag is valid
                fetched.unlink()
    shutil.rmtree(bag_dir)
    base, fetch = median_wall(base_runs), median_wall(fetch_runs)
    report.runs.update(c_baseline=base_runs, c_materialize=fetch_runs)
    report.figures.append(
        Figure("c", f"{args.big_mib:,} MiB over http: baseline / materialize",
               round(base / fetch, 3), "x", 0.7, True)
    )  # fmt: skip
    report.notes["c"] = {
        "baseline_mib_per_s": round(args.big_mib / base, 1),
        "materialize_mib_per_s": round(args.big_mib / fetch, 1),
        "materialize_cpu_share": round(median_cpu(fetch_runs) / fetch, 2),
    }


def part_big_and_fetch(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    cat, wf = new_catalog(root, "big")
    ds = ingest_big(cat, wf, args.big_mib)
    if "b" in args.parts:
        part_big(args, root, clock, report, cat, ds)
    if "c" in args.parts:
        part_fetch(args, root, clock, report, cat, ds)
    cat.close()


# --- (d) many members -----------------------------------------------------------------


def part_members(args: argparse.Namespace, root: Path, clock: Clock, report: Report) -> None:
    cat = Catalog.create(root / "members")
    cat.create_table(TableDef(ITEMS, [ColumnDef("N", "int4")], comment="bag benchmark"))
    cat.add_dataset_element_type(ITEMS)
    build: list[Timing] = []
    with clock.section("d_build", build):  # not a figure; shown for scale
        ds = cat.create_dataset(description="bag benchmark: many members")
        version = None
        for start in range(0, args.members, MEMBER_CHUNK):
            chunk = range(start, min(start + MEMBER_CHUNK, args.members))
            rids = cat.insert(ITEMS, [{"N": n} for n in chunk])
            version = cat.add_dataset_members(ds, rids)
    runs: list[Timing] = []
    for i in range(args.repeat):
        out = root / f"d-export-{i}"
        os.sync()  # the inputs are the catalog's SQLite file, read by the first export
        with clock.section("d_export", runs):
            bag_dir = cat.export_dataset_bag(DatasetSpec(ds, materialize=False), out)
        if i == 0:
            with open(bag_dir / "data" / f"Dataset_{ITEMS}.csv", "rb") as handle:
                rows = sum(1 for _ in handle) - 1
            if rows != args.members:
                raise SystemExit(f"members: the bag lists {rows}, expected {args.members}")
            DatasetBag(bag_dir).validate()
    scope = scope_seconds(cat, ds)
    cat.close()
    export = median_wall(runs)
    report.runs.update(d_build=build, d_export=runs)
    report.figures.append(
        Figure("d", f"{args.members:,} members, not materialized: export",
               round(export, 3), "s", 5, False)
    )  # fmt: skip
    report.notes["d"] = {
        "version": version,
        "build_s": round(build[0].wall, 1),
        "export_cpu_s": round(median_cpu(runs), 3),
        "export_us_per_member": round(export * 1e6 / args.members, 1),
        "scope_s": None if scope is None else round(scope, 3),
    }


# --- main -----------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "bagit": getattr(bagit, "VERSION", "?"),
        "load_before": load(),
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1,000 files, 64 MiB, 10,000 members, repeat 1 "
        "(explicit options still win)",
    )
    parser.add_argument("--parts", default="abcd", help="which parts to run (default abcd)")
    parser.add_argument("--files", type=positive, help="(a) number of small files (10000)")
    parser.add_argument("--file-kib", type=positive, default=4, help="(a) KiB per file (4)")
    parser.add_argument("--big-mib", type=positive, help="(b, c) size of the big file (1024)")
    parser.add_argument("--members", type=positive, help="(d) dataset members (100000)")
    parser.add_argument(
        "--repeat", type=positive, help="rounds of every part; medians (default 3, quick 1)"
    )
    parser.add_argument("--json", action="store_true", help="also print a JSON object")
    parser.add_argument("--dir", type=Path, help="where to make the temporary directory")
    parser.add_argument(
        "--profile", type=Path, help="cProfile every timed section; write pstats files here"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else DEFAULTS
    for name, value in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    unknown = set(args.parts) - set("abcd")
    if unknown or not args.parts:
        parser.error(f"--parts takes letters from 'abcd', got {args.parts!r}")
    return args


def print_report(report: Report, args: argparse.Namespace) -> None:
    m = report.machine
    print(
        f"machine: {m['platform']}, {m['cpus']} CPUs, Python {m['python']}, "
        f"SQLite {m['sqlite']}, SQLAlchemy {m['sqlalchemy']}, bagit {m['bagit']}; load "
        f"average (1/5 min) before {m['load_before']}, after {m['load_after']}"
    )
    print(
        f"median of {args.repeat} round(s); before every timed phase: os.sync(), then its "
        "input files read once (all reads from the page cache); phase order alternates"
    )
    notes = report.notes
    if "a" in notes:
        a = notes["a"]
        scope = f", of which scope query {a['scope_s']:.2f} s" if a["scope_s"] else ""
        before, after = a["inode_probe_us"]
        print(
            f"(a) ingest {a['ingest_s']:.1f} s (untimed); export {a['export_s']:.2f} s "
            f"(cpu {a['export_cpu_s']:.2f} s, {a['export_files_per_s']:,.0f} files/s{scope}); "
            f"make_bag {a['bagit_s']:.2f} s (cpu {a['bagit_cpu_s']:.2f} s, "
            f"{a['bagit_files_per_s']:,.0f} files/s); inode probe (mkdir + create, per asset) "
            f"{before:,.0f} us before, {after:,.0f} us after"
        )
        print(
            f"    floor (bare loop: mkdir + open + copy_file_range per asset, nothing else) "
            f"{a['floor_s']:.2f} s: make_bag / floor {a['bagit_over_floor']:.2f}; export "
            f"with link=True {a['link_s']:.2f} s against its floor (mkdir + link per asset) "
            f"{a['link_floor_s']:.2f} s"
        )
        print(
            f"    validate (full: every checksum) ours {a['validate_s']:.2f} s, bagit "
            f"{a['bagit_validate_s']:.2f} s (processes=1) on the same exported bag"
        )
    if "b" in notes:
        b = notes["b"]
        print(
            f"(b) {b['mib']:,} MiB: make_bag {b['bagit_s']:.2f} s ({b['bagit_mib_per_s']:,} "
            f"MiB/s); export with copy {b['copy_s']:.2f} s ({b['copy_mib_per_s']:,} MiB/s), "
            f"with links {b['link_s'] * 1000:.1f} ms"
        )
    if "c" in notes:
        c = notes["c"]
        print(
            f"(c) baseline md5+sha256 {c['baseline_mib_per_s']:,} MiB/s; materialize over "
            f"http (sendfile server on 127.0.0.1) {c['materialize_mib_per_s']:,} MiB/s, "
            f"cpu {c['materialize_cpu_share']:.0%} of wall (both cores: client and kernel)"
        )
    if "d" in notes:
        d = notes["d"]
        scope = f", of which scope query {d['scope_s']:.2f} s" if d["scope_s"] else ""
        print(
            f"(d) built in {d['build_s']:.1f} s (untimed; last version {d['version']}); "
            f"export cpu {d['export_cpu_s']:.2f} s, {d['export_us_per_member']:.1f} us per "
            f"member{scope}"
        )
    width = max(len(f.name) for f in report.figures) if report.figures else 10
    print()
    print(f"{'part':<4}  {'figure':<{width}}  {'value':>10}  {'aim':>8}  result")
    for f in report.figures:
        aim = f.aim_text
        print(
            f"{f.part:<4}  {f.name:<{width}}  {f'{f.value:,.2f} {f.unit}':>10}  {aim:>8}  "
            f"{f.verdict}"
        )


PARTS: dict[str, Callable[[argparse.Namespace, Path, Clock, Report], None]] = {
    "a": part_files,
    "bc": part_big_and_fetch,
    "d": part_members,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = Report(
        settings={k: getattr(args, k) for k in ("files", "file_kib", "big_mib", "members",
                                                "repeat", "parts")},
        machine=machine(),
    )  # fmt: skip
    clock = Clock(args.profile)
    started = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="assetry-bench-bags-", dir=args.dir)
    try:
        for key, run in PARTS.items():
            if not set(key) & set(args.parts):
                continue
            part_started = time.perf_counter()
            run(args, Path(tmp), clock, report)
            seconds = time.perf_counter() - part_started
            report.notes.setdefault("part_s", {})[key] = round(seconds, 1)
            print(f"[part {key}: {seconds:.1f} s, load average now {load()}]", flush=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report.machine["load_after"] = load()
    report.notes["total_s"] = round(time.perf_counter() - started, 1)
    print_report(report, args)
    print(f"total {report.notes['total_s']:.0f} s")
    data = asdict(report)
    for f, source in zip(data["figures"], report.figures, strict=True):
        f["passed"] = source.passed
    print(f"figures written to {write_json('bags', data)}")
    if args.json:
        print(json.dumps(data, sort_keys=True))
    clock.dump()
    # Deleted last, after the figures are out: a run leaves some 150,000 files.
    print(f"deleting {tmp} ...", flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
