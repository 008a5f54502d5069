"""Errors arrive as the same exception classes, with the same fields, on every backend
(rebuilt by the client from the server's answer), and what the database cannot hold (a
NUL, a lone surrogate) is refused before it reaches the database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assetry import (
    Catalog,
    ColumnDef,
    ConfigError,
    ConflictError,
    NotFoundError,
    RIDNotFound,
    TableNotFound,
    TermNotFound,
    ValidationError,
)
from tests.helpers import catalog_state, refused, rid_of

UNKNOWN_TABLE_CALLS: dict[str, Callable[[Catalog, str], object]] = {
    "insert": lambda cat, t: cat.insert(t, [{"Name": "x"}]),
    "update": lambda cat, t: cat.update(t, [{"RID": rid_of(cat, "Subject"), "Name": "x"}]),
    "delete": lambda cat, t: cat.delete(t, [rid_of(cat, "Subject")]),
    "get_table_as_dict": lambda cat, t: list(cat.get_table_as_dict(t)),
    "get_table_as_dict-filters": lambda cat, t: list(
        cat.get_table_as_dict(t, filters={"Name": "S1"})
    ),
    "get_table_as_dataframe": lambda cat, t: cat.get_table_as_dataframe(t),
    "add_column": lambda cat, t: cat.add_column(t, ColumnDef("Extra")),
    "add_term": lambda cat, t: cat.add_term(t, "Term"),
    "lookup_term": lambda cat, t: cat.lookup_term(t, "Mouse"),
    "list_vocabulary_terms": lambda cat, t: cat.list_vocabulary_terms(t),
    "delete_term": lambda cat, t: cat.delete_term(t, "Mouse"),
}


class AbstractErrorTests:
    def test_errors_keep_their_class_and_fields(
        self, catalog: Catalog, backend: str, tmp_path: Path
    ) -> None:
        catalog.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
        catalog.create_vocabulary("Species")
        catalog.add_term("Species", "Mouse", synonyms=["mus"])
        with pytest.raises(TableNotFound) as table:
            catalog.insert("Nope", [{}])
        assert table.value.table == "Nope"
        with pytest.raises(RIDNotFound) as rid:
            catalog.resolve_rid("ZZZZ-ZZZZ")
        assert rid.value.rid == "ZZZZ-ZZZZ"
        with pytest.raises(TermNotFound) as term:
            catalog.lookup_term("Species", "Rat")
        assert (term.value.vocabulary, term.value.term) == ("Species", "Rat")
        with pytest.raises(ValidationError) as invalid:
            catalog.insert("Image", [{"Width": "wide"}, {"Width": 2**40}])
        assert len(invalid.value.problems) >= 2
        with pytest.raises(ConflictError):
            catalog.add_term("Species", "mouse", exists_ok=False)
        # A catalog is not created twice; a server's is not created by its clients at all.
        store = {"store": str(tmp_path / "objects")} if backend == "postgres" else {}
        with pytest.raises(ConfigError if backend == "remote" else ConflictError):
            Catalog.create(catalog.location, **store)

    @pytest.mark.parametrize("table", ["Nope", "subject", "Subject; DROP TABLE Subject"])
    def test_unknown_table(self, stocked: Catalog, table: str) -> None:
        before = catalog_state(stocked)
        for label, call in UNKNOWN_TABLE_CALLS.items():
            err = refused(label, lambda c=call: c(stocked, table), TableNotFound)
            assert isinstance(err, NotFoundError)
            assert table in str(err), (label, str(err))
        assert catalog_state(stocked) == before

    def test_resolve_unknown_and_deleted_rid(self, subject_image: Catalog) -> None:
        catalog = subject_image
        with pytest.raises(RIDNotFound):
            catalog.resolve_rid("ZZZZZZZZ-1")
        [rid] = catalog.insert("Subject", [{"Name": "gone"}])
        catalog.delete("Subject", [rid])
        with pytest.raises(RIDNotFound, match="deleted at snapshot"):
            catalog.resolve_rid(rid)

    def test_update_and_delete_unknown_rid(self, subject_image: Catalog) -> None:
        catalog = subject_image
        with pytest.raises(RIDNotFound):
            catalog.update("Subject", [{"RID": "ZZZZZZZZ-1", "Age": 1}])
        with pytest.raises(RIDNotFound):
            catalog.delete("Subject", ["ZZZZZZZZ-1"])
        with pytest.raises(ValidationError, match="needs the RID"):
            catalog.update("Subject", [{"Age": 1}])

    # --- NUL and other text no column can hold ---------------------------------------------

    def test_a_rid_with_unstorable_characters_is_not_a_rid(self, catalog: Catalog) -> None:
        for bad in ["a\x00", "\x00", "ABC-\x00", "a\udc80"]:
            for call in (catalog.resolve_rid, catalog.history):
                err = refused(
                    f"{call.__name__}({bad!r})", lambda c=call, b=bad: c(b), ValidationError
                )
                assert "is not a RID" in str(err), str(err)

    def test_a_rid_that_is_merely_unknown_is_still_not_found(self, catalog: Catalog) -> None:
        with pytest.raises(RIDNotFound):
            catalog.resolve_rid("ZZZZZZZZ-1")

    def test_search_text_with_unstorable_characters_is_refused(self, catalog: Catalog) -> None:
        for bad in ["a\x00", "mouse \x00liver", "\udc80x"]:
            err = refused(repr(bad), lambda b=bad: catalog.search(b), ValidationError)
            assert "search text" in str(err), str(err)
        assert catalog.search("Output")  # searching still works
