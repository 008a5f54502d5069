"""Environment capture: cached per process, JSON-able, canonical bytes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import assetry
from assetry import ValidationError
from assetry.executions import environment
from assetry.executions.environment import capture_environment, environment_document


def test_capture_has_the_expected_parts() -> None:
    env = capture_environment()
    assert env["format"] == 1
    assert env["assetry"] == assetry.__version__
    assert env["packages"]["assetry"] == assetry.__version__
    assert env["packages"]["sqlalchemy"]
    assert list(env["packages"]) == sorted(env["packages"])
    assert env["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert env["python"]["implementation"]
    assert env["python"]["executable"] == sys.executable
    assert env["platform"]["system"] and env["platform"]["machine"]
    assert env["argv"] == sys.argv or isinstance(env["argv"], list)
    assert set(env) == {
        "format",
        "assetry",
        "python",
        "platform",
        "packages",
        "script",
        "git",
        "argv",
    }
    # JSON-able as is, and round-trips.
    assert json.loads(json.dumps(env)) == env


def test_capture_is_cached_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first = capture_environment()
    monkeypatch.setattr(sys, "argv", ["changed-after-capture"])
    second = capture_environment()
    assert second == first
    assert second["argv"] != ["changed-after-capture"]
    # Callers get copies: changing one does not change the cache.
    second["packages"]["injected"] = "1"
    assert "injected" not in capture_environment()["packages"]


def test_identical_environments_give_identical_bytes() -> None:
    env = capture_environment()
    doc = environment_document(env)
    assert doc == environment_document(capture_environment())
    assert doc == environment_document(json.loads(json.dumps(env)))
    reordered = dict(reversed(list(env.items())))
    assert environment_document(reordered) == doc
    assert json.loads(doc) == env
    compact = json.dumps(env, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert doc == compact.encode("utf-8")
    assert environment_document({"b": 1, "a": "é"}) == '{"a":"é","b":1}'.encode()
    changed = dict(env, argv=["other"])
    assert environment_document(changed) != doc


def test_document_of_odd_values() -> None:
    assert environment_document({"p": Path("/x/y"), "s": {"b", "a"}}) == (
        b'{"p":"/x/y","s":["a","b"]}'
    )
    with pytest.raises(ValidationError):
        environment_document({"x": object()})
    with pytest.raises(ValidationError):
        environment_document({"x": float("nan")})


def test_git_state_of_the_calling_script(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Not cached path: the helper that fills "git" and "script".
    script = tmp_path / "script.py"
    script.write_text("print('hi')\n")
    monkeypatch.setattr(sys, "argv", [str(script)])
    environment._captured.cache_clear()
    try:
        env = capture_environment()
        assert env["script"] == str(script.resolve())
        assert env["git"] is None  # tmp_path is not in a git repository
        assert env["argv"] == [str(script)]
    finally:
        environment._captured.cache_clear()
