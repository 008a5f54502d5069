"""One unit of database work: a connection in a transaction, the model it sees, and the
snapshot number and RIDs it allocates.

Every read and write of the catalog happens inside a ``Session`` made by
``SqlBackend.session()``: commit on success, roll back on error, driver errors translated.
A writing session allocates its snapshot number lazily, on its first change, so a
session that changes nothing does not consume one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from assetry.sql import internal, rids
from assetry.sql.model import Model

if TYPE_CHECKING:
    from assetry.store.base import ObjectStore

# Built once: these run in nearly every session.
_BUMP = (
    sa.update(internal.counter)
    .where(internal.counter.c.name == sa.bindparam("counter_name"))
    .values(value=internal.counter.c.value + sa.bindparam("by"))
    .returning(internal.counter.c.value)
)
_CURRENT_SNAPSHOT = sa.select(internal.counter.c.value).where(
    internal.counter.c.name == internal.SNAPSHOT
)


@dataclass
class Session:
    """A connection inside one transaction, with the model current at its start."""

    conn: sa.Connection
    model: Model
    metadata: sa.MetaData
    user: str
    writes: bool
    settings: dict[str, str]
    # The catalog's object store, opened on first use (asset rows are checked against it).
    objects: Callable[[], ObjectStore] | None = None
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    _snapshot: int | None = None
    model_changed: bool = False
    # RID numbers reserved by ``reserve_rids`` and not handed out yet.
    _reserved: list[int] = field(default_factory=list)

    @property
    def dialect(self) -> str:
        return self.conn.dialect.name

    def table(self, name: str) -> sa.Table:
        """The SQLAlchemy table of ``name`` (which must be in ``self.model``)."""
        self.model.table(name)
        return self.metadata.tables[name]

    def snapshot(self) -> int:
        """This session's snapshot number, allocated on first use."""
        if not self.writes:
            raise RuntimeError("a read-only session cannot change the catalog")
        if self._snapshot is None:
            self._snapshot = self._bump(internal.SNAPSHOT, 1)
        return self._snapshot

    def new_rids(self, count: int) -> list[str]:
        """``count`` fresh RIDs of this catalog."""
        if count <= 0:
            return []
        if len(self._reserved) < count:
            self.reserve_rids(count - len(self._reserved))
        numbers, self._reserved = self._reserved[:count], self._reserved[count:]
        prefix = self.settings["rid_prefix"]
        return [rids.make_rid(prefix, n) for n in numbers]

    def reserve_rids(self, count: int) -> None:
        """Take ``count`` RID numbers from the counter in one statement, for the
        ``new_rids`` calls of an operation that knows how many rows it will write.
        Numbers left over when the transaction ends are never used (RIDs may have gaps)."""
        if count <= 0:
            return
        last = self._bump(internal.RID_SEQUENCE, count)
        self._reserved.extend(range(last - count + 1, last + 1))

    def current_snapshot(self) -> int:
        """The latest committed snapshot (or this session's, once it has one)."""
        if self._snapshot is not None:
            return self._snapshot
        return int(self.conn.execute(_CURRENT_SNAPSHOT).scalar_one())

    def _bump(self, name: str, by: int) -> int:
        value = self.conn.execute(_BUMP, {"counter_name": name, "by": by}).scalar_one()
        return int(value)

    def object_store(self) -> ObjectStore:
        """The catalog's object store."""
        if self.objects is None:
            raise RuntimeError("this session has no object store to check asset rows against")
        return self.objects()

    def stamp(self) -> dict[str, Any]:
        """System column values for a row written now by this session."""
        return {"RMT": self.now, "RMB": self.user, "_snapshot": self.snapshot()}
