"""Several processes and threads writing one catalog at once, and use after fork."""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback

import pytest

from assetry import Catalog, ColumnDef, TableDef

WORKERS = 4
ROUNDS = 25
ROWS_PER_ROUND = 5


def _prepare(cat: Catalog) -> None:
    cat.create_table(
        TableDef(
            "Event",
            column_defs=[
                ColumnDef("Worker", "int4", nullok=False),
                ColumnDef("Round", "int4", nullok=False),
                ColumnDef("Seen", "int4", default=0),
            ],
        )
    )


def _worker(location: str, worker: int, errors: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    try:
        with Catalog(location) as cat:
            for n in range(ROUNDS):
                rids = cat.insert(
                    "Event", [{"Worker": worker, "Round": n} for _ in range(ROWS_PER_ROUND)]
                )
                cat.update("Event", [{"RID": rids[0], "Seen": 1}])
                cat.lookup_term("Asset_Role", "input")
    except BaseException:
        errors.put(f"worker {worker}: {traceback.format_exc()}")


def test_processes_insert_and_update_one_catalog(catalog: Catalog) -> None:
    _prepare(catalog)
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    procs = [
        context.Process(target=_worker, args=(catalog.location, w, errors)) for w in range(WORKERS)
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

    rows = list(catalog.get_table_as_dict("Event"))
    assert len(rows) == WORKERS * ROUNDS * ROWS_PER_ROUND
    assert len({r["RID"] for r in rows}) == len(rows)
    for w in range(WORKERS):
        mine = [r for r in rows if r["Worker"] == w]
        assert sorted({r["Round"] for r in mine}) == list(range(ROUNDS))
        assert sum(r["Seen"] for r in mine) == ROUNDS
    seen = [r for r in rows if r["Seen"] == 1]
    for row in seen[:10]:
        assert [v["action"] for v in catalog.history(row["RID"])] == ["insert", "update"]
    # Every write took its own snapshot: 2 per round per worker, plus the table.
    assert catalog.snapshot() >= WORKERS * ROUNDS * 2


def test_threads_share_one_catalog(catalog: Catalog) -> None:
    _prepare(catalog)
    failures: list[str] = []

    def run(worker: int) -> None:
        try:
            for n in range(10):
                catalog.insert("Event", [{"Worker": worker, "Round": n}])
                list(catalog.get_table_as_dict("Event", limit=5))
        except Exception:
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(list(catalog.get_table_as_dict("Event"))) == 80


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_fresh_connections(catalog: Catalog) -> None:
    _prepare(catalog)
    catalog.insert("Event", [{"Worker": 0, "Round": 0}])  # the parent's pool is in use
    pid = os.fork()
    if pid == 0:  # child: use the inherited Catalog object
        code = 1
        try:
            catalog.insert("Event", [{"Worker": 1, "Round": 0}])
            code = 0 if len(list(catalog.get_table_as_dict("Event"))) == 2 else 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    catalog.insert("Event", [{"Worker": 0, "Round": 1}])
    assert len(list(catalog.get_table_as_dict("Event"))) == 3
