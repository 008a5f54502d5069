"""Datasets: element types, members, nesting, versions frozen at their snapshot."""

from __future__ import annotations

import functools

import pytest

from assetry import (
    Catalog,
    ColumnDef,
    Dataset,
    DatasetSpec,
    RIDNotFound,
    ValidationError,
)
from tests.conftest import BuildCatalog
from tests.helpers import subject_image_model


@pytest.fixture
def cat(built_catalog: BuildCatalog) -> Catalog:
    model = functools.partial(
        subject_image_model,
        subject_columns=[ColumnDef("Name", "text")],
        image_columns=[],
        element_types=["Subject", "Image"],
    )
    return built_catalog(model)[0]


def subjects(cat: Catalog, n: int) -> list[str]:
    return cat.insert("Subject", [{"Name": f"S{i}", "Species": "mouse"} for i in range(n)])


def rids_by_table(members: dict) -> dict[str, list[str]]:
    return {table: [r["RID"] for r in found] for table, found in members.items()}


def test_create_records_the_first_version(cat: Catalog) -> None:
    ds = cat.create_dataset(["training", "Labeled"], description="first")
    [v] = cat.dataset_history(ds)
    assert (v.version, v.description, v.dataset) == ("0.1.0", "first", ds)
    assert v.snapshot == cat.snapshot()
    [found] = cat.find_datasets("Training")
    assert found["RID"] == ds and found["Version"] == "0.1.0"
    assert found["Dataset_Type"] == ["Labeled", "Training"]
    assert cat.find_datasets("Testing") == []
    other = cat.create_dataset(version="1.0.0")
    assert cat.dataset_history(other)[0].version == "1.0.0"


def test_lookup_dataset_object(cat: Catalog) -> None:
    s = subjects(cat, 2)
    dataset = cat.lookup_dataset(cat.create_dataset("Training", description="d").lower())
    assert isinstance(dataset, Dataset)
    assert dataset.add_dataset_members(members=s) == "0.2.0"
    assert dataset.version == "0.2.0"
    assert dataset.description == "d"
    assert dataset.dataset_types == ["Training"]
    assert len(dataset.list_dataset_members()["Subject"]) == 2
    assert dataset.increment_dataset_version("minor") == "0.3.0"
    assert [v.version for v in dataset.dataset_history()][-1] == "0.3.0"


def test_derivaml_names_and_argument_order(cat: Catalog) -> None:
    s = subjects(cat, 3)
    ds = cat.create_dataset("Training", description="d")
    dataset = cat.lookup_dataset(rid=ds)
    assert dataset.dataset_rid == dataset.rid == ds
    assert cat.lookup_dataset(DatasetSpec(ds)).rid == ds
    assert cat.lookup_dataset(dataset=DatasetSpec(ds, version="0.1.0")).rid == ds
    # DerivaML's order: members, validate, description, execution_rid.
    assert dataset.add_dataset_members([s[0]], True, "first") == "0.2.0"
    assert cat.add_dataset_members(ds, [s[1]], validate=False, description="second") == "0.3.0"
    assert [v.description for v in cat.dataset_history(ds)][-2:] == ["first", "second"]
    # A description where validate now stands is refused, not taken for an execution.
    before = cat.snapshot()
    with pytest.raises(ValidationError, match="validate must be True or False, got 'why'"):
        dataset.add_dataset_members([s[2]], "why")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="one dataset: rid= or dataset="):
        cat.lookup_dataset()
    assert cat.snapshot() == before


def test_dataset_bad_input(cat: Catalog) -> None:
    s = subjects(cat, 1)
    ds = cat.create_dataset("Training")
    before = cat.snapshot()
    cat.create_vocabulary("Color")
    [term] = cat.insert("Color", [{"Name": "red"}])
    after_setup = cat.snapshot()
    with pytest.raises(ValidationError, match="not a dataset element type"):
        cat.add_dataset_members(ds, [term])
    with pytest.raises(RIDNotFound):
        cat.add_dataset_members(ds, ["ZZZZZZZZ-1"])
    with pytest.raises(ValidationError, match="member of itself"):
        cat.add_dataset_members(ds, [ds])
    with pytest.raises(ValidationError, match="no version '9.9.9'"):
        cat.list_dataset_members(ds, version="9.9.9")
    with pytest.raises(ValidationError, match="not a version"):
        cat.list_dataset_members(ds, version="latest")
    with pytest.raises(ValidationError, match="not a Dataset"):
        cat.list_dataset_members(s[0])
    with pytest.raises(ValidationError, match="Dataset_Type"):
        cat.create_dataset(["Nonsense"])
    with pytest.raises(ValidationError, match="not a version"):
        cat.create_dataset(version="1.0")
    with pytest.raises(ValidationError, match="component"):
        cat.increment_dataset_version(ds, "huge")
    with pytest.raises(ValidationError):
        cat.add_dataset_element_type("Dataset")
    assert cat.snapshot() == after_setup and after_setup > before
    assert [v.version for v in cat.dataset_history(ds)] == ["0.1.0"]


def test_element_type_is_idempotent_and_checked(cat: Catalog) -> None:
    assert cat.add_dataset_element_type("Subject") == "Dataset_Subject"
    assert set(cat.list_dataset_element_types()) == {"Image", "Subject"}
    with pytest.raises(ValidationError):
        cat.add_dataset_element_type("Image_Execution")
