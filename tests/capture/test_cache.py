"""``@step(cache=True)``: reuse of an earlier completed call's outputs, recorded so lineage
stays whole; a changed body, input byte or parameter runs again; a damaged cache entry
or a killed run is never taken for a hit."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import assetry
from assetry import Catalog


@pytest.fixture
def counted(catalog: Catalog) -> tuple[Any, list[int]]:
    calls: list[int] = []

    @assetry.step(catalog=catalog, cache=True)
    def featurize(raw: Any, window: int = 7) -> pd.DataFrame:
        calls.append(window)
        frame = catalog.artifacts.load(raw)
        return frame * window

    return featurize, calls


def test_a_second_equal_call_reuses_the_outputs(
    catalog: Catalog, counted: tuple[Any, list[int]]
) -> None:
    featurize, calls = counted
    raw = catalog.artifacts.register("raw", data=pd.DataFrame({"a": [1, 2]}))
    first = featurize.run(raw, window=3)
    second = featurize.run(raw, window=3)
    assert calls == [3]
    assert second.cached and second.reused == first.execution
    assert second.value.equals(first.value)
    assert [v.rid for v in second.outputs] == [v.rid for v in first.outputs]
    # The reuse is an execution of its own that used the reused version and the inputs.
    row = catalog.resolve_rid(second.execution).row
    assert row["Status"] == "Completed" and first.execution in row["Status_Detail"]
    graph = catalog.lineage(second.execution, "upstream")
    used = {to for (frm, to, rel) in graph.edges if frm == second.execution and rel == "used"}
    assert {raw.rid, first.outputs[0].rid} <= used
    assert (first.execution, first.outputs[0].rid, "generated") in graph.edges
    # Defaults count as given: window=7 by default or by name is one key.
    featurize(raw)
    featurize(raw, 7)
    assert calls == [3, 7]


def test_a_changed_parameter_runs_again(catalog: Catalog, counted: tuple[Any, list[int]]) -> None:
    featurize, calls = counted
    raw = catalog.artifacts.register("raw", data=pd.DataFrame({"a": [1, 2]}))
    featurize(raw, window=3)
    featurize(raw, window=4)
    assert calls == [3, 4]


def test_a_changed_input_byte_runs_again(catalog: Catalog, counted: tuple[Any, list[int]]) -> None:
    featurize, calls = counted
    raw = catalog.artifacts.register("raw", data=pd.DataFrame({"a": [1, 2]}))
    featurize(raw)
    changed = catalog.artifacts.register("raw", data=pd.DataFrame({"a": [1, 3]}))
    assert catalog.artifacts.load(featurize(changed))["a"].tolist() == [7, 21]
    # Content, not identity: a version holding equal content is a hit.
    assert catalog.artifacts.load(featurize(raw))["a"].tolist() == [7, 14]
    assert calls == [7, 7]


def test_a_changed_function_body_runs_again(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = tmp_path / "my_steps.py"
    source = """
        import assetry
        CALLS = []

        @assetry.step(cache=True)
        def double(x):
            CALLS.append(x)
            return x * {factor}
    """
    module.write_text(textwrap.dedent(source.format(factor=2)))
    monkeypatch.syspath_prepend(str(tmp_path))
    with assetry.use(catalog):
        steps = importlib.import_module("my_steps")
        first, again = steps.double(5), steps.double(5)
        assert first == again and catalog.artifacts.load(first) == 10
        assert steps.CALLS == [5]
        # (A longer file: Python's bytecode cache checks the size and whole seconds.)
        module.write_text(textwrap.dedent(source.format(factor=30)))
        importlib.reload(steps)
        changed = steps.double(5)
        assert changed.rid != first.rid and catalog.artifacts.load(changed) == 150
        assert steps.CALLS == [5]  # the reloaded module ran it (a new CALLS)
        assert steps.double(5).rid == changed.rid and steps.CALLS == [5]
    sys.modules.pop("my_steps", None)


def _damage(cat: Catalog, sha256: str, how: str) -> None:
    store_root = Path(cat.store_location or "")
    [path] = [p for p in store_root.rglob(sha256[2:]) if p.is_file()]
    if how == "missing":
        path.unlink()
    else:
        path.chmod(0o644)
        path.write_bytes(b"not the object")


@pytest.mark.parametrize("how", ["missing", "corrupt"])
def test_a_damaged_cache_entry_runs_again(
    catalog: Catalog, counted: tuple[Any, list[int]], how: str
) -> None:
    featurize, calls = counted
    raw = catalog.artifacts.register("raw", data=pd.DataFrame({"a": [1, 2]}))
    first = featurize.run(raw, window=2)
    _damage(catalog, first.outputs[0].files[0]["SHA256"], how)
    with pytest.warns(UserWarning, match="running the step again"):
        again = featurize.run(raw, window=2)
    assert not again.cached and calls == [2, 2]
    assert again.value["a"].tolist() == [2, 4]


def test_a_failed_call_is_never_reused(catalog: Catalog) -> None:
    attempts: list[int] = []

    @assetry.step(catalog=catalog, cache=True)
    def flaky(x: int) -> int:
        attempts.append(x)
        if len(attempts) == 1:
            raise RuntimeError("first try fails")
        return x

    with pytest.raises(RuntimeError):
        flaky(1)
    done, reused = flaky(1), flaky(1)
    assert done == reused and catalog.artifacts.load(done) == 1
    assert attempts == [1, 1]


def test_an_argument_without_a_digest_runs_every_time(catalog: Catalog) -> None:
    calls: list[int] = []

    @assetry.step(catalog=catalog, cache=True)
    def lines(handle: Any) -> int:
        calls.append(1)
        return 1

    with open(__file__, encoding="utf-8") as handle:
        lines(handle)
        lines(handle)
    assert calls == [1, 1]


KILLED_STEP = """
import os, sys
import assetry
from assetry import Catalog

assetry.use(Catalog(sys.argv[1]))

@assetry.step(cache=True)
def slow(x):
    with open(sys.argv[2], "a") as marker:
        marker.write("ran\\n")
    return {"x": x}

slow(1)
"""


def test_a_step_killed_mid_run_is_stale_and_not_a_hit(catalog: Catalog, tmp_path: Path) -> None:
    script = tmp_path / "killed.py"
    script.write_text(KILLED_STEP)
    marker = tmp_path / "ran.txt"
    env = {**os.environ, "ASSETRY_FAULT_POINT": "step.after_outputs"}
    done = subprocess.run(
        [sys.executable, str(script), catalog.location, str(marker)], env=env, check=False
    )
    assert done.returncode == -9  # SIGKILL, after the outputs were registered
    [killed] = [r for r in catalog.list_executions() if r["Status"] == "Running"]
    listed = subprocess.run(
        [sys.executable, "-m", "assetry", "--catalog", catalog.location, "exec", "list",
         "--stale", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert killed["RID"] in listed.stdout
    # Running the pipeline again runs the step: a Running call's outputs are no hit.
    subprocess.run([sys.executable, str(script), catalog.location, str(marker)], check=True)
    assert marker.read_text() == "ran\nran\n"
    statuses = sorted(r["Status"] for r in catalog.list_executions(workflow=killed["Workflow"]))
    assert statuses == ["Completed", "Running"]
