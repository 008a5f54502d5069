"""flowyml's artifact catalog and assets (API §12): the examples of flowyml's own pages
("Artifact Catalog", "Assets & Artifacts") with only the import and the catalog changed,
and bad input."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from assetry import Catalog, NotFoundError, ValidationError
from assetry.compat.flowyml import ArtifactCatalog, Dataset, FeatureSet, Metrics, Model


@pytest.fixture
def default_catalog(sqlite_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """The test catalog is the default one (``Catalog()``), as ``$ASSETRY_CATALOG``."""
    monkeypatch.setenv("ASSETRY_CATALOG", sqlite_catalog.location)
    return sqlite_catalog


def test_quick_start(default_catalog: Catalog) -> None:
    catalog = ArtifactCatalog()  # Auto-selects local or remote backend
    # Register an artifact
    artifact_id = catalog.register(
        name="fraud_detector_v2",
        artifact_type="Model",
        source_step="train_model",
        source_run_id="run-abc-123",
        source_pipeline="fraud_detection",
        tags={"stage": "staging", "team": "fraud"},
    )
    # Search and discover
    models = catalog.search("fraud")
    recent = catalog.list(artifact_type="Model", limit=10)
    # Tag for promotion
    catalog.tag(artifact_id, stage="production")
    # Trace lineage
    lineage = catalog.get_lineage(artifact_id)
    print(lineage["parents"])  # What inputs produced this
    print(lineage["children"])  # What downstream consumed this

    assert isinstance(artifact_id, str)
    assert [m["id"] for m in models] == [artifact_id]
    assert [r["id"] for r in recent] == [artifact_id]
    entry = catalog.get(artifact_id)
    assert entry["name"] == "fraud_detector_v2" and entry["artifact_type"] == "Model"
    assert entry["tags"] == {"stage": "production", "team": "fraud"}
    assert (entry["source_step"], entry["source_run_id"], entry["source_pipeline"]) == (
        "train_model",
        "run-abc-123",
        "fraud_detection",
    )
    assert entry["version"] == 1 and entry["metadata"] == {}
    assert (lineage["parents"], lineage["children"]) == ([], [])
    assert lineage["artifact"]["id"] == artifact_id
    # The same version, seen through the core API.
    assert default_catalog.artifacts.get("fraud_detector_v2").tags["stage"] == "production"


def test_content_hash_deduplication(sqlite_catalog: Catalog) -> None:
    catalog = ArtifactCatalog(sqlite_catalog)
    my_dataframe = pd.DataFrame({"amount": [10.0, 2.5], "fraud": [0, 1]})
    first = catalog.register(
        name="training_features",
        artifact_type="Dataset",
        data=my_dataframe,  # Content is hashed for dedup
    )
    with pytest.warns(UserWarning, match="content equals version 1"):
        again = catalog.register(
            name="training_features",
            artifact_type="Dataset",
            data=my_dataframe,
        )
    assert again == first
    assert catalog.get(first)["content_hash"]
    pd.testing.assert_frame_equal(sqlite_catalog.artifacts.load(first), my_dataframe)


def test_lineage_tracking(sqlite_catalog: Catalog) -> None:
    catalog = ArtifactCatalog(sqlite_catalog)
    # 1. Register raw data
    raw_id = catalog.register(name="raw_transactions", artifact_type="Dataset")
    # 2. Register features (child of raw data)
    feat_id = catalog.register(
        name="fraud_features",
        artifact_type="FeatureSet",
        parent_ids=[raw_id],
    )
    # 3. Register model (child of features)
    model_id = catalog.register(
        name="fraud_detector",
        artifact_type="Model",
        parent_ids=[feat_id],
    )
    # 4. Query lineage
    lineage = catalog.get_lineage(model_id)
    print(lineage["parents"])  # → [feat_id]
    print(lineage["children"])  # → []

    assert lineage["parents"] == [feat_id]
    assert lineage["children"] == []
    assert catalog.get_lineage(feat_id) | {"artifact": None} == {
        "artifact": None,
        "parents": [raw_id],
        "children": [model_id],
    }
    assert catalog.get(feat_id)["parent_ids"] == [raw_id]
    assert catalog.get(feat_id)["artifact_type"] == "Feature_Set"  # FeatureSet is a synonym
    assert [e["id"] for e in catalog.list(artifact_type="FeatureSet")] == [feat_id]


def test_model_promotion(sqlite_catalog: Catalog) -> None:
    setup = ArtifactCatalog(sqlite_catalog)
    for f1, run in (("0.88", "run-1"), ("0.93", "run-2"), ("0.91", "run-3")):
        setup.register(
            name="fraud_detector",
            artifact_type="Model",
            source_run_id=run,
            tags={"f1_score": f1, "team": "fraud"},
        )

    catalog = ArtifactCatalog(sqlite_catalog)
    # 1. Search for the best model
    models = catalog.search("fraud_detector")
    best = max(models, key=lambda m: m.get("tags", {}).get("f1_score", 0))
    # 2. Promote to production
    catalog.tag(best["id"], stage="production", promoted_by="ml-team")
    # 3. Verify lineage before deployment
    lineage = catalog.get_lineage(best["id"])
    print(f"Model trained on: {lineage['parents']}")

    assert best["version"] == 2 and best["source_run_id"] == "run-2"
    # Best practices: tag everything, then search by tags.
    found = catalog.search("stage:production team:fraud")
    assert [e["id"] for e in found] == [best["id"]]
    assert found[0]["tags"]["promoted_by"] == "ml-team"


def test_list_limit_and_delete(sqlite_catalog: Catalog) -> None:
    catalog = ArtifactCatalog(sqlite_catalog)
    ids = [
        catalog.register(name=f"table_{i}", artifact_type="Dataset", metadata={"i": i})
        for i in range(5)
    ]
    assert len(catalog.list()) == 5 and len(catalog.list(limit=2)) == 2
    assert catalog.get(ids[3])["metadata"] == {"i": 3}
    catalog.delete(ids[0])
    assert ids[0] not in [e["id"] for e in catalog.list(artifact_type="Dataset")]
    assert catalog.get(ids[0])["deleted"] is True  # history keeps it, by id
    with pytest.raises(NotFoundError):
        catalog.get("table_0")  # a name gives its latest version: none is left


def test_assets_datasets_models_metrics(default_catalog: Catalog) -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})

    # Create a versioned dataset
    dataset = Dataset.create(
        data=df,
        name="training_data",
        properties={"source": "s3://bucket/data.csv", "rows": len(df)},
    )

    trained_model_object = LogisticRegression().fit(df[["x"]], df["y"])
    # Create a versioned model
    model_asset = Model.create(
        data=trained_model_object,
        name="resnet50_finetuned",
        framework="pytorch",
        parameters={"epochs": 10, "lr": 0.001},
    )

    # Create a metrics object
    metrics = Metrics.create(accuracy=0.95, f1_score=0.92, loss=0.15)

    assert (dataset.name, dataset.version) == ("training_data", 1)
    assert dataset.properties == {"source": "s3://bucket/data.csv", "rows": 3}
    assert dataset.artifact.artifact_type == "Dataset"
    assert model_asset.properties == {
        "framework": "pytorch",
        "parameters": {"epochs": 10, "lr": 0.001},
    }
    assert metrics.name == "metrics" and metrics.artifact.artifact_type == "Metrics"
    assert metrics.properties == {"accuracy": 0.95, "f1_score": 0.92, "loss": 0.15}
    assert metrics.values == metrics.properties

    cat = default_catalog
    pd.testing.assert_frame_equal(cat.artifacts.load(dataset.asset_id), df)
    loaded = cat.artifacts.load(model_asset.id, trust=True)
    assert (loaded.predict(df[["x"]]) == trained_model_object.predict(df[["x"]])).all()
    assert cat.artifacts.load(metrics.rid) == {"accuracy": 0.95, "f1_score": 0.92, "loss": 0.15}


def test_assets_lineage_through_parent_and_catalog_argument(sqlite_catalog: Catalog) -> None:
    catalog = ArtifactCatalog(sqlite_catalog)
    raw = Dataset.create(data=pd.DataFrame({"a": [1, 2]}), name="raw", catalog=catalog)
    features = FeatureSet.create(
        data=pd.DataFrame({"age_scaled": [0.1, 0.2], "income_log": [3.0, 4.0]}),
        name="customer_features",
        transformations=["StandardScaler", "LogTransform"],
        source_dataset="raw",
        parent=raw,
        catalog=sqlite_catalog,
    )
    model = Model.create(data={"weights": [1, 2]}, name="clf", parent=features, catalog=catalog)
    assert features.feature_names == ["age_scaled", "income_log"]
    assert features.properties["num_features"] == 2 and features.properties["num_samples"] == 2
    assert features.properties["transformations"] == ["StandardScaler", "LogTransform"]
    assert features.get_lineage()["parents"] == [raw.id]
    assert features.get_lineage()["children"] == [model.id]
    model.add_tag("stage", "staging")
    assert model.tags == {"stage": "staging"}
    assert catalog.get(model.id)["tags"] == {"stage": "staging"}
    assert model.to_dict()["parent_ids"] == [features.id]
    assert repr(model) == f"Model(name='clf', version=1, id={model.id!r})"


def test_bad_input(sqlite_catalog: Catalog, tmp_path: object) -> None:
    catalog = ArtifactCatalog(sqlite_catalog)
    with pytest.raises(NotFoundError, match="no artifact with id 'ZZZZ-1234'"):
        catalog.get("ZZZZ-1234")
    with pytest.raises(NotFoundError, match="no artifact with id"):
        catalog.tag("ZZZZ-1234", stage="production")
    with pytest.raises(NotFoundError):
        catalog.get_lineage("ZZZZ-1234")
    with pytest.raises(NotFoundError):
        catalog.delete("ZZZZ-1234")
    with pytest.raises(ValidationError, match="non-empty string"):
        catalog.get(None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="not a term of vocabulary 'Artifact_Type'"):
        catalog.register(name="x", artifact_type="Spreadsheet")
    with pytest.raises(ValidationError, match="artifact name"):
        catalog.register(name="no spaces please", artifact_type="Model")
    with pytest.raises(ValidationError, match="limit"):
        catalog.list(limit="ten")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="key:value"):
        catalog.search("stage:")
    with pytest.raises(ValidationError, match="Catalog or an ArtifactCatalog"):
        Dataset.create(data=[1, 2], name="d", catalog="not a catalog")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="JSON"):
        Model.create(data=[1], name="m", catalog=catalog, trained_on=object())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parent = catalog.register(name="p", artifact_type="Dataset")
    with pytest.raises(NotFoundError):
        catalog.register(name="c", artifact_type="Dataset", parent_ids=[parent, "ZZZZ-1234"])


def test_default_catalog_must_exist(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETRY_CATALOG", str(tmp_path) + "/nowhere")
    with pytest.raises(Exception, match="nowhere") as info:
        ArtifactCatalog()
    assert "assetry" in type(info.value).__module__
    with pytest.raises(Exception, match="nowhere"):
        Metrics.create(accuracy=0.5)
