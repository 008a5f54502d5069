"""The flowyml, Tracelet and Flyte faces (API §12) on a remote catalog (a server over
HTTP), as on an embedded one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from assetry import Artifact, ArtifactType, Catalog
from assetry.compat.flowyml import ArtifactCatalog, Dataset, Metrics


def test_the_three_faces_through_a_server(remote_catalog: Catalog, tmp_path: Path) -> None:
    cat = remote_catalog
    catalog = ArtifactCatalog(cat)
    raw_id = catalog.register(name="raw_transactions", artifact_type="Dataset")
    feat_id = catalog.register(
        name="fraud_features", artifact_type="FeatureSet", parent_ids=[raw_id]
    )
    assert catalog.get_lineage(feat_id)["parents"] == [raw_id]
    assert catalog.get_lineage(raw_id)["children"] == [feat_id]
    dataset = Dataset.create(data=pd.DataFrame({"a": [1]}), name="training_data", catalog=cat)
    metrics = Metrics.create(accuracy=0.9, parent=dataset, catalog=catalog)
    assert metrics.get_lineage()["parents"] == [dataset.id]

    (tmp_path / "model.pth").write_bytes(b"weights")
    builder = cat.create_artifact("trained_classifier", ArtifactType.MODEL)
    builder.add_file(tmp_path / "model.pth").add_object({"lr": 0.1}, "config", "yaml")
    version = cat.log_artifact(builder)["assetry"]
    assert cat.get_artifact("trained_classifier") == version
    assert cat.artifacts.load(version, "config") == {"lr": 0.1}

    rides = Artifact(name="ride_count_data", partition_keys=["region"], time_partitioned=True)
    jan = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    registered = rides.register(cat, pd.DataFrame({"rides": [3]}), region="us", time_partition=jan)
    assert rides.query(cat, region="us") == registered
