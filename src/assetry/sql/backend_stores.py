"""The object-store operations of ``SqlBackend``: the catalog's stores, its routing rules,
and moving objects between stores.

Adding, removing and choosing stores needs the admin role, rules the curator role,
checked here below the Backend seam (so a server's raw calls meet the same checks).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import sqlalchemy as sa

from assetry.errors import ConfigError, ConflictError, ValidationError
from assetry.records.stores import PRIMARY, StoreEntry, StoreRule, check_name, choose
from assetry.sql import policy, stores
from assetry.sql.engine import translated_errors
from assetry.sql.session import Session
from assetry.store.base import ObjectStore
from assetry.store.storeset import StoreConfig, StoreSet, move_object, same_place


class SqlStoresMixin:
    """Store operations, written once over ``session()``."""

    label: str
    _store_base: Path | None
    _primary_override: ObjectStore | None

    @property
    def engine(self) -> sa.Engine:
        raise NotImplementedError

    def session(self, write: bool = False, durable: bool = True) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def object_store(self) -> ObjectStore:
        raise NotImplementedError

    # --- opening ---------------------------------------------------------------------
    def _store_config(self) -> StoreConfig:
        with translated_errors("reading the catalog's stores"), self.engine.connect() as conn:
            found = stores.read_config(conn)
            conn.rollback()
        return found

    def _open_member(self, name: str, url: str) -> ObjectStore:
        from assetry.store.registry import open_store

        if name == PRIMARY and self._primary_override is not None:
            return self._primary_override
        if not url:
            raise ConfigError(f"the catalog {self.label} records no object store")
        return open_store(url, self._store_base)

    def _open_stores(self, url: str) -> StoreSet:
        return StoreSet(url, self._store_config, self._open_member)

    def _stores(self) -> StoreSet:
        found = self.object_store()
        assert isinstance(found, StoreSet)
        return found

    # --- the operations --------------------------------------------------------------
    def list_stores(self) -> list[StoreEntry]:
        return stores.entries(self._store_config())

    def add_store(self, name: str, url: str) -> StoreEntry:
        policy.require(policy.ADMIN, "adding an object store")
        check_name(name)
        if not isinstance(url, str):
            raise ValidationError(f"store {name!r}: the URL {url!r} is not text")
        from assetry import config

        url = config.check_store_url(url.strip())
        self._check_new_store(name, url)
        # A bad URL, a missing extra, or a bucket that does not take writes is reported
        # before anything is recorded.
        probe = self._open_member(name, url)
        probe.check_writable()
        with self.session(write=True) as s:
            added = stores.add(s, name, url)
        self._stores().refresh()
        return added

    def _check_new_store(self, name: str, url: str) -> None:
        """``ConflictError`` when the catalog has a store named ``name`` (in any case) or
        one that keeps its objects where ``url`` does, however its URL is written."""
        from assetry.store.registry import store_location

        current = self._store_config()
        taken = [existing for existing in current.urls if existing.lower() == name.lower()]
        if taken:
            raise ConflictError(f"the catalog already has a store named {taken[0]!r}")
        wanted = store_location(url, self._store_base)
        for existing, existing_url in current.urls.items():
            if existing == PRIMARY and self._primary_override is not None:
                existing_url = self._primary_override.url
            if existing_url and self._location(existing_url) == wanted:
                raise ConflictError(
                    f"{url} is where the catalog's store {existing!r} keeps its objects "
                    f"({existing_url}); one place cannot be two stores"
                )

    def _location(self, url: str) -> str | None:
        from assetry.store.registry import store_location

        try:
            return store_location(url, self._store_base)
        except ConfigError:  # a relative path with nothing to be relative to
            return None

    def remove_store(self, name: str) -> None:
        policy.require(policy.ADMIN, "removing an object store")
        with self.session() as s:
            stores.check_removable(s, name)
        member = self._stores().member(name)
        if next(iter(member.iter_objects()), None) is not None:
            raise ConflictError(
                f"the store {name!r} still holds objects; move them to another store "
                f"first (assetry store migrate --from {name} --to <store>)"
            )
        with self.session(write=True) as s:
            stores.remove(s, name)
        self._stores().refresh()

    def set_default_store(self, name: str) -> None:
        policy.require(policy.ADMIN, "choosing the default object store")
        with self.session(write=True) as s:
            stores.set_default(s, name)
        self._stores().refresh()

    def store_rules(self) -> list[StoreRule]:
        return self._store_config().rules

    def set_store_rule(
        self, store: str, table: str | None, size_over: int | str | None
    ) -> list[StoreRule]:
        policy.require(policy.CURATOR, "setting an object store rule")
        with self.session(write=True) as s:
            rules = stores.set_rule(s, store, table, size_over)
        self._stores().refresh()
        return rules

    def remove_store_rule(self, table: str | None, size_over: int | str | None) -> list[StoreRule]:
        policy.require(policy.CURATOR, "removing an object store rule")
        with self.session(write=True) as s:
            rules = stores.remove_rule(s, table, size_over)
        self._stores().refresh()
        return rules

    def migrate_objects(
        self, to: str | None, source: str | None, table: str | None
    ) -> dict[str, int]:
        """Move objects between stores, each copied, verified in its new store and only
        then removed from its old one: those of ``source`` (every store but ``to`` when
        None; with ``table``, only that asset table's) to ``to``; with no ``to``, every
        object named by an asset row to the store the rules choose for it now.
        Returns counts: ``moved``, ``bytes`` moved and ``in_place`` (already there)."""
        policy.require(policy.ADMIN, "moving objects between stores")
        everything = self._stores()
        everything.refresh()
        config = self._store_config()
        for name in (to, source):
            if name is not None and name not in config.urls:
                raise ValidationError(
                    f"the catalog has no store named {name!r}; stores: {', '.join(config.urls)}"
                )
        if to is not None and to == source:
            raise ValidationError(f"--from and --to are the same store ({to!r})")
        counts = {"moved": 0, "bytes": 0, "in_place": 0}
        for sha256, target in self._move_plan(everything, config, to, source, table):
            destination = everything.member(target)
            holders = [
                store
                for name, store in everything.members()
                if name != target and (source is None or name == source)
                if not same_place(store, destination)  # never delete the only copy
                if store.stat(sha256) is not None
            ]
            if not holders:
                if destination.stat(sha256) is not None:
                    counts["in_place"] += 1
                continue  # or named by a row and stored nowhere: fsck reports that
            for store in holders:  # more than one after an interrupted move
                digests = move_object(store, destination, sha256)
            counts["moved"] += 1
            counts["bytes"] += digests.length
        return counts

    def _move_plan(
        self,
        everything: StoreSet,
        config: StoreConfig,
        to: str | None,
        source: str | None,
        table: str | None,
    ) -> Iterator[tuple[str, str]]:
        """(SHA-256, target store) of each object to move."""
        if to is not None and table is None:
            names = [source] if source is not None else [n for n in config.urls if n != to]
            for name in names:
                for info in everything.member(name).iter_objects():
                    yield info.sha256, to
            return
        if to is not None:
            for sha256 in dict.fromkeys(sha for _, sha, _, _ in self._asset_objects(table)):
                yield sha256, to
            return
        # An object named by rows that the rules send to different stores (the same bytes
        # in two tables, or with two sets of types) stays in any of those stores that
        # holds it, else goes to the first: moving it back and forth would never end.
        targets: dict[str, list[str]] = {}
        for asset_table, sha256, length, kinds in self._asset_objects(table):
            chosen = choose(config.rules, config.default, asset_table, length, kinds)
            if chosen not in targets.setdefault(sha256, []):
                targets[sha256].append(chosen)
        for sha256, names in targets.items():
            if len(names) > 1:
                names = [n for n in names if everything.member(n).stat(sha256) is not None] or names
            yield sha256, names[0]

    def _asset_objects(self, table: str | None) -> list[tuple[str, str, int, list[str]]]:
        """(table, SHA-256, length, asset types) of each object the asset rows name, of
        ``table`` or of every asset table (an object with rows of several types, once per
        type set)."""
        found: list[tuple[str, str, int, list[str]]] = []
        with self.session() as s:
            if table is not None:
                model_table = s.model.table(table)
                if model_table.kind != "asset":
                    raise ValidationError(f"{model_table.name!r} is not an asset table")
                names = [model_table.name]
            else:
                names = [t.name for t in s.model.tables.values() if t.kind == "asset"]
            for name in names:
                t, link = s.table(name), s.table(f"{name}_Asset_Type")
                types: dict[str, list[str]] = {}
                for rid, term in s.conn.execute(sa.select(link.c[name], link.c.Asset_Type)):
                    types.setdefault(rid, []).append(term)
                seen: set[tuple[str, tuple[str, ...]]] = set()
                for rid, sha, length in s.conn.execute(sa.select(t.c.RID, t.c.SHA256, t.c.Length)):
                    kinds = sorted(types.get(rid, []))
                    if (sha, tuple(kinds)) not in seen:
                        seen.add((sha, tuple(kinds)))
                        found.append((name, sha, int(length), kinds))
        return found
