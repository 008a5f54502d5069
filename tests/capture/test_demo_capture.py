"""The demo's automatic-capture step: a two-step pipeline whose second run is a cache hit,
checkpoints captured from a watched folder, and the model's lineage printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assetry import Catalog
from assetry.cli.main import main

STEP = "9. Automatic capture: steps, a cache hit, a watched folder"


def test_the_demo_runs_a_cached_pipeline_and_captures_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--json", "demo", "--dir", str(tmp_path / "tour")]) == 0
    summary = json.loads(capsys.readouterr().out)["capture"]
    first, second = summary["pipelines"]
    assert [cached for _, _, cached in first["steps"]] == [False, False]
    assert [cached for _, _, cached in second["steps"]] == [True, True]
    model = summary["model"]
    assert (model["name"], model["version"]) == ("demo-threshold", 1)
    with Catalog(tmp_path / "tour" / "catalog") as cat:
        featurize_run = first["steps"][0][1]
        graph = cat.lineage(model["rid"], "upstream")
        assert featurize_run in graph.rids()
        hit = cat.resolve_rid(second["steps"][1][1]).row
        assert hit["Status"] == "Completed" and "cache hit" in hit["Status_Detail"]
        pipeline = cat.resolve_rid(second["rid"]).row
        assert "(cached from" in pipeline["Status_Detail"]
        watched = cat.list_execution_assets(summary["watched"]["execution"], role="Output")
        names = sorted(a["Filename"] for a in watched if a["Table"] == "Execution_Asset")
        assert names == ["epoch=1.ckpt", "epoch=2.ckpt", "epoch=3.ckpt"]
        assert all(a["Asset_Type"] == ["Model_File"] for a in watched)


def test_the_demo_prints_the_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--dir", str(tmp_path / "tour")]) == 0
    lines = capsys.readouterr().out.splitlines()
    step = lines[lines.index(STEP) :]
    text = "\n".join(step)
    assert "second run" in text and "(cached from" in text
    assert "demo-threshold v1" in text and "featurize v1" in text
    assert sum("epoch=" in line and "Model_File" in line for line in step) == 3
