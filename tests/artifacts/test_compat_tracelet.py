"""Tracelet's artifact system (API §12): the examples of Tracelet's "Artifact Management
System" page with only the import and the experiment changed (``exp`` is the catalog, or
the thin ``Experiment`` over it), and bad input."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from assetry import ArtifactType, ArtifactVersion, Catalog, NotFoundError, ValidationError
from assetry.compat.tracelet import Experiment, TraceletArtifact


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """The seed's examples name files relative to the working directory."""
    files = {
        "model.pth": b"weights",
        "config.yaml": b"lr: 0.001\n",
        "config.json": b'{"lr": 0.001}',
        "report.html": b"<html>report</html>",
        "metrics.json": b'{"accuracy": 0.9}',
        "dataset_info.json": b'{"rows": 10}',
        "sample.png": b"\x89PNG fake",
        "large_report.html": b"<html>" + b"x" * 1000 + b"</html>",
    }
    files |= {f"fold_{fold}_model.pth": f"fold {fold}".encode() for fold in range(5)}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    before = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def _model() -> LogisticRegression:
    x = np.array([[0.0], [1.0], [2.0], [3.0]])
    return LogisticRegression().fit(x, [0, 0, 1, 1])


def test_basic_artifact_logging(sqlite_catalog: Catalog, workdir: Path) -> None:
    exp = sqlite_catalog
    pytorch_model = _model()  # torch is not installed here: a scikit-learn model stands in

    # Create and log a model artifact
    model_artifact = exp.create_artifact(
        name="trained_classifier",
        artifact_type=ArtifactType.MODEL,
        description="Trained image classifier model",
    )

    # Add files to the artifact
    model_artifact.add_file("model.pth", "model/classifier.pth")
    model_artifact.add_file("config.yaml", "model/config.yaml")

    # Add model object with metadata
    model_artifact.add_model(pytorch_model, framework="pytorch")

    # Log to all backends
    results = exp.log_artifact(model_artifact)
    print(f"Logged to {len(results)} backends: {list(results.keys())}")

    assert list(results) == ["assetry"]
    version = results["assetry"]
    assert isinstance(version, ArtifactVersion)
    assert (version.name, version.version, version.artifact_type) == (
        "trained_classifier",
        1,
        "Model",
    )
    assert version.description == "Trained image classifier model"
    paths = sorted(f["Path"] for f in version.files)
    assert paths == ["model/classifier.pth", "model/config.yaml", "objects/model.pkl"]
    assert version.properties["model_info"]["framework"] == "pytorch"
    assert model_artifact.version == 1
    loaded = exp.artifacts.load(version, trust=True)
    assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]
    assert exp.get_artifact("trained_classifier") == version


def test_builder_pattern_objects_and_serializers(sqlite_catalog: Catalog, workdir: Path) -> None:
    exp = sqlite_catalog
    summary_dict = {"best_epoch": 7, "accuracy": 0.91}
    # Create artifact with builder pattern
    artifact = exp.create_artifact(
        name="experiment_results",
        artifact_type=ArtifactType.REPORT,
        description="Complete experiment results and analysis",
    )
    # Chain operations
    artifact.add_file("report.html", "reports/experiment.html").add_file(
        "metrics.json", "data/metrics.json"
    ).add_object(summary_dict, "summary", "json")

    # Add Python objects with serialization
    config = {"learning_rate": 0.001, "batch_size": 32}
    artifact.add_object(
        obj=config,
        name="hyperparameters",
        serializer="yaml",  # or "pickle", "yaml"
        description="Training hyperparameters",
    )
    artifact.add_object({1, 2, 3}, "a_set", serializer="pickle")
    # Add reference to external data (large files, cloud storage)
    artifact.add_reference(
        uri="s3://my-bucket/large-dataset.tar.gz",
        size_bytes=5_000_000_000,  # 5GB
        description="Training dataset stored in S3",
    )
    assert isinstance(artifact, TraceletArtifact)
    assert artifact.size_bytes == 5_000_000_000 + sum(
        (workdir / n).stat().st_size for n in ("report.html", "metrics.json")
    )
    as_dict = artifact.to_dict()
    assert as_dict["type"] == "Report" and as_dict["version"] is None
    assert [o["serializer"] for o in as_dict["objects"]] == ["json", "yaml", "pickle"]

    [version] = exp.log_artifact(artifact).values()
    assert sorted(f["Path"] for f in version.files) == [
        "data/metrics.json",
        "objects/a_set.pkl",
        "objects/hyperparameters.yaml",
        "objects/summary.json",
        "reports/experiment.html",
    ]
    assert version.properties["object_descriptions"] == {
        "hyperparameters": "Training hyperparameters"
    }
    assert version.references[0].uri == "s3://my-bucket/large-dataset.tar.gz"
    assert version.references[0].description == "Training dataset stored in S3"
    assert exp.artifacts.load(version, "hyperparameters") == config
    assert exp.artifacts.load(version, "summary") == summary_dict
    assert exp.artifacts.load(version, "a_set", trust=True) == {1, 2, 3}


def test_adding_files_and_references(sqlite_catalog: Catalog, workdir: Path) -> None:
    exp = sqlite_catalog
    artifact = exp.create_artifact("checkpoints", ArtifactType.CHECKPOINT)
    # Add local files
    artifact.add_file(
        local_path="model.pth",
        artifact_path="model/checkpoint.pth",  # Optional: path in artifact
        description="Best model checkpoint",  # Optional: file description
    )
    # Add multiple files
    files = ["config.yaml", "metrics.json"]  # (model.pth is already in)
    for file_path in files:
        artifact.add_file(file_path)

    # For files >100MB, use references instead of uploads
    large_artifact = exp.create_artifact("large_dataset", ArtifactType.DATASET)
    # Upload small metadata files
    large_artifact.add_file("dataset_info.json")
    large_artifact.add_file("sample.png")  # Preview
    # Reference large data externally
    large_artifact.add_reference(
        uri="s3://my-bucket/full-dataset.tar.gz",
        size_bytes=10_000_000_000,  # 10GB
        description="Complete training dataset",
    )

    # Avoid loading large objects into memory
    efficient = exp.create_artifact("efficient_logging", ArtifactType.REPORT)
    # Stream large files instead of loading
    with open("large_report.html", "rb") as f:  # noqa: F841
        efficient.add_file("large_report.html")  # File streamed, not loaded
    # Use references for very large objects
    efficient.add_reference("file:///path/to/large/file.bin")

    v1 = exp.log_artifact(artifact)["assetry"]
    v2 = exp.log_artifact(large_artifact)["assetry"]
    v3 = exp.log_artifact(efficient)["assetry"]
    assert sorted(f["Path"] for f in v1.files) == [
        "config.yaml",
        "metrics.json",
        "model/checkpoint.pth",
    ]
    assert v1.properties == {"file_descriptions": {"model/checkpoint.pth": "Best model checkpoint"}}
    assert sorted(f["Path"] for f in v2.files) == ["dataset_info.json", "sample.png"]
    assert v2.references[0].size_bytes == 10_000_000_000
    assert [r.uri for r in v3.references] == ["file:///path/to/large/file.bin"]
    downloaded = exp.artifacts.download(v1, workdir / "out")
    assert (downloaded / "model/checkpoint.pth").read_bytes() == b"weights"


def test_retrieval_list_and_get(sqlite_catalog: Catalog, workdir: Path) -> None:
    exp = sqlite_catalog
    for content in ("v1", "v2"):
        (workdir / "model.pth").write_text(content)
        exp.log_artifact(
            exp.create_artifact("trained_classifier", ArtifactType.MODEL).add_file("model.pth")
        )
    exp.log_artifact(exp.create_artifact("settings", ArtifactType.CONFIG).add_file("config.json"))

    # List all artifacts
    artifacts = exp.list_artifacts()
    # Filter by type
    model_artifacts = exp.list_artifacts(type_filter=ArtifactType.MODEL)
    # Get latest version
    artifact = exp.get_artifact("trained_classifier")
    # Get specific version
    exp.artifacts.alias(exp.get_artifact("trained_classifier", version=1), "v1.2.0")
    older = exp.get_artifact("trained_classifier", version="v1.2.0")

    assert [(a.name, a.version) for a in artifacts] == [
        ("settings", 1),
        ("trained_classifier", 2),
        ("trained_classifier", 1),
    ]
    assert [a.version for a in model_artifacts] == [2, 1]
    assert artifact.version == 2 and older.version == 1
    assert exp.get_artifact("trained_classifier", 2) == artifact
    assert exp.list_artifacts("Config")[0].name == "settings"


def test_custom_types_batches_and_metadata(sqlite_catalog: Catalog, workdir: Path) -> None:
    exp = sqlite_catalog
    # Use CUSTOM type for specialized artifacts
    custom_artifact = exp.create_artifact(
        name="optimization_trace",
        artifact_type=ArtifactType.CUSTOM,
        description="Custom optimization algorithm trace",
    )
    # Add custom metadata
    custom_artifact.metadata.update(
        {
            "algorithm": "custom_optimizer",
            "convergence_criteria": "gradient_norm < 1e-6",
            "custom_type": "optimization_trace",
        }
    )
    custom_artifact.add_object([0.5, 0.25, 0.125], "trace")
    # Override routing for specific artifacts
    custom_artifact.metadata["preferred_backends"] = ["mlflow", "clearml"]

    # Create multiple related artifacts
    artifacts = []
    for fold in range(5):
        artifact = exp.create_artifact(name=f"cv_fold_{fold}", artifact_type=ArtifactType.MODEL)
        artifact.add_file(f"fold_{fold}_model.pth")
        artifacts.append(artifact)
    # Log all at once
    results: dict[str, Any] = {}
    for artifact in artifacts:
        results.update(exp.log_artifact(artifact))

    # Ensure artifacts work across all backends
    artifact = exp.create_artifact("universal_model", ArtifactType.MODEL)
    # Add files in platform-neutral paths
    artifact.add_file("model.pth", "model/weights.pth")  # MLflow style
    artifact.add_file("config.json", "config.json")  # W&B style
    # Add platform-specific metadata
    artifact.metadata.update(
        {"mlflow_flavor": "pytorch", "wandb_type": "model", "clearml_framework": "pytorch"}
    )

    custom = exp.log_artifact(custom_artifact)["assetry"]
    universal = exp.log_artifact(artifact)["assetry"]
    assert custom.properties["algorithm"] == "custom_optimizer"
    assert custom.properties["preferred_backends"] == ["mlflow", "clearml"]
    assert exp.artifacts.load(custom) == [0.5, 0.25, 0.125]
    assert results["assetry"].name == "cv_fold_4"
    assert len(exp.list_artifacts(type_filter=ArtifactType.MODEL)) == 6
    assert universal.properties["wandb_type"] == "model"
    assert sorted(f["Path"] for f in universal.files) == ["config.json", "model/weights.pth"]


def test_experiment_adapter(sqlite_catalog: Catalog, workdir: Path) -> None:
    # Enable artifact tracking
    with pytest.warns(UserWarning, match="automatic artifact capture"):
        exp = Experiment(
            name="my_experiment",
            backend=["mlflow", "wandb"],
            artifacts=True,  # Enable artifact system
            automagic_artifacts=True,  # Enable automatic detection
            catalog=sqlite_catalog,
        )
    exp.start()
    model_artifact = exp.create_artifact(
        name="trained_classifier",
        artifact_type=ArtifactType.MODEL,
        description="Trained image classifier model",
    )
    model_artifact.add_file("model.pth", "model/classifier.pth")
    model_artifact.add_model(_model(), input_example=np.array([[1.5]]))
    results = exp.log_artifact(model_artifact)
    exp.stop()
    version = results["assetry"]
    assert version.properties["model_info"]["framework"] == "sklearn"  # detected
    assert exp.list_artifacts(type_filter=ArtifactType.MODEL) == [version]
    assert exp.get_artifact("trained_classifier") == version
    example = sqlite_catalog.artifacts.load(version, "input_example")
    assert example.tolist() == [[1.5]]


def test_experiment_with_an_execution(sqlite_catalog: Catalog, workdir: Path) -> None:
    from assetry import ExecutionConfiguration

    cat = sqlite_catalog
    cat.add_term("Workflow_Type", "Training", description="training runs")
    wf = cat.create_workflow("trainer", "Training", url="https://example.org/t", checksum="1")
    with cat.create_execution(ExecutionConfiguration(workflow=wf)) as execution:
        exp = Experiment("run", catalog=cat, execution=execution)
        v = exp.log_artifact(exp.create_artifact("weights", "Weights").add_file("model.pth"))
    assert v["assetry"].execution == execution.rid


def test_artifact_types_are_vocabulary_terms(sqlite_catalog: Catalog) -> None:
    assert len(ArtifactType) == 13
    assert [t.name for t in ArtifactType] == [
        "MODEL", "CHECKPOINT", "WEIGHTS", "DATASET", "SAMPLE", "IMAGE", "AUDIO", "VIDEO",
        "VISUALIZATION", "REPORT", "CONFIG", "CODE", "CUSTOM",
    ]  # fmt: skip
    for member in ArtifactType:
        assert sqlite_catalog.lookup_term("Artifact_Type", member.value).name == member.value
    # Tracelet's own (lower-case) values and any other term of the vocabulary work too.
    assert sqlite_catalog.create_artifact("a", "model").type is ArtifactType.MODEL
    assert sqlite_catalog.create_artifact("b", "Metrics").type == "Metrics"


def test_bad_input(sqlite_catalog: Catalog, workdir: Path) -> None:
    exp = sqlite_catalog
    artifact = exp.create_artifact("results", ArtifactType.REPORT)
    with pytest.raises(ValidationError, match="unknown serializer 'xml'.*json, yaml, pickle"):
        artifact.add_object({"a": 1}, "summary", serializer="xml")
    with pytest.raises(ValidationError, match="missing.pth is not a file"):
        artifact.add_file("missing.pth")
    artifact.add_file("report.html", "out/report.html")
    with pytest.raises(ValidationError, match="already has a file at 'out/report.html'"):
        artifact.add_file("metrics.json", "out/report.html")
    artifact.add_object({"a": 1}, "summary")
    with pytest.raises(ValidationError, match="already has an object 'summary'"):
        artifact.add_object({"b": 2}, "summary")
    with pytest.raises(ValidationError, match="add_model is for MODEL, CHECKPOINT, WEIGHTS"):
        artifact.add_model(_model())
    with pytest.raises(ValidationError, match="unknown scheme 'ftp'"):
        artifact.add_reference("ftp://host/file")
    with pytest.raises(ValidationError, match="artifact_type"):
        exp.create_artifact("x", None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="needs a name"):
        exp.create_artifact("", ArtifactType.MODEL)
    with pytest.raises(ValidationError, match="not a term of vocabulary 'Artifact_Type'"):
        exp.log_artifact(exp.create_artifact("x", "Spreadsheet"))
    not_json = exp.create_artifact("arrays", ArtifactType.DATASET)
    not_json.add_object(np.arange(3), "values", serializer="json")
    with pytest.raises(ValidationError, match="materializer 'json' cannot save a numpy.ndarray"):
        exp.log_artifact(not_json)
    with pytest.raises(ValidationError, match="builder from create_artifact"):
        exp.log_artifact({"name": "x"})  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="no artifact 'nothing'"):
        exp.get_artifact("nothing")
    exp.log_artifact(artifact)
    with pytest.raises(NotFoundError, match="alias 'v9'"):
        exp.get_artifact("results", version="v9")
    with pytest.raises(ValidationError, match="not a term"):
        exp.list_artifacts(type_filter="Spreadsheet")
    with pytest.raises(ValidationError, match="must be an assetry Catalog"):
        Experiment("e", catalog="somewhere")  # type: ignore[arg-type]
