"""Vocabularies (API.md §4) through the public API only, on every database engine."""

from __future__ import annotations

import pytest

from assetry import (
    BuiltinType,
    BuiltinTypes,
    Catalog,
    ColumnDef,
    ColumnDefinition,
    ConflictError,
    NotFoundError,
    TableDef,
    TableNotFound,
    Term,
    TermNotFound,
    ValidationError,
)
from tests.conftest import BuildCatalog
from tests.helpers import catalog_state, refused, species_model, stored_file

BUILTIN_VOCABULARIES = {
    "Asset_Role": ["Input", "Output"],
    "Execution_Status": ["Created", "Running", "Completed", "Failed", "Aborted"],
    "Upload_Status": ["Not_Started", "Pending", "Uploaded", "Failed"],
    "Workflow_Type": [
        "Training",
        "Testing",
        "Prediction",
        "Feature_Creation",
        "Visualization",
        "Analysis",
        "Ingest",
        "Data_Cleaning",
        "Dataset_Management",
        "Register",
    ],
    "Dataset_Type": [
        "Complete",
        "File",
        "Directory",
        "Training",
        "Testing",
        "Validation",
        "Split",
        "Labeled",
        "Unlabeled",
    ],
    "Asset_Type": [
        "Execution_Config",
        "Runtime_Env",
        "Execution_Metadata",
        "Execution_Asset",
        "Metrics_File",
        "Model_File",
        "Input_File",
        "Output_File",
        "Artifact_File",
    ],
    "Artifact_Type": [
        "Model",
        "Checkpoint",
        "Weights",
        "Dataset",
        "Sample",
        "Image",
        "Audio",
        "Video",
        "Visualization",
        "Report",
        "Config",
        "Code",
        "Custom",
        "Metrics",
        "Feature_Set",
    ],  # fmt: skip
    "Feature_Name": [],
}


def names(terms: list[Term]) -> list[str]:
    return sorted(t.name for t in terms)


@pytest.fixture
def species(built_catalog: BuildCatalog) -> Catalog:
    """A catalog holding ``species_model``."""
    cat, _ = built_catalog(species_model)
    return cat


# --- built-in vocabularies -------------------------------------------------------------


def test_builtin_vocabularies_exist(catalog: Catalog) -> None:
    vocabularies = catalog.list_tables(kind="vocabulary")
    assert sorted(vocabularies) == sorted(BUILTIN_VOCABULARIES)
    for name in BUILTIN_VOCABULARIES:
        assert name not in catalog.list_tables(kind="table")


def test_builtin_vocabularies_are_seeded_with_exactly_their_terms(catalog: Catalog) -> None:
    for vocabulary, expected in BUILTIN_VOCABULARIES.items():
        terms = catalog.list_vocabulary_terms(vocabulary)
        assert names(terms) == sorted(expected), vocabulary
        for term in terms:
            assert isinstance(term, Term)
            assert term.rid and term.id and term.uri
            assert catalog.lookup_term(vocabulary, term.name.upper()) == term


# --- create_vocabulary -----------------------------------------------------------------


def test_create_vocabulary(catalog: Catalog) -> None:
    before = catalog.snapshot()
    assert catalog.create_vocabulary("Species", comment="Kinds of animals") == "Species"
    assert "Species" in catalog.list_tables(kind="vocabulary")
    assert catalog.list_vocabulary_terms("Species") == []
    [table] = [t for t in catalog.model["tables"] if t["name"] == "Species"]
    assert table["kind"] == "vocabulary"
    assert table["comment"] == "Kinds of animals"
    columns = [c["name"] for c in table["columns"]]
    for column in ("RID", "RCT", "RMT", "RCB", "RMB", "Name", "Description", "Synonyms", "ID"):
        assert column in columns
    assert "URI" in columns
    assert catalog.snapshot() > before


# --- add_term --------------------------------------------------------------------------


def test_add_term_positional(catalog: Catalog) -> None:
    catalog.create_vocabulary("Species")
    term = catalog.add_term("Species", "Mouse", "A small rodent", ["mus", "house mouse"])
    assert isinstance(term, Term)
    assert term.name == "Mouse"
    assert term.description == "A small rodent"
    assert term.synonyms == ["mus", "house mouse"]
    assert catalog.lookup_term("Species", "Mouse") == term


def test_add_term_derivaml_keywords(catalog: Catalog) -> None:
    term = catalog.add_term(
        table="Asset_Type",
        term_name="Segmentation_Mask",
        description="A mask",
        synonyms=["mask"],
        exists_ok=True,
    )
    assert (term.name, term.description, term.synonyms) == (
        "Segmentation_Mask",
        "A mask",
        ["mask"],
    )
    assert catalog.lookup_term("Asset_Type", "MASK") == term
    assert "Segmentation_Mask" in names(catalog.list_vocabulary_terms("Asset_Type"))


def test_add_term_without_description_or_synonyms(catalog: Catalog) -> None:
    catalog.create_vocabulary("Species")
    term = catalog.add_term("Species", "Rat")
    assert term.name == "Rat"
    assert term.description is None
    assert term.synonyms == []


def test_term_identifiers(species: Catalog) -> None:
    mouse = species.lookup_term("Species", "Mouse")
    rat = species.lookup_term("Species", "Rat")
    input_role = species.lookup_term("Asset_Role", "Input")
    for term in (mouse, rat, input_role):
        prefix, sep, rid = term.id.partition(":")
        assert sep == ":" and prefix, term.id
        assert rid == term.rid
        assert isinstance(term.uri, str) and term.uri
    # one catalog prefix for every CURIE of the catalog
    assert len({t.id.partition(":")[0] for t in (mouse, rat, input_role)}) == 1
    assert len({mouse.rid, rat.rid, input_role.rid}) == 3
    assert len({mouse.uri, rat.uri, input_role.uri}) == 3
    resolved = species.resolve_rid(mouse.rid)
    assert resolved.table == "Species"
    assert resolved.row["Name"] == "Mouse"
    assert resolved.row["ID"] == mouse.id
    assert resolved.row["URI"] == mouse.uri


def test_add_term_changes_the_snapshot(species: Catalog) -> None:
    before = species.snapshot()
    species.add_term("Species", "Zebrafish")
    assert species.snapshot() > before


def test_add_term_with_synonym_of_another_term_is_conflict(species: Catalog) -> None:
    before = catalog_state(species)
    for synonym in ["mus", "MUS", "Mouse", "rat", "RATTUS"]:
        err = refused(
            synonym,
            lambda s=synonym: species.add_term("Species", "Hamster", synonyms=["cricetinae", s]),
            ConflictError,
        )
        assert synonym in str(err)
    assert catalog_state(species) == before
    with pytest.raises(TermNotFound):
        species.lookup_term("Species", "Hamster")


def test_add_term_with_unusable_name_is_validation_error(species: Catalog) -> None:
    before = catalog_state(species)
    for bad in ["", "   ", " Mouse2", "Mouse2 ", "two\nlines", "tab\there", "nul\x00", 5, None]:
        err = refused(repr(bad), lambda b=bad: species.add_term("Species", b), ValidationError)
        assert "term name" in str(err)
    assert catalog_state(species) == before


def test_add_term_with_unusable_synonym_is_validation_error(species: Catalog) -> None:
    before = catalog_state(species)
    for bad in ["", " padded ", "a\nb", 7]:
        err = refused(
            repr(bad),
            lambda b=bad: species.add_term("Species", "Hamster", synonyms=["ok", b]),
            ValidationError,
        )
        assert "synonym" in str(err)
    assert catalog_state(species) == before


def test_add_term_to_unknown_vocabulary(catalog: Catalog) -> None:
    with pytest.raises(TableNotFound, match="Nope"):
        catalog.add_term("Nope", "Term")


def test_add_term_to_a_table_that_is_not_a_vocabulary(species: Catalog) -> None:
    before = catalog_state(species)
    with pytest.raises(ValidationError, match="Subject"):
        species.add_term("Subject", "Term")
    assert catalog_state(species) == before


# --- lookup_term and list_vocabulary_terms ----------------------------------------------


def test_lookup_term_derivaml_keywords(species: Catalog) -> None:
    assert species.lookup_term(table="Species", term_name="RATTUS").name == "Rat"


def test_lookup_unknown_term_is_term_not_found(species: Catalog) -> None:
    for spelling in ["Dog", "mou", "Mouse ", "Rat;", "Output"]:
        err = refused(spelling, lambda s=spelling: species.lookup_term("Species", s), TermNotFound)
        assert isinstance(err, NotFoundError)
        assert spelling in str(err)
        assert "Species" in str(err)


def test_lookup_in_unknown_vocabulary_is_table_not_found(catalog: Catalog) -> None:
    with pytest.raises(TableNotFound, match="Nope"):
        catalog.lookup_term("Nope", "Mouse")
    with pytest.raises(TableNotFound, match="Nope"):
        catalog.list_vocabulary_terms("Nope")


def test_list_vocabulary_terms(species: Catalog) -> None:
    terms = species.list_vocabulary_terms("Species")
    assert all(isinstance(t, Term) for t in terms)
    assert names(terms) == ["Mouse", "Rat"]
    by_name = {t.name: t for t in terms}
    assert by_name["Rat"].synonyms == ["rattus"]
    assert by_name["Rat"].description == "A larger rodent"
    species.add_term("Species", "Zebrafish")
    assert names(species.list_vocabulary_terms("Species")) == ["Mouse", "Rat", "Zebrafish"]


# --- synonyms --------------------------------------------------------------------------


def test_add_and_remove_synonym(species: Catalog) -> None:
    mouse = species.lookup_term("Species", "Mouse")
    with_synonym = species.add_synonym("Species", "mouse", "Mus musculus")
    assert isinstance(with_synonym, Term)
    assert with_synonym.name == "Mouse"
    assert with_synonym.synonyms == ["mus", "Mus musculus"]
    assert with_synonym.rid == mouse.rid and with_synonym.id == mouse.id
    assert species.lookup_term("Species", "MUS MUSCULUS") == with_synonym

    without = species.remove_synonym("Species", "Mouse", "Mus musculus")
    assert without.synonyms == ["mus"]
    assert species.lookup_term("Species", "Mouse") == mouse
    with pytest.raises(TermNotFound):
        species.lookup_term("Species", "Mus musculus")


def test_removed_synonym_can_be_given_to_another_term(species: Catalog) -> None:
    species.remove_synonym("Species", "Mouse", "mus")
    rat = species.add_synonym("Species", "Rat", "mus")
    assert rat.synonyms == ["rattus", "mus"]
    assert species.lookup_term("Species", "MUS").name == "Rat"
    assert species.lookup_term("Species", "Mouse").synonyms == []


def test_add_synonym_to_unknown_term(species: Catalog) -> None:
    before = catalog_state(species)
    with pytest.raises(TermNotFound, match="Dog"):
        species.add_synonym("Species", "Dog", "hound")
    assert catalog_state(species) == before


def test_remove_synonym_that_the_term_does_not_have(species: Catalog) -> None:
    before = catalog_state(species)
    with pytest.raises(NotFoundError, match="rattus"):
        species.remove_synonym("Species", "Mouse", "rattus")
    assert catalog_state(species) == before


# --- update_term -----------------------------------------------------------------------


def test_update_term_description(species: Catalog) -> None:
    mouse = species.lookup_term("Species", "Mouse")
    before = species.snapshot()
    updated = species.update_term("Species", "MUS", description="Mus musculus")
    assert updated.name == "Mouse"
    assert updated.description == "Mus musculus"
    assert updated.synonyms == ["mus"]
    assert (updated.rid, updated.id, updated.uri) == (mouse.rid, mouse.id, mouse.uri)
    assert species.lookup_term("Species", "Mouse") == updated
    assert species.snapshot() > before


def test_update_term_synonyms(species: Catalog) -> None:
    updated = species.update_term("Species", "Mouse", synonyms=["house mouse", "mus"])
    assert updated.synonyms == ["house mouse", "mus"]
    assert species.lookup_term("Species", "House Mouse").name == "Mouse"


def test_update_term_with_synonym_of_another_term_is_conflict(species: Catalog) -> None:
    before = catalog_state(species)
    for synonym in ["rattus", "Rat"]:
        err = refused(
            synonym,
            lambda s=synonym: species.update_term("Species", "Mouse", synonyms=["mus", s]),
            ConflictError,
        )
        assert synonym in str(err)
    assert catalog_state(species) == before


def test_update_unknown_term(species: Catalog) -> None:
    before = catalog_state(species)
    with pytest.raises(TermNotFound, match="Dog"):
        species.update_term("Species", "Dog", description="Canis")
    assert catalog_state(species) == before


# --- delete_term -----------------------------------------------------------------------


def test_delete_unused_term(species: Catalog) -> None:
    species.delete_term("Species", "Rat")
    assert names(species.list_vocabulary_terms("Species")) == ["Mouse"]
    with pytest.raises(TermNotFound):
        species.lookup_term("Species", "Rat")
    with pytest.raises(TermNotFound):
        species.lookup_term("Species", "rattus")


def test_delete_unknown_term(species: Catalog) -> None:
    before = catalog_state(species)
    with pytest.raises(TermNotFound, match="Dog") as info:
        species.delete_term("Species", "Dog")
    assert isinstance(info.value, NotFoundError)
    assert catalog_state(species) == before


# --- vocabulary columns ----------------------------------------------------------------


def test_unknown_term_in_a_vocabulary_column_is_validation_error(species: Catalog) -> None:
    before = catalog_state(species)
    with pytest.raises(ValidationError) as info:
        species.insert(
            "Subject",
            [
                {"Name": "ok", "Species": "Mouse"},
                {"Name": "bad", "Species": "Dog"},
                {"Name": "worse", "Species": "Cat"},
            ],
        )
    problems = info.value.problems
    assert len(problems) == 2
    assert "row 1" in problems[0] and "Dog" in problems[0] and "Species" in problems[0]
    assert "row 2" in problems[1] and "Cat" in problems[1] and "Species" in problems[1]
    assert "vocabulary" in str(info.value)
    assert catalog_state(species) == before


def test_terms_are_shared_by_every_table_that_uses_the_vocabulary(species: Catalog) -> None:
    species.create_table(TableDef("Colony", referenced_tables=["Species"]))
    species.insert("Colony", [{"Species": "rattus"}])
    species.insert("Subject", [{"Name": "S", "Species": "RAT"}])
    with pytest.raises(ConflictError):
        species.delete_term("Species", "Rat")


# --- asset tables and Asset_Type -------------------------------------------------------


def test_creating_an_asset_table_adds_its_asset_type_term(catalog: Catalog) -> None:
    catalog.create_asset("Image", comment="Microscope images")
    term = catalog.lookup_term("Asset_Type", "image")
    assert term.name == "Image"
    assert names(catalog.list_vocabulary_terms("Asset_Type")) == sorted(
        [*BUILTIN_VOCABULARIES["Asset_Type"], "Image"]
    )
    catalog.create_asset("Mask")
    assert catalog.lookup_term("Asset_Type", "MASK").name == "Mask"


# --- DerivaML compatibility ------------------------------------------------------------


def test_derivaml_old_names_are_aliases() -> None:
    assert ColumnDefinition is ColumnDef
    assert BuiltinTypes is BuiltinType


DERIVAML_TYPES = {
    "jsonb": "json",
    "longtext": "text",
    "ermrest_uri": "uri",
    "ermrest_curie": "text",
    "ermrest_rid": "text",
    "serial4": "int4",
}


def test_derivaml_type_names_are_accepted(catalog: Catalog) -> None:
    for alias, canonical in DERIVAML_TYPES.items():
        member = getattr(BuiltinTypes, alias)
        assert member == BuiltinType[canonical], alias
        assert ColumnDef("X", member).type == BuiltinType[canonical]
        assert ColumnDefinition(name="X", type=alias).type == BuiltinType[canonical]
    catalog.create_table(
        TableDef(
            "Typed",
            column_defs=[
                ColumnDefinition(name=f"C_{alias}", type=getattr(BuiltinTypes, alias))
                for alias in DERIVAML_TYPES
            ],
        )
    )
    [table] = [t for t in catalog.model["tables"] if t["name"] == "Typed"]
    types = {c["name"]: c["type"] for c in table["columns"]}
    for alias, canonical in DERIVAML_TYPES.items():
        assert types[f"C_{alias}"] == canonical, alias


def test_derivaml_documented_style_runs(catalog: Catalog) -> None:
    cat = catalog
    cat.create_vocabulary("Image_Quality", "Quality of images")
    cat.add_term("Image_Quality", "Good", description="A sharp, well exposed image")
    cat.add_term("Image_Quality", "Bad", description="Blurred or dark", synonyms=["Poor"])
    cat.create_table(
        TableDef(
            "Subject",
            column_defs=[ColumnDefinition(name="Name", type=BuiltinTypes.text, nullok=False)],
        )
    )
    cat.create_asset(
        asset_name="Image",
        column_defs=[ColumnDefinition(name="Acquisition_Date", type=BuiltinTypes.date)],
        referenced_tables=["Subject", "Image_Quality"],
    )
    term = cat.lookup_term(table="Image_Quality", term_name="good")
    assert term.name == "Good"
    assert term.description == "A sharp, well exposed image"
    assert cat.lookup_term(table="Image_Quality", term_name="poor").name == "Bad"

    assert "Image_Quality" in cat.list_tables(kind="vocabulary")
    assert "Image" in cat.list_tables(kind="asset")
    associations = cat.list_tables(kind="association")
    assert "Image_Asset_Type" in associations and "Image_Execution" in associations
    assert cat.lookup_term("Asset_Type", "Image").name == "Image"

    [image] = [t for t in cat.model["tables"] if t["name"] == "Image"]
    types = {c["name"]: c["type"] for c in image["columns"]}
    assert types["Acquisition_Date"] == "date"
    keys = {
        fk["column"]: (fk["table"], fk.get("referenced_column")) for fk in image["foreign_keys"]
    }
    assert keys["Subject"] == ("Subject", "RID")
    assert keys["Image_Quality"] == ("Image_Quality", "Name")

    [subject] = cat.insert("Subject", [{"Name": "S1"}])
    [rid] = cat.insert(
        "Image",
        [
            {
                **stored_file(cat, b"png", "a.png"),
                "Acquisition_Date": "2024-05-01",
                "Subject": subject,
                "Image_Quality": "POOR",
            }
        ],
    )
    assert cat.resolve_rid(rid).row["Image_Quality"] == "Bad"
