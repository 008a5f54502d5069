"""The content-keyed cache of steps (``@step(cache=True)``).

A call's key is the SHA-256 of the step's identity (module, qualified name, the checksum
of its source), its output names and the content identity of every argument. The
output versions of a call are registered with the tag ``assetry.cache = <key>``; a later
call with the same key reuses the outputs of the newest **Completed** execution that
registered all of them. A run still Running (killed, or going on elsewhere), Failed or
Aborted is never reused, nor a version deleted since.

Reused objects are loaded back through their materializers and verified against their
recorded digests; an object missing from the store or corrupt makes the call run again
(never a wrong result). Pickled outputs are loaded as trusted: they are what this same
step stored in this catalog.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assetry.catalog import Catalog
from assetry.errors import AssetryError
from assetry.records.artifacts import ArtifactVersion

TAG = "assetry.cache"
# Versions looked at per key (each call that missed registered one set).
CANDIDATES = 50


@dataclass(frozen=True)
class Hit:
    """Outputs an earlier call made, loaded back."""

    execution: str  # the execution whose outputs are reused
    versions: list[ArtifactVersion]
    values: list[Any]


def key(step: dict[str, Any], outputs: list[str], identity: dict[str, Any]) -> str:
    """The cache key of a call."""
    document = {"step": step, "outputs": list(outputs), "arguments": identity}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def find(cat: Catalog, cache_key: str, order: Callable[[set[str]], list[str] | None]) -> Hit | None:
    """The newest completed call with ``cache_key`` whose outputs load, or None.
    ``order(names)`` puts the output names one call registered in return order (None:
    they are not what the step returns now)."""
    versions = cat.artifacts.list(tags={TAG: cache_key}, limit=CANDIDATES)
    by_execution: dict[str, dict[str, ArtifactVersion]] = {}
    for version in versions:  # newest first
        by_execution.setdefault(version.execution, {}).setdefault(version.name, version)
    for execution, named in by_execution.items():
        names = order(set(named))
        if names is None:
            continue
        if _status(cat, execution) != "Completed":
            continue
        chosen = [named[name] for name in names]
        try:
            values = [cat.artifacts.load(v, trust=True) for v in chosen]
        except (AssetryError, OSError, ValueError) as err:
            warnings.warn(
                f"cached outputs of execution {execution} cannot be used "
                f"({type(err).__name__}: {err}); running the step again",
                UserWarning,
                stacklevel=4,
            )
            continue
        return Hit(execution, chosen, values)
    return None


def _status(cat: Catalog, execution: str) -> str | None:
    """The run status of ``execution`` (one indexed read)."""
    rows = cat.get_table_as_dict("Execution", limit=1, filters={"RID": execution})
    return next((str(row["Status"]) for row in rows), None)
