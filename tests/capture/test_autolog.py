"""``assetry.autolog()`` (API §13): framework saves inside an execution are captured, with
real numpy, pandas, scikit-learn/joblib and matplotlib; nothing is imported that the
program did not import; every patch is undone when the execution ends."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import joblib
import matplotlib
import numpy as np
import pandas as pd
import pytest
from sklearn.tree import DecisionTreeClassifier

import assetry
from assetry import Catalog, ExecutionConfiguration, StateError
from assetry.executions import autolog as autolog_module

matplotlib.use("Agg")
import matplotlib.figure
import matplotlib.pyplot as plt

ORIGINALS = {
    "joblib.dump": joblib.dump,
    "numpy.save": np.save,
    "DataFrame.to_parquet": pd.DataFrame.to_parquet,
    "DataFrame.to_csv": pd.DataFrame.to_csv,
    "Figure.savefig": matplotlib.figure.Figure.savefig,
}


def current() -> dict[str, Any]:
    return {
        "joblib.dump": joblib.dump,
        "numpy.save": np.save,
        "DataFrame.to_parquet": pd.DataFrame.to_parquet,
        "DataFrame.to_csv": pd.DataFrame.to_csv,
        "Figure.savefig": matplotlib.figure.Figure.savefig,
    }


@pytest.fixture
def cfg(catalog: Catalog) -> ExecutionConfiguration:
    wf = catalog.create_workflow("fit", "Training", url="u", checksum="c")
    return ExecutionConfiguration(workflow=wf)


def test_framework_saves_are_captured_and_patches_undone(
    catalog: Catalog, cfg: ExecutionConfiguration, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    model = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
    with catalog.create_execution(cfg) as exe:
        patched = assetry.autolog()
        assert {"joblib.dump", "numpy.save", "matplotlib.figure.Figure.savefig"} <= set(patched)
        assert current() != ORIGINALS
        joblib.dump(model, "tree.joblib")
        np.save("weights", np.arange(4))  # numpy adds .npy
        frame = pd.DataFrame({"a": [1, 2]})
        frame.to_parquet(tmp_path / "table.parquet")
        frame.to_csv("metrics.csv", index=False)
        frame.to_csv(None)  # returns text: no file, nothing captured
        figure, axes = plt.subplots()
        axes.plot([1, 2], [3, 4])
        figure.savefig("curve")  # matplotlib adds .png
        plt.close(figure)
    assert current() == ORIGINALS
    uploaded = {a["Filename"]: a for a in exe.upload_execution_outputs()["Execution_Asset"]}
    assert set(uploaded) == {
        "tree.joblib", "weights.npy", "table.parquet", "metrics.csv", "curve.png"
    }  # fmt: skip
    assert uploaded["tree.joblib"]["Asset_Type"] == ["Model_File"]
    assert uploaded["metrics.csv"]["Asset_Type"] == ["Metrics_File"]
    assert uploaded["curve.png"]["Description"].startswith("image")
    restored = joblib.load(catalog.download_asset(uploaded["tree.joblib"]["RID"], tmp_path / "d"))
    assert restored.predict([[1]]).tolist() == [1]


def test_patches_are_undone_after_an_exception(
    catalog: Catalog, cfg: ExecutionConfiguration
) -> None:
    with pytest.raises(ZeroDivisionError), catalog.create_execution(cfg):
        assetry.autolog()
        assert np.save is not ORIGINALS["numpy.save"]
        _ = 1 / 0
    assert current() == ORIGINALS
    assert autolog_module.patched() == []


def test_saves_outside_the_execution_are_not_captured(
    catalog: Catalog, cfg: ExecutionConfiguration, tmp_path: Path
) -> None:
    other_cfg = ExecutionConfiguration(workflow=cfg.workflow)
    with catalog.create_execution(cfg) as exe, catalog.create_execution(other_cfg) as quiet:
        # ``quiet`` is entered last: saves go to it, and it did not turn autolog on.
        assetry.autolog(exe)
        np.save(tmp_path / "not-captured.npy", np.zeros(2))
    assert current() == ORIGINALS
    assert exe.upload_execution_outputs() == {} and quiet.upload_execution_outputs() == {}


def test_a_step_inside_an_autologging_execution_captures_its_saves(
    catalog: Catalog, cfg: ExecutionConfiguration, tmp_path: Path
) -> None:
    @assetry.step(catalog=catalog)
    def fit(path: str) -> dict[str, float]:
        joblib.dump({"w": 1.0}, path)
        return {"loss": 0.1}

    with catalog.create_execution(cfg):
        assetry.autolog()
        run = fit.run(str(tmp_path / "w.joblib"))
    assets = catalog.list_execution_assets(run.execution, role="Output")
    # The step's own output object (saved through joblib too) is not captured twice.
    assert sorted(a["Filename"] for a in assets) == ["data.json", "w.joblib"]


def test_autolog_outside_an_execution_is_an_error() -> None:
    with pytest.raises(StateError, match="inside an execution"):
        assetry.autolog()


def test_frameworks_the_program_imported_are_patched_others_never_imported(
    catalog: Catalog, cfg: ExecutionConfiguration, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in for torch, as a program that imported it has it in sys.modules.
    fake = types.ModuleType("torch")
    saved: list[str] = []

    def save(obj: Any, f: Any) -> None:
        saved.append(str(f))
        Path(f).write_bytes(b"PK\x03\x04 weights")

    fake.save = save  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", fake)
    with catalog.create_execution(cfg) as exe:
        assert "torch.save" in assetry.autolog()
        fake.save({}, tmp_path / "net.pt")  # type: ignore[attr-defined]
    assert fake.save is save  # type: ignore[attr-defined]
    [asset] = exe.upload_execution_outputs()["Execution_Asset"]
    assert asset["Filename"] == "net.pt" and asset["Asset_Type"] == ["Model_File"]

    script = (
        "import sys, assetry\n"
        "cat = assetry.Catalog(sys.argv[1])\n"
        "wf = cat.create_workflow('w', 'Training', url='u', checksum='c')\n"
        "with cat.create_execution(assetry.ExecutionConfiguration(workflow=wf)):\n"
        "    print(assetry.autolog())\n"
        "print(sorted(m for m in ('torch', 'keras', 'lightning', 'pytorch_lightning',\n"
        "    'matplotlib', 'sklearn') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, catalog.location], capture_output=True, text=True, check=True
    )
    patched_line, imported_line = done.stdout.strip().splitlines()[-2:]
    assert "torch" not in patched_line and "savefig" not in patched_line
    assert imported_line == "[]"
