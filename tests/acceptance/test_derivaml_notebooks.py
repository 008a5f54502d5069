"""DerivaML's notebooks and user guide (classic API, v1.14-v1.30) for executions, data
paths, the model, look-ups and vocabularies, as tests on SQLite, PostgreSQL and through
a server: only the import (``assetry.compat.derivaml`` for ``deriva_ml``) and the
connection (a catalog fixture for ``DerivaML(hostname, catalog_id)``) are changed.
Where a line differs otherwise, a comment says why."""

from __future__ import annotations

import builtins
from pathlib import Path

import pandas as pd
import pytest

from assetry import Catalog, NotFoundError, StateError, ValidationError
from assetry.compat.derivaml import (
    BuiltinTypes,
    ColumnDefinition,
    DerivaMLException,
    DerivaSystemColumns,
    ExecAssetType,
    ExecutionConfiguration,
    ForeignKeyDefinition,
    MLAsset,
    MLVocab,
    Status,
    TableDefinition,
)


@pytest.fixture(params=["sqlite", "postgres", "remote"])
def ml_instance(request: pytest.FixtureRequest) -> Catalog:
    """The connection: DerivaML(hostname, catalog_id) becomes a catalog on each backend."""
    cat: Catalog = request.getfixturevalue(f"{request.param}_catalog")
    return cat


def model_file_workflow(ml_instance: Catalog) -> object:
    ml_instance.add_term(
        MLVocab.workflow_type,
        "Execution Notebook",
        description="Notebook for demonstrating executions",
    )
    ml_instance.add_term(MLVocab.asset_type, "API_Model", description="Model for our API workflow")
    return ml_instance.create_workflow(
        name="Execution Notebook Workflow",
        workflow_type="Execution Notebook",
        description="Demonstration notebook",
        url="https://github.com/example/notebooks/blob/main/execution.ipynb",
        checksum="abc123",
    )  # url and checksum given: a test is no notebook in a git repository


def test_execution_notebook(ml_instance: Catalog) -> None:
    api_workflow = model_file_workflow(ml_instance)
    notebook_execution = ml_instance.create_execution(
        ExecutionConfiguration(description="Sample Execution", workflow=api_workflow)
    )

    # Now lets create model configuration for our program.
    model_file = notebook_execution.asset_file_path(
        "Execution_Asset", "modelfile.txt", asset_types="API_Model"
    )
    with builtins.open(model_file, "w") as fp:
        fp.write("My model")

    # Now upload the file and retrieve the RID of the new asset from the returned results.
    uploaded_assets = notebook_execution.upload_execution_outputs()
    training_model_rid = [
        a.asset_rid
        for a in uploaded_assets["deriva-ml/Execution_Asset"]
        if "API_Model" in a.asset_types
    ][0]
    assert ml_instance.retrieve_rid(training_model_rid)["Filename"] == "modelfile.txt"
    assert notebook_execution.status == Status.completed  # upload outside `with` ends the run

    ml_instance.add_term(
        MLVocab.workflow_type, "ML Demo", description="A ML Workflow that uses Deriva ML API"
    )
    config = ExecutionConfiguration(
        assets=[training_model_rid],
        description="Notebook ML Execution",
        workflow=api_workflow,
    )  # datasets=[DatasetSpec(...)] left out: the demo catalog's datasets are not made here
    ml_execution = ml_instance.create_execution(config)
    [model_path] = ml_execution.asset_paths[
        "Execution_Asset"
    ]  # the notebook's asset_paths[0] fails in DerivaML too (a dict)
    assert model_path.asset_rid == training_model_rid and "API_Model" in model_path.asset_types

    with ml_execution.execute() as deriva_exec:
        assert deriva_exec is ml_execution and ml_execution.status == "Running"
        with open(model_path) as model_file_in:
            training_model = model_file_in.read()
        assert training_model == "My model"
        # Write a new model (the notebook's asset_path is asset_file_path in v1.14+)
        new_model = ml_execution.asset_file_path(
            "Execution_Asset", "modelfile.txt", asset_types=ExecAssetType.model_file
        )
        with open(new_model, "w") as f:
            f.write("Hello there a new model;\n")
    upload_status = ml_execution.upload_execution_outputs()
    assert [a.asset_types for a in upload_status[MLAsset.execution_asset]] == [["Model_File"]]

    # Get datapath to the ML schema.
    schema_path = ml_instance.pathBuilder.schemas[ml_instance.ml_schema]
    executions = schema_path.Execution.filter(
        schema_path.Execution.RID == ml_execution.execution_rid
    )
    execution_info = list(executions.entities().fetch())[0]
    assert execution_info["Status"] == "Completed"
    # To get the assets for the execution, we need to go through the linking table to the assets.
    asset_path = executions.link(schema_path.Execution_Asset_Execution).link(
        schema_path.Execution_Asset
    )
    frame = pd.DataFrame(asset_path.entities().fetch()).drop(columns=DerivaSystemColumns + ["MD5"])
    assert sorted(frame["Filename"]) == ["modelfile.txt", "modelfile.txt"]  # input and output
    assert (
        asset_path.filter(schema_path.Execution_Asset_Execution.Asset_Role == "Output")
        .entities()
        .fetch()[0]["RID"]
        != training_model_rid
    )


def test_vocabulary_notebook(ml_instance: Catalog) -> None:
    assert {"Asset_Type", "Workflow_Type", "Dataset_Type"} <= {
        t.name for t in ml_instance.find_vocabularies()
    }
    frame = pd.DataFrame(
        [v.model_dump() for v in ml_instance.list_vocabulary_terms(MLVocab.asset_type)]
    )
    assert {"name", "description", "synonyms", "id", "uri", "rid"} <= set(frame.columns)
    # "My term set" in the notebook: vocabulary names are SQL identifiers here (API.md §2)
    with pytest.raises(ValidationError, match="My term set"):
        ml_instance.create_vocabulary("My term set", comment="Terms to use for generating tests")
    ml_instance.create_vocabulary("My_term_set", comment="Terms to use for generating tests")
    for i in range(5):
        ml_instance.add_term(
            "My_term_set", f"Term{i}", description=f"My term {i}", synonyms=[f"t{i}", f"T{i}"]
        )
    terms = pd.DataFrame([v.model_dump() for v in ml_instance.list_vocabulary_terms("My_term_set")])
    assert list(terms["name"]) == [f"Term{i}" for i in range(5)]
    assert ml_instance.lookup_term("My_term_set", "Term0").name == "Term0"
    assert ml_instance.lookup_term("My_term_set", "T3").name == "Term3"
    # add_term on an existing term adds the synonyms it was given
    again = ml_instance.add_term("My_term_set", "term1", synonyms=["first", "t1"], exists_ok=True)
    assert again.name == "Term1" and again.synonyms == ["t1", "first"]
    assert ml_instance.lookup_term("My_term_set", "FIRST").name == "Term1"


def test_model_helpers_and_lookups(ml_instance: Catalog, tmp_path: Path) -> None:
    ml_instance.create_vocabulary("Species")
    ml_instance.create_table(
        TableDefinition(
            name="Subject", column_defs=[ColumnDefinition(name="Name", type=BuiltinTypes.text)]
        )
    )
    ml_instance.create_table(
        TableDefinition(
            name="Sample",
            column_defs=[
                ColumnDefinition(name="Name", type=BuiltinTypes.text, nullok=False),
                ColumnDefinition(name="Subject", type=BuiltinTypes.text),
                ColumnDefinition(name="Color", type=BuiltinTypes.color_rgb_hex),
            ],
            fkey_defs=[
                ForeignKeyDefinition(
                    colnames=["Subject"],
                    pk_sname=ml_instance.domain_schema,
                    pk_tname="Subject",
                    pk_colnames=["RID"],
                )
            ],
            comment="Biological samples collected from subjects",
        )
    )
    ml_instance.create_asset(
        "Image",
        column_defs=[ColumnDefinition("Width", BuiltinTypes.int4)],
        referenced_tables=["Sample"],
    )
    model = ml_instance.model
    assert isinstance(model, dict) and model["tables"]  # still the JSON model document
    assert model.is_asset("Image") and not model.is_asset("Sample")
    assert model.is_vocabulary("Species") and model.is_vocabulary(MLVocab.asset_type)
    assert "Image" in [t.name for t in model.find_assets()]
    assert [t.name for t in model.find_assets(with_metadata=True)] == ["Image"]
    assert model.asset_metadata("Image") == {"Width", "Sample"}
    subject = (
        ml_instance.pathBuilder()
        .schemas[ml_instance.domain_schema]
        .Subject.insert([{"Name": "S1"}])[0]["RID"]
    )
    [sample] = ml_instance.domain_path.tables["Sample"].insert(
        [{"Name": "A", "Subject": subject, "Color": "#ff0000"}]
    )
    assert sample["Subject"] == subject

    workflow = model_file_workflow(ml_instance)
    assert [w.rid for w in ml_instance.find_workflows()] == [workflow.rid]  # type: ignore[attr-defined]
    url = "https://github.com/example/notebooks/blob/main/execution.ipynb"
    assert ml_instance.lookup_workflow(url).rid == workflow.rid  # type: ignore[attr-defined]
    assert ml_instance.lookup_workflow(workflow.rid.lower()).name == "Execution Notebook Workflow"  # type: ignore[attr-defined]
    with pytest.raises(NotFoundError, match=r"'https://example.org/Nope\.py'"):  # the URL as given
        ml_instance.lookup_workflow("https://example.org/Nope.py")

    exe = ml_instance.create_execution(
        ExecutionConfiguration(workflow=workflow, description="imaging")
    )
    image = exe.asset_file_path("Image", "a.png", metadata={"Width": 3, "Sample": sample["RID"]})
    image.write_bytes(b"png")
    assert image.asset_table == "Image" and image.asset_types == ["Image"]
    image.set_asset_types([MLAsset.execution_asset, "Image"])
    image.set_metadata({"Width": 4, "Sample": sample["RID"]})
    with pytest.raises(ValidationError, match="Width"):
        image.set_metadata(Width="wide")
    [asset] = exe.upload_execution_outputs()["Image"]
    found = ml_instance.lookup_asset(asset.asset_rid)
    assert (found.asset_table, found["Width"], sorted(found.asset_types)) == (
        "Image",
        4,
        ["Execution_Asset", "Image"],
    )
    assert found.metadata == {"Width": 4, "Sample": sample["RID"]}
    assert [
        e.execution_rid
        for e in ml_instance.find_executions(workflow=workflow, status=Status.completed)
    ] == [exe.execution_rid]
    assert [
        e.execution_rid for e in ml_instance.find_executions(workflow_type="Execution Notebook")
    ] == [exe.execution_rid]
    assert ml_instance.find_executions(status="Running") == []

    reader = ml_instance.create_execution(ExecutionConfiguration(workflow=workflow))
    with reader.execute():
        got = reader.download_asset(asset.asset_rid, tmp_path / "in")
        assert got.read_bytes() == b"png" and got.asset_rid == asset.asset_rid
        reader.update_status(Status.completed, "done early")  # not an error when the block ends
    assert reader.status == "Completed"
    inputs = ml_instance.list_execution_assets(reader.execution_rid, role="Input")
    assert asset.asset_rid in {a["RID"] for a in inputs}


def test_dry_runs_record_nothing(ml_instance: Catalog) -> None:
    workflow = model_file_workflow(ml_instance)
    before = ml_instance.snapshot()
    exe = ml_instance.create_execution(ExecutionConfiguration(workflow=workflow), dry_run=True)
    assert exe.execution_rid == "0000"
    with exe.execute():
        out = exe.asset_file_path("Execution_Asset", "model.txt", asset_types="API_Model")
        out.write_text("weights")
        with pytest.raises(ValidationError):
            exe.asset_file_path("Execution_Asset", "x.txt", asset_types="No_Such_Type")
    assert exe.status == "Completed" and exe.upload_execution_outputs() == {}
    again = ml_instance.create_execution(ExecutionConfiguration(workflow=workflow, dry_run=True))
    assert again.dry_run
    assert ml_instance.snapshot() == before and ml_instance.list_executions() == []


def test_restore_without_a_rid(ml_instance: Catalog) -> None:
    workflow = model_file_workflow(ml_instance)
    with pytest.raises(NotFoundError, match="no unfinished execution"):
        ml_instance.restore_execution()
    first = ml_instance.create_execution(ExecutionConfiguration(workflow=workflow))
    first.asset_file_path("Execution_Asset", "a.txt").write_text("a")
    assert ml_instance.restore_execution().execution_rid == first.execution_rid
    second = ml_instance.create_execution(ExecutionConfiguration(workflow=workflow))
    with pytest.raises(
        ValidationError, match=rf"2 unfinished executions.*{first.rid}.*{second.rid}"
    ):
        ml_instance.restore_execution()
    second.upload_execution_outputs()
    restored = ml_instance.restore_execution()
    assert restored.execution_rid == first.execution_rid
    [made] = restored.upload_execution_outputs()["Execution_Asset"]
    assert made.filename == "a.txt"


def test_imports_and_errors(ml_instance: Catalog) -> None:
    assert issubclass(StateError, DerivaMLException) and issubclass(
        NotFoundError, DerivaMLException
    )
    with pytest.raises(DerivaMLException):
        ml_instance.lookup_term(MLVocab.dataset_type, "No such type")
    s = ml_instance.pathBuilder.schemas[ml_instance.ml_schema].Dataset
    with pytest.raises(
        ValidationError, match=r"table 'Dataset' has no column 'Nope'; its columns: RID"
    ):
        _ = s.Nope
