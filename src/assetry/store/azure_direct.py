"""Direct transfers for the Azure store: SAS-signed requests (``store.direct``).

A small object is one ``Put Blob`` of a temporary blob (its ``Content-MD5`` checked by
Azure); a large one is ``Put Block`` requests of numbered blocks, which the server
commits as the temporary blob. After the server's check the blob is copied to its
content key inside the account. Signing needs the account key (a connection string
with ``AccountKey`` or ``$AZURE_STORAGE_ACCOUNT_KEY``); with other credentials the
store signs nothing and a server carries the bytes itself.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import quote

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobBlock, BlobSasPermissions, BlobServiceClient, generate_blob_sas

from assetry.errors import StoreError
from assetry.store.direct import (
    DEFAULT_EXPIRES_SECONDS,
    DirectTransfers,
    PartPlan,
    SignedRequest,
    UploadPlan,
    plan_parts,
)
from assetry.store.fsspec_store import FsspecStore
from assetry.store.hashing import Digests

SINGLE_MAX_BYTES = 64 << 20
PART_BYTES = 32 << 20
MAX_BLOCKS = 50_000  # Azure's limit per blob
_MIB = 1 << 20
COPY_WAIT_SECONDS = 600.0
_CLOCK_SKEW = dt.timedelta(minutes=5)


@contextmanager
def _azure_errors(action: str) -> Iterator[None]:
    try:
        yield
    except AzureError as err:
        raise StoreError(f"{action}: {type(err).__name__}: {str(err).splitlines()[0]}") from None


class AzureDirectTransfers(DirectTransfers):
    """SAS-signed transfers of one Azure store."""

    def __init__(self, store: FsspecStore, account_url: str, account: str, key: str) -> None:
        self.store = store
        self.account_url = account_url.rstrip("/")
        self.account, self.key = account, key
        self.service = BlobServiceClient(
            account_url=self.account_url,
            credential={"account_name": account, "account_key": key},
            retry_total=3,
        )

    # --- signing -------------------------------------------------------------------------
    def _split(self, key: str) -> tuple[str, str]:
        container, _, blob = key.partition("/")
        return container, blob

    def _signed_url(self, key: str, permission: BlobSasPermissions, expires_in: int) -> str:
        container, blob = self._split(key)
        now = dt.datetime.now(dt.UTC)
        sas = generate_blob_sas(
            self.account,
            container,
            blob,
            account_key=self.key,
            permission=permission,
            start=now - _CLOCK_SKEW,
            expiry=now + dt.timedelta(seconds=expires_in),
        )
        return f"{self.account_url}/{quote(container)}/{quote(blob)}?{sas}"

    def sign_download(
        self, sha256: str, expires_in: int = DEFAULT_EXPIRES_SECONDS
    ) -> SignedRequest:
        url = self._signed_url(self.store.key_of(sha256), BlobSasPermissions(read=True), expires_in)
        return SignedRequest("GET", url)

    def begin_upload(self, digests: Digests) -> UploadPlan:
        key = self.store._tmp_key()
        if digests.length <= SINGLE_MAX_BYTES:
            parts = plan_parts(digests.length, max(digests.length, 1))
            return UploadPlan({"key": key, "blocks": False}, parts)
        part_size = max(PART_BYTES, -(-digests.length // MAX_BLOCKS // _MIB) * _MIB)
        return UploadPlan({"key": key, "blocks": True}, plan_parts(digests.length, part_size))

    def sign_part(
        self,
        state: dict[str, Any],
        part: PartPlan,
        digests: Digests,
        expires_in: int = DEFAULT_EXPIRES_SECONDS,
    ) -> SignedRequest:
        url = self._signed_url(
            state["key"], BlobSasPermissions(create=True, write=True), expires_in
        )
        if not state["blocks"]:
            md5 = base64.b64encode(bytes.fromhex(digests.md5)).decode("ascii")
            return SignedRequest("PUT", url, {"x-ms-blob-type": "BlockBlob", "Content-MD5": md5})
        block = quote(_wire_block_id(part.number), safe="")
        return SignedRequest("PUT", f"{url}&comp=block&blockid={block}")

    # --- the upload ----------------------------------------------------------------------
    def _blob(self, key: str) -> Any:
        container, blob = self._split(key)
        return self.service.get_blob_client(container, blob)

    def _exists(self, key: str) -> int | None:
        try:
            properties = self._blob(key).get_blob_properties()
        except ResourceNotFoundError:
            return None
        except AzureError as err:
            raise StoreError(f"looking up an uploaded blob: {err}") from None
        return int(properties.size)

    def received_parts(self, state: dict[str, Any]) -> dict[int, int]:
        if not state["blocks"]:
            size = self._exists(state["key"])
            return {} if size is None else {1: size}
        try:
            _, uncommitted = self._blob(state["key"]).get_block_list("uncommitted")
        except ResourceNotFoundError:
            return {}
        except AzureError as err:
            raise StoreError(f"listing the blocks of an upload: {err}") from None
        received: dict[int, int] = {}
        for block in uncommitted:
            number = _block_number(block.id)
            if number is not None:
                received[number] = int(block.size)
        return received

    def is_assembled(self, state: dict[str, Any]) -> bool:
        return self._exists(state["key"]) is not None

    def assemble(self, state: dict[str, Any], parts: list[PartPlan]) -> None:
        if not state["blocks"]:
            return
        with _azure_errors("committing the blocks of an upload"):
            self._blob(state["key"]).commit_block_list(
                [BlobBlock(block_id=_block_id(p.number)) for p in parts]
            )

    def open_temporary(self, state: dict[str, Any]) -> BinaryIO:
        with _azure_errors("reading an uploaded blob"):
            chunks = self._blob(state["key"]).download_blob().chunks()
        return _ChunkReader(chunks)  # type: ignore[return-value]

    def place(self, state: dict[str, Any], digests: Digests) -> None:
        target = self._blob(self.store.key_of(digests.sha256))
        with _azure_errors("placing an uploaded blob"):
            if self._exists(self.store.key_of(digests.sha256)) is None:
                source = self._signed_url(state["key"], BlobSasPermissions(read=True), 3600)
                target.start_copy_from_url(source)
                deadline = time.monotonic() + COPY_WAIT_SECONDS
                while (status := target.get_blob_properties().copy.status) == "pending":
                    if time.monotonic() > deadline:
                        raise StoreError(f"copying {digests.sha256} inside Azure took too long")
                    time.sleep(0.2)
                if status != "success":
                    raise StoreError(f"copying {digests.sha256} inside Azure ended {status!r}")
            self._delete(state["key"])
        self.store._check_written(digests)

    def abandon(self, state: dict[str, Any]) -> None:
        with _azure_errors("abandoning an upload"):
            self._delete(state["key"])

    def _delete(self, key: str) -> None:
        # Not there: never committed (its staged blocks expire by themselves) or gone.
        with contextlib.suppress(ResourceNotFoundError):
            self._blob(key).delete_blob()


def _block_id(number: int) -> str:
    """Block ids of one blob must all have the same length. The SDK base64-encodes them
    on the wire (and decodes what it lists); a raw ``Put Block`` URL carries the base64."""
    return f"part-{number:06d}"


def _wire_block_id(number: int) -> str:
    return base64.b64encode(_block_id(number).encode("ascii")).decode("ascii")


def _block_number(block_id: str) -> int | None:
    text = block_id[5:]
    return int(text) if block_id.startswith("part-") and text.isdigit() else None


class _ChunkReader:
    """A file-like view of an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = iter(chunks)
        self._chunk = memoryview(b"")

    def read(self, size: int = -1) -> bytes:
        if not self._chunk:
            try:
                self._chunk = memoryview(next(self._chunks, b""))
            except AzureError as err:
                raise StoreError(f"reading an uploaded blob: {err}") from None
        if size < 0 or size >= len(self._chunk):
            data, self._chunk = bytes(self._chunk), memoryview(b"")
        else:
            data, self._chunk = bytes(self._chunk[:size]), self._chunk[size:]
        return data

    def close(self) -> None:
        self._chunk = memoryview(b"")

    def __enter__(self) -> _ChunkReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
