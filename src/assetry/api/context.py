"""What the facade's namespaces share: one backend, one object store, one local folder."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from assetry import config

if TYPE_CHECKING:
    from assetry.backend import Backend
    from assetry.store.base import ObjectStore

P = ParamSpec("P")
R = TypeVar("R")
N = TypeVar("N")


def delegate(
    namespace: str, method: Callable[Concatenate[N, P], R]
) -> Callable[Concatenate[Any, P], R]:
    """A facade method calling ``method`` on the namespace object held in attribute
    ``namespace``, with the method's own signature and docstring (DerivaML's flat names
    as one-line delegations: ``lineage = delegate("_executions", Executions.lineage)``)."""

    @functools.wraps(method)
    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(self, namespace), *args, **kwargs)

    return call


class Context:
    """A catalog's backend, its object store (opened on first use) and where this machine
    keeps the catalog's execution folders, download cache and bags.

    Namespaces receive a Context instead of reaching into the ``Catalog``; the facade
    builds one when it opens a catalog.
    """

    def __init__(
        self,
        backend: Backend,
        location: config.Location,
        open_store: Callable[[], ObjectStore],
    ) -> None:
        self.backend = backend
        self.location = location
        self._open_store = open_store
        self._store: ObjectStore | None = None

    def store(self) -> ObjectStore:
        """The catalog's object store (opened once, on first use)."""
        if self._store is None:
            self._store = self._open_store()
        return self._store

    @property
    def rid_prefix(self) -> str:
        """The random prefix of the catalog's RIDs."""
        return str(self.backend.settings["rid_prefix"])

    def local_root(self) -> Path:
        """Where this machine keeps execution folders, the download cache and bags."""
        return local_root(self.location, self.rid_prefix)


def local_root(location: config.Location, rid_prefix: str) -> Path:
    """The catalog folder of an embedded catalog; else a folder of the user's cache
    named after the server or database and the catalog's RID prefix."""
    if location.directory is not None:
        return location.directory
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "assetry" / server_folder(location.text) / rid_prefix


def server_folder(location: str) -> str:
    """A folder name for the server or database a catalog is on (``host_port``), so
    catalogs of different servers never share a working folder."""
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    where = parts.hostname or "local"
    if parts.port is not None:
        where = f"{where}_{parts.port}"
    return re.sub(r"[^A-Za-z0-9.-]", "_", where)
