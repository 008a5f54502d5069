"""DerivaML's notebooks and user guide, for features, bag scope and dataset versions, as
tests (the calls of "DerivaML Features.ipynb", "DerivaML Dataset.ipynb" and the user
guide's features chapter; only the import and the connection differ), with the bad
inputs each call refuses."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from assetry import (
    BuiltinTypes,
    Catalog,
    ColumnDefinition,
    ConflictError,
    DatasetSpec,
    DatasetVersion,
    ExecutionConfiguration,
    FeatureRecord,
    NotFoundError,
    PermissionDenied,
    StateError,
    ValidationError,
    VersionPart,
)
from tests.conformance.backend import Build
from tests.helpers import stored_file, subject_image_model

DerivaSystemColumns = ["RID", "RCT", "RMT", "RCB", "RMB"]


def demo_catalog(cat: Catalog) -> Catalog:
    """DerivaML's demo catalog, small: Subjects Thing1..Thing6, an Image of each."""
    subject_image_model(cat, image_columns=[])
    subjects = cat.insert(
        "Subject", [{"Name": f"Thing{i}", "Species": "mouse"} for i in range(1, 7)]
    )
    cat.insert(
        "Image",
        [
            {**stored_file(cat, f"image {i}".encode(), f"img{i}.png"), "Subject": s}
            for i, s in enumerate(subjects)
        ],
    )
    return cat


def feature_setup(ml_instance: Catalog) -> None:
    """The Features notebook's prerequisites and features."""
    ml_instance.create_vocabulary("SubjectHealth", "A vocab")
    ml_instance.add_term(
        "SubjectHealth", "Sick", description="The subject self reports that they are sick"
    )
    ml_instance.add_term(
        "SubjectHealth", "Well", description="The subject self reports that they feel well"
    )
    ml_instance.create_vocabulary("ImageQuality", "Controlled vocabulary for image quality")
    ml_instance.add_term("ImageQuality", "Good", description="The image is good")
    ml_instance.add_term("ImageQuality", "Bad", description="The image is bad")
    box_asset = ml_instance.create_asset(
        "BoundingBox", comment="A file that contains a cropped version of a image"
    )
    ml_instance.create_feature(
        "Subject",
        "Health",
        terms=["SubjectHealth"],
        metadata=[ColumnDefinition(name="Scale", type=BuiltinTypes.int2, nullok=True)],
        optional=["Scale"],
    )
    ml_instance.create_feature("Image", "BoundingBox", assets=[box_asset])
    ml_instance.create_feature("Image", "Quality", terms=["ImageQuality"])


def add_values(ml_instance: Catalog, tmp: Path) -> str:
    """The notebook's feature values, made by one execution; its RID."""
    ImageQualityFeature = ml_instance.feature_record_class("Image", "Quality")
    ImageBoundingboxFeature = ml_instance.feature_record_class("Image", "BoundingBox")
    SubjectWellnessFeature = ml_instance.feature_record_class("Subject", "Health")
    ml_instance.add_term(
        "Workflow_Type",
        "Feature Notebook Workflow",
        description="A Workflow that uses Deriva ML API",
    )
    notebook_workflow = ml_instance.create_workflow(
        name="API Workflow", workflow_type="Feature Notebook Workflow"
    )
    feature_execution = ml_instance.create_execution(
        ExecutionConfiguration(
            workflow=notebook_workflow, description="Our Sample Workflow instance"
        )
    )
    subject_rids = [i["RID"] for i in ml_instance.get_table_as_dict("Subject")]
    image_rids = [i["RID"] for i in ml_instance.get_table_as_dict("Image")]
    image_bounding_box_feature_list = []
    for cnt, image_rid in enumerate(image_rids):
        bounding_box_file = feature_execution.asset_file_path("BoundingBox", f"box{cnt}.txt")
        with open(bounding_box_file, "w") as fp:
            fp.write(f"Hi there {cnt}")
        image_bounding_box_feature_list.append(
            ImageBoundingboxFeature(Image=image_rid, BoundingBox=bounding_box_file)
        )
    image_quality_feature_list = [
        ImageQualityFeature(Image=image_rid, ImageQuality=["Good", "Bad"][n % 2])
        for n, image_rid in enumerate(image_rids)
    ]
    subject_feature_list = [
        SubjectWellnessFeature(
            Subject=subject_rid,
            SubjectHealth=["Well", "Sick"][random.randint(0, 1)],
            Scale=random.randint(1, 10),
        )
        for subject_rid in subject_rids
    ]
    with feature_execution:
        feature_execution.add_features(image_bounding_box_feature_list)
        feature_execution.add_features(image_quality_feature_list)
        feature_execution.add_features(subject_feature_list)
    feature_execution.upload_execution_outputs()
    return feature_execution.rid


class AbstractDerivaMLTests:
    @pytest.fixture
    def ml_instance(self, built: Build) -> Catalog:
        return built(demo_catalog)[0]

    @pytest.fixture
    def labelled(self, ml_instance: Catalog, tmp_path: Path) -> dict[str, Any]:
        feature_setup(ml_instance)
        run = add_values(ml_instance, tmp_path)
        return {"cat": ml_instance, "run": run}

    # --- Features notebook -------------------------------------------------------------
    def test_features_notebook(self, labelled: dict[str, Any]) -> None:
        ml_instance = labelled["cat"]
        assert [
            f"{f.target_table.name}:{f.feature_name}" for f in ml_instance.find_features("Subject")
        ] == ["Subject:Health"]
        assert [
            f"{f.target_table.name}:{f.feature_name}" for f in ml_instance.find_features("Image")
        ] == [
            "Image:BoundingBox",
            "Image:Quality",
        ]
        SubjectWellnessFeature = ml_instance.feature_record_class("Subject", "Health")
        assert [c.name for c in SubjectWellnessFeature.feature_columns()] == [
            "SubjectHealth",
            "Scale",
        ]
        assert [c.name for c in SubjectWellnessFeature.feature_columns() if not c.nullok] == [
            "SubjectHealth"
        ]
        assert [c.name for c in SubjectWellnessFeature.term_columns()] == ["SubjectHealth"]
        assert [c.name for c in SubjectWellnessFeature.value_columns()] == ["Scale"]
        box = ml_instance.feature_record_class("Image", "BoundingBox")
        assert [c.name for c in box.asset_columns()] == ["BoundingBox"]
        wellness = pd.DataFrame(ml_instance.list_feature_values("Subject", "Health")).drop(
            columns=DerivaSystemColumns + ["Feature_Name"]
        )
        assert list(wellness.columns) == ["Execution", "Subject", "SubjectHealth", "Scale"]
        assert len(wellness) == 6 and set(wellness["Execution"]) == {labelled["run"]}
        boxes = pd.DataFrame(ml_instance.list_feature_values("Image", "BoundingBox"))
        assets = {a["RID"]: a for a in ml_instance.list_assets("BoundingBox")}
        assert set(boxes["BoundingBox"]) == set(assets) and len(assets) == 6
        quality = ml_instance.list_feature_values("Image", "Quality")
        assert sorted(v.ImageQuality for v in quality) == ["Bad"] * 3 + ["Good"] * 3

    def test_values_are_in_the_model_lineage_and_guarded(self, labelled: dict[str, Any]) -> None:
        cat, run = labelled["cat"], labelled["run"]
        features = {f["feature_name"]: f for f in cat.model["features"]}
        assert features["Quality"]["terms"] == ["ImageQuality"]
        assert features["BoundingBox"]["assets"] == ["BoundingBox"]
        value = cat.list_feature_values("Image", "Quality")[0]
        graph = cat.lineage(value.RID, direction="upstream")
        assert (run, value.RID, "generated") in graph.edges
        with pytest.raises(PermissionDenied, match="exe.add_features"):
            cat.insert(
                "Execution_Image_Quality",
                [{"Image": value.Image, "ImageQuality": "Good", "Execution": run}],
            )
        newest = cat.list_feature_values("Image", "Quality", selector=FeatureRecord.select_newest)
        assert len(newest) == 6

    def test_bag_of_subjects_carries_their_images_and_feature_values(
        self, labelled: dict[str, Any], tmp_path: Path
    ) -> None:
        cat = labelled["cat"]
        subjects = [r["RID"] for r in cat.get_table_as_dict("Subject")][:2]
        cat.add_dataset_element_type("Subject")
        ds = cat.create_dataset(["Complete"], description="two subjects")
        cat.add_dataset_members(ds, subjects)
        bag = cat.download_dataset_bag(DatasetSpec(ds), dest=tmp_path / "bags")
        images = bag.get_table_as_dataframe("Image")
        assert sorted(images["Subject"]) == sorted(subjects)
        assert all(Path(p).is_file() for p in images["Path"])
        assert {r.Image for r in bag.list_feature_values("Image", "Quality")} == set(images["RID"])
        assert len(bag.list_feature_values("Subject", "Health")) == 2
        assert bag.lookup_term("ImageQuality", "good").name == "Good"
        made = bag.restructure_assets(tmp_path / "out", asset_table="Image", group_by=["Quality"])
        assert sorted(p.parent.name for p in made.values()) == sorted(
            r.ImageQuality for r in bag.list_feature_values("Image", "Quality")
        )
        # the version is frozen: deleting a feature leaves its bag as it was
        assert cat.delete_feature("Image", "Quality") is True
        assert cat.delete_feature("Image", "Quality") is False
        again = cat.download_dataset_bag(DatasetSpec(ds), dest=tmp_path / "again")
        assert len(again.list_feature_values("Image", "Quality")) == 2

    def test_bad_feature_definitions_are_refused_whole(self, ml_instance: Catalog) -> None:
        feature_setup(ml_instance)
        before = ml_instance.list_tables()
        with pytest.raises(ValidationError) as err:
            ml_instance.create_feature(
                "Image", "Bad One", terms=["Image"], assets=["Subject"], optional=["Nope"]
            )
        text = str(err.value.problems)
        assert "not a vocabulary table" in text and "not a asset table" in text and "Nope" in text
        with pytest.raises(ValidationError, match="does not exist"):
            ml_instance.create_feature("Nope", "X")
        with pytest.raises(ValidationError, match="already exists"):
            ml_instance.create_feature("Image", "Quality", terms=["ImageQuality"])
        assert ml_instance.list_tables() == before
        with pytest.raises(NotFoundError, match="its features: BoundingBox, Quality"):
            ml_instance.lookup_feature("Image", "Nope")

    def test_bad_feature_values_stage_nothing(self, ml_instance: Catalog, tmp_path: Path) -> None:
        feature_setup(ml_instance)
        Quality = ml_instance.feature_record_class("Image", "Quality")
        Box = ml_instance.feature_record_class("Image", "BoundingBox")
        image = next(iter(ml_instance.get_table_as_dict("Image")))["RID"]
        wf = ml_instance.create_workflow(
            "labels", workflow_type="Annotation" if False else "Feature_Creation"
        )
        exe = ml_instance.create_execution(ExecutionConfiguration(workflow=wf))
        with pytest.raises(
            ValidationError, match="'Great' is not a term of vocabulary 'ImageQuality'"
        ):
            exe.add_features([Quality(Image=image, ImageQuality="Great")])
        loose = tmp_path / "box.txt"
        loose.write_text("x")
        with pytest.raises(ValidationError, match="not a file staged for 'BoundingBox'"):
            exe.add_features([Box(Image=image, BoundingBox=loose)])
        with pytest.raises(ValidationError, match="one feature per call"):
            exe.add_features(
                [Quality(Image=image, ImageQuality="Good"), Box(Image=image, BoundingBox="1-X")]
            )
        with pytest.raises(ValidationError, match="at least one"):
            exe.add_features([])
        exe.add_features([Quality(Image="NOPE-1", ImageQuality="Good")])
        with pytest.raises(ValidationError):
            exe.upload_execution_outputs()
        assert ml_instance.list_feature_values("Image", "Quality") == []

    # --- Dataset notebook --------------------------------------------------------------
    def test_dataset_notebook_and_versions_through_nesting(self, ml_instance: Catalog) -> None:
        ml_instance.add_dataset_element_type("Subject")
        ml_instance.add_dataset_element_type("Image")
        ml_instance.add_term("Dataset_Type", "DemoSet", description="A test dataset_table")
        ml_instance.add_term(
            "Dataset_Type",
            "Partitioned",
            description="A partitioned dataset_table for ML training.",
        )
        wf = ml_instance.create_workflow("API Workflow", workflow_type="Dataset_Management")
        dataset_execution = ml_instance.create_execution(
            ExecutionConfiguration(workflow=wf, description="Our Sample Workflow instance")
        )
        subject_dataset = dataset_execution.create_dataset(
            ["DemoSet"], description="A subject dataset_table"
        )
        image_rids = [i["RID"] for i in ml_instance.get_table_as_dict("Image")]
        subject_rids = [i["RID"] for i in ml_instance.get_table_as_dict("Subject")]
        ml_instance.add_dataset_members(dataset_rid=subject_dataset, members=subject_rids)
        dataset_bag = ml_instance.download_dataset_bag(
            DatasetSpec(
                rid=subject_dataset,
                version=ml_instance.dataset_version(subject_dataset),
                materialize=False,
            )
        )
        subject_df = dataset_bag.get_table_as_dataframe("Subject")[["RID", "Name"]]
        assert len(subject_df) == 6 and len(dataset_bag.get_table_as_dataframe("Image")) == 6
        nested_dataset = dataset_execution.create_dataset(
            ["Partitioned"], description="A nested dataset_table"
        )
        training_dataset = dataset_execution.create_dataset("Training", description="training")
        testing_dataset = dataset_execution.create_dataset("Testing", description="testing")
        ml_instance.add_dataset_members(
            dataset_rid=nested_dataset, members=[training_dataset, testing_dataset]
        )
        ml_instance.add_dataset_members(dataset_rid=training_dataset, members=image_rids[:4])
        ml_instance.add_dataset_members(dataset_rid=testing_dataset, members=image_rids[4:])
        assert ml_instance.list_dataset_parents(training_dataset) == [nested_dataset]
        assert ml_instance.list_dataset_children(nested_dataset) == sorted(
            [training_dataset, testing_dataset]
        )
        assert len(ml_instance.list_dataset_members(nested_dataset, recurse=True)["Image"]) == 6
        assert (
            len(ml_instance.list_dataset_members(nested_dataset, recurse=True, limit=2)["Image"])
            == 2
        )
        # the parent got a version for each change of a child: 0.2.0, 0.3.0, 0.4.0
        assert ml_instance.dataset_version(nested_dataset) == DatasetVersion(0, 4, 0)
        assert str(ml_instance.dataset_version(training_dataset)) == "0.2.0"
        next_version = ml_instance.increment_dataset_version(training_dataset, VersionPart.major)
        assert next_version == "1.0.0" and ml_instance.dataset_version(nested_dataset) == "1.0.0"
        assert ml_instance.dataset_version(testing_dataset) == "0.2.0"  # a sibling is unchanged
        entry = ml_instance.dataset_history(nested_dataset)[-1]
        assert (entry.dataset_rid, entry.dataset_version, entry.version_rid) == (
            nested_dataset,
            "1.0.0",
            entry.rid,
        )
        assert entry.execution_rid is None and DatasetVersion(0, 10, 0) > DatasetVersion(0, 9, 0)
        assert ml_instance.lookup_dataset(nested_dataset).current_version == "1.0.0"
        # cycles
        with pytest.raises(ValidationError, match=f"{training_dataset} -> {nested_dataset}"):
            ml_instance.add_dataset_members(training_dataset, [nested_dataset])
        # soft delete
        with pytest.raises(ConflictError, match="nested in"):
            ml_instance.delete_dataset(training_dataset)
        assert sorted(ml_instance.delete_dataset(nested_dataset, recurse=True)) == sorted(
            [nested_dataset, training_dataset, testing_dataset]
        )
        assert nested_dataset not in {d["RID"] for d in ml_instance.find_datasets()}
        assert nested_dataset in {d["RID"] for d in ml_instance.find_datasets(deleted=True)}
        assert len(ml_instance.list_dataset_members(training_dataset)["Image"]) == 4
        with pytest.raises(StateError, match="deleted"):
            ml_instance.add_dataset_members(training_dataset, image_rids[4:])

    def test_split_dataset(self, ml_instance: Catalog) -> None:
        ml_instance.add_dataset_element_type("Image")
        ds = ml_instance.create_dataset(["Complete"], description="all images")
        images = [r["RID"] for r in ml_instance.get_table_as_dict("Image")]
        ml_instance.add_dataset_members(ds, images)
        plan = ml_instance.split_dataset(ds, test_size=0.5, val_size=1, seed=3, dry_run=True)
        assert (plan.training.count, plan.testing.count, plan.validation.count) == (2, 3, 1)
        result = ml_instance.split_dataset(ds, test_size=0.5, val_size=1, seed=3)
        children = ml_instance.list_dataset_children(result.split.rid)
        assert sorted(children) == sorted(
            [result.training.rid, result.testing.rid, result.validation.rid]
        )
        parts = [
            ml_instance.list_dataset_members(p.rid)["Image"]
            for p in (result.training, result.testing, result.validation)
        ]
        assert sorted(r["RID"] for part in parts for r in part) == sorted(images)
        again = ml_instance.split_dataset(ds, test_size=0.5, val_size=1, seed=3)
        assert [r["RID"] for r in ml_instance.list_dataset_members(again.testing.rid)["Image"]] == [
            r["RID"] for r in parts[1]
        ]
        with pytest.raises(ValidationError, match="exceed"):
            ml_instance.split_dataset(ds, test_size=4, train_size=4)
        size = ml_instance.estimate_bag_size(ds)
        assert size["tables"]["Image"]["row_count"] == 6 and size["total_asset_bytes"] > 0
