"""The object store conformance suite: what every ObjectStore does the same way.

``basic.py`` holds the abstract tests; a store's concrete module
(``tests/conformance/test_store_<name>.py``) subclasses them together with its
``StoreFixtures`` subclass, which binds:

- ``store``: a new, empty store of that kind;
- ``corrupt``: a function that overwrites the stored bytes of a key behind the store's
  back (as a failing disk or another writer would).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from assetry.store.base import ObjectStore

Corrupt = Callable[[str, bytes], None]


class StoreFixtures:
    """What a concrete store module binds (see the package docstring)."""

    @pytest.fixture
    def store(self) -> ObjectStore:
        raise NotImplementedError

    @pytest.fixture
    def corrupt(self, store: ObjectStore) -> Corrupt:
        raise NotImplementedError
