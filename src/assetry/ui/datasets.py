"""Datasets on the pages: the list, a dataset's types, versions and members (as of a
version), a diff of two versions, and the bag of any version as a zip download."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, Response

from assetry.errors import ValidationError
from assetry.records.datasets import DatasetSpec
from assetry.ui.context import Page, page
from assetry.ui.files import attachment
from assetry.ui.render import render

router = APIRouter()

MEMBERS_SHOWN = 50  # member rows shown per element type


@router.get("/datasets")
def dataset_list(type: str = "", viewer: Page = Depends(page)) -> Response:
    found = viewer.cat.find_datasets(dataset_type=type or None)
    types = [t.name for t in viewer.cat.list_vocabulary_terms("Dataset_Type")]
    return render(viewer, "datasets.html", datasets=found, types=types, chosen=type)


def dataset_section(viewer: Page, row: dict[str, Any]) -> dict[str, Any]:
    """Types, versions, members of the version asked (default: latest), and the diff
    between the two versions asked (``a``, ``b``), if any."""
    cat = viewer.cat
    rid = row["RID"]
    params = viewer.request.query_params
    versions = cat.dataset_history(rid)
    names = [v.version for v in versions]
    chosen = params.get("version") or (names[-1] if names else None)
    if chosen is not None and chosen not in names:
        raise ValidationError(f"dataset {rid} has no version {chosen!r}; versions: {names}")
    members = cat.list_dataset_members(rid, version=chosen)
    types = cat.query_page("Dataset_Dataset_Type", [("Dataset", "==", rid)], limit=100)
    diff = None
    a, b = params.get("a"), params.get("b")
    if a and b:
        diff = version_diff(viewer, rid, a, b, names)
    return {
        "versions": list(reversed(versions)),
        "chosen": chosen,
        "members": {
            table: {"rows": rows[:MEMBERS_SHOWN], "count": len(rows)}
            for table, rows in sorted(members.items())
            if rows
        },
        "types": [t["Dataset_Type"] for t in types],
        "children": cat.list_dataset_children(rid),
        "parents": cat.list_dataset_parents(rid),
        "diff": diff,
        "a": a or (names[-2] if len(names) > 1 else chosen),
        "b": b or chosen,
    }


def version_diff(viewer: Page, rid: str, a: str, b: str, names: list[str]) -> dict[str, Any]:
    """Members added and removed from version ``a`` to ``b``, by element type."""
    for version in (a, b):
        if version not in names:
            raise ValidationError(f"dataset {rid} has no version {version!r}; versions: {names}")
    old = viewer.cat.list_dataset_members(rid, version=a)
    new = viewer.cat.list_dataset_members(rid, version=b)
    tables = sorted(set(old) | set(new))
    changes = {}
    for table in tables:
        before = {r["RID"]: r for r in old.get(table, [])}
        after = {r["RID"]: r for r in new.get(table, [])}
        added = [after[k] for k in sorted(set(after) - set(before))]
        removed = [before[k] for k in sorted(set(before) - set(after))]
        if added or removed:
            changes[table] = {"added": added, "removed": removed}
    return {"a": a, "b": b, "changes": changes}


@router.get("/dataset/{rid}/bag")
def bag(rid: str, version: str | None = None, viewer: Page = Depends(page)) -> Response:
    """The BagIt bag of a dataset version as a zip (the same bytes at every export)."""
    folder = Path(tempfile.mkdtemp(prefix="assetry-ui-bag-"))
    try:
        path = viewer.cat.export_dataset_bag(
            DatasetSpec(rid, version=version or None), dest=folder, archive="zip"
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return viewer.finish(
        FileResponse(
            path,
            media_type="application/zip",
            headers={"Content-Disposition": attachment(path.name)},
            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
        )
    )
