"""Vocabulary terms: names and synonyms match in any case (also outside ASCII), a
spelling belongs to one term only on every path that writes terms, and a vocabulary
column stores the canonical name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assetry import Catalog, ConflictError, ValidationError
from tests.conformance.backend import Build
from tests.helpers import catalog_state, refused, species_model


def colors_model(cat: Catalog) -> None:
    cat.create_vocabulary("Color")
    cat.add_term("Color", "Red", synonyms=["rouge"])
    cat.add_term("Color", "Blue")


def _refused(cat: Catalog, call: Callable[[], Any], error: type[Exception], match: str) -> None:
    """``call`` raises ``error`` and changes nothing."""
    before = cat.snapshot()
    with pytest.raises(error, match=match) as info:
        call()
    assert type(info.value) is error
    assert cat.snapshot() == before


class AbstractVocabularyTests:
    @pytest.fixture
    def species(self, built: Build) -> Catalog:
        """A catalog with vocabulary Species (Mouse ~ mus, Rat ~ rattus) and table Subject."""
        return built(species_model)[0]

    @pytest.fixture
    def colors(self, built: Build) -> Catalog:
        """A catalog with vocabulary Color: Red ~ rouge, and Blue."""
        return built(colors_model)[0]

    # --- case and synonyms ---------------------------------------------------------------

    def test_lookup_term_by_name_or_synonym_in_any_case(self, species: Catalog) -> None:
        for spelling in ["Mouse", "mouse", "MOUSE", "mOuSe", "mus", "MUS", "Mus"]:
            term = species.lookup_term("Species", spelling)
            assert term.name == "Mouse", spelling
            assert term.description == "A small rodent"
            assert term.synonyms == ["mus"]

    def test_lookup_ignores_case_of_non_ascii_letters(self, species: Catalog) -> None:
        species.add_term("Species", "Bildgröße")
        assert species.lookup_term("Species", "Bildgröße".upper()).name == "Bildgröße"
        with pytest.raises(ConflictError):
            species.add_term("Species", "BILDGRÖSSE", exists_ok=False)

    def test_execution_status_completed_has_synonym_stopped(self, catalog: Catalog) -> None:
        completed = catalog.lookup_term("Execution_Status", "Completed")
        assert completed.synonyms == ["Stopped"]
        for spelling in ("Stopped", "stopped", "STOPPED"):
            assert catalog.lookup_term("Execution_Status", spelling) == completed
        others = [t for t in catalog.list_vocabulary_terms("Execution_Status") if t != completed]
        assert all(t.synonyms == [] for t in others)

    def test_term_names_are_values_not_identifiers(self, species: Catalog) -> None:
        spellings = ['Robert\'); DROP TABLE "Species";--', "semi;colon", "with space", "Bildgröße"]
        for name in [*spellings, "select"]:
            term = species.add_term("Species", name, description="x'); DELETE FROM Subject;--")
            assert term.name == name
            assert species.lookup_term("Species", name.lower()).name == name
            [rid] = species.insert("Subject", [{"Name": "S", "Species": name.lower()}])
            assert species.resolve_rid(rid).row["Species"] == name
        assert sorted(t.name for t in species.list_vocabulary_terms("Species")) == sorted(
            ["Mouse", "Rat", *spellings, "select"]
        )
        assert "Species" in species.list_tables()

    # --- a spelling belongs to one term ----------------------------------------------------

    def test_add_term_exists_ok_returns_existing_term(self, species: Catalog) -> None:
        mouse = species.lookup_term("Species", "Mouse")
        before = catalog_state(species)
        for spelling in ["Mouse", "mouse", "MOUSE"]:
            again = species.add_term("Species", spelling, description="other", exists_ok=True)
            assert again == mouse
            assert again.description == "A small rodent"
        assert catalog_state(species) == before

    def test_add_term_existing_without_exists_ok_is_conflict(self, species: Catalog) -> None:
        before = catalog_state(species)
        for spelling in ["Mouse", "mouse", "MOUSE"]:
            err = refused(
                spelling,
                lambda s=spelling: species.add_term("Species", s, exists_ok=False),
                ConflictError,
            )
            assert "Mouse" in str(err)
        assert catalog_state(species) == before

    def test_add_term_named_like_another_terms_synonym_is_conflict(self, species: Catalog) -> None:
        before = catalog_state(species)
        for spelling in ["mus", "MUS", "Rattus"]:
            err = refused(
                spelling,
                lambda s=spelling: species.add_term("Species", s, exists_ok=False),
                ConflictError,
            )
            assert spelling in str(err)
        assert catalog_state(species) == before

    def test_add_synonym_used_by_another_term_is_conflict(self, species: Catalog) -> None:
        before = catalog_state(species)
        for synonym in ["rattus", "RATTUS", "Rat", "rat"]:
            err = refused(
                synonym,
                lambda s=synonym: species.add_synonym("Species", "Mouse", s),
                ConflictError,
            )
            assert synonym in str(err)
            assert species.lookup_term("Species", synonym).name == "Rat"
        assert catalog_state(species) == before

    @pytest.mark.parametrize(
        ("row", "match"),
        [
            ({"Name": "RED"}, "term name 'RED' is already used by term 'Red'"),
            ({"Name": "Rouge"}, "term name 'Rouge' is already used by term 'Red'"),
            (
                {"Name": "Navy", "Synonyms": ["blue"]},
                "synonym 'blue' is already used by term 'Blue'",
            ),
            ({"Name": "Scarlet", "Synonyms": ["ROUGE"]}, "synonym 'ROUGE' .* term 'Red'"),
        ],
    )
    def test_insert_of_a_taken_spelling_is_a_conflict(
        self, colors: Catalog, row: dict[str, Any], match: str
    ) -> None:
        _refused(colors, lambda: colors.insert("Color", [row]), ConflictError, match)
        # The same refusal as add_term's, for the same reason.
        name, synonyms = row["Name"], row.get("Synonyms")
        add = lambda: colors.add_term("Color", name, synonyms=synonyms, exists_ok=False)  # noqa: E731
        _refused(colors, add, ConflictError, "Red|Blue")

    def test_insert_of_two_terms_sharing_a_spelling_is_a_conflict(self, colors: Catalog) -> None:
        rows = [{"Name": "Green"}, {"Name": "Lime", "Synonyms": ["green"]}]
        _refused(colors, lambda: colors.insert("Color", rows), ConflictError, "'green'.*'Green'")
        assert [t.name for t in colors.list_vocabulary_terms("Color")] == ["Blue", "Red"]

    def test_update_to_a_taken_spelling_is_a_conflict(self, colors: Catalog) -> None:
        blue = colors.lookup_term("Color", "Blue").rid
        red = colors.lookup_term("Color", "Red").rid
        _refused(
            colors,
            lambda: colors.update("Color", [{"RID": blue, "Synonyms": ["Rouge"]}]),
            ConflictError,
            "synonym 'Rouge' is already used by term 'Red'",
        )
        _refused(
            colors,
            lambda: colors.update("Color", [{"RID": blue, "Name": "rouge"}]),
            ConflictError,
            "term name 'rouge' is already used by term 'Red'",
        )
        # Two changed terms may not end up sharing a spelling either.
        _refused(
            colors,
            lambda: colors.update(
                "Color",
                [{"RID": blue, "Synonyms": ["azure"]}, {"RID": red, "Synonyms": ["Azure"]}],
            ),
            ConflictError,
            "'Azure'",
        )
        _refused(
            colors, lambda: colors.add_synonym("Color", "Blue", "RED"), ConflictError, "term 'Red'"
        )
        # A term's own spellings are its own to reuse; a freed spelling is free for others.
        colors.update("Color", [{"RID": red, "Name": "RED", "Synonyms": ["Rouge"]}])
        assert colors.lookup_term("Color", "rouge").name == "RED"
        colors.update("Color", [{"RID": red, "Synonyms": []}, {"RID": blue, "Synonyms": ["rouge"]}])
        assert colors.lookup_term("Color", "ROUGE").name == "Blue"

    def test_bad_text_is_a_validation_error_and_wins_over_a_conflict(self, colors: Catalog) -> None:
        blue = colors.lookup_term("Color", "Blue").rid
        _refused(
            colors,
            lambda: colors.insert("Color", [{"Name": " Green"}]),
            ValidationError,
            "leading or trailing spaces",
        )
        # Both kinds in one call: the ValidationError, listing the validation problems.
        both = [{"Name": "red"}, {"Name": "Teal", "Synonyms": ["ok", "bad\tone"]}]
        _refused(colors, lambda: colors.insert("Color", both), ValidationError, "control character")
        _refused(
            colors,
            lambda: colors.insert("Color", [{"Name": "red", "Length": 3}]),
            ValidationError,
            "no column 'Length'",
        )
        _refused(
            colors,
            lambda: colors.update("Color", [{"RID": blue, "Name": "Red", "Synonyms": [""]}]),
            ValidationError,
            "may not be empty",
        )

    # --- vocabulary columns ----------------------------------------------------------------

    def test_inserting_a_synonym_or_any_case_stores_the_canonical_name(
        self, species: Catalog
    ) -> None:
        spellings = ["Mouse", "mouse", "MOUSE", "mus", "MUS", "rattus", "RAT"]
        rids = species.insert("Subject", [{"Name": s, "Species": s} for s in spellings])
        stored = [species.resolve_rid(rid).row["Species"] for rid in rids]
        assert stored == ["Mouse"] * 5 + ["Rat"] * 2
        rows = list(species.get_table_as_dict("Subject"))
        assert {row["Name"]: row["Species"] for row in rows} == dict(
            zip(spellings, stored, strict=True)
        )

    def test_updating_with_a_synonym_stores_the_canonical_name(self, species: Catalog) -> None:
        [rid] = species.insert("Subject", [{"Name": "S1", "Species": "Mouse"}])
        species.update("Subject", [{"RID": rid, "Species": "RATTUS"}])
        assert species.resolve_rid(rid).row["Species"] == "Rat"

    def test_vocabulary_column_stores_canonical_name(self, subject_image: Catalog) -> None:
        catalog = subject_image
        [rid] = catalog.insert("Subject", [{"Name": "S1", "Species": "MOUSE"}])
        assert catalog.resolve_rid(rid).row["Species"] == "Mus musculus"
        frame = catalog.get_table_as_dataframe("Subject", filters={"Species": "mouse"})
        assert list(frame["RID"]) == [rid]

    def test_delete_term_refused_while_in_use_then_allowed(self, species: Catalog) -> None:
        [rid] = species.insert("Subject", [{"Name": "S1", "Species": "mus"}])
        before = catalog_state(species)
        with pytest.raises(ConflictError, match="Subject"):
            species.delete_term("Species", "Mouse")
        assert catalog_state(species) == before
        assert species.lookup_term("Species", "Mouse").name == "Mouse"

        species.update("Subject", [{"RID": rid, "Species": "Rat"}])
        species.delete_term("Species", "Mouse")
        assert sorted(t.name for t in species.list_vocabulary_terms("Species")) == ["Rat"]

        with pytest.raises(ConflictError):
            species.delete_term("Species", "Rat")
        species.delete("Subject", [rid])
        species.delete_term("Species", "Rat")
        assert species.list_vocabulary_terms("Species") == []
