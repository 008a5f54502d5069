"""Pages to find things: home, tables by kind, a table (keyset pages, sort, filters,
facets, CSV of the filtered rows) and search."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import RedirectResponse, Response, StreamingResponse

from assetry.backend import PAGE_SIZE
from assetry.errors import ValidationError
from assetry.ui import query
from assetry.ui.context import Page, change, page
from assetry.ui.forms import form_values
from assetry.ui.model import KIND_TITLES, ModelView
from assetry.ui.render import render, shown

router = APIRouter()

FACET_VALUES = 12  # values shown per vocabulary facet
RECENT = 8


@router.get("/")
def home(viewer: Page = Depends(page)) -> Response:
    cat = viewer.cat
    model = ModelView(cat.model)
    counts = [
        (t["name"], t["kind"], cat.count_rows(t["name"]))
        for kind in ("table", "asset")
        for t in sorted(
            (t for t in model.tables.values() if t["kind"] == kind), key=lambda t: t["name"]
        )
    ]
    summary = [
        ("Executions", cat.count_rows("Execution"), viewer.url("/table/Execution")),
        ("Workflows", cat.count_rows("Workflow"), viewer.url("/table/Workflow")),
        ("Datasets", cat.count_rows("Dataset"), viewer.url("/datasets")),
        ("Artifact versions", cat.count_rows("Artifact_Version"), viewer.url("/artifacts")),
    ]
    recent = cat.query_page("Execution", sort="RCT", descending=True, limit=RECENT)
    return render(
        viewer,
        "home.html",
        counts=counts,
        summary=summary,
        recent=recent,
        snapshot=cat.snapshot(),
        location=cat.location,
    )


@router.get("/tables")
def tables(viewer: Page = Depends(page)) -> Response:
    model = ModelView(viewer.cat.model)
    groups = [(KIND_TITLES.get(kind, kind), kind, found) for kind, found in model.by_kind()]
    return render(viewer, "tables.html", groups=groups)


@router.get("/search")
def search(q: str = "", viewer: Page = Depends(page)) -> Response:
    found = viewer.cat.search(q, limit=200) if q.strip() else []
    return render(viewer, "search.html", q=q, found=found, shown=shown)


@router.get("/table/{name}")
def table(name: str, viewer: Page = Depends(page)) -> Response:
    cat = viewer.cat
    model = ModelView(cat.model)
    doc = model.table(name)
    types = model.column_types(name)
    params = dict(viewer.request.query_params)
    links = model.links_from(name)
    error: str | None = None
    rows: list[dict[str, Any]] = []
    total: int | None = None
    more_after = more_before = False
    try:
        wanted = query.parse(params, types)
        conditions = wanted.conditions(types)
        rows, more_after, more_before = _page(viewer, name, wanted, conditions)
        total = cat.count_rows(name, conditions)
        facets = _facets(viewer, name, links, conditions)
    except ValidationError as err:
        error = "; ".join(err.problems) if err.problems else str(err)
        wanted = query.TableQuery(
            filters={k[2:]: v for k, v in params.items() if k.startswith("f.") and v.strip()}
        )
        facets = []
    status = 422 if error else 200  # as the API answers a ValidationError
    return render(
        viewer,
        "table.html",
        status=status,
        doc=doc,
        name=name,
        columns=shown_order(doc["columns"]),
        links=links,
        types=types,
        rows=rows,
        total=total,
        wanted=wanted,
        error=error,
        facets=facets,
        more_after=more_after,
        more_before=more_before,
        cursor_of=query.cursor_of,
        # Rows of plain tables are added here; assets come from files (executions) and
        # terms from the vocabulary pages.
        writable=doc["kind"] == "table",
    )


def shown_order(columns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Columns as a table page shows them: RID, the table's own, then who and when."""
    system = [c for c in columns if c.get("system") and c["name"] != "RID"]
    return [c for c in columns if c not in system] + system


def _page(
    viewer: Page, name: str, wanted: query.TableQuery, conditions: list[tuple[str, str, Any]]
) -> tuple[list[dict[str, Any]], bool, bool]:
    """The rows of the page, whether a next page exists, whether a previous one does."""
    size = query.PAGE_ROWS
    if wanted.before is not None:
        # Going back: read backwards from the first row of the page after, then turn.
        found = viewer.cat.query_page(
            name, conditions, wanted.sort, not wanted.descending, wanted.before, size + 1
        )
        more_before = len(found) > size
        return list(reversed(found[:size])), True, more_before
    found = viewer.cat.query_page(
        name, conditions, wanted.sort, wanted.descending, wanted.after, size + 1
    )
    return found[:size], len(found) > size, wanted.after is not None


def _facets(
    viewer: Page, name: str, links: dict[str, Any], conditions: list[tuple[str, str, Any]]
) -> list[tuple[str, list[tuple[Any, int]]]]:
    """For each vocabulary column, its most used terms among the filtered rows."""
    return [
        (column, viewer.cat.value_counts(name, column, conditions, limit=FACET_VALUES))
        for column, link in links.items()
        if link.to_term
    ]


@router.get("/table/{name}/csv")
def table_csv(name: str, viewer: Page = Depends(page)) -> Response:
    """Every row the table page's filters select, as CSV, read page by page."""
    cat = viewer.cat
    model = ModelView(cat.model)
    types = model.column_types(name)
    wanted = query.parse(dict(viewer.request.query_params), types)
    conditions = wanted.conditions(types)
    columns = [c["name"] for c in model.columns(name)]
    first = cat.query_page(name, conditions, wanted.sort, wanted.descending, None, PAGE_SIZE)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        page_rows = first
        while True:
            for row in page_rows:
                writer.writerow([shown(row[c]) for c in columns])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(page_rows) < PAGE_SIZE:
                return
            last = page_rows[-1]
            after = [last[wanted.sort], last["RID"]]
            page_rows = cat.query_page(
                name, conditions, wanted.sort, wanted.descending, after, PAGE_SIZE
            )

    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    return viewer.finish(StreamingResponse(lines(), media_type="text/csv", headers=headers))


@router.post("/table/{name}/insert")
def insert_row(name: str, viewer: Page = Depends(change)) -> Response:
    """A new row from the table page's form (empty fields are left out)."""
    model = ModelView(viewer.cat.model)
    values = form_values(model, name, viewer.form, skip_empty=True)
    with viewer.acting():
        (rid,) = viewer.cat.insert(name, [values])
    return viewer.finish(RedirectResponse(viewer.url(f"/row/{rid}", saved=1), status_code=303))
