"""Listings that travel in pages: a client asks for one page of rows after the last RID
it has (keyset paging) until a page comes back short, so no answer holds a whole large
dataset and every page costs the server the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

# Rows per page of a listing on the wire.
WIRE_PAGE = 5_000

Rows = list[dict[str, Any]]


class _Versions(Protocol):
    def dataset_version(self, ds: str, version: str | None) -> dict[str, Any]: ...


def paged_members(
    backend: _Versions,
    ds: str,
    version: str | None,
    limit: int | None,
    table: str | None,
    after: str | None,
    page: Callable[[str | None, str | None, str | None, int | None], dict[str, Rows]],
) -> dict[str, Rows]:
    """``dataset_members`` of ``ds`` assembled from pages: ``page(version, table, after,
    size)`` is one call of the operation. The first page answers for every table; a table
    whose page came back full is read on, page by page, at the same version."""
    if limit is not None and (not _count(limit) or limit <= WIRE_PAGE):
        return page(version, table, after, limit)  # one call (a bad limit: its error)
    size = WIRE_PAGE if limit is None else min(limit, WIRE_PAGE)
    pinned = backend.dataset_version(ds, version)["Version"]
    out = page(pinned, table, after, size)
    for name, rows in out.items():
        got = rows
        while len(got) == WIRE_PAGE and (limit is None or len(rows) < limit):
            want = WIRE_PAGE if limit is None else min(WIRE_PAGE, limit - len(rows))
            got = page(pinned, name, rows[-1]["RID"], want).get(name, [])
            rows += got
    return out


def paged_summaries(
    limit: int | None, after: str | None, page: Callable[[str | None, int], Rows]
) -> Rows:
    """``dataset_summaries`` assembled from pages: ``page(after, size)`` is one call."""
    if limit is not None and not _count(limit):
        return page(after, limit)  # the operation's own error
    out: Rows = []
    while True:
        size = WIRE_PAGE if limit is None else min(limit - len(out), WIRE_PAGE)
        got = page(after, size)
        out += got
        if len(got) < size or (limit is not None and len(out) >= limit):
            return out
        after = got[-1]["RID"]


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
