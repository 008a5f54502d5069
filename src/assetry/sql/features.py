"""Features in the database: the feature tables, and recording their values.

``create_feature`` makes the association table ``Execution_<Target>_<Feature>`` (a model
change, curator) and adds the feature's name to the ``Feature_Name`` vocabulary.
Values are written only by ``record_features``, for one execution, which links each to
its execution (the provenance edge ``generated``, written by ``provenance``);
``delete_feature`` deletes the values (their images stay in history, so versions minted
before still read them) and drops the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import ConflictError, NotFoundError, ValidationError
from assetry.records.definitions import ColumnDef
from assetry.records.features import (
    EXECUTION,
    FEATURE_NAME,
    Feature,
    feature_of,
    feature_table_name,
)
from assetry.sql import ddl, names, rows, search_index
from assetry.sql.model import (
    ColumnModel,
    Model,
    TableModel,
    reference_column,
    reference_key,
    system_columns,
    user_columns,
)
from assetry.sql.session import Session
from assetry.sql.vocab import terms

TARGET_KINDS = ("table", "asset")


def feature_of_table(model: Model, table: TableModel) -> Feature | None:
    """The feature ``table`` implements, or None."""
    return feature_of(table.to_doc(), {t.name: t.kind for t in model.tables.values()})


def find(model: Model, target: str, feature_name: str) -> Feature:
    """The feature ``feature_name`` of table ``target`` (``NotFoundError`` listing the
    table's features otherwise)."""
    model.table(target)  # TableNotFound first
    if not isinstance(feature_name, str):
        raise ValidationError(f"a feature name must be text, got {feature_name!r}")
    found = []
    for table in model.tables.values():
        feature = feature_of_table(model, table)
        if feature is not None and feature.target_table.name == target:
            if feature.feature_name == feature_name:
                return feature
            found.append(feature.feature_name)
    listed = ", ".join(sorted(found)) or "none"
    raise NotFoundError(
        f"table {target!r} has no feature {feature_name!r} (its features: {listed})"
    )


def _tables_of_kind(
    model: Model, wanted: object, kind: str, what: str
) -> tuple[list[TableModel], list[str]]:
    problems = ddl.list_of_names_problems(wanted, what)
    if problems:
        return [], problems
    assert isinstance(wanted, Sequence)
    found = []
    for name in wanted:
        table = model.tables.get(name)
        if table is None:
            problems.append(f"{what}: table {name!r} does not exist")
        elif table.kind != kind:
            problems.append(f"{what}: {name!r} is a {table.kind} table, not a {kind} table")
        else:
            found.append(table)
    return found, problems


def create(
    session: Session,
    target: str,
    feature_name: str,
    term_tables: Sequence[str],
    asset_tables: Sequence[str],
    metadata: Sequence[ColumnDef],
    references: Sequence[str],
    optional: Sequence[str],
    comment: str | None,
) -> TableModel:
    """Create feature ``feature_name`` of ``target``; return its table.

    Columns, in order: ``Execution``, the target, ``Feature_Name`` (not null; the
    default is the feature's name), one per asset table and per vocabulary (named after
    it, not null), one per referenced table, then ``metadata``'s. Names in ``optional``
    may be null. Every problem is reported at once; nothing is created on a problem."""
    model = session.model
    problems = names.name_problems(feature_name, "feature")
    target_table = model.tables.get(target) if isinstance(target, str) else None
    if target_table is None:
        problems.append(f"create_feature: target table {target!r} does not exist")
    elif target_table.kind not in TARGET_KINDS:
        problems.append(
            f"create_feature: features describe rows of user tables (table or asset), "
            f"not of {target_table.kind} table {target!r}"
        )
    vocabularies, found = _tables_of_kind(model, term_tables, "vocabulary", "terms")
    problems += found
    assets, found = _tables_of_kind(model, asset_tables, "asset", "assets")
    problems += found
    referenced: list[TableModel] = []
    found = ddl.list_of_names_problems(references, "metadata tables")
    problems += found
    for name in references if not found else ():
        table = model.tables.get(name)
        if table is None:
            problems.append(f"metadata: table {name!r} does not exist")
        else:
            referenced.append(table)
    name = feature_table_name(str(target), str(feature_name))
    fixed = [EXECUTION, str(target), FEATURE_NAME]
    linked = assets + vocabularies + referenced
    seen: dict[str, str] = {}
    for table in linked:
        if table.name.lower() in {c.lower() for c in fixed} or table.name.lower() in seen:
            problems.append(f"feature {feature_name!r}: table {table.name!r} is named twice")
        seen[table.name.lower()] = table.name
    problems += ddl._column_problems(
        name, list(metadata), [*names.SYSTEM_COLUMNS, *fixed, *seen.values()]
    )
    if isinstance(optional, str) or not isinstance(optional, Sequence):
        problems.append(f"optional must be a list of column names, got {optional!r}")
        optional = []
    own = {t.name for t in linked} | {d.name for d in metadata if isinstance(d, ColumnDef)}
    for column in optional:
        if column not in own:
            problems.append(
                f"optional: {column!r} is not one of the feature's own columns "
                f"({', '.join(sorted(own)) or 'none'})"
            )
    if not names.name_problems(feature_name, "feature"):
        problems += ddl._table_name_problems(model, name)
    if problems or target_table is None:
        raise ValidationError(problems)
    # The feature's name is a term (one term may name features of several tables).
    term = terms.add(session, FEATURE_NAME, feature_name, comment or None, None, exists_ok=True)
    feature_name = term.name
    execution = model.table(EXECUTION)
    feature_names = model.table(FEATURE_NAME)
    columns = (
        system_columns()
        + [
            reference_column(execution, nullok=False),
            reference_column(target_table, nullok=False),
            ColumnModel(
                FEATURE_NAME,
                "text",
                nullok=False,
                default=feature_name,
                comment="term of Feature_Name",
            ),
        ]
        + [reference_column(t, nullok=t.name in optional) for t in linked]
    )
    for value_column in user_columns(metadata):
        value_column.nullok = value_column.nullok or value_column.name in optional
        columns.append(value_column)
    table = TableModel(
        name,
        "association",
        target_table.schema,
        columns,
        foreign_keys=[
            reference_key(execution),
            reference_key(target_table),
            reference_key(feature_names),
            *[reference_key(t) for t in linked],
        ],
        unique=[[EXECUTION, target_table.name, FEATURE_NAME]],
        comment=comment,
    )
    ddl._create(session, [table])
    return table


def delete(session: Session, target: str, feature_name: str) -> bool:
    """Delete feature ``feature_name`` of ``target``: its values (kept in history) and
    its table; False when there is no such feature."""
    try:
        feature = find(session.model, target, feature_name)
    except NotFoundError:
        return False
    name = feature.feature_table.name
    t = session.table(name)
    values = list(session.conn.execute(sa.select(t.c.RID)).scalars())
    for start in range(0, len(values), 900):
        rows.delete(session, name, values[start : start + 900])
    model = session.model.copy()
    del model.tables[name]
    ddl.record_model(session, model)  # curator, before anything is dropped
    search_index.drop(session.conn, name)
    t.drop(session.conn)
    return True


def record(
    session: Session, execution: str, batches: Sequence[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Record feature values of ``execution``: ``batches`` of ``{"table": feature table,
    "rows": [values]}``. Each row gets the execution; a row equal to one the execution
    recorded already (same target and feature) is that row (so a retried upload records
    each value once), a different one is a ``ConflictError``. Returns the RIDs by table."""
    model = session.model
    out: dict[str, list[str]] = {}
    for number, batch in enumerate(batches):
        if not isinstance(batch, Mapping) or not isinstance(batch.get("rows"), list):
            raise ValidationError(f"feature batch {number} must be {{'table': ..., 'rows': [...]}}")
        table = model.table(batch["table"])
        feature = feature_of_table(model, table)
        if feature is None:
            raise ValidationError(f"table {table.name!r} is not a feature table")
        target = feature.target_table.name
        fresh, matched = [], []
        existing = _recorded(session, table, execution, target)
        for row in batch["rows"]:
            if not isinstance(row, Mapping):
                raise ValidationError(f"feature values must be mappings, got {row!r}")
            if "Execution" in row and row["Execution"] not in (None, execution):
                raise ValidationError(
                    f"feature value for {row.get(target)!r} names execution "
                    f"{row['Execution']!r}; values are recorded by their own execution"
                )
            values = {k: v for k, v in row.items() if k not in names.SYSTEM_COLUMNS}
            values[EXECUTION] = execution
            values.setdefault(FEATURE_NAME, feature.feature_name)
            key = (str(values.get(target) or "").upper(), values[FEATURE_NAME])
            old = existing.get(key)
            if old is not None:
                _check_same(table, feature, old, values)
                matched.append(old["RID"])
                continue
            fresh.append(values)
        out.setdefault(table.name, []).extend(matched + rows.insert(session, table.name, fresh))
    return out


def _recorded(
    session: Session, table: TableModel, execution: str, target: str
) -> dict[tuple[str, str], dict[str, Any]]:
    t = session.table(table.name)
    found = session.conn.execute(sa.select(t).where(t.c.Execution == execution)).mappings()
    return {(str(r[target]).upper(), r[FEATURE_NAME]): dict(r) for r in found}


def _check_same(
    table: TableModel, feature: Feature, old: Mapping[str, Any], new: Mapping[str, Any]
) -> None:
    own = [c.name for c in feature.columns]
    differ = [c for c in own if c in new and new[c] != old.get(c)]
    if differ:
        raise ConflictError(
            f"execution {new[EXECUTION]} already recorded a value of feature "
            f"{feature.feature_name!r} for {new.get(feature.target_table.name)!r} in "
            f"{table.name!r}, with other {', '.join(differ)}"
        )
