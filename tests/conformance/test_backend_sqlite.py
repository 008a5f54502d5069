"""The Backend conformance suite on SQLite (the embedded default)."""

from __future__ import annotations

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
from tests.conformance.backend.lineage import AbstractLineageQueryTests, AbstractLineageTests
from tests.conformance.backend.model import AbstractModelTests
from tests.conformance.backend.paging import AbstractPagingTests
from tests.conformance.backend.queries import AbstractQueryTests
from tests.conformance.backend.transactions import AbstractTransactionTests
from tests.conformance.backend.vocabulary import AbstractVocabularyTests
from tests.conftest import BuildCatalog


class SqliteFixtures(BackendFixtures):
    @pytest.fixture
    def catalog(self, sqlite_catalog: Catalog) -> Catalog:
        return sqlite_catalog

    @pytest.fixture
    def backend(self) -> str:
        return "sqlite"

    @pytest.fixture
    def built(self, built_catalog: BuildCatalog) -> BuildCatalog:
        return built_catalog


class TestSqliteBags(AbstractBagTests, SqliteFixtures):
    pass


class TestSqliteBrowsing(AbstractBrowsingTests, SqliteFixtures):
    pass


class TestSqliteColumnTypes(AbstractColumnTypeTests, SqliteFixtures):
    pass


class TestSqliteConcurrency(AbstractConcurrencyTests, SqliteFixtures):
    pass


class TestSqliteDatasets(AbstractDatasetTests, SqliteFixtures):
    pass


class TestSqliteErrors(AbstractErrorTests, SqliteFixtures):
    pass


class TestSqliteHistory(AbstractHistoryTests, SqliteFixtures):
    pass


class TestSqliteLineage(AbstractLineageTests, SqliteFixtures):
    pass


class TestSqliteLineageQueries(AbstractLineageQueryTests, SqliteFixtures):
    pass


class TestSqliteModel(AbstractModelTests, SqliteFixtures):
    pass


class TestSqlitePaging(AbstractPagingTests, SqliteFixtures):
    pass


class TestSqliteQueries(AbstractQueryTests, SqliteFixtures):
    pass


class TestSqliteTransactions(AbstractTransactionTests, SqliteFixtures):
    pass


class TestSqliteVocabulary(AbstractVocabularyTests, SqliteFixtures):
    pass


class TestSqliteDerivaML(AbstractDerivaMLTests, SqliteFixtures):
    pass
