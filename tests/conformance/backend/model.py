"""Model changes: tables of every kind and columns added at run time, as each database
builds them (DDL, identifier limits and namespaces), seen by other catalog objects and
applied from model documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assetry import BuiltinType, Catalog, ColumnDef, TableDef, ValidationError
from assetry.sql import model, names
from tests.conftest import NewCatalog
from tests.helpers import catalog_state, refused, rid_of, subject_image_model

TABLE_MAKERS = {
    "create_vocabulary": lambda cat, name: cat.create_vocabulary(name),
    "create_table": lambda cat, name: cat.create_table(TableDef(name)),
    "create_asset": lambda cat, name: cat.create_asset(name),
}


def table_doc(cat: Catalog, name: str) -> dict:
    [doc] = [t for t in cat.model["tables"] if t["name"] == name]
    return doc


def tables(cat: Catalog) -> set[str]:
    return set(cat.list_tables())


class AbstractModelTests:
    def test_tables_of_every_kind(self, catalog: Catalog) -> None:
        subject_image_model(catalog)
        assert catalog.list_tables("table") == ["Subject"]
        assert catalog.list_tables("asset") == [
            "Execution_Metadata", "Execution_Asset", "Artifact_File", "Image",
        ]  # fmt: skip
        assert "Species" in catalog.list_tables("vocabulary")
        assert {"Image_Asset_Type", "Image_Execution"} <= set(catalog.list_tables("association"))

        image = table_doc(catalog, "Image")
        names = [c["name"] for c in image["columns"]]
        assert names == [
            "RID", "RCT", "RMT", "RCB", "RMB",
            "URL", "Filename", "Length", "MD5", "SHA256", "Description",
            "Width", "Subject",
        ]  # fmt: skip
        assert image["schema"] == "domain"
        assert {"column": "Subject", "table": "Subject", "referenced_column": "RID"} in image[
            "foreign_keys"
        ]
        subject = table_doc(catalog, "Subject")
        assert {"column": "Species", "table": "Species", "referenced_column": "Name"} in subject[
            "foreign_keys"
        ]
        link = table_doc(catalog, "Image_Execution")
        assert {fk["table"] for fk in link["foreign_keys"]} == {"Image", "Execution", "Asset_Role"}
        assert catalog.lookup_term("Asset_Type", "Image").name == "Image"

    def test_add_column(self, catalog: Catalog) -> None:
        subject_image_model(catalog)
        rid = catalog.insert("Subject", [{"Name": "S1"}])[0]
        catalog.add_column("Subject", ColumnDef("Weight", BuiltinType.float8))
        catalog.add_column("Subject", ColumnDef("Cohort", "text", nullok=False, default="A"))
        catalog.update("Subject", [{"RID": rid, "Weight": 21.5}])
        [row] = catalog.get_table_as_dict("Subject")
        assert row["Weight"] == 21.5
        assert row["Cohort"] == "A"
        with pytest.raises(ValidationError, match="has rows"):
            catalog.add_column("Subject", ColumnDef("Strict", "int4", nullok=False))
        # An empty table accepts a NOT NULL column without a default.
        catalog.add_column("Image", ColumnDef("Height", "int4", nullok=False))
        with pytest.raises(ValidationError, match="Height"):
            catalog.insert(
                "Image", [{"URL": "u", "Length": 1, "MD5": "m", "SHA256": "s", "Subject": rid}]
            )

    def test_apply_model_is_idempotent_and_recreates_a_model(
        self, catalog: Catalog, new_catalog: NewCatalog, tmp_path: Path
    ) -> None:
        subject_image_model(catalog)
        catalog.add_column("Subject", ColumnDef("Weight", "float8"))
        before = catalog.model
        snapshot = catalog.snapshot()
        assert catalog.apply_model(before) == []
        assert catalog.snapshot() == snapshot
        assert catalog.model == before

        other = new_catalog(tmp_path / "other")
        changed = other.apply_model(json.loads(json.dumps(before)))
        assert {"Species", "Subject", "Image"} <= set(changed)
        assert other.model["tables"] == before["tables"]
        assert other.apply_model(before) == []
        other.close()

    def test_apply_model_adds_missing_columns(self, catalog: Catalog) -> None:
        subject_image_model(catalog)
        doc = catalog.model
        for table in doc["tables"]:
            if table["name"] == "Subject":
                table["columns"].append({"name": "Sex", "type": "text", "nullok": True})
        assert catalog.apply_model(doc) == ["Subject.Sex"]
        assert "Sex" in [c["name"] for c in table_doc(catalog, "Subject")["columns"]]

    def test_model_change_is_seen_by_another_catalog_object(self, catalog: Catalog) -> None:
        other = Catalog(catalog.location)
        other.list_tables()  # warm its model cache
        catalog.create_table(TableDef("Late", column_defs=[ColumnDef("X", "int4")]))
        other.insert("Late", [{"X": 1}])
        assert [r["X"] for r in other.get_table_as_dict("Late")] == [1]
        other.close()

    # --- names, as each database spells and limits them ----------------------------------

    def test_table_name_equal_ignoring_case_to_an_existing_table(self, stocked: Catalog) -> None:
        before = catalog_state(stocked)
        for name in ["subject", "SUBJECT", "species", "execution", "ASSET_TYPE", "dataset_version"]:
            existing = next(t for t in stocked.list_tables() if t.lower() == name.lower())
            for label, operation in TABLE_MAKERS.items():
                err = refused(
                    f"{label}({name!r})",
                    lambda n=name, op=operation: op(stocked, n),
                    ValidationError,
                )
                assert existing in str(err), (label, str(err))
        assert catalog_state(stocked) == before

    def test_names_whose_derived_names_are_too_long(self, stocked: Catalog) -> None:
        before = catalog_state(stocked)
        for length, derived in [(53, "_Asset_Type"), (55, "_Execution"), (60, "_Execution")]:
            name = "A" * length
            err = refused(name, lambda n=name: stocked.create_asset(n), ValidationError)
            assert name + derived in str(err) and "63" in str(err), str(err)
        # Dataset_<T>, made when T becomes a dataset element type, must fit too (constraint
        # and index names are shortened to fit, so they never refuse a name)
        vocabulary = "V" * 60
        err = refused(vocabulary, lambda: stocked.create_vocabulary(vocabulary), ValidationError)
        assert f"Dataset_{vocabulary}" in str(err) and "63" in str(err), str(err)
        for length in (56, 63):
            name = "R" * length
            err = refused(
                name,
                lambda n=name: stocked.create_table(TableDef(n, referenced_tables=["Species"])),
                ValidationError,
            )
            assert name in str(err) and "63" in str(err), str(err)
        assert catalog_state(stocked) == before

    def test_names_that_fit_are_accepted(self, stocked: Catalog) -> None:
        column = "c" * 63
        stocked.add_column("Subject", ColumnDef(column, BuiltinType.int4))
        rid = rid_of(stocked, "Subject")
        stocked.update("Subject", [{"RID": rid, column: 5}])
        assert stocked.resolve_rid(rid).row[column] == 5
        for name in ["Segmentation_Mask", "Microscopy_Image_Tile"]:
            assert stocked.create_asset(name) == name
            assert {name, f"{name}_Asset_Type", f"{name}_Execution"} <= set(stocked.list_tables())
        referenced = "R" * 55  # Dataset_<T> must fit 63 bytes too
        stocked.create_table(TableDef(referenced, referenced_tables=["Species"]))
        stocked.create_table(TableDef("Referrer", referenced_tables=[referenced]))
        assert "Referrer" in stocked.list_tables(kind="table")
        assert stocked.add_dataset_element_type(referenced) == f"Dataset_{referenced}"

    def test_a_table_accepted_can_become_a_dataset_element_type(self, catalog: Catalog) -> None:
        catalog.create_vocabulary("Species")
        for name, refs in (("T" * 48, []), ("R" * 55, ["Species"]), ("V" * 41, [])):
            catalog.create_table(TableDef(name, referenced_tables=refs))
            assert catalog.add_dataset_element_type(name) == f"Dataset_{name}"
        catalog.create_asset("A" * 52)
        catalog.add_dataset_element_type("A" * 52)
        ds = catalog.create_dataset([], description="long names")
        [rid] = catalog.insert("T" * 48, [{}])
        catalog.add_dataset_members(ds, [rid])
        members = catalog.list_dataset_members(ds)
        assert [m["RID"] for m in members["T" * 48]] == [rid]

    def test_derived_names_match_what_is_created(self, catalog: Catalog) -> None:
        """The names checked at creation are the names the element type really takes, and
        no ``Dataset_<association>`` name is checked (association tables never become
        element types)."""
        name = "E" * 50
        catalog.create_table(TableDef(name))
        catalog.add_dataset_element_type(name)
        doc = {t["name"]: t for t in catalog.model["tables"]}
        created = model.TableModel.from_doc(doc[f"Dataset_{name}"])
        assert model.identifiers(created) == model.identifiers(model.dataset_link_model(name))
        assert all(
            len(n.encode()) <= names.MAX_IDENTIFIER_BYTES for n in model.identifiers(created)
        )
        with pytest.raises(ValidationError, match="association"):
            catalog.add_dataset_element_type(f"Dataset_{name}")

    def test_names_taken_by_indexes_are_refused(self, catalog: Catalog) -> None:
        subject_image_model(catalog)
        before = tables(catalog)
        for taken in ("Subject_Species_idx", "subject_pkey"):
            with pytest.raises(ValidationError, match="taken by") as err:
                catalog.create_table(TableDef(taken))
            assert "catalog write failed" not in str(err.value)
        assert tables(catalog) == before
