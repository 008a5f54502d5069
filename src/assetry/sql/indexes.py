"""User-declared indexes: ``cat.create_index(table, columns)`` and ``ColumnDef(index=True)``.

Foreign keys and the asset columns ``Filename``, ``MD5`` and ``SHA256`` are indexed with
their table (``model.table_indexes``); a user adds an index on the columns reads filter
on. The index is part of the model (a column's ``index`` flag, a table's ``indexes`` for
several columns), so a model document carries it and ``apply_model`` recreates it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from assetry.errors import ValidationError
from assetry.sql import names
from assetry.sql.model import TableModel, has_index, index_name, relation_names
from assetry.sql.session import Session

# PostgreSQL's limit of columns in one index.
MAX_COLUMNS = 32


def index_columns(table: TableModel, columns: object) -> list[str]:
    """``columns`` (a column name or a list of them) checked against ``table``: every
    problem (not a name, unknown, repeated, too many) in one ``ValidationError``."""
    what = f"index on table {table.name!r}"
    if isinstance(columns, str):
        columns = [columns]
    if not isinstance(columns, Sequence) or isinstance(columns, bytes):
        raise ValidationError(
            f"{what}: columns must be a column name or a list of column names, "
            f"got {type(columns).__name__}"
        )
    if not columns:
        raise ValidationError(f"{what}: give at least one column")
    problems: list[str] = []
    seen: set[str] = set()
    for i, column in enumerate(columns):
        if not isinstance(column, str):
            problems.append(f"{what}: columns[{i}] must be a column name, got {column!r}")
        elif not table.has_column(column):
            problems.append(f"{what}: table {table.name!r} has no column {column!r}")
        elif column in seen:
            problems.append(f"{what}: column {column!r} is listed more than once")
        else:
            seen.add(column)
    if len(columns) > MAX_COLUMNS:
        problems.append(f"{what}: at most {MAX_COLUMNS} columns, got {len(columns)}")
    if problems:
        raise ValidationError(problems)
    return list(columns)


def create_index(session: Session, table_name: str, columns: object) -> bool:
    """Index ``columns`` of ``table_name`` in this session's transaction; False (and
    nothing changed) when an index, unique key or primary key on exactly these columns
    exists already."""
    from assetry.sql import ddl

    table = session.model.table(table_name)
    wanted = index_columns(table, columns)
    if has_index(table, wanted):
        return False
    name = index_name(table.name, wanted)
    for other in session.model.tables.values():
        if any(taken.lower() == name.lower() for taken in relation_names(other)):
            raise ValidationError(
                f"index on table {table.name!r} ({', '.join(wanted)}) needs the name "
                f"{name!r}, which {other.name!r} already takes"
            )
    assert len(name.encode()) <= names.MAX_IDENTIFIER_BYTES
    model = session.model.copy()
    changed = model.tables[table.name]
    if len(wanted) == 1:
        changed.column(wanted[0]).index = True
    else:
        changed.indexes.append(wanted)
    t = session.table(table.name)
    sa.Index(name, *(t.c[c] for c in wanted)).create(session.conn)
    ddl.record_model(session, model)
    return True
