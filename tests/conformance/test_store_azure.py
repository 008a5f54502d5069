"""The object store conformance suite on Azure Blob Storage (Azurite on 127.0.0.1), and
what only an Azure store does (its URLs, credentials, an endpoint that is down)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assetry import ConfigError, StoreError
from assetry.store.base import ObjectStore
from assetry.store.registry import open_store
from tests.conformance.store import Corrupt, StoreFixtures
from tests.conformance.store.basic import AbstractStoreTests, write


class AzureFixtures(StoreFixtures):
    @pytest.fixture
    def store(self, azure_url: str) -> ObjectStore:
        from assetry.store.azure import AzureStore

        return AzureStore.from_url(azure_url, part_size=5 << 20)

    @pytest.fixture
    def corrupt(self, store: ObjectStore) -> Corrupt:
        from assetry.store.azure import AzureStore

        assert isinstance(store, AzureStore)
        return lambda sha256, data: store.fs.pipe_file(store.key_of(sha256), data)


class TestAzureStore(AbstractStoreTests, AzureFixtures):
    pass


# --- Azure specifics ----------------------------------------------------------------


def test_azure_registry_and_fetch_url(azure_url: str) -> None:
    from assetry.store.azure import AzureStore

    for url in (azure_url, azure_url.replace("az://", "abfs://", 1)):
        store = open_store(url)
        assert isinstance(store, AzureStore)
    key = hashlib.sha256(b"x").hexdigest()
    container = azure_url.split("/")[2]
    assert store.fetch_url(key) == f"az://{container}/objects/{key[:2]}/{key[2:]}"


def test_azure_endpoint_down_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetry.store.azure import AzureStore

    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "a2V5")
    # Nothing listens on port 9: one attempt (no real back-off to wait).
    store = AzureStore.from_url(
        "az://c/x?account_name=devstoreaccount1&endpoint_url=http://127.0.0.1:9/devstoreaccount1",
        attempts=1,
        timeout=2,
    )
    with pytest.raises(StoreError):
        store.put_file(write(tmp_path / "f", b"data"))
    with pytest.raises(StoreError):
        store.stat(hashlib.sha256(b"x").hexdigest())


def test_azure_bad_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_CONNECTION_STRING"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="container"):
        open_store("az:///nocontainer")
    with pytest.raises(ConfigError, match="unknown Azure store options"):
        open_store("az://c/p?colour=blue")
    with pytest.raises(ConfigError, match="needs an account"):
        open_store("az://c/p")
