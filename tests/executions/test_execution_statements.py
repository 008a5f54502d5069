"""How many SQL statements and transactions a bare execution costs (embedded SQLite).

A behaviour test, not a timing: an execution with parameters and a status update runs a
known number of statements in a known number of transactions; more means a round trip
crept back in (issue 18 d). Lower the numbers when the cost goes down.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from assetry import Catalog, ExecutionConfiguration, ValidationError

# create (one transaction: the row, its workflow edge, the environment link), Running on
# entering, the status update, Completed on leaving: four write transactions.
TRANSACTIONS = 4
STATEMENTS = 33  # 18 to create (with the row registry and search index), 5 per status


@contextmanager
def counted(cat: Catalog) -> Iterator[list[str]]:
    engine = cat._backend.engine  # type: ignore[attr-defined]
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def run(cat: Catalog, wf: str, n: int) -> str:
    cfg = ExecutionConfiguration(workflow=wf, parameters={"lr": 0.1, "epochs": 3, "seed": n})
    with cat.create_execution(cfg) as exe:
        exe.update_status("Running", f"loss={1 / (n + 1):.3f} accuracy=0.5 f1=0.25")
    return exe.rid


def test_an_execution_runs_a_known_number_of_statements(catalog: Catalog) -> None:
    wf = catalog.create_workflow("count", "Training", url="u", checksum="c").rid
    run(catalog, wf, 0)  # the environment asset is stored once per process and catalog
    with counted(catalog) as seen:
        rid = run(catalog, wf, 1)
    begins = [s for s in seen if s.startswith("BEGIN")]
    assert len(begins) == TRANSACTIONS, seen
    assert all(s == "BEGIN IMMEDIATE" for s in begins), begins  # no read-only round trip
    assert len(seen) <= STATEMENTS, "\n".join(seen)
    row = catalog.resolve_rid(rid).row
    assert (row["Status"], row["Parameters"]["seed"]) == ("Completed", 1)
    assert row["Status_Detail"] is None
    [env] = catalog.list_execution_assets(rid, role="Input")
    assert env["Table"] == "Execution_Metadata"


def test_the_environment_asset_is_shared_and_parameters_filter(catalog: Catalog) -> None:
    wf = catalog.create_workflow("share", "Training", url="u", checksum="c").rid
    rids = [run(catalog, wf, n) for n in range(3)]
    envs = {catalog.list_execution_assets(r, role="Input")[0]["RID"] for r in rids}
    assert len(envs) == 1
    assert [r["RID"] for r in catalog.list_executions(parameters={"seed": 2})] == [rids[2]]
    assert len(catalog.list_executions(parameters={"lr": 0.1, "epochs": 3})) == 3


def test_a_wrong_workflow_is_named_without_a_look_up_first(catalog: Catalog) -> None:
    [subject] = catalog.upload_assets("Execution_Asset", [__file__])
    with pytest.raises(ValidationError, match="not a Workflow"):
        catalog.create_execution(ExecutionConfiguration(workflow=subject["RID"]))
    with pytest.raises(Exception, match="ZZZZ"):
        catalog.create_execution(ExecutionConfiguration(workflow="ZZZZ"))
    done = catalog.list_executions()
    assert [e["Description"] for e in done] == ["ingest"]  # only upload_assets' own


def test_an_execution_aborted_meanwhile_stays_aborted(catalog: Catalog) -> None:
    wf = catalog.create_workflow("abort", "Training", url="u", checksum="c").rid
    with catalog.create_execution(ExecutionConfiguration(workflow=wf)) as exe:
        catalog.abort_execution(exe.rid, "stopped from outside")
    assert exe.status == "Aborted"
    other = catalog.create_execution(ExecutionConfiguration(workflow=wf))
    with pytest.raises(RuntimeError), other:
        catalog.abort_execution(other.rid, "stopped")
        raise RuntimeError("then it failed")
    assert other.status == "Aborted"


def test_a_wrong_workflow_stores_no_environment(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetry.api import executions

    monkeypatch.setattr(executions, "_ENVIRONMENT_ASSETS", {})  # as in a new process
    with pytest.raises(Exception, match="ZZZZ"):
        catalog.create_execution(ExecutionConfiguration(workflow="ZZZZ"))
    assert catalog.list_assets("Execution_Metadata") == []
    assert catalog.list_executions() == []
