"""The demo's named-artifact step: a model registered from the demo's dataset, tagged and
aliased ``production``, found by search, with its lineage printed."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from assetry import Catalog
from assetry.cli.demo import MODEL_NAME
from assetry.cli.main import main

STEP = "8. A model as a named artifact, promoted to production"


def _demo(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:  # (stdout, stderr)
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out, err


def test_the_demo_registers_tags_promotes_and_traces_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = _demo(capsys, "demo", "--dir", "tour")
    assert err == ""
    lines = out.splitlines()
    # The earlier steps are still there, in order, and this one comes after the bag.
    titles = [line for line in lines if line[:1].isdigit() and ". " in line]
    assert len(titles) >= 8 and titles[7] == STEP
    assert titles[6].startswith("7. A dataset version")
    step = lines[lines.index(STEP) : lines.index(titles[8]) if len(titles) > 8 else None]
    text = "\n".join(step)
    assert f'cat.artifacts.register("{MODEL_NAME}", artifact_type="Model"' in text
    assert 'cat.artifacts.search("stage:production") finds it:' in text
    with Catalog(tmp_path / "tour" / "catalog") as cat:
        v = cat.artifacts.get(MODEL_NAME, version="production")
        [dataset] = cat.find_datasets()
        assert (v.version, v.artifact_type) == (1, "Model")
        assert v.tags == {"stage": "production", "team": "imaging"}
        assert v.aliases == ["production"]
        model = cat.artifacts.load(v)
        assert model["kind"] == "mean-intensity threshold"
        assert 0 < model["threshold"] < 255
        parents = cat.artifacts.parents(v)
        assert [p["rid"] for p in parents if isinstance(p, dict)] == [dataset["RID"]]
        assert [f.rid for f in cat.artifacts.search("stage:production")] == [v.rid]
        graph = cat.lineage(v.rid)
        raw = [a["RID"] for a in cat.list_assets("Image", asset_type="Image")]
        assert {dataset["RID"], *raw} <= set(graph.rids())
        # The search result and the lineage are printed.
        [row] = [line.split() for line in step if line.startswith(f"  {v.rid}  ")]
        assert row[:4] == [v.rid, MODEL_NAME, "1", "Model"]
        assert "stage=production," in row and row[-1] == "production"
        lineage = graph.to_text().splitlines()
        assert lineage[0].startswith(f"{v.rid} (artifact Artifact_Version) {MODEL_NAME} v1")
        assert all(f"  {line}" in step for line in lineage)
        assert f"(dataset Dataset v{dataset['Version']})" in text
    # The commands the demo suggests for the artifact work.
    suggested = [
        shlex.split(line)[1:]
        for line in lines
        if line.startswith("  assetry --catalog ") and " artifacts " in line
    ]
    assert [argv[2:4] for argv in suggested] == [
        ["artifacts", "search"],
        ["artifacts", "show"],
        ["artifacts", "get"],
    ]
    for argv in suggested:
        done, _ = _demo(capsys, *argv)
        assert MODEL_NAME in done
    assert json.loads((tmp_path / "model" / "objects" / "data.json").read_text()) == model


def test_the_demo_json_summary_has_the_artifact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = _demo(capsys, "--json", "demo", "--dir", str(tmp_path / "tour"))
    summary = json.loads(out)
    artifact = summary["artifact"]
    assert (artifact["name"], artifact["version"]) == (MODEL_NAME, 1)
    assert artifact["aliases"] == ["production"]
    assert artifact["tags"]["stage"] == "production"
    assert artifact["search"] == [artifact["rid"]]
    assert artifact["lineage"]["root"] == artifact["rid"]
    edges = {tuple(e) for e in artifact["lineage"]["edges"]}
    assert (artifact["execution"], artifact["rid"], "generated") in edges
    assert (artifact["execution"], summary["dataset"]["rid"], "used") in edges
