"""``@assetry.step`` and ``assetry.pipeline`` (API §13): each call an execution, inputs and
parameters recorded, return values registered, failures marked, lineage whole."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import assetry
from assetry import ArtifactVersion, Catalog, DatasetSpec, ValidationError


def executions_of(cat: Catalog, step: assetry.capture.Step[Any, Any]) -> list[dict[str, Any]]:
    workflow = step._workflow(cat)
    return cat.list_executions(workflow=workflow)


def test_a_call_is_an_execution_of_the_function_s_workflow(catalog: Catalog) -> None:
    @assetry.step(catalog=catalog)
    def scale(values: list[int], factor: int = 2) -> list[int]:
        """Multiply each value."""
        return [v * factor for v in values]

    run = scale.run([1, 2, 3], factor=3)
    assert run.value == [3, 6, 9] and not run.cached
    row = catalog.resolve_rid(run.execution).row
    assert row["Status"] == "Completed"
    assert row["Parameters"] == {"values": [1, 2, 3], "factor": 3}
    workflow = catalog.lookup_workflow(row["Workflow"])
    assert workflow.name == f"{__name__}.{scale.__qualname__}" == scale.name
    assert scale.name.endswith("<locals>.scale")
    assert workflow.checksum is not None and workflow.checksum.startswith("sha256:")
    assert workflow.url is not None and workflow.url.endswith("#" + scale.__qualname__)
    assert workflow.description == "Multiply each value."
    [output] = run.outputs
    assert (output.name, output.execution) == ("scale", run.execution)
    assert catalog.artifacts.load(output) == [3, 6, 9]
    # A plain call returns the version it registered; every call is its own execution.
    returned = scale([1], factor=5)
    assert isinstance(returned, ArtifactVersion) and returned.name == "scale"
    assert catalog.artifacts.load(returned) == [5]
    assert len(executions_of(catalog, scale)) == 2


def test_artifact_asset_and_bag_arguments_are_inputs(catalog: Catalog, tmp_path: Path) -> None:
    raw = catalog.artifacts.register("raw", data=pd.DataFrame({"a": [1, 2]}))
    (tmp_path / "labels.csv").write_text("a,b\n1,2\n")
    [asset] = catalog.upload_assets("Execution_Asset", [tmp_path / "labels.csv"])
    ds = catalog.create_dataset("Complete", description="inputs")
    bag = catalog.download_dataset_bag(DatasetSpec(ds), dest=tmp_path / "bags")

    @assetry.step(catalog=catalog)
    def join(frame: Any, labels: dict[str, Any], data: Any, threshold: float) -> int:
        return int(threshold)

    run = join.run(raw, asset, bag, threshold=0.5)
    row = catalog.resolve_rid(run.execution).row
    assert row["Parameters"] == {"threshold": 0.5}
    graph = catalog.lineage(run.execution, "upstream", 1)
    used = {to for (frm, to, rel) in graph.edges if frm == run.execution and rel == "used"}
    assert {raw.rid, asset["RID"], ds} <= used


def test_a_value_returned_by_a_step_links_the_next_step_to_its_artifact(
    catalog: Catalog,
) -> None:
    @assetry.step(catalog=catalog)
    def featurize(n: int) -> pd.DataFrame:
        return pd.DataFrame({"x": range(n)})

    @assetry.step(catalog=catalog, outputs=["model"])
    def train(features: pd.DataFrame) -> LogisticRegression:
        y = (features.x > 1).astype(int)
        return LogisticRegression().fit(features[["x"]], y)

    # The plain value (from ``run``) passed on is still linked to its version.
    features = featurize.run(4).value
    first = featurize.run(4)
    model = train.run(features)
    assert isinstance(model.value, LogisticRegression)
    assert model.outputs[0].artifact_type == "Model" and first.outputs[0].artifact_type == "Dataset"
    parents = catalog.artifacts.parents(model.outputs[0])
    versions = [p for p in parents if isinstance(p, assetry.ArtifactVersion)]
    assert [(v.name, v.version) for v in versions] == [("featurize", 1)]
    # A value changed after it was returned is no longer that artifact: a parameter.
    features.loc[0, "x"] = 100
    changed = train.run(features)
    assert catalog.artifacts.parents(changed.outputs[0]) == []
    parameters = catalog.resolve_rid(changed.execution).row["Parameters"]
    assert parameters["features"]["type"] == "pandas.DataFrame"


def test_a_tuple_gives_several_outputs_named_by_outputs(catalog: Catalog) -> None:
    @assetry.step(catalog=catalog, outputs=["features", "labels"])
    def split() -> tuple[np.ndarray, list[int]]:
        return np.arange(6).reshape(3, 2), [0, 1, 0]

    run = split.run()
    assert [v.name for v in run.outputs] == ["features", "labels"]
    assert catalog.artifacts.load(run.outputs[1]) == [0, 1, 0]

    @assetry.step(catalog=catalog)
    def pair() -> tuple[int, str]:
        return 1, "one"

    assert [v.name for v in pair.run().outputs] == ["pair.0", "pair.1"]

    @assetry.step(catalog=catalog, outputs=["a", "b"])
    def wrong() -> int:
        return 3

    with pytest.raises(ValidationError, match="must return a tuple of 2"):
        wrong()


def test_a_call_returns_the_artifact_versions_of_its_return_value(catalog: Catalog) -> None:
    raw = catalog.artifacts.register("raw", data=pd.DataFrame({"amount": [10.0, 250.0]}))
    given: list[Any] = []

    @assetry.step(catalog=catalog, cache=True)
    def featurize(raw: ArtifactVersion, window: int = 7) -> pd.DataFrame:
        given.append(raw)  # the body gets its arguments as given
        return catalog.artifacts.load(raw).assign(window=window)

    @assetry.step(catalog=catalog, outputs=["fraud_model"])
    def train(features: ArtifactVersion) -> dict[str, float]:
        given.append(features)
        return {"threshold": float(catalog.artifacts.load(features)["amount"].median())}

    with assetry.pipeline("fraud", catalog=catalog) as run:
        feats = featurize(raw, window=14)  # an ArtifactVersion of "featurize"
        model = train(feats)  # of the name given by outputs=...
    assert isinstance(feats, ArtifactVersion) and isinstance(model, ArtifactVersion)
    assert given == [raw, feats]
    assert (feats.name, feats.version) == ("featurize", 1)
    assert (model.name, model.version) == ("fraud_model", 1)
    assert catalog.artifacts.load(feats)["window"].tolist() == [14, 14]
    assert catalog.artifacts.load(model) == {"threshold": 130.0}
    [(_, made_feats), (_, made_model)] = run.steps
    assert [v.rid for v in made_feats.outputs] == [feats.rid]
    assert feats.execution == made_feats.execution
    assert [v.rid for v in made_model.outputs] == [model.rid]
    parents = catalog.artifacts.parents(model)
    assert [p.rid for p in parents if isinstance(p, ArtifactVersion)] == [feats.rid]

    # A cache hit returns the reused version (the body does not run).
    again = featurize(raw, window=14)
    assert isinstance(again, ArtifactVersion) and again.rid == feats.rid
    assert len(given) == 2

    # outputs=[a, b]: a tuple of versions in return order; a cache hit, the reused ones.
    @assetry.step(catalog=catalog, cache=True, outputs=["features", "labels"])
    def split() -> tuple[list[int], list[int]]:
        return [1, 2], [0, 1]

    pair = split()
    assert isinstance(pair, tuple) and [v.name for v in pair] == ["features", "labels"]
    assert [catalog.artifacts.load(v) for v in pair] == [[1, 2], [0, 1]]
    reused = split()
    assert isinstance(reused, tuple) and [v.rid for v in reused] == [v.rid for v in pair]
    assert split.run().cached

    # A returned tuple without outputs: "<name>.0", "<name>.1", ...; one name: one version.
    @assetry.step(catalog=catalog)
    def pair_of() -> tuple[int, str]:
        return 1, "one"

    parts = pair_of()
    assert isinstance(parts, tuple) and [v.name for v in parts] == ["pair_of.0", "pair_of.1"]

    @assetry.step(catalog=catalog, outputs=["whole"])
    def whole() -> tuple[int, int]:
        return 1, 2

    single = whole()
    assert isinstance(single, ArtifactVersion) and single.name == "whole"

    # A function that returns None: None, and nothing registered.
    @assetry.step(catalog=catalog)
    def nothing() -> None:
        return None

    assert nothing() is None
    assert catalog.artifacts.list(name="nothing") == []


def test_an_exception_marks_the_execution_failed_and_propagates(catalog: Catalog) -> None:
    @assetry.step(catalog=catalog)
    def broken(x: int) -> int:
        raise RuntimeError(f"bad input {x}")

    with pytest.raises(RuntimeError, match="bad input 7"):
        broken(7)
    [row] = executions_of(catalog, broken)
    assert row["Status"] == "Failed" and "bad input 7" in row["Status_Detail"]
    assert catalog.artifacts.list(name="broken") == []


def test_a_return_value_without_materializer_fails_and_registers_nothing(
    catalog: Catalog,
) -> None:
    @assetry.step(catalog=catalog, outputs=["count", "lock"])
    def locked() -> tuple[int, Any]:
        return 3, threading.Lock()

    before = catalog.artifacts.list()
    with pytest.raises(ValidationError, match="_thread.lock"):
        locked()
    [row] = executions_of(catalog, locked)
    assert row["Status"] == "Failed" and "no materializer" in row["Status_Detail"]
    # The part registered before the failing one was deleted again.
    assert catalog.artifacts.list() == before

    @assetry.step(catalog=catalog)
    def generator() -> Any:
        return (i for i in range(3))

    with pytest.raises(ValidationError, match="generator"):
        generator()
    assert catalog.artifacts.list(name="generator") == []


def test_steps_in_a_pipeline_are_its_children(catalog: Catalog) -> None:
    @assetry.step
    def load() -> dict[str, int]:
        return {"rows": 3}

    @assetry.step
    def report(summary: ArtifactVersion | dict[str, int]) -> str:
        if isinstance(summary, ArtifactVersion):
            summary = catalog.artifacts.load(summary)
        return f"{summary['rows']} rows"

    with assetry.pipeline("nightly", catalog=catalog) as run:
        written = report(load())
        assert isinstance(written, ArtifactVersion)
        assert catalog.artifacts.load(written) == "3 rows"
    row = catalog.resolve_rid(run.rid).row
    assert row["Status"] == "Completed"
    assert [name.rsplit(".", 1)[1] for name, _ in run.steps] == ["load", "report"]
    for _, step_run in run.steps:
        described = catalog.resolve_rid(step_run.execution).row["Description"]
        assert f"pipeline nightly (execution {run.rid})" in described
        assert step_run.execution in row["Status_Detail"]
    assert catalog.lookup_workflow(row["Workflow"]).name == "nightly"

    with pytest.raises(KeyError), assetry.pipeline("nightly", catalog=catalog) as failed:
        report({})
    assert catalog.resolve_rid(failed.rid).row["Status"] == "Failed"


def test_use_sets_the_default_catalog(catalog: Catalog) -> None:
    @assetry.step
    def answer() -> int:
        return 42

    with assetry.use(catalog):
        run = answer.run()
    assert catalog.resolve_rid(run.execution).row["Status"] == "Completed"
    with pytest.raises(ValidationError, match="Catalog"):
        assetry.use(42)  # type: ignore[arg-type]


def test_bad_step_definitions_are_refused() -> None:
    with pytest.raises(ValidationError, match="outputs"):
        assetry.step(outputs=[""])(lambda: 1)
    with pytest.raises(ValidationError, match="repeat"):
        assetry.step(outputs=["a", "a"])(lambda: (1, 2))
    with pytest.raises(ValidationError, match="function"):
        assetry.capture.Step(42)  # type: ignore[arg-type]


def test_steps_run_on_a_remote_catalog(remote_catalog: Catalog) -> None:
    @assetry.step(catalog=remote_catalog, cache=True)
    def square(x: int) -> int:
        return x * x

    first = square.run(4)
    again = square.run(4)
    assert (first.value, again.value, again.cached) == (16, 16, True)
    assert again.reused == first.execution
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert remote_catalog.artifacts.load(square(5)) == 25
