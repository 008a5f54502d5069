"""The Backend conformance suite on PostgreSQL (a database cloned from a pre-migrated template)."""

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


class PostgresFixtures(BackendFixtures):
    @pytest.fixture
    def catalog(self, postgres_catalog: Catalog) -> Catalog:
        return postgres_catalog

    @pytest.fixture
    def backend(self) -> str:
        return "postgres"

    @pytest.fixture
    def built(self, built_postgres: BuildCatalog) -> BuildCatalog:
        return built_postgres


class TestPostgresBags(AbstractBagTests, PostgresFixtures):
    pass


class TestPostgresBrowsing(AbstractBrowsingTests, PostgresFixtures):
    pass


class TestPostgresColumnTypes(AbstractColumnTypeTests, PostgresFixtures):
    pass


class TestPostgresConcurrency(AbstractConcurrencyTests, PostgresFixtures):
    pass


class TestPostgresDatasets(AbstractDatasetTests, PostgresFixtures):
    pass


class TestPostgresErrors(AbstractErrorTests, PostgresFixtures):
    pass


class TestPostgresHistory(AbstractHistoryTests, PostgresFixtures):
    pass


class TestPostgresLineage(AbstractLineageTests, PostgresFixtures):
    pass


class TestPostgresLineageQueries(AbstractLineageQueryTests, PostgresFixtures):
    pass


class TestPostgresModel(AbstractModelTests, PostgresFixtures):
    pass


class TestPostgresPaging(AbstractPagingTests, PostgresFixtures):
    pass


class TestPostgresQueries(AbstractQueryTests, PostgresFixtures):
    pass


class TestPostgresTransactions(AbstractTransactionTests, PostgresFixtures):
    pass


class TestPostgresVocabulary(AbstractVocabularyTests, PostgresFixtures):
    pass


class TestPostgresDerivaML(AbstractDerivaMLTests, PostgresFixtures):
    pass
