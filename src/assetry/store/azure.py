"""Azure Blob Storage through adlfs: ``az://CONTAINER/prefix`` (also ``abfs://``).

Options in the URL's query: ``account_name`` (else ``$AZURE_STORAGE_ACCOUNT_NAME``) and
``endpoint_url`` (the blob endpoint, such as Azurite's
``http://127.0.0.1:10000/devstoreaccount1``; else
``https://<account>.blob.core.windows.net``). Credentials come from Azure's usual
settings, first found: ``$AZURE_STORAGE_CONNECTION_STRING`` (when the URL names no
account or endpoint), ``$AZURE_STORAGE_ACCOUNT_KEY``, ``$AZURE_STORAGE_SAS_TOKEN``, else
Azure's default credential chain (environment, managed identity, Azure CLI login). Large
objects travel as staged blocks of ``part_size`` bytes, committed together at the end.
"""

from __future__ import annotations

import base64
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

from adlfs import AzureBlobFileSystem
from azure.storage.blob.aio import BlobServiceClient

from assetry.errors import ConfigError
from assetry.store.fsspec_store import PART_SIZE, FsspecStore

if TYPE_CHECKING:
    from assetry.store.direct import DirectTransfers

_OPTIONS = {"account_name", "endpoint_url"}
# azure-core's default: 3 retries with an exponential back-off.
DEFAULT_ATTEMPTS = 4


class _Connection:
    """Where the account is and how to authenticate to it."""

    def __init__(self, url: str, query: dict[str, str]) -> None:
        env = os.environ
        self.connection_string: str | None = None
        self.credential: Any = None
        account = query.get("account_name") or env.get("AZURE_STORAGE_ACCOUNT_NAME")
        if "account_name" not in query and "endpoint_url" not in query:
            self.connection_string = env.get("AZURE_STORAGE_CONNECTION_STRING")
        if self.connection_string is None and not account:
            raise ConfigError(
                f"the Azure store {url!r} needs an account: account_name=... in the URL, "
                "AZURE_STORAGE_ACCOUNT_NAME or AZURE_STORAGE_CONNECTION_STRING"
            )
        self.account_name = account
        self.account_url = query.get("endpoint_url") or f"https://{account}.blob.core.windows.net"
        if self.connection_string is not None:
            return
        key, sas = env.get("AZURE_STORAGE_ACCOUNT_KEY"), env.get("AZURE_STORAGE_SAS_TOKEN")
        if key:
            self.credential = {"account_name": account, "account_key": key}
        elif sas:
            self.credential = sas.lstrip("?")
        else:
            from azure.identity.aio import DefaultAzureCredential

            self.credential = DefaultAzureCredential()

    def signing_key(self) -> tuple[str, str, str] | None:
        """(blob endpoint, account name, account key) when the account key is known, so
        that SAS URLs can be signed; else None."""
        if self.connection_string is not None:
            fields = dict(
                part.split("=", 1) for part in self.connection_string.split(";") if "=" in part
            )
            name, key = fields.get("AccountName"), fields.get("AccountKey")
            if not name or not key:
                return None
            endpoint = fields.get("BlobEndpoint") or (
                f"{fields.get('DefaultEndpointsProtocol', 'https')}://{name}.blob."
                f"{fields.get('EndpointSuffix', 'core.windows.net')}"
            )
            return endpoint, name, key
        if isinstance(self.credential, dict) and self.account_name:
            return self.account_url, self.account_name, str(self.credential["account_key"])
        return None


class _AzureFileSystem(AzureBlobFileSystem):  # type: ignore[misc]
    """adlfs's file system on a service client this store configures (endpoint,
    credential, number of attempts), instead of adlfs's own choice among them."""

    def __init__(self, connection: _Connection, attempts: int, timeout: float | None) -> None:
        self._connection = connection
        self._client_options: dict[str, Any] = {"retry_total": max(attempts - 1, 0)}
        if timeout is not None:
            self._client_options["connection_timeout"] = timeout
            self._client_options["read_timeout"] = timeout
        super().__init__(
            account_name=connection.account_name,
            anon=True,  # no credential of adlfs's own: do_connect gives the client one
            use_listings_cache=False,
            skip_instance_cache=True,
        )

    def do_connect(self) -> None:
        connection = self._connection
        if connection.connection_string is not None:
            self.service_client = BlobServiceClient.from_connection_string(
                connection.connection_string, **self._client_options
            )
            return
        self.service_client = BlobServiceClient(
            account_url=connection.account_url,
            credential=connection.credential,
            **self._client_options,
        )


class AzureStore(FsspecStore):
    """Objects in an Azure Blob Storage container under a prefix."""

    scheme = "az"
    _direct: DirectTransfers | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        part_size: int = PART_SIZE,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        timeout: float | None = None,
    ) -> AzureStore:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ConfigError(
                f"an Azure store URL needs a container: az://CONTAINER/prefix, got {url!r}"
            )
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        unknown = set(query) - _OPTIONS
        if unknown:
            raise ConfigError(
                f"unknown Azure store options {sorted(unknown)} in {url!r}; known: "
                f"{', '.join(sorted(_OPTIONS))}"
            )
        fs = _AzureFileSystem(_Connection(url, query), attempts, timeout)
        root = parsed.netloc + parsed.path.rstrip("/")
        store = cls(url, fs, root, part_size, protocol="az")
        store._direct = None
        return store

    def direct(self) -> DirectTransfers | None:
        """SAS-signed transfers (``store.azure_direct``) when the account key is known."""
        if self._direct is None:
            signing = self.fs._connection.signing_key()
            if signing is None:
                return None
            from assetry.store.azure_direct import AzureDirectTransfers

            self._direct = AzureDirectTransfers(self, *signing)
        return self._direct

    def stored_md5(self, info: dict[str, Any]) -> str | None:
        """Azure reports a Content-MD5 for blobs uploaded in one request; a blob
        committed from blocks has none unless the writer set it."""
        settings = info.get("content_settings")
        value = getattr(settings, "content_md5", None)
        if value is None and isinstance(settings, dict):
            value = settings.get("content_md5")
        if isinstance(value, bytes | bytearray) and len(value) == 16:
            return bytes(value).hex()
        if isinstance(value, str) and value:
            try:
                return base64.b64decode(value).hex()
            except ValueError:
                return None
        return None
