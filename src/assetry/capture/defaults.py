"""Which catalog a step or pipeline records into: its own (``catalog=``), the enclosing
pipeline's, the one given to ``assetry.use``, or ``Catalog()`` (``$ASSETRY_CATALOG``,
else ``./.assetry``), opened once per process."""

from __future__ import annotations

import contextvars
import os
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any

from assetry.catalog import Catalog
from assetry.errors import ValidationError

if TYPE_CHECKING:
    from assetry.capture.pipeline import Pipeline

_lock = threading.Lock()
_default: Catalog | None = None  # set by use(), shared by every thread
_opened: Catalog | None = None  # Catalog() opened for steps without a catalog

CURRENT_PIPELINE: contextvars.ContextVar[Pipeline | None] = contextvars.ContextVar(
    "assetry_pipeline", default=None
)


class _Using:
    """What ``use`` returns: the catalog is the default already; as a context manager
    the previous default comes back at the end."""

    def __init__(self, catalog: Catalog, previous: Catalog | None) -> None:
        self.catalog = catalog
        self._previous = previous

    def __enter__(self) -> Catalog:
        return self.catalog

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _default
        with _lock:
            _default = self._previous


def use(catalog: Catalog | str | os.PathLike[str]) -> _Using:
    """Make ``catalog`` (a ``Catalog`` or a location to open) the default catalog of
    steps and pipelines in this process, for every thread. ``with assetry.use(cat):``
    restores the previous default at the end."""
    global _default
    if isinstance(catalog, str | os.PathLike):
        catalog = Catalog(catalog)
    if not isinstance(catalog, Catalog):
        raise ValidationError(f"use() needs a Catalog or a catalog location, got {catalog!r}")
    with _lock:
        previous, _default = _default, catalog
    return _Using(catalog, previous)


def resolve(catalog: Any) -> Catalog:
    """The catalog to record into (see the module's docstring)."""
    global _opened
    if catalog is not None:
        if isinstance(catalog, Catalog):
            return catalog
        raise ValidationError(f"catalog must be a Catalog, got {catalog!r}")
    pipeline = CURRENT_PIPELINE.get()
    if pipeline is not None:
        return pipeline.catalog
    with _lock:
        if _default is not None:
            return _default
        if _opened is None:
            _opened = Catalog()
        return _opened
