"""Concurrency: several processes, threads and catalog objects writing one catalog at
once lose nothing, number snapshots and dataset versions without gaps or repeats, and a
forked child gets connections of its own."""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable

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


def in_threads(*jobs: Callable[[], None]) -> None:
    """Run ``jobs`` at once, each in a thread; fail with every traceback they raised."""
    failures: list[str] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            failures.append(traceback.format_exc())

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [], "\n".join(failures)


class AbstractConcurrencyTests:
    def test_processes_insert_and_update_one_catalog(self, catalog: Catalog) -> None:
        _prepare(catalog)
        context = multiprocessing.get_context("spawn")
        errors = context.Queue()
        procs = [
            context.Process(target=_worker, args=(catalog.location, w, errors))
            for w in range(WORKERS)
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

    def test_threads_share_one_catalog(self, catalog: Catalog) -> None:
        _prepare(catalog)

        def run(worker: int) -> None:
            for n in range(10):
                catalog.insert("Event", [{"Worker": worker, "Round": n}])
                list(catalog.get_table_as_dict("Event", limit=5))

        in_threads(*(lambda w=w: run(w) for w in range(8)))
        assert len(list(catalog.get_table_as_dict("Event"))) == 80

    def test_two_writers_of_one_row_lose_no_update(self, catalog: Catalog) -> None:
        """Two catalog objects update different columns of one row at once: an update
        writes only the columns it names, so neither writer's last value is lost."""
        _prepare(catalog)
        [rid] = catalog.insert("Event", [{"Worker": 0, "Round": 0}])
        other = Catalog(catalog.location)
        rounds = 10

        def bump(cat: Catalog, column: str) -> None:
            for n in range(1, rounds + 1):
                cat.update("Event", [{"RID": rid, column: n}])

        start = catalog.snapshot()
        in_threads(lambda: bump(catalog, "Round"), lambda: bump(other, "Seen"))
        other.close()
        row = catalog.resolve_rid(rid).row
        assert (row["Round"], row["Seen"]) == (rounds, rounds)
        history = catalog.history(rid)
        assert [v["action"] for v in history] == ["insert"] + ["update"] * (2 * rounds)
        snapshots = [v["snapshot"] for v in history[1:]]
        assert snapshots == sorted(snapshots) == list(range(start + 1, start + 2 * rounds + 1))

    def test_two_writers_mint_each_dataset_version_once(self, catalog: Catalog) -> None:
        """Versions minted by two catalog objects at once are numbered without a gap or a
        repeat, and every member either added is in the last one."""
        _prepare(catalog)
        catalog.add_dataset_element_type("Event")
        ds = catalog.create_dataset("Training", description="two writers")
        other = Catalog(catalog.location)
        minted: list[str | None] = []

        def add(cat: Catalog, worker: int) -> None:
            for n in range(5):
                [rid] = cat.insert("Event", [{"Worker": worker, "Round": n}])
                minted.append(cat.add_dataset_members(ds, [rid]))

        in_threads(lambda: add(catalog, 0), lambda: add(other, 1))
        other.close()
        history = [v.version for v in catalog.dataset_history(ds)]
        assert history == [f"0.{n}.0" for n in range(1, 12)]
        assert sorted(minted, key=lambda v: int(str(v).split(".")[1])) == history[1:]
        members = catalog.list_dataset_members(ds)["Event"]
        assert len(members) == 10

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
    def test_forked_child_gets_fresh_connections(self, catalog: Catalog) -> None:
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
