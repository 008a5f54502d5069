"""Built-in terms: the terms assetry itself writes or looks up by name.

Executions record their status, upload status and asset roles with these terms, uploads
give each asset its table's Asset_Type term, ``upload_assets`` files its workflow under
``Ingest``. Renaming or deleting one would make those calls fail later, so it is refused
(``ValidationError``) on every path: ``delete_term``, ``update_term(name=...)``, and
``delete``/``update`` of the vocabulary's rows. Descriptions and synonyms may change.

This module depends on the model only, so the row layer can call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from assetry.sql.model import Model

ASSET_TYPE = "Asset_Type"

# vocabulary -> {term: what relies on it}
BUILTIN_TERMS: dict[str, dict[str, str]] = {
    "Execution_Status": {
        term: "executions record their status with it"
        for term in ("Created", "Running", "Completed", "Failed", "Aborted")
    },
    "Upload_Status": {
        term: "executions record the upload of their outputs with it"
        for term in ("Not_Started", "Pending", "Uploaded", "Failed")
    },
    "Asset_Role": {
        term: "executions link the assets they read and write with it"
        for term in ("Input", "Output")
    },
    ASSET_TYPE: {
        "Runtime_Env": "executions record their runtime environment with it",
        "Execution_Metadata": "executions record their runtime environment with it",
    },
    "Workflow_Type": {
        "Ingest": "upload_assets files its workflow under it",
        "Register": "artifact registrations without an execution file theirs under it",
    },
    # Tracelet's ArtifactType members name these (assetry.ArtifactType).
    "Artifact_Type": {
        term: "ArtifactType names it"
        for term in (
            "Model",
            "Checkpoint",
            "Weights",
            "Dataset",
            "Sample",
            "Image",
            "Audio",
            "Video",
            "Visualization",
            "Report",
            "Config",
            "Code",
            "Custom",
        )
    },  # fmt: skip
}


def has_builtin_terms(vocabulary: str) -> bool:
    """True if ``vocabulary`` may hold built-in terms (a cheap first check)."""
    return vocabulary in BUILTIN_TERMS


def builtin_reason(model: Model, vocabulary: str, term: object) -> str | None:
    """Why ``term`` of ``vocabulary`` is built in, or None if it is not."""
    if not isinstance(term, str):
        return None
    wanted = term.casefold()
    for name, reason in BUILTIN_TERMS.get(vocabulary, {}).items():
        if name.casefold() == wanted:
            return reason
    if vocabulary == ASSET_TYPE:
        for table in model.tables.values():
            if table.kind == "asset" and table.name.casefold() == wanted:
                return f"it is the default type of the assets of table {table.name!r}"
    return None


def _refusal(vocabulary: str, term: str, reason: str, action: str) -> str:
    return (
        f"term {term!r} of vocabulary {vocabulary!r} is built in ({reason}); it cannot be "
        f"{action} (its description and synonyms may change)"
    )


def delete_problems(model: Model, vocabulary: str, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """A problem for every built-in term among the vocabulary ``rows`` to be deleted."""
    if not has_builtin_terms(vocabulary):
        return []
    problems = []
    for row in rows:
        reason = builtin_reason(model, vocabulary, row.get("Name"))
        if reason is not None:
            problems.append(_refusal(vocabulary, row["Name"], reason, "deleted"))
    return problems


def rename_problems(
    model: Model,
    vocabulary: str,
    changes: Sequence[Mapping[str, Any]],
    old: Mapping[str, Mapping[str, Any]],
) -> list[str]:
    """A problem for every change (``RID`` plus new values) that renames a built-in term
    (a change of case too: assetry compares the names as written). ``old`` maps each
    RID to the row's current values."""
    if not has_builtin_terms(vocabulary):
        return []
    problems = []
    for change in changes:
        before = old.get(change.get("RID", ""))
        if before is None or "Name" not in change or change["Name"] == before["Name"]:
            continue
        reason = builtin_reason(model, vocabulary, before["Name"])
        if reason is not None:
            problems.append(_refusal(vocabulary, before["Name"], reason, "renamed"))
    return problems
