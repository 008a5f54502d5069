"""Named artifacts (API §12) on the pages: versions newest first (by name, type or a
search of words and ``key:value`` tags), and a version's tags, aliases, partitions,
files, references and a preview of its objects."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from assetry.ui import files
from assetry.ui.context import Page, page
from assetry.ui.render import render

router = APIRouter()

PAGE_VERSIONS = 50
PREVIEWS = 4  # files of a version previewed at most


@router.get("/artifacts")
def artifact_list(
    q: str = "", name: str = "", type: str = "", start: int = 0, viewer: Page = Depends(page)
) -> Response:
    arts = viewer.cat.artifacts
    start = max(start, 0)
    if q.strip():
        found = arts.search(q, limit=PAGE_VERSIONS + 1, offset=start)
    else:
        found = arts.list(
            artifact_type=type or None, name=name or None, limit=PAGE_VERSIONS + 1, offset=start
        )
    return render(
        viewer,
        "artifacts.html",
        versions=found[:PAGE_VERSIONS],
        more=len(found) > PAGE_VERSIONS,
        start=start,
        page_size=PAGE_VERSIONS,
        q=q,
        name=name,
        type=type,
    )


def version_section(viewer: Page, row: dict[str, Any]) -> dict[str, Any]:
    """An artifact version's page: the version, its siblings and previews of its files."""
    arts = viewer.cat.artifacts
    version = arts.get(row["RID"])
    siblings = arts.list(name=version.name, include_deleted=True, limit=PAGE_VERSIONS)
    previews = [{"file": f, "preview": files.preview(viewer, f)} for f in version.files[:PREVIEWS]]
    return {"version": version, "siblings": siblings, "previews": previews}
