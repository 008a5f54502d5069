"""The object store conformance suite on a catalog server's objects, seen from a client
(an admin's, so it may delete); the server keeps them in a local folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assetry.store.base import ObjectStore
from assetry.store.local import LocalStore
from tests.conformance.store import Corrupt, StoreFixtures
from tests.conformance.store.basic import AbstractStoreTests
from tests.conformance.test_store_local import overwrite
from tests.conftest import RemoteServer


class HttpFixtures(StoreFixtures):
    @pytest.fixture
    def store(self, remote_server: RemoteServer) -> ObjectStore:
        from assetry.client.objects import HttpObjectStore
        from assetry.client.transport import Transport

        return HttpObjectStore(Transport(remote_server.url, remote_server.tokens["admin"]))

    @pytest.fixture
    def corrupt(self, remote_server: RemoteServer) -> Corrupt:
        backing = LocalStore(Path(remote_server.location) / "objects")
        return lambda sha256, data: overwrite(backing, sha256, data)


class TestHttpStore(AbstractStoreTests, HttpFixtures):
    pass
