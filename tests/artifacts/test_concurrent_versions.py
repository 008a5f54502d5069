"""Version numbers per name count up by one, with no gap or duplicate, while four
processes register versions of the same names at once: embedded SQLite, PostgreSQL and
through a server."""

from __future__ import annotations

import multiprocessing
import traceback

import pytest

from assetry import Catalog

WORKERS = 4
VERSIONS = 6
NAMES = ("shared_a", "shared_b")


def _worker(location: str, worker: int, errors: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        with Catalog(location) as cat:
            for n in range(VERSIONS):
                for name in NAMES:
                    cat.artifacts.register(
                        name, "Model", data={"worker": worker, "n": n}, tags={"w": str(worker)}
                    )
    except BaseException:
        errors.put(f"worker {worker}: {traceback.format_exc()}")


@pytest.mark.parametrize("engine", ["sqlite", "postgres", "remote"])
def test_processes_register_versions_of_one_name(
    engine: str, request: pytest.FixtureRequest
) -> None:
    fixture = {"sqlite": "sqlite_catalog", "postgres": "postgres_catalog"}.get(
        engine, "remote_catalog"
    )
    cat: Catalog = request.getfixturevalue(fixture)
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    procs = [
        context.Process(target=_worker, args=(cat.location, w, errors)) for w in range(WORKERS)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert problems == []
    assert [p.exitcode for p in procs] == [0] * WORKERS
    for name in NAMES:
        versions = cat.artifacts.list(name=name, limit=1000)
        assert sorted(v.version for v in versions) == list(range(1, WORKERS * VERSIONS + 1))
        assert {cat.artifacts.load(v)["worker"] for v in versions} == set(range(WORKERS))
        assert cat.artifacts.get(name).version == WORKERS * VERSIONS
