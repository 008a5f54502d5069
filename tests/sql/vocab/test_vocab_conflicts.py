"""A name or synonym another term already has is a ``ConflictError`` on every path that
writes terms: ``add_term``/``add_synonym`` and plain ``insert``/``update`` on the
vocabulary table. Bad term text stays a ``ValidationError``, and wins when a call has both
kinds of problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assetry import Catalog, ConflictError, ValidationError


@pytest.fixture
def colors(catalog: Catalog) -> Catalog:
    catalog.create_vocabulary("Color")
    catalog.add_term("Color", "Red", synonyms=["rouge"])
    catalog.add_term("Color", "Blue")
    return catalog


def _refused(cat: Catalog, call: Callable[[], Any], error: type[Exception], match: str) -> None:
    """``call`` raises ``error`` and changes nothing."""
    before = cat.snapshot()
    with pytest.raises(error, match=match) as info:
        call()
    assert type(info.value) is error
    assert cat.snapshot() == before


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"Name": "RED"}, "term name 'RED' is already used by term 'Red'"),
        ({"Name": "Rouge"}, "term name 'Rouge' is already used by term 'Red'"),
        ({"Name": "Navy", "Synonyms": ["blue"]}, "synonym 'blue' is already used by term 'Blue'"),
        ({"Name": "Scarlet", "Synonyms": ["ROUGE"]}, "synonym 'ROUGE' .* term 'Red'"),
    ],
)
def test_insert_of_a_taken_spelling_is_a_conflict(
    colors: Catalog, row: dict[str, Any], match: str
) -> None:
    _refused(colors, lambda: colors.insert("Color", [row]), ConflictError, match)
    # The same refusal as add_term's, for the same reason.
    name, synonyms = row["Name"], row.get("Synonyms")
    add = lambda: colors.add_term("Color", name, synonyms=synonyms, exists_ok=False)  # noqa: E731
    _refused(colors, add, ConflictError, "Red|Blue")


def test_insert_of_two_terms_sharing_a_spelling_is_a_conflict(colors: Catalog) -> None:
    rows = [{"Name": "Green"}, {"Name": "Lime", "Synonyms": ["green"]}]
    _refused(colors, lambda: colors.insert("Color", rows), ConflictError, "'green'.*'Green'")
    assert [t.name for t in colors.list_vocabulary_terms("Color")] == ["Blue", "Red"]


def test_update_to_a_taken_spelling_is_a_conflict(colors: Catalog) -> None:
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
            "Color", [{"RID": blue, "Synonyms": ["azure"]}, {"RID": red, "Synonyms": ["Azure"]}]
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


def test_bad_text_is_a_validation_error_and_wins_over_a_conflict(colors: Catalog) -> None:
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
