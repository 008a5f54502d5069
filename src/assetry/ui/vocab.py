"""Vocabularies: their terms, synonyms and where each term is used; curators add,
describe, rename (while unused), give synonyms to and delete terms through the same
calls as code (``add_term``, ``update_term``, ``add_synonym``, ...)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import RedirectResponse, Response

from assetry.errors import ValidationError
from assetry.ui.context import Page, change, page
from assetry.ui.model import ModelView
from assetry.ui.render import render

router = APIRouter()


@router.get("/vocab")
def vocabularies(viewer: Page = Depends(page)) -> Response:
    model = ModelView(viewer.cat.model)
    found = [
        (t, viewer.cat.count_rows(t["name"]))
        for t in sorted(model.tables.values(), key=lambda t: t["name"])
        if t["kind"] == "vocabulary"
    ]
    return render(viewer, "vocabularies.html", vocabularies=found)


@router.get("/vocab/{table}")
def vocabulary(table: str, viewer: Page = Depends(page)) -> Response:
    model = ModelView(viewer.cat.model)
    doc = _vocabulary(model, table)
    terms = viewer.cat.list_vocabulary_terms(table)
    usage: dict[str, int] = {}
    for link in model.links_to(table):
        for value, count in viewer.cat.value_counts(link.table, link.column, limit=1000):
            if value is not None:
                usage[value] = usage.get(value, 0) + count
    return render(viewer, "vocabulary.html", table=table, doc=doc, terms=terms, usage=usage)


@router.get("/vocab/{table}/term/{name}")
def term(table: str, name: str, viewer: Page = Depends(page)) -> Response:
    cat = viewer.cat
    model = ModelView(cat.model)
    _vocabulary(model, table)
    found = cat.lookup_term(table, name)
    usages: list[dict[str, Any]] = []
    for link in model.links_to(table):
        count = cat.count_rows(link.table, [(link.column, "==", found.name)])
        if count:
            usages.append({"link": link, "count": count})
    history = list(reversed(cat.history(found.rid))) if found.rid else []
    return render(
        viewer,
        "term.html",
        table=table,
        term=found,
        usages=usages,
        history=history,
        saved=viewer.request.query_params.get("saved") == "1",
    )


def _vocabulary(model: ModelView, table: str) -> dict[str, Any]:
    doc = model.table(table)
    if doc["kind"] != "vocabulary":
        raise ValidationError(f"{table!r} is not a vocabulary")
    return doc


def _back(viewer: Page, table: str, name: str) -> Response:
    return viewer.finish(
        RedirectResponse(viewer.url(f"/vocab/{table}/term/{name}", saved=1), status_code=303)
    )


@router.post("/vocab/{table}/add")
def add_term(table: str, viewer: Page = Depends(change)) -> Response:
    form = viewer.form
    synonyms = [s.strip() for s in form.get("synonyms", "").split(",") if s.strip()]
    with viewer.acting():
        added = viewer.cat.add_term(
            table,
            form.get("name", "").strip(),
            form.get("description") or None,
            synonyms,
            exists_ok=False,
        )
    return _back(viewer, table, added.name)


@router.post("/vocab/{table}/term/{name}/edit")
def edit_term(table: str, name: str, viewer: Page = Depends(change)) -> Response:
    """Save a term's description and, when changed, its name."""
    form = viewer.form
    current = viewer.cat.lookup_term(table, name)
    new_name = form.get("name", "").strip()
    description = form.get("description", "")
    with viewer.acting():
        changed = viewer.cat.update_term(
            table,
            current.name,
            description=description if description != (current.description or "") else None,
            name=new_name if new_name and new_name != current.name else None,
        )
    return _back(viewer, table, changed.name)


@router.post("/vocab/{table}/term/{name}/synonym")
def synonym(table: str, name: str, viewer: Page = Depends(change)) -> Response:
    """Add (``add``) or remove (``remove``) one synonym."""
    form = viewer.form
    with viewer.acting():
        if form.get("remove"):
            changed = viewer.cat.remove_synonym(table, name, form["remove"])
        else:
            changed = viewer.cat.add_synonym(table, name, form.get("add", "").strip())
    return _back(viewer, table, changed.name)


@router.post("/vocab/{table}/term/{name}/delete")
def delete_term(table: str, name: str, viewer: Page = Depends(change)) -> Response:
    with viewer.acting():
        viewer.cat.delete_term(table, name)
    return viewer.finish(RedirectResponse(viewer.url(f"/vocab/{table}"), status_code=303))
