"""The Backend conformance suite: what must hold on every backend, where the backends
differ (SQL dialects, the wire, driver errors, concurrency).

Each module holds abstract test classes; a backend's concrete module
(``tests/conformance/test_backend_<name>.py``) subclasses each one together with its
``BackendFixtures`` subclass, which binds:

- ``catalog``: a fresh, empty catalog on that backend;
- ``backend``: the backend's name (``"sqlite"``, ``"postgres"``, ``"remote"``);
- ``database``: a catalog opened straight on the database behind ``catalog`` (the same
  catalog for the database backends; the served catalog for a remote one), for tests that
  shape content below the public API;
- ``built``: ``built(build)`` gives a fresh catalog on that backend already holding what
  ``build(cat)`` made, and what it returned. The model is built once per test process and
  copied for each test (a SQLite file, ``CREATE DATABASE ... TEMPLATE``, a server over a
  copied SQLite catalog): tests whose subject is not the building (terms, types, history)
  start from it. Model changes themselves (``model.py``) are made through each backend.

``stocked`` and ``subject_image`` are the models most classes share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assetry import Catalog
from tests.helpers import stock_every_type, subject_image_model

Build = Callable[[Callable[[Catalog], Any]], tuple[Catalog, Any]]


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
    def built(self) -> Build:
        raise NotImplementedError

    @pytest.fixture
    def stocked(self, built: Build) -> Catalog:
        """Table Typed (a column of every type, a row of good values), Subject, Sample."""
        cat, _ = built(stock_every_type)
        return cat

    @pytest.fixture
    def subject_image(self, built: Build) -> Catalog:
        """A catalog holding ``helpers.subject_image_model``."""
        cat, _ = built(subject_image_model)
        return cat
