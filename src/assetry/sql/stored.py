"""Asset rows name bytes that are stored: the rule every path that writes one passes.

An asset row's ``URL`` must be this catalog's URL form for an object (``/objects/<SHA-256>``)
and its ``SHA256``, ``MD5`` and ``Length`` the true digests of an object in the catalog's
own store. ``rows.insert`` checks every new asset row here, so ``insert``, uploads,
``ensure_asset`` and bag imports (embedded, on a shared database, over HTTP) all meet
it. Objects this process stored are known by the digests computed while writing them;
any other is read and verified once (``ObjectStore.digests_of``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from assetry.errors import ChecksumMismatch, NotFoundError, ValidationError
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests, is_sha256

_NAMING = ("URL", "Length", "MD5", "SHA256")  # the columns that name the object
_MD5 = re.compile(r"[0-9a-f]{32}\Z")
_MAX_REPORTED = 50


def object_url(sha256: str) -> str:
    """The URL an asset row records for the object ``sha256`` (the same from every
    client, wherever the store is)."""
    return f"/objects/{sha256}"


def check_rows(
    table: str,
    columns: Mapping[str, Sequence[Any]],
    store: Callable[[], ObjectStore],
) -> None:
    """``ValidationError`` listing every new row of asset table ``table`` (given as
    columns: name -> one value per row) that does not name a stored object truly."""
    problems: list[str] = []
    wanted: dict[str, list[tuple[int, Any, Any]]] = {}
    count = len(columns["SHA256"])
    for i in range(count):
        url, length, md5, sha256 = (columns[c][i] for c in _NAMING)
        where = f"{table} row {i}"
        shape = _shape_problems(where, url, length, md5, sha256)
        if shape:
            problems += shape
        else:
            wanted.setdefault(sha256, []).append((i, md5, length))
    if wanted:
        objects = store()
        for sha256, uses in wanted.items():
            problems += _content_problems(table, objects, sha256, uses)
    if problems:
        shown = problems[:_MAX_REPORTED]
        if len(problems) > _MAX_REPORTED:
            shown.append(f"... and {len(problems) - _MAX_REPORTED} more")
        raise ValidationError(shown)


def _shape_problems(where: str, url: Any, length: Any, md5: Any, sha256: Any) -> list[str]:
    problems = []
    if not isinstance(sha256, str) or not is_sha256(sha256):
        problems.append(f"{where}: SHA256 {sha256!r} is not 64 lower-case hex digits")
    if not isinstance(md5, str) or not _MD5.match(md5):
        problems.append(f"{where}: MD5 {md5!r} is not 32 lower-case hex digits")
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        problems.append(f"{where}: Length {length!r} is not a byte count")
    if not problems and url != object_url(sha256):
        problems.append(
            f"{where}: URL {url!r} is not this catalog's URL of the object "
            f"({object_url(sha256)!r}); an asset row names an object in the catalog's own "
            "store (bytes kept elsewhere are references of named artifacts)"
        )
    return problems


def _content_problems(
    table: str, store: ObjectStore, sha256: str, uses: list[tuple[int, str, int]]
) -> list[str]:
    try:
        found = store.digests_of(sha256)
    except ChecksumMismatch as err:
        return [f"{table}: the stored object {sha256} is damaged ({err}); run `assetry fsck`"]
    except NotFoundError:
        found = None
    if found is None:
        rows = ", ".join(str(i) for i, _, _ in uses[:5])
        return [
            f"{table} row(s) {rows}: no object with SHA-256 {sha256} is stored in this "
            "catalog's store (upload the file first)"
        ]
    return [
        problem for i, md5, length in uses for problem in _mismatch(table, i, found, md5, length)
    ]


def _mismatch(table: str, i: int, found: Digests, md5: str, length: int) -> list[str]:
    problems = []
    if md5 != found.md5:
        problems.append(
            f"{table} row {i}: MD5 {md5} is not that of the stored object {found.sha256} "
            f"({found.md5})"
        )
    if length != found.length:
        problems.append(
            f"{table} row {i}: Length {length} is not that of the stored object "
            f"{found.sha256} ({found.length} bytes)"
        )
    return problems
