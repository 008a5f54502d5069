"""Helpers for tests that build catalog content row by row.

Asset rows must name bytes stored in the catalog's own store, and system tables are
written only by their own operations (``catalog/policy.py``). Tests that shape a graph
row by row store real bytes with ``stored_file`` and write system rows with
``insert_as_operations_do`` (the row layer below the generic-operation checks, as the
catalog's own operations do).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from assetry import Catalog
from assetry.sql import rows
from assetry.sql.backend import SqlBackend


def stored_file(cat: Catalog, content: bytes, filename: str | None = None) -> dict[str, Any]:
    """Store ``content`` in ``cat``'s store; the file columns of an asset row naming it."""
    digests = cat._context.store().put_stream(io.BytesIO(content))
    return {
        "URL": f"/objects/{digests.sha256}",
        "Filename": filename,
        "Length": digests.length,
        "MD5": digests.md5,
        "SHA256": digests.sha256,
    }


def insert_as_operations_do(
    cat: Catalog, table: str, values: Sequence[Mapping[str, Any]], *, keep_system: bool = False
) -> list[str]:
    """Insert rows through the row layer (checks of values and references, history,
    provenance edges), as the catalog's own operations do, past the rule that keeps the
    generic ``insert`` out of system tables; ``keep_system`` as an import does (the rows
    carry their RIDs). Database catalogs only."""
    backend = cat._backend
    assert isinstance(backend, SqlBackend), "white-box helper: SQLite or PostgreSQL only"
    with backend.session(write=True) as session:
        return rows.insert(session, table, values, keep_system=keep_system)
