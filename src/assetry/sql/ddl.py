"""Model changes at run time: new tables of every kind, new columns, model documents.

Each function works inside the caller's writing session, checks every name and column
first (all problems reported at once), then changes the database and records the next
model version in the same transaction, so a model change is all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from assetry.errors import TableNotFound, ValidationError
from assetry.records.definitions import ColumnDef, check_comment
from assetry.sql import (
    indexes,
    internal,
    names,
    policy,
    provenance,
    rows,
    search_index,
    types,
)
from assetry.sql.model import (
    ELEMENT_KINDS,
    ColumnModel,
    Model,
    TableModel,
    asset_columns,
    build_metadata,
    dataset_link_model,
    identifiers,
    index_name,
    reference_column,
    reference_key,
    relation_names,
    sa_table,
    system_columns,
    user_columns,
    vocabulary_columns,
)
from assetry.sql.session import Session

ASSET_TYPE = "Asset_Type"
ASSET_ROLE = "Asset_Role"


def _raise(problems: list[str]) -> None:
    if problems:
        raise ValidationError(problems)


def _table_name_problems(model: Model, name: object, pending: Iterable[str] = ()) -> list[str]:
    problems = names.name_problems(name, "table")
    if problems:
        return problems
    assert isinstance(name, str)
    if name.upper() in names.SYSTEM_COLUMNS:
        problems.append(
            f"table name {name!r} is not allowed: every table has a system column "
            f"{name.upper()!r}, so a reference to this table (a column named after it) "
            "would clash with it"
        )
    clash = model.find_ci(name) or next((p for p in pending if p.lower() == name.lower()), None)
    if clash is not None:
        problems.append(f"a table named {clash!r} already exists")
    return problems


def _column_defs_problems(table: str, column_defs: object) -> list[str]:
    """``column_defs`` must be a list (a single ColumnDef or a string is refused)."""
    if isinstance(column_defs, str | ColumnDef) or not isinstance(column_defs, Sequence):
        return [
            f"table {table!r}: column_defs must be a list of ColumnDef, "
            f"got {type(column_defs).__name__}"
        ]
    return []


def _column_problems(table: str, defs: Sequence[ColumnDef], taken: Iterable[str]) -> list[str]:
    problems = []
    seen = {t.lower(): t for t in taken}
    for d in defs:
        if not isinstance(d, ColumnDef):
            problems.append(f"table {table!r}: column definitions must be ColumnDef, got {d!r}")
            continue
        these = names.name_problems(d.name, "column")
        if not these and d.name.lower() in seen:
            these.append(f"table {table!r} already has a column {seen[d.name.lower()]!r}")
        if not these and d.default is not None:
            try:
                types.checker(d.builtin_type)(d.default)
            except ValueError as err:
                these.append(f"column {d.name!r}: default {d.default!r} is not valid: {err}")
        problems += these
        seen[str(d.name).lower()] = str(d.name)
    return problems


def _references(
    model: Model,
    table: str,
    referenced: object,
    standard: Sequence[ColumnModel] = (),
    kind: str = "table",
) -> tuple[list[TableModel], list[str]]:
    """The tables ``table`` references, and every problem: a target that does not exist,
    appears twice, or whose reference column would clash with one of ``standard`` (the
    columns every table of its kind has)."""
    targets: list[TableModel] = []
    problems = list_of_names_problems(referenced, f"table {table!r}: referenced_tables")
    if problems:
        return targets, problems
    assert isinstance(referenced, Sequence)
    for name in referenced:
        try:
            targets.append(model.table(name))
        except TableNotFound:
            problems.append(f"table {table!r} references {name!r}, which does not exist")
    dupes = {t.name for t in targets if [x.name for x in targets].count(t.name) > 1}
    problems += [f"table {table!r} references {d!r} more than once" for d in sorted(dupes)]
    taken = {c.name.lower(): c.name for c in standard}
    for target in targets:
        column = taken.get(target.name.lower())
        if column is not None:
            problems.append(
                f"{kind} {table!r} cannot reference table {target.name!r}: the reference "
                f"would be a column named {target.name!r}, which clashes with the standard "
                f"column {column!r} every {kind} has"
            )
    return targets, problems


def list_of_names_problems(value: object, what: str) -> list[str]:
    """Problems of ``value`` as a list of table names (a single string is refused: it
    would be read as a list of its characters)."""
    if isinstance(value, str):
        return [
            f"{what} must be a list of table names, got the string {value!r} (write [{value!r}])"
        ]
    if not isinstance(value, Sequence):
        return [f"{what} must be a list of table names, got {type(value).__name__}"]
    return [
        f"{what}[{i}] must be a table name, got {type(v).__name__}"
        for i, v in enumerate(value)
        if not isinstance(v, str)
    ]


def _derived_problems(table: TableModel) -> list[str]:
    """Identifiers of ``table`` too long for PostgreSQL, now or once it is made a dataset
    element type (``Dataset_<T>``, its keys and indexes): a table is usable for
    everything or refused at creation."""
    problems = names.derived_name_problems(identifiers(table), table.name)
    if table.kind in ELEMENT_KINDS:
        problems += names.derived_name_problems(
            identifiers(dataset_link_model(table.name)),
            table.name,
            " (for its use as a dataset element type)",
        )
    return problems


def _relation_clashes(model: Model, new_tables: Sequence[TableModel]) -> list[str]:
    """Names of new tables and their indexes already taken, ignoring case, by a table or
    index (PostgreSQL and SQLite keep both in one namespace per schema)."""
    taken: dict[str, str] = {}
    for table in model.tables.values():
        taken[f"{table.name}_pkey".lower()] = f"the primary key of table {table.name!r}"
        for name in relation_names(table):
            taken[name.lower()] = (
                f"table {table.name!r}" if name == table.name else f"an index of {table.name!r}"
            )
    problems = []
    for table in new_tables:
        for name in relation_names(table):
            owner = taken.get(name.lower())
            if owner is not None:
                what = "name" if name == table.name else "index name"
                problems.append(
                    f"table {table.name!r} needs the {what} {name!r}, which is taken by {owner}"
                )
            taken[name.lower()] = f"table {table.name!r}"
    return problems


def _create(session: Session, new_tables: list[TableModel]) -> None:
    """Create ``new_tables`` in the database and record the next model version."""
    problems = []
    for table in new_tables:
        problems += _derived_problems(table)
    problems += _relation_clashes(session.model, new_tables)
    _raise(problems)
    model = session.model.copy()
    scratch = sa.MetaData()
    for table in model.tables.values():
        sa_table(table, scratch)
    for table in new_tables:
        model.tables[table.name] = table
        t = sa_table(table, scratch)
        t.create(session.conn)
        search_index.create(session.conn, table, t, fill=False)
    record_model(session, model)


def record_model(session: Session, model: Model) -> None:
    """Store ``model`` as the next model version at this session's snapshot. Every model
    change passes here, so here it is authorized: the model is the curators'."""
    policy.require(policy.CURATOR, "changing the model (tables, columns, element types)")
    model.version = session.model.version + 1
    session.conn.execute(
        internal.model_versions.insert().values(
            version=model.version,
            snapshot=session.snapshot(),
            document=json.dumps(model.to_doc(), sort_keys=True),
            created=session.now,
            created_by=session.user,
        )
    )
    session.model = model
    session.metadata = build_metadata(model)
    session.model_changed = True


def _schema(session: Session, schema: str | None) -> str:
    if schema is None:
        return session.model.domain_schema
    if schema not in (session.model.domain_schema, session.model.ml_schema):
        raise ValidationError(
            f"unknown schema {schema!r}; this catalog has {session.model.ml_schema!r} and "
            f"{session.model.domain_schema!r}"
        )
    return schema


def create_vocabulary(
    session: Session, name: str, comment: str | None = None, schema: str | None = None
) -> TableModel:
    """Create an empty vocabulary table ``name``."""
    check_comment(comment, f"vocabulary {name!r}")
    _raise(_table_name_problems(session.model, name))
    table = TableModel(
        name,
        "vocabulary",
        _schema(session, schema),
        system_columns() + vocabulary_columns(),
        unique=[["Name"]],
        comment=comment,
    )
    _create(session, [table])
    return table


def create_table(
    session: Session,
    name: str,
    column_defs: Sequence[ColumnDef] = (),
    referenced_tables: Sequence[str] = (),
    comment: str | None = None,
    schema: str | None = None,
    kind: str = "table",
    order: Sequence[str] = (),
    unique: Sequence[Sequence[str]] = (),
) -> TableModel:
    """Create a plain table with user columns and one reference column per target.

    ``order`` lists column names in the order wanted (as in a model document).
    """
    model = session.model
    problems = _table_name_problems(model, name)
    defs_problems = _column_defs_problems(name, column_defs)
    problems += defs_problems
    targets, ref_problems = _references(model, name, referenced_tables, system_columns())
    problems += ref_problems
    reserved = [c.name for c in system_columns()] + [t.name for t in targets]
    if not defs_problems:
        problems += _column_problems(name, list(column_defs), reserved)
    _raise(problems)
    table = TableModel(
        name,
        kind,
        _schema(session, schema),
        system_columns() + user_columns(column_defs) + [reference_column(t) for t in targets],
        foreign_keys=[reference_key(t) for t in targets],
        unique=[list(u) for u in unique],
        comment=comment,
    )
    unknown = [c for u in table.unique for c in u if not table.has_column(c)]
    _raise([f"table {name!r}: unique key column {c!r} does not exist" for c in unknown])
    _reorder(table, order)
    _create(session, [table])
    return table


def _reorder(table: TableModel, order: Sequence[str]) -> None:
    if order:
        rank = {name: i for i, name in enumerate(order)}
        table.columns.sort(key=lambda c: rank.get(c.name, len(rank)))


def asset_tables(
    model: Model,
    name: str,
    column_defs: Sequence[ColumnDef],
    referenced_tables: Sequence[str],
    comment: str | None,
    schema: str,
) -> list[TableModel]:
    """The asset table ``name`` and its ``_Asset_Type`` and ``_Execution`` associations."""
    problems = _table_name_problems(model, name)
    if not problems:
        for derived in (f"{name}_Asset_Type", f"{name}_Execution"):
            problems += [
                f"asset table {name!r} needs a table {derived!r}: {p}"
                for p in _table_name_problems(model, derived)
            ]
    defs_problems = _column_defs_problems(name, column_defs)
    problems += defs_problems
    standard = system_columns() + asset_columns()
    targets, ref_problems = _references(model, name, referenced_tables, standard, "asset table")
    problems += ref_problems
    reserved = [c.name for c in standard] + [t.name for t in targets]
    if not defs_problems:
        problems += _column_problems(name, list(column_defs), reserved)
    _raise(problems)
    asset = TableModel(
        name,
        "asset",
        schema,
        system_columns()
        + asset_columns()
        + user_columns(column_defs)
        + [reference_column(t) for t in targets],
        foreign_keys=[reference_key(t) for t in targets],
        comment=comment,
    )
    asset_type = model.table(ASSET_TYPE)
    types_link = TableModel(
        f"{name}_Asset_Type",
        "association",
        schema,
        system_columns()
        + [reference_column(asset, nullok=False), reference_column(asset_type, nullok=False)],
        foreign_keys=[reference_key(asset), reference_key(asset_type)],
        unique=[[name, ASSET_TYPE]],
        comment=f"Asset types of {name}",
    )
    execution = model.table("Execution")
    role = model.table(ASSET_ROLE)
    executions_link = TableModel(
        f"{name}_Execution",
        "association",
        schema,
        system_columns()
        + [
            reference_column(asset, nullok=False),
            reference_column(execution, nullok=False),
            reference_column(role, nullok=False),
        ],
        foreign_keys=[reference_key(asset), reference_key(execution), reference_key(role)],
        unique=[[name, "Execution", ASSET_ROLE]],
        comment=f"Executions that used or made {name} assets",
    )
    return [asset, types_link, executions_link]


def create_asset(
    session: Session,
    name: str,
    column_defs: Sequence[ColumnDef] = (),
    referenced_tables: Sequence[str] = (),
    comment: str | None = None,
    schema: str | None = None,
    order: Sequence[str] = (),
) -> TableModel:
    """Create asset table ``name`` with its association tables and its Asset_Type term."""
    check_comment(comment, f"asset table {name!r}")
    tables = asset_tables(
        session.model, name, column_defs, referenced_tables, comment, _schema(session, schema)
    )
    _reorder(tables[0], order)
    _create(session, tables)
    rows.insert(session, ASSET_TYPE, [{"Name": name, "Description": comment or f"A {name} asset"}])
    return tables[0]


def add_column(session: Session, table_name: str, column: ColumnDef) -> ColumnModel:
    """Add ``column`` to ``table_name``; a NOT NULL column needs a default once rows exist."""
    table = session.model.table(table_name)
    if table.kind in ("system", "association"):
        raise ValidationError(f"columns cannot be added to {table.kind} table {table_name!r}")
    _raise(_column_problems(table_name, [column], table.column_names))
    t = session.table(table_name)
    has_rows = session.conn.execute(sa.select(t.c.RID).limit(1)).first() is not None
    if not column.nullok and column.default is None and has_rows:
        raise ValidationError(
            f"column {column.name!r} may not be null, but table {table_name!r} has rows: "
            "give the column a default"
        )
    [new] = user_columns([column])
    default: Any = None
    if column.default is not None:
        value = types.checker(new.builtin_type)(column.default)
        default = sa.literal(value, types.sql_type(new.builtin_type))
    sa_column = sa.Column(
        new.name,
        types.sql_type(new.builtin_type),
        nullable=new.nullok,
        server_default=default,
    )
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    op = Operations(MigrationContext.configure(session.conn))
    rebuilt = session.dialect == "sqlite" and not new.nullok and default is None
    if rebuilt:
        # SQLite's ADD COLUMN cannot add NOT NULL without a default; the table is empty,
        # so rebuilding it is cheap.
        with op.batch_alter_table(table_name, recreate="always") as batch:
            batch.add_column(sa_column)
    else:
        op.add_column(table_name, sa_column)
    if new.index:
        op.create_index(index_name(table_name, [new.name]), table_name, [new.name])
    model = session.model.copy()
    model.tables[table_name].columns.append(new)
    if new.builtin_type.value in search_index.TEXT_TYPES or rebuilt:
        # The search index covers the new column (and a rebuilt table lost its triggers).
        changed = model.tables[table_name]
        search_index.recreate(session.conn, changed, sa_table(changed, sa.MetaData()))
    record_model(session, model)
    return new


def _table_from_doc(doc: dict[str, Any], default_schema: str) -> TableModel:
    return TableModel.from_doc({"schema": default_schema, **doc})


def apply_model(session: Session, doc: dict[str, Any]) -> list[str]:
    """Create what ``doc`` describes and is missing; return the names of what changed.

    Existing tables gain missing columns; a column whose type differs is an error. Tables
    are created in dependency order. Applying a catalog's own model changes nothing.
    """
    docs = _with_vocabulary_references(doc.get("tables", []), session.model)
    wanted = [_table_from_doc(t, session.model.domain_schema) for t in docs]
    changed: list[str] = []
    problems: list[str] = []
    later: list[tuple[str, list[str]]] = []
    by_name = {t.name: t for t in wanted}
    derived = {
        f"{t.name}{suffix}"
        for t in wanted
        if t.kind == "asset"
        for suffix in ("_Asset_Type", "_Execution")
    }
    for table in _dependency_order(wanted, problems):
        existing = session.model.tables.get(table.name)
        if existing is not None:
            changed += _merge_columns(session, existing, table, problems)
            later.extend((table.name, list(columns)) for columns in table.indexes)
            continue
        if table.kind == "system":
            problems.append(
                f"system table {table.name!r} is not in this catalog (the document may come "
                "from a newer assetry)"
            )
            continue
        if table.name in derived or problems:
            continue
        # Indexes of several columns are made once the table is there.
        later.extend((table.name, list(columns)) for columns in table.indexes)
        defs = _user_column_defs(table)
        refs, key_problems = _split_keys(table, by_name, session.model)
        if key_problems:
            problems += key_problems
            continue
        if table.kind == "vocabulary":
            create_vocabulary(session, table.name, table.comment, table.schema)
        elif provenance.is_feature_table(table):
            # A feature's table keeps its exact columns: the not-null references and the
            # Feature_Name default are what make it a feature.
            problems += _table_name_problems(session.model, table.name)
            problems += _column_problems(table.name, defs, [fk.column for fk in table.foreign_keys])
            if not problems:
                _create(session, [table])
        elif table.kind == "asset":
            create_asset(
                session,
                table.name,
                defs,
                refs,
                table.comment,
                table.schema,
                order=table.column_names,
            )
        elif table.kind in ("table", "association"):
            create_table(
                session,
                table.name,
                defs,
                refs,
                table.comment,
                table.schema,
                kind=table.kind,
                order=table.column_names,
                unique=table.unique,
            )
        changed.append(table.name)
    _raise(problems)
    for name, columns in later:
        if indexes.create_index(session, name, columns):
            changed.append(f"{name}({', '.join(columns)})")
    return changed


def _with_vocabulary_references(tables: list[dict[str, Any]], model: Model) -> list[dict[str, Any]]:
    """Table documents whose foreign keys to a vocabulary (of the document or the
    catalog) that leave ``referenced_column`` out get ``Name``: a reference to a
    vocabulary holds the term's name, so a document need not say so."""
    vocabularies = {name for name, t in model.tables.items() if t.kind == "vocabulary"}
    vocabularies |= {t["name"] for t in tables if t.get("kind") == "vocabulary"}

    def filled(fk: dict[str, Any]) -> dict[str, Any]:
        if "referenced_column" not in fk and fk.get("table") in vocabularies:
            return {**fk, "referenced_column": "Name"}
        return fk

    return [{**t, "foreign_keys": [filled(fk) for fk in t.get("foreign_keys", [])]} for t in tables]


def _user_column_defs(table: TableModel) -> list[ColumnDef]:
    standard = {c.name for c in system_columns()}
    if table.kind == "asset":
        standard |= {c.name for c in asset_columns()}
    if table.kind == "vocabulary":
        standard |= {c.name for c in vocabulary_columns()}
    fk_columns = {fk.column for fk in table.foreign_keys}
    return [
        ColumnDef(
            c.name, c.type, nullok=c.nullok, default=c.default, comment=c.comment, index=c.index
        )
        for c in table.columns
        if c.name not in standard and c.name not in fk_columns and not c.system
    ]


def _split_keys(
    table: TableModel, by_name: dict[str, TableModel], model: Model
) -> tuple[list[str], list[str]]:
    """The tables ``table`` references (each by a column named after it), and what is
    wrong with any foreign key that is not such a reference."""
    refs, problems = [], []
    for fk in table.foreign_keys:
        where = f"table {table.name!r}: column {fk.column!r}"
        target = by_name.get(fk.table) or model.tables.get(fk.table)
        if target is None:
            problems.append(
                f"{where} references table {fk.table!r}, which is neither in the model "
                "document nor in this catalog"
            )
            continue
        expected = "Name" if target.kind == "vocabulary" else "RID"
        if fk.column != fk.table:
            problems.append(
                f"{where} references {fk.table!r}: a reference column must be named after "
                f"the table it references ({fk.table!r})"
            )
        elif fk.referenced_column != expected:
            problems.append(
                f"{where} references {fk.table}.{fk.referenced_column}: a reference to a "
                f"{target.kind} table holds its {expected} (leave referenced_column out)"
            )
        else:
            refs.append(fk.table)
    return refs, problems


def _merge_columns(
    session: Session, existing: TableModel, wanted: TableModel, problems: list[str]
) -> list[str]:
    changed: list[str] = []
    if existing.kind != wanted.kind:
        problems.append(
            f"table {wanted.name!r} is a {existing.kind} table here, not a {wanted.kind} table"
        )
        return changed
    for col in wanted.columns:
        if existing.has_column(col.name):
            have = existing.column(col.name)
            if have.builtin_type != col.builtin_type:
                problems.append(
                    f"column {wanted.name}.{col.name} is {have.type} here, not {col.type}"
                )
            elif (
                col.index
                and not problems
                and indexes.create_index(session, wanted.name, [col.name])
            ):
                changed.append(f"{wanted.name}({col.name})")
            continue
        if problems:
            continue
        add_column(
            session,
            wanted.name,
            ColumnDef(
                col.name,
                col.type,
                nullok=col.nullok,
                default=col.default,
                comment=col.comment,
                index=col.index,
            ),
        )
        changed.append(f"{wanted.name}.{col.name}")
    return changed


def _dependency_order(tables: list[TableModel], problems: list[str]) -> list[TableModel]:
    """``tables`` ordered so that every table comes after the tables it references."""
    by_name = {t.name: t for t in tables}
    done: dict[str, TableModel] = {}
    visiting: set[str] = set()

    def visit(table: TableModel) -> None:
        if table.name in done:
            return
        if table.name in visiting:
            problems.append(f"table {table.name!r} is part of a reference cycle")
            return
        visiting.add(table.name)
        for fk in table.foreign_keys:
            if fk.table in by_name and fk.table != table.name:
                visit(by_name[fk.table])
        visiting.discard(table.name)
        done[table.name] = table

    for table in tables:
        visit(table)
    return list(done.values())
