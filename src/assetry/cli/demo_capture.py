"""The demo's automatic-capture step (API §13): a two-step pipeline of ``@assetry.step``
functions run twice (the second run is a cache hit), a training run whose checkpoints a
watched folder captures, and the lineage of the pipeline's model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import assetry.capture as capture
from assetry.capture import defaults
from assetry.executions.workflow import ExecutionConfiguration
from assetry.records.artifacts import ArtifactVersion

if TYPE_CHECKING:
    from assetry.cli.demo import Tour

PIPELINE = "demo-pipeline"
EPOCHS = 3


# The features are columns in a dict (stored as JSON), not a DataFrame: Parquet needs
# pyarrow, an extra, and the demo runs on what `make install` installs.
@capture.step(cache=True, workflow_type="Feature_Creation")
def featurize(metrics: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Two columns, one row per image: its mean intensity and whether it was inverted."""
    means = [m["mean_before"] for m in metrics] + [m["mean_after"] for m in metrics]
    inverted = [0.0] * len(metrics) + [1.0] * len(metrics)
    return {"mean": means, "inverted": inverted}


@capture.step(cache=True, workflow_type="Training", outputs=["demo-threshold"])
def train(features: ArtifactVersion) -> dict[str, float]:
    """The mean intensity halfway between raw and inverted images."""
    # The step gets the version featurize's call returned; the pipeline's catalog loads it.
    columns: dict[str, list[float]] = defaults.resolve(None).artifacts.load(features)
    rows = list(zip(columns["mean"], columns["inverted"], strict=True))
    raw = [mean for mean, flag in rows if not flag]
    inverted = [mean for mean, flag in rows if flag]
    halfway = (sum(raw) / len(raw) + sum(inverted) / len(inverted)) / 2
    return {"threshold": round(halfway, 2)}


def capture_tour(tour: Tour) -> None:
    """Run the steps on ``tour``'s catalog and tell what was recorded."""
    cat = tour.cat
    tour.step("Automatic capture: steps, a cache hit, a watched folder")
    runs = []
    model = None
    for _ in range(2):
        with capture.pipeline(PIPELINE, catalog=cat, description="features, then a threshold") as p:
            features = featurize(tour.metrics)  # the ArtifactVersion of "featurize"
            assert isinstance(features, ArtifactVersion)
            model = train(features)  # of "demo-threshold"
        runs.append(p)
    assert isinstance(model, ArtifactVersion)
    first, second = runs
    # The steps record into the pipeline's catalog (they name none of their own).
    tour.say("@assetry.step(cache=True) makes each call of a function an execution of its")
    tour.say("workflow (module, name, source checksum, git state); what it returns is")
    tour.say("registered as an artifact version, which the call returns: passed on to the")
    tour.say("next step, it links the two. The pipeline ran twice; the second run reused")
    tour.say("every output:")
    for label, p in (("first run ", first), ("second run", second)):
        tour.say(f"  {label} (execution {p.rid}): {p.summary()}")
    trained = model  # the second run's call returned the reused version
    threshold: dict[str, float] = cat.artifacts.load(trained)
    graph = cat.lineage(trained.rid, "upstream")
    tour.say(
        f"The model {trained.name} v{trained.version} is {json.dumps(threshold)}; its lineage:"
    )
    if tour.text:
        tour.out.lines(graph.to_text().splitlines(), indent="  ")

    checkpoints = tour.root / "training" / "checkpoints"
    checkpoints.mkdir(parents=True)
    workflow = cat.create_workflow(
        "demo-training", "Training", url="assetry:demo", checksum="sha256:demo-training"
    )
    # A short settle time keeps the demo quick; the default is 2 seconds.
    config = ExecutionConfiguration(
        workflow=workflow, watch=[checkpoints], watch_settle=0.1, description="train 3 epochs"
    )
    with cat.create_execution(config) as exe:
        for epoch in range(1, EPOCHS + 1):
            weights = {"epoch": epoch, "threshold": threshold["threshold"] + epoch / 10}
            (checkpoints / f"epoch={epoch}.ckpt").write_text(json.dumps(weights))
    uploaded = exe.upload_execution_outputs().get("Execution_Asset", [])
    tour.say(f"ExecutionConfiguration(watch=[{str(checkpoints)!r}]) staged each checkpoint the")
    tour.say(f"training loop wrote once it was stable; execution {exe.rid} uploaded them:")
    if tour.text:
        tour.out.table(
            ["RID", "FILENAME", "LENGTH", "ASSET_TYPE", "DESCRIPTION"],
            (
                [a["RID"], a["Filename"], a["Length"], a["Asset_Type"], a["Description"]]
                for a in uploaded
            ),
            empty="(none)",
            indent="  ",
        )
    tour.summary["capture"] = {
        "pipelines": [
            {"rid": p.rid, "steps": [[name, run.execution, run.cached] for name, run in p.steps]}
            for p in runs
        ],
        "model": trained.to_dict(),
        "lineage": {"root": graph.root, "edges": [list(e) for e in graph.edges]},
        "watched": {"execution": exe.rid, "assets": [a["RID"] for a in uploaded]},
    }
