"""The Backend conformance suite through a server (in a thread of this process, over a
SQLite catalog): every operation crosses the wire, errors are rebuilt by the client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from assetry import Catalog
from tests.conformance.backend import BackendFixtures
from tests.conformance.backend.bags import AbstractBagTests
from tests.conformance.backend.browsing import AbstractBrowsingTests
from tests.conformance.backend.column_types import AbstractColumnTypeTests
from tests.conformance.backend.concurrency import AbstractConcurrencyTests
from tests.conformance.backend.datasets import AbstractDatasetTests
from tests.conformance.backend.derivaml import AbstractDerivaMLTests
from tests.conformance.backend.error_classes import AbstractErrorTests
from tests.conformance.backend.history import AbstractHistoryTests
from tests.conformance.backend.lineage import AbstractLineageTests
from tests.conformance.backend.model import AbstractModelTests
from tests.conformance.backend.paging import AbstractPagingTests
from tests.conformance.backend.queries import AbstractQueryTests
from tests.conformance.backend.transactions import AbstractTransactionTests
from tests.conformance.backend.vocabulary import AbstractVocabularyTests
from tests.conftest import BuildCatalog, Builder, BuildServer, RemoteServer


class RemoteFixtures(BackendFixtures):
    @pytest.fixture
    def catalog(self, remote_catalog: Catalog) -> Catalog:
        return remote_catalog

    @pytest.fixture
    def backend(self) -> str:
        return "remote"

    @pytest.fixture
    def database(self, remote_server: RemoteServer) -> Iterator[Catalog]:
        """The catalog the server serves, opened straight on its folder."""
        with Catalog(remote_server.location) as served:
            yield served

    @pytest.fixture
    def built(
        self, built_server: BuildServer, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[BuildCatalog]:
        """A server of its own over the built catalog, and the admin's client of it."""
        opened: list[Catalog] = []

        def make(build: Builder) -> tuple[Catalog, Any]:
            server, value = built_server(build)
            monkeypatch.setenv("ASSETRY_TOKEN", server.tokens["admin"])
            opened.append(server.catalog("admin"))
            return opened[-1], value

        yield make
        for cat in opened:
            cat.close()


class TestRemoteBags(AbstractBagTests, RemoteFixtures):
    pass


class TestRemoteBrowsing(AbstractBrowsingTests, RemoteFixtures):
    pass


class TestRemoteColumnTypes(AbstractColumnTypeTests, RemoteFixtures):
    pass


class TestRemoteConcurrency(AbstractConcurrencyTests, RemoteFixtures):
    pass


class TestRemoteDatasets(AbstractDatasetTests, RemoteFixtures):
    pass


class TestRemoteErrors(AbstractErrorTests, RemoteFixtures):
    pass


class TestRemoteHistory(AbstractHistoryTests, RemoteFixtures):
    pass


class TestRemoteLineage(AbstractLineageTests, RemoteFixtures):
    pass


class TestRemoteModel(AbstractModelTests, RemoteFixtures):
    pass


class TestRemotePaging(AbstractPagingTests, RemoteFixtures):
    pass


class TestRemoteQueries(AbstractQueryTests, RemoteFixtures):
    pass


class TestRemoteTransactions(AbstractTransactionTests, RemoteFixtures):
    pass


class TestRemoteVocabulary(AbstractVocabularyTests, RemoteFixtures):
    pass


class TestRemoteDerivaML(AbstractDerivaMLTests, RemoteFixtures):
    pass
