"""The stores of one catalog seen as one ``ObjectStore``.

New objects go to the store ``route(table, size)`` chooses by the catalog's rules (the
upload driver asks it per file; ``put_stream`` and ``put_file`` use the default store,
or a size rule); reads find an object in whichever store holds it. The catalog's list
of stores and rules is read again when it is older than ``REFRESH_SECONDS`` and when an
object is found in no known store, so a store another process added (and objects it
moved there) are found without reopening the catalog.

``move_object`` moves one object between two stores: copied, verified in its new
store, and only then removed from the old one, so at every moment at least one store
holds it whole.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from assetry.errors import ConfigError, NotFoundError, StoreError
from assetry.records.stores import StoreRule, choose
from assetry.store.base import ObjectInfo, ObjectStore, _checked_key, missing
from assetry.store.hashing import Digests, is_sha256

# How long the list of stores and rules is used before it is read again; and how soon
# after one look-up a missing object makes it read again.
REFRESH_SECONDS = 10.0
MISS_REFRESH_SECONDS = 1.0
# Reads of an object that moves away meanwhile look for it again this often.
_READ_ATTEMPTS = 3

T = TypeVar("T")


@dataclass(frozen=True)
class StoreConfig:
    """Names and URLs of a catalog's stores, the default one's name, and the rules."""

    urls: dict[str, str]
    default: str
    rules: list[StoreRule] = field(default_factory=list)


class StoreSet(ObjectStore):
    """Several named stores, one of them the default, with routing rules."""

    scheme = "stores"

    def __init__(
        self,
        url: str,
        load: Callable[[], StoreConfig],
        open_store: Callable[[str, str], ObjectStore],
    ) -> None:
        """``load()`` reads the catalog's stores and rules; ``open_store(name, url)``
        opens one of them."""
        super().__init__(url)
        self._load = load
        self._open = open_store
        self._lock = threading.Lock()
        self._members: dict[str, tuple[str, ObjectStore]] = {}  # name -> (url, store)
        self._config = load()
        self._loaded = time.monotonic()

    # --- the stores ------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the catalog's stores and rules again."""
        config = self._load()
        with self._lock:
            self._config, self._loaded = config, time.monotonic()

    def _current(self, older_than: float = REFRESH_SECONDS) -> StoreConfig:
        if time.monotonic() - self._loaded > older_than:
            self.refresh()
        return self._config

    def member(self, name: str) -> ObjectStore:
        """The store named ``name`` (``ConfigError`` if the catalog has none)."""
        config = self._config
        url = config.urls.get(name)
        if url is None:
            config = self._current(older_than=0)
            url = config.urls.get(name)
        if url is None:
            raise ConfigError(
                f"the catalog has no store named {name!r}; stores: {', '.join(config.urls)}"
            )
        with self._lock:
            opened = self._members.get(name)
            if opened is not None and opened[0] == url:
                return opened[1]
        store = self._open(name, url)
        with self._lock:
            self._members[name] = (url, store)
        return store

    def members(self) -> list[tuple[str, ObjectStore]]:
        """Every store, the default first."""
        config = self._current()
        names = [config.default] + [n for n in config.urls if n != config.default]
        return [(name, self.member(name)) for name in names]

    def default_member(self) -> ObjectStore:
        return self.member(self._current().default)

    def route(
        self, table: str | None, size: int | None, asset_types: Sequence[str] = ()
    ) -> ObjectStore:
        """The store a new object of asset table ``table`` with ``size`` bytes and
        ``asset_types`` goes to."""
        return self.route_named(table, size, asset_types)[1]

    def route_named(
        self, table: str | None, size: int | None, asset_types: Sequence[str] = ()
    ) -> tuple[str, ObjectStore]:
        """``route``, with the chosen store's name."""
        config = self._current()
        name = choose(config.rules, config.default, table, size, asset_types)
        return name, self.member(name)

    def holder(self, sha256: str) -> tuple[str, ObjectStore] | None:
        """The store holding ``sha256`` (the default first), or None."""
        key = _checked_key(sha256)
        for attempt in range(2):
            for name, store in self.members():
                if store.witnessed(key) is not None or store.stat(key) is not None:
                    return name, store
            if attempt == 0 and time.monotonic() - self._loaded > MISS_REFRESH_SECONDS:
                self.refresh()  # another process may have added a store and moved it
            else:
                break
        return None

    # --- primitives ------------------------------------------------------------------
    def put_stream(self, source: BinaryIO, durable: bool = True) -> Digests:
        return self.route(None, None).put_stream(source, durable)

    def put_file(self, path: Path, *, move: bool = False, durable: bool = True) -> Digests:
        target = self.route(None, Path(path).stat().st_size)
        return target.put_file(path, move=move, durable=durable)

    def adopt(self, path: Path, digests: Digests, durable: bool = True) -> Digests | None:
        target = self.route(None, digests.length)
        if not target.adopt_supported:
            return None
        return target.adopt(path, digests, durable)

    def _read(self, sha256: str, action: Callable[[ObjectStore], T]) -> T:
        """``action`` on the store holding ``sha256``. An object moved to another store
        between finding it and reading it (``migrate``) is looked for again."""
        for _ in range(_READ_ATTEMPTS):
            found = self.holder(sha256)
            if found is None:
                break
            try:
                return action(found[1])
            except NotFoundError:
                found[1].forget(sha256)  # this process's note that it was there is stale
        raise missing(self.url, sha256)

    def stat(self, sha256: str) -> ObjectInfo | None:
        try:
            return self._read(sha256, lambda store: _stat(store, sha256))
        except NotFoundError:
            return None

    def open_raw(self, sha256: str) -> BinaryIO:
        return self._read(sha256, lambda store: store.open_raw(sha256))

    def get_file(
        self, sha256: str, dest: Path, expected: Digests | None = None, name: str | None = None
    ) -> Path:
        return self._read(sha256, lambda store: store.get_file(sha256, dest, expected, name))

    def delete(self, sha256: str) -> None:
        """Remove the object from every store."""
        self.forget(sha256)
        for _, store in self.members():
            store.delete(sha256)

    def iter_objects_after(self, after: str | None) -> Iterator[ObjectInfo]:
        """The objects of every store after ``after``, once each, in key order (the
        stores' ordered listings merged)."""
        listings = [store.iter_objects_after(after) for _, store in self.members()]
        previous: str | None = None
        for info in heapq.merge(*listings, key=lambda o: o.sha256):
            if info.sha256 != previous:  # held by two stores while it moves: once
                previous = info.sha256
                yield info

    def iter_objects(self) -> Iterator[ObjectInfo]:
        """Every object of every store, once (one held by two stores, as while it is
        being moved, is listed once), in key order."""
        return self.iter_objects_after(None)

    def fetch_url(self, sha256: str) -> str:
        found = self.holder(sha256)
        return (found[1] if found else self.default_member()).fetch_url(sha256)

    def local_path(self, sha256: str) -> Path | None:
        found = self.holder(sha256) if is_sha256(sha256) else None
        return (found[1] if found else self.default_member()).local_path(sha256)

    def likely_local_path(self, sha256: str) -> Path | None:
        # The default store holds most objects; looking (a stat per object) is left to
        # the caller's open.
        return self.default_member().likely_local_path(sha256)

    def make_durable(self, keys: Iterable[str]) -> None:
        """Each key is made durable in the store that holds it."""
        by_store: dict[str, list[str]] = {}
        stores = dict(self.members())
        for key in keys:
            name = next((n for n, s in stores.items() if s.witnessed(key) is not None), None)
            if name is None:
                found = self.holder(key)
                if found is None:
                    raise StoreError(f"object {key} is in none of the stores of {self.url}")
                name = found[0]
            by_store.setdefault(name, []).append(key)
        for name, listed in by_store.items():
            stores[name].make_durable(listed)

    # --- what this process stored ----------------------------------------------------
    def witnessed(self, sha256: str) -> Digests | None:
        for _, store in self.members():
            found = store.witnessed(sha256)
            if found is not None:
                return found
        return None

    def forget(self, sha256: str) -> None:
        for _, store in self.members():
            store.forget(sha256)

    def digests_of(self, sha256: str) -> Digests | None:
        try:
            return self._read(sha256, lambda store: _digests_of(store, sha256))
        except NotFoundError:
            return None


def _stat(store: ObjectStore, sha256: str) -> ObjectInfo:
    info = store.stat(sha256)
    if info is None:
        raise missing(store.url, sha256)
    return info


def _digests_of(store: ObjectStore, sha256: str) -> Digests:
    digests = store.digests_of(sha256)
    if digests is None:
        raise missing(store.url, sha256)
    return digests


def same_place(a: ObjectStore, b: ObjectStore) -> bool:
    """Whether two stores keep their objects in the same place (one folder reached by two
    paths, one bucket written two ways): an object moved from one to the other must not
    be deleted after the copy, which would be the copy itself."""
    if a is b:
        return True
    from assetry.store.registry import store_location

    try:
        return store_location(a.url) == store_location(b.url)
    except ConfigError:  # a relative URL: compare as written
        return a.url == b.url


def move_object(source: ObjectStore, target: ObjectStore, sha256: str) -> Digests:
    """Move the object ``sha256`` from ``source`` to ``target``: copied (hashed on the
    way), verified in ``target`` against its key, then deleted from ``source``. A
    failure at any step leaves it whole in ``source`` (and maybe also in ``target``).
    Between two stores in the same place (``same_place``) it is only verified."""
    key = _checked_key(sha256)
    if same_place(source, target):
        return target.verify(key)
    if target.stat(key) is None:
        with source.open_raw(key) as stream:
            copied = target.put_stream(stream)
        if copied.sha256 != key:
            target.delete(copied.sha256)
            raise StoreError(
                f"object {key} read from {source.url} hashes to {copied.sha256}: it is "
                "damaged there (run `assetry fsck`); not moved"
            )
    found = target.verify(key)
    source.delete(key)
    return found
