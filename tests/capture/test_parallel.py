"""Steps called from several threads and from ``multiprocessing`` workers: each call is
recorded, each with its own execution."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ThreadPoolExecutor

import assetry
from assetry import Catalog


@assetry.step(cache=True)
def square(x: int) -> dict[str, int]:
    return {"x": x, "square": x * x}


def completed_calls(cat: Catalog) -> list[dict[str, object]]:
    rows = cat.list_executions(status="Completed")
    return [r for r in rows if (r["Description"] or "").startswith(f"step {square.name}")]


def test_a_step_pickles_by_reference() -> None:
    assert pickle.loads(pickle.dumps(square)) is square


def test_steps_called_from_threads_each_record_a_call(catalog: Catalog) -> None:
    with assetry.use(catalog), ThreadPoolExecutor(4) as pool:
        results = list(pool.map(square, range(8)))
        again = list(pool.map(square.run, [3, 3, 5]))
    assert [catalog.artifacts.load(v)["square"] for v in results] == [x * x for x in range(8)]
    assert all(run.cached for run in again)
    assert len(completed_calls(catalog)) == 11
    assert len({v.name for v in catalog.artifacts.list(name="square", limit=100)}) == 1
    assert len(catalog.artifacts.list(name="square", limit=100)) == 8


def test_a_step_called_in_a_process_pool_records_each_call(catalog: Catalog) -> None:
    with assetry.use(catalog):
        context = multiprocessing.get_context("fork")
        with context.Pool(2) as pool:
            results = pool.map(square, [2, 3, 4, 5])
    # Each worker's call returns the version it registered (pickled back to the parent).
    assert [catalog.artifacts.load(v)["square"] for v in results] == [4, 9, 16, 25]
    rows = completed_calls(catalog)
    assert len(rows) == 4
    assert sorted(r["Parameters"]["x"] for r in rows) == [2, 3, 4, 5]  # type: ignore[index]
