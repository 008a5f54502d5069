"""What the parts of ``bench_executions.py`` share: the section clock (with an optional
profiler), fresh catalogs and workflows."""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from assetry import Catalog
from common import Timing

TABLE = "Bench"
SEED = 20240601
PARAMETERS = {"learning_rate": 1e-3, "epochs": 10, "optimizer": "adam"}


class Clock:
    """Times sections (wall and CPU), optionally under one shared profiler."""

    def __init__(self, profile_dir: Path | None) -> None:
        self.profile_dir = profile_dir
        self.profiles: dict[str, cProfile.Profile] = {}

    @contextmanager
    def section(self, name: str, runs: list[Timing]) -> Iterator[None]:
        profile = None
        if self.profile_dir is not None:
            profile = self.profiles.setdefault(name, cProfile.Profile())
            profile.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            timing = Timing(time.perf_counter() - wall, time.process_time() - cpu)
            if profile is not None:
                profile.disable()
            runs.append(timing)

    def dump(self) -> None:
        if self.profile_dir is None:
            return
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        for name, profile in self.profiles.items():
            path = self.profile_dir / f"{name}.pstats"
            profile.dump_stats(path)
            print(f"\n=== profile of {name} ({path}), by own time ===", file=sys.stderr)
            stats = pstats.Stats(profile, stream=sys.stderr)
            stats.sort_stats("tottime").print_stats(20)


def cpu_share(runs: Sequence[Timing]) -> float:
    wall = sum(t.wall for t in runs)
    return sum(t.cpu for t in runs) / wall if wall else 0.0


def new_catalog(root: Path, name: str) -> Catalog:
    cat = Catalog.create(root / name)
    cat.create_asset(TABLE, comment="execution benchmark")
    return cat


def bench_workflow(cat: Catalog, name: str) -> str:
    # url/checksum given, so no git detection of this script.
    wf = cat.create_workflow(name, "Training", url="bench://" + name, checksum="bench")
    return wf.rid
