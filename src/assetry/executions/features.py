"""Feature values an execution makes: staged by ``exe.add_features``, recorded by
``upload_execution_outputs`` after the files they name.

Staging checks what can be checked before the run ends (one feature per call, terms
known, asset files staged for the right table) and appends the values to
``features.jsonl`` in the working directory, so a crash loses none and
``restore_execution`` records them. A value's asset given as a staged file's path is
written as ``{"$staged": "<Table>/<name>"}`` and replaced by the asset's RID once the
file is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from assetry.errors import TermNotFound, ValidationError
from assetry.executions.staging import WorkingDir, _append, _read
from assetry.records.features import SYSTEM_COLUMNS, FeatureRecord

if TYPE_CHECKING:
    from assetry.backend import Backend

FEATURES_JOURNAL = "features.jsonl"
STAGED = "$staged"


def stage(work: WorkingDir, backend: Backend, records: Iterable[FeatureRecord]) -> int:
    """Check ``records`` (values of one feature) and append them to the journal; return
    how many were staged. Nothing is staged when any is refused."""
    if isinstance(records, FeatureRecord):
        raise ValidationError("add_features takes a list of feature records, got one record")
    listed = list(records)
    if not listed:
        raise ValidationError("add_features needs at least one feature record")
    bad = [r for r in listed if not isinstance(r, FeatureRecord) or type(r).feature is None]
    if bad:
        raise ValidationError(
            f"add_features takes records of a feature_record_class(), got {bad[0]!r:.80}"
        )
    feature = type(listed[0]).feature
    assert feature is not None
    tables = {type(r).feature.feature_table.name for r in listed}  # type: ignore[union-attr]
    if len(tables) > 1:
        raise ValidationError(
            f"add_features takes the values of one feature per call, got {sorted(tables)}"
        )
    staged = {os.path.abspath(f.path): f for f in work.staged()}
    problems: list[str] = []
    rows = []
    for number, record in enumerate(listed):
        row = record.model_dump()
        for column in SYSTEM_COLUMNS:
            row.pop(column, None)
        row.pop("Execution", None)
        for asset in feature.asset_columns:
            value = row.get(asset.name)
            if isinstance(value, os.PathLike):
                entry = staged.get(os.path.abspath(value))
                if entry is None or entry.table != asset.table:
                    problems.append(
                        f"record {number}: {asset.name} {os.fspath(value)!r} is not a file "
                        f"staged for {asset.table!r}: stage it with "
                        f"exe.asset_file_path({asset.table!r}, ...) first"
                    )
                else:
                    row[asset.name] = {STAGED: entry.staged_name}
        rows.append(row)
    for term in feature.term_columns:
        vocabulary = str(term.table)
        canonical: dict[str, str] = {}
        for value in {r[term.name] for r in rows if isinstance(r.get(term.name), str)}:
            try:
                canonical[value] = backend.lookup_term(vocabulary, value).name
            except TermNotFound:
                problems.append(
                    f"{term.name}: {value!r} is not a term of vocabulary {vocabulary!r}"
                )
        for row in rows:
            value = row.get(term.name)
            if isinstance(value, str) and value in canonical:
                row[term.name] = canonical[value]
    if problems:
        raise ValidationError(problems)
    work.path.mkdir(parents=True, exist_ok=True)
    _append(work.path / FEATURES_JOURNAL, {"table": feature.feature_table.name, "rows": rows}, True)
    return len(rows)


def staged_batches(work: WorkingDir) -> list[dict[str, Any]]:
    """The batches staged so far (one per ``add_features`` call)."""
    return list(_read(work.path / FEATURES_JOURNAL))


def record(
    work: WorkingDir,
    backend: Backend,
    execution: str,
    recorded: Mapping[str, tuple[str, str]],
) -> dict[str, list[str]]:
    """Record the staged values (their staged files replaced by the assets recorded for
    them, ``recorded``: staged name -> (table, RID)); return their RIDs by table."""
    batches = staged_batches(work)
    if not batches:
        return {}
    problems = []
    for batch in batches:
        for row in batch.get("rows", []):
            for column, value in row.items():
                if isinstance(value, Mapping) and STAGED in value:
                    found = recorded.get(value[STAGED])
                    if found is None:
                        problems.append(
                            f"feature value of {batch.get('table')}: file {value[STAGED]!r} "
                            "was not uploaded"
                        )
                    else:
                        row[column] = found[1]
    if problems:
        raise ValidationError(problems)
    return backend.record_features(execution, batches)
