"""Helpers shared by the packaged migrations: create model tables, seed terms, record
model versions, all on the migration's own connection."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from typing import Any

import sqlalchemy as sa
from alembic import op

from assetry.sql import internal, model, names, rids


def migration_attributes() -> dict[str, Any]:
    """Settings passed by the caller of the migration (empty when run by hand)."""
    config = op.get_context().config
    attrs: dict[str, Any] = config.attributes.get("assetry", {}) if config else {}
    return attrs


def local_user() -> str:
    return os.environ.get("ASSETRY_USER") or getpass.getuser()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def next_snapshot(conn: sa.Connection) -> int:
    counter = internal.counter
    value = conn.execute(
        sa.update(counter)
        .where(counter.c.name == internal.SNAPSHOT)
        .values(value=counter.c.value + 1)
        .returning(counter.c.value)
    ).scalar_one()
    return int(value)


def allocate_rids(conn: sa.Connection, count: int) -> list[str]:
    counter = internal.counter
    last = conn.execute(
        sa.update(counter)
        .where(counter.c.name == internal.RID_SEQUENCE)
        .values(value=counter.c.value + count)
        .returning(counter.c.value)
    ).scalar_one()
    prefix = conn.execute(
        sa.select(internal.settings.c.value).where(internal.settings.c.key == "rid_prefix")
    ).scalar_one()
    return [rids.make_rid(prefix, n) for n in range(int(last) - count + 1, int(last) + 1)]


def create_tables(tables: list[model.TableModel], existing: model.Model | None = None) -> None:
    """Create ``tables`` (in order) with their constraints and indexes; ``existing``
    holds the tables they may reference."""
    metadata = sa.MetaData()
    for table in existing.tables.values() if existing is not None else ():
        model.sa_table(table, metadata)
    for table in tables:
        model.sa_table(table, metadata)
    conn = op.get_bind()
    for table in tables:
        metadata.tables[table.name].create(conn)


def current_model(conn: sa.Connection) -> model.Model:
    mv = internal.model_versions
    doc = conn.execute(sa.select(mv.c.document).order_by(mv.c.version.desc()).limit(1)).scalar_one()
    return model.Model.from_doc(json.loads(doc))


def record_model(conn: sa.Connection, new_model: model.Model, snapshot: int) -> None:
    mv = internal.model_versions
    latest = conn.execute(sa.select(sa.func.max(mv.c.version))).scalar()
    new_model.version = int(latest or 0) + 1
    conn.execute(
        mv.insert().values(
            version=new_model.version,
            snapshot=snapshot,
            document=json.dumps(new_model.to_doc(), sort_keys=True),
            created=now(),
            created_by=local_user(),
        )
    )


def insert_terms(
    conn: sa.Connection,
    vocabulary: model.TableModel,
    terms: list[tuple[str, str, list[str]]],
    snapshot: int,
) -> None:
    """Seed ``vocabulary`` with (name, description, synonyms) terms."""
    prefix = conn.execute(
        sa.select(internal.settings.c.value).where(internal.settings.c.key == "curie_prefix")
    ).scalar_one()
    table = model.sa_table(vocabulary, sa.MetaData())
    stamp, user = now(), local_user()
    rows = [
        {
            "RID": rid,
            "RCT": stamp,
            "RMT": stamp,
            "RCB": user,
            "RMB": user,
            "Name": name,
            "Description": description,
            "Synonyms": synonyms,
            "ID": f"{prefix}:{rid}",
            "URI": f"urn:assetry:{prefix}:{rid}",
            names.SNAPSHOT_COLUMN: snapshot,
        }
        for rid, (name, description, synonyms) in zip(
            allocate_rids(conn, len(terms)), terms, strict=True
        )
    ]
    conn.execute(table.insert(), rows)
