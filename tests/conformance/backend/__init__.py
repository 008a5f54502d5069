"""The Backend conformance suite: what must hold on every backend, where the backends
differ (SQL dialects, the wire, driver errors, concurrency).

Each module holds abstract test classes; a backend's concrete module
(``tests/conformance/test_backend_<name>.py``) subclasses each one together with its
``BackendFixtures`` subclass, which binds:

- ``catalog``: a fresh, empty catalog on that backend;
- ``backend``: the backend's name (``"sqlite"``, ``"postgres"``, ``"remote"``);
- ``database``: a catalog opened straight on the database behind ``catalog`` (the same
  catalog for the database backends; the served catalog for a remote one), for tests that
  shape content below the public API.

``stocked`` (``catalog`` holding ``helpers.stock_every_type``) is built here, through
the backend's own API.
"""

from __future__ import annotations

import pytest

from assetry import Catalog
from tests.helpers import stock_every_type


class BackendFixtures:
    """What a concrete backend module binds (see the package docstring)."""

    @pytest.fixture
    def catalog(self) -> Catalog:
        raise NotImplementedError

    @pytest.fixture
    def backend(self) -> str:
        raise NotImplementedError

    @pytest.fixture
    def database(self, catalog: Catalog) -> Catalog:
        return catalog

    @pytest.fixture
    def stocked(self, catalog: Catalog) -> Catalog:
        """Table Typed (a column of every type, a row of good values), Subject, Sample."""
        stock_every_type(catalog)
        return catalog
