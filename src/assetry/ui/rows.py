"""The page of one row (any RID): every column, foreign keys as links, the rows that
reference it, its history with an as-of view, an edit form; plus what its kind adds
(asset, execution, workflow, dataset, artifact version)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import RedirectResponse, Response

from assetry.errors import ValidationError
from assetry.ui import artifacts, datasets, files, lineage
from assetry.ui.context import Page, change, page
from assetry.ui.forms import FIELD_PREFIX, editable_columns, form_values
from assetry.ui.model import ModelView
from assetry.ui.render import render, shown

router = APIRouter()

REFERENCING_ROWS = 10  # rows shown per referencing table


@router.get("/row/{rid}")
def row_page(rid: str, as_of: int | None = None, viewer: Page = Depends(page)) -> Response:
    cat = viewer.cat
    found = cat.resolve_rid(rid, as_of=as_of)
    table, row = found.table, found.row
    model = ModelView(cat.model if as_of is None else cat.model_as_of(as_of))
    doc = model.table(table)
    kind = doc["kind"]
    history = _history(cat.history(row["RID"]))
    extra: dict[str, Any] = {}
    if as_of is None:
        if kind == "asset":
            extra["asset"] = files.asset_section(viewer, table, row)
        if table == "Execution":
            extra["execution"] = _execution(viewer, row, history)
        elif table == "Workflow":
            extra["executions"] = cat.query_page(
                "Execution", [("Workflow", "==", row["RID"])], "RCT", True, None, 50
            )
        elif table == "Dataset":
            extra["dataset"] = datasets.dataset_section(viewer, row)
        elif table == "Artifact_Version":
            extra["artifact"] = artifacts.version_section(viewer, row)
        if kind in ("asset", "system") and table != "Workflow":
            extra["picture"] = lineage.picture(viewer, row["RID"], "upstream", 2)
    return render(
        viewer,
        "row.html",
        table=table,
        doc=doc,
        kind=kind,
        row=row,
        links=model.links_from(table),
        types=model.column_types(table),
        referenced_by=_referenced_by(viewer, model, table, row) if as_of is None else [],
        history=history,
        as_of=as_of,
        editable=editable_columns(model, table) if as_of is None else [],
        field_prefix=FIELD_PREFIX,
        saved=viewer.request.query_params.get("saved") == "1",
        shown=shown,
        **extra,
    )


def _history(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The row's versions, newest first, each with the columns it changed."""
    shown_versions = []
    before: dict[str, Any] | None = None
    for version in versions:
        row = version.get("row") or {}
        changed = (
            sorted(k for k in row if k not in ("RMT", "RMB") and before.get(k) != row.get(k))
            if before is not None
            else []
        )
        shown_versions.append({**version, "changed": changed})
        before = row
    return list(reversed(shown_versions))


def _referenced_by(
    viewer: Page, model: ModelView, table: str, row: dict[str, Any]
) -> list[dict[str, Any]]:
    """For each foreign key pointing at this row's table: the first rows holding this
    row's RID (or, for a term, its name) and how many there are."""
    found = []
    for link in model.links_to(table):
        value = row.get(link.target_column)
        if value is None:
            continue
        conditions = [(link.column, "==", value)]
        rows = viewer.cat.query_page(link.table, conditions, limit=REFERENCING_ROWS)
        if not rows:
            continue
        count = viewer.cat.count_rows(link.table, conditions)
        found.append({"link": link, "rows": rows, "count": count, "value": value})
    return found


def _execution(viewer: Page, row: dict[str, Any], history: list[dict[str, Any]]) -> dict[str, Any]:
    """Inputs, outputs, datasets used, the environment and the status log of a run."""
    cat = viewer.cat
    assets = cat.list_execution_assets(row["RID"])
    environment = [
        a for a in assets if a["Table"] == "Execution_Metadata" and a["Asset_Role"] == "Input"
    ]
    used = cat.query_page("Dataset_Execution", [("Execution", "==", row["RID"])], limit=100)
    log = [
        {
            "time": v["row"].get("RMT"),
            "status": v["row"].get("Status"),
            "upload": v["row"].get("Upload_Status"),
            "detail": v["row"].get("Status_Detail"),
            "user": v.get("user"),
        }
        for v in reversed(history)
        if v.get("row")
    ]
    start, stop = row.get("Start_Time"), row.get("Stop_Time")
    return {
        "inputs": [a for a in assets if a["Asset_Role"] == "Input" and a not in environment],
        "outputs": [a for a in assets if a["Asset_Role"] == "Output"],
        "environment": environment,
        "datasets": used,
        "log": log,
        "duration": (stop - start).total_seconds() if start and stop else None,
    }


@router.post("/row/{rid}/edit")
def edit_row(rid: str, viewer: Page = Depends(change)) -> Response:
    """Save the edit form: only the columns whose text changed are updated."""
    cat = viewer.cat
    found = cat.resolve_rid(rid)
    model = ModelView(cat.model)
    wanted = form_values(model, found.table, viewer.form, skip_empty=False)
    changed = {
        name: value
        for name, value in wanted.items()
        if viewer.form.get(FIELD_PREFIX + name, "") != shown(found.row.get(name))
    }
    if not changed:
        raise ValidationError("nothing to save: no value was changed")
    with viewer.acting():
        cat.update(found.table, [{"RID": found.row["RID"], **changed}])
    return viewer.finish(
        RedirectResponse(viewer.url(f"/row/{found.row['RID']}", saved=1), status_code=303)
    )
