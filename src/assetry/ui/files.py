"""An asset's bytes on the pages: previews (images, text, CSV and Parquet heads, numpy
arrays) and downloads, read through ``cat.open_asset`` (only the head of a file is read
for a preview, except Parquet and numpy files, read whole up to a size limit).

Downloads are always attachments with ``nosniff``; an image preview is served only for
raster formats recognised by their first bytes (never SVG or HTML), so no stored file
can run a script on these pages.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from starlette.responses import Response, StreamingResponse

from assetry.errors import NotFoundError, ValidationError
from assetry.ui import netpbm
from assetry.ui.context import Page, page

router = APIRouter()

HEAD_BYTES = 64 * 1024  # read for a text or CSV preview
TEXT_LINES = 200
TABLE_ROWS = 20
WHOLE_FILE_PREVIEW = 64 * 1024 * 1024  # Parquet / numpy files read whole up to this size
IMAGE_PREVIEW = 32 * 1024 * 1024
CHUNK = 1024 * 1024
_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}
_TEXT_SUFFIXES = {
    ".txt", ".md", ".json", ".yaml", ".yml", ".log", ".py", ".cfg", ".ini", ".toml", ".xml",
    ".html", ".sh", ".r", ".ipynb", ".jsonl",
}  # fmt: skip
_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}


def asset_section(viewer: Page, table: str, row: dict[str, Any]) -> dict[str, Any]:
    """What an asset page shows beyond its columns: types, executions, a preview."""
    cat = viewer.cat
    rid = row["RID"]
    types = cat.query_page(f"{table}_Asset_Type", [(table, "==", rid)], limit=100)
    return {
        "types": [t["Asset_Type"] for t in types],
        "executions": cat.list_asset_executions(rid),
        "preview": preview(viewer, row),
    }


def preview(viewer: Page, row: dict[str, Any]) -> dict[str, Any]:
    """``{"kind": ...}``: image, text (``text``), table (``columns``, ``rows``), array
    (``text``), or none (``reason``)."""
    name = (row.get("Filename") or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    length = int(row.get("Length") or 0)
    try:
        if suffix == ".parquet":
            return _parquet(viewer, row["RID"], length)
        if suffix == ".npy":
            return _numpy(viewer, row["RID"], length)
        with viewer.cat.open_asset(row["RID"]) as stream:
            head = stream.read(HEAD_BYTES)
    except (NotFoundError, OSError) as err:
        return {"kind": "none", "reason": f"the stored bytes cannot be read: {err}"}
    if image_type(head) is not None or netpbm.is_netpbm(head):
        if length > IMAGE_PREVIEW:
            return {"kind": "none", "reason": "the image is too large to preview"}
        return {"kind": "image"}
    if suffix in _CSV_SUFFIXES:
        return _csv(head, _CSV_SUFFIXES[suffix], length > len(head))
    if suffix in _TEXT_SUFFIXES or (b"\0" not in head[:4096] and _is_utf8(head)):
        text = head.decode("utf-8", errors="replace")
        lines = text.splitlines()
        cut = len(lines) > TEXT_LINES or length > len(head)
        return {"kind": "text", "text": "\n".join(lines[:TEXT_LINES]), "cut": cut}
    return {"kind": "none", "reason": "no preview for this kind of file"}


def image_type(head: bytes) -> str | None:
    """The media type of a PNG, JPEG, GIF or WebP file by its first bytes."""
    for magic, media in _MAGIC.items():
        if head.startswith(magic):
            return media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        return err.start > len(head) - 4  # a character cut at the end of the head
    return True


def _csv(head: bytes, separator: str, cut: bool) -> dict[str, Any]:
    import pandas as pd

    text = head.decode("utf-8", errors="replace")
    if cut:
        text = text[: text.rfind("\n") + 1] or text
    try:
        frame = pd.read_csv(io.StringIO(text), sep=separator, nrows=TABLE_ROWS, dtype=str)
    except (ValueError, pd.errors.ParserError) as err:
        return {"kind": "none", "reason": f"not readable as CSV: {err}"}
    return _frame(frame, cut=cut or len(frame) == TABLE_ROWS)


def _frame(frame: Any, cut: bool) -> dict[str, Any]:
    head = frame.head(TABLE_ROWS)
    return {
        "kind": "table",
        "columns": [str(c) for c in head.columns],
        "rows": [["" if v is None else str(v) for v in r] for r in head.itertuples(index=False)],
        "cut": cut,
    }


def _whole(viewer: Page, rid: str, length: int) -> io.BytesIO:
    if length > WHOLE_FILE_PREVIEW:
        raise ValidationError("the file is too large to preview")
    with viewer.cat.open_asset(rid) as stream:
        return io.BytesIO(stream.read())


def _parquet(viewer: Page, rid: str, length: int) -> dict[str, Any]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-untyped]
    except ImportError:
        return {"kind": "none", "reason": "Parquet previews need pyarrow (assetry[artifacts])"}
    try:
        data = _whole(viewer, rid, length)
        table = next(pq.ParquetFile(data).iter_batches(batch_size=TABLE_ROWS), None)
    except (ValidationError, OSError, ValueError) as err:
        return {"kind": "none", "reason": str(err)}
    if table is None:
        return {"kind": "table", "columns": [], "rows": [], "cut": False}
    return _frame(table.to_pandas(), cut=True)


def _numpy(viewer: Page, rid: str, length: int) -> dict[str, Any]:
    import numpy as np

    try:
        array = np.load(_whole(viewer, rid, length), allow_pickle=False)
    except (ValidationError, OSError, ValueError) as err:
        return {"kind": "none", "reason": str(err)}
    with np.printoptions(threshold=200, edgeitems=5):
        text = f"shape {array.shape}, dtype {array.dtype}\n{array!r}"
    return {"kind": "text", "text": text, "cut": False}


def _asset(viewer: Page, rid: str) -> dict[str, Any]:
    found = viewer.cat.resolve_rid(rid)
    if "SHA256" not in found.row or "Filename" not in found.row:
        raise ValidationError(f"{rid} is a row of {found.table!r}, not an asset")
    return found.row


@router.get("/asset/{rid}/image")
def image(rid: str, viewer: Page = Depends(page)) -> Response:
    """The asset's bytes as an image (netpbm files converted to PNG), for previews."""
    row = _asset(viewer, rid)
    if int(row["Length"]) > IMAGE_PREVIEW:
        raise ValidationError("the image is too large to preview")
    with viewer.cat.open_asset(rid) as stream:
        data = stream.read()
    media = image_type(data)
    if media is None and netpbm.is_netpbm(data):
        data, media = netpbm.to_png(data), "image/png"
    if media is None:
        raise ValidationError(f"asset {rid} is not an image this page can show")
    headers = {"Content-Security-Policy": "default-src 'none'; sandbox", "Cache-Control": "private"}
    return viewer.finish(Response(data, media_type=media, headers=headers))


@router.get("/asset/{rid}/download")
def download(rid: str, viewer: Page = Depends(page)) -> Response:
    """The asset's bytes as an attachment named by its file name."""
    row = _asset(viewer, rid)
    stream = viewer.cat.open_asset(rid)

    def chunks() -> Iterator[bytes]:
        with contextlib.closing(stream):
            while chunk := stream.read(CHUNK):
                yield chunk

    headers = {
        "Content-Disposition": attachment(row["Filename"] or rid),
        "Content-Length": str(int(row["Length"])),
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return viewer.finish(
        StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)
    )


def attachment(filename: str) -> str:
    """A Content-Disposition naming a download (a plain ASCII fallback and the UTF-8
    name, RFC 6266), whatever characters the stored name has."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1] or "download"
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", base)[:150] or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(base, safe='')}"
