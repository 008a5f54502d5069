"""Direct transfers for the GCS store: V4-signed requests (``store.direct``).

A small object is one signed ``PUT`` of a temporary object (its ``Content-MD5`` signed,
so GCS checks it); a large one is signed ``PUT``s of numbered part objects, which the
server composes into the temporary object (32 at a time, as GCS allows). After the
server's check the object is copied to its content key inside GCS.

Signing needs a service account's private key: the ``signing_key`` file named in the
store URL, else the store's own credentials when they are a service account's. With
other credentials (a user's login, the metadata server) the store signs nothing and a
server carries the bytes itself.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any, BinaryIO

from assetry.errors import StoreError, ValidationError
from assetry.store.direct import (
    DEFAULT_EXPIRES_SECONDS,
    DirectTransfers,
    PartPlan,
    SignedRequest,
    UploadPlan,
    plan_parts,
)
from assetry.store.fsspec_store import FsspecStore, store_errors
from assetry.store.hashing import Digests

SINGLE_MAX_BYTES = 64 << 20
PART_BYTES = 32 << 20
MAX_PARTS = 1024  # objects composed per upload (32 per compose call, two levels)
COMPOSE_AT_ONCE = 32  # GCS's limit of sources per compose request
_MIB = 1 << 20
PUBLIC_ENDPOINT = "https://storage.googleapis.com"


class GcsDirectTransfers(DirectTransfers):
    """V4-signed transfers of one GCS store."""

    def __init__(self, store: FsspecStore, credentials: Any, endpoint: str | None) -> None:
        self.store = store
        self.fs = store.fs
        self.credentials = credentials
        self.endpoint = (endpoint or PUBLIC_ENDPOINT).rstrip("/")
        self._signing_client: Any = None

    # --- signing -------------------------------------------------------------------------
    def _client(self) -> Any:
        """A storage client that only signs (making one sends no request)."""
        if self._signing_client is None:
            from google.cloud import storage

            self._signing_client = storage.Client(project="-", credentials=self.credentials)
        return self._signing_client

    def _sign(self, key: str, method: str, expires_in: int, md5: str | None = None) -> str:
        bucket_name, _, name = key.partition("/")
        try:
            blob = self._client().bucket(bucket_name).blob(name)
            url: str = blob.generate_signed_url(
                version="v4",
                expiration=dt.timedelta(seconds=expires_in),
                method=method,
                content_md5=md5,
                credentials=self.credentials,
                api_access_endpoint=self.endpoint,
            )
        except Exception as err:  # google-auth signing errors have no common base
            raise StoreError(f"{self.store.url}: signing a URL failed: {err}") from None
        return url

    def sign_download(
        self, sha256: str, expires_in: int = DEFAULT_EXPIRES_SECONDS
    ) -> SignedRequest:
        return SignedRequest("GET", self._sign(self.store.key_of(sha256), "GET", expires_in))

    def begin_upload(self, digests: Digests) -> UploadPlan:
        key = self.store._tmp_key()
        if digests.length <= SINGLE_MAX_BYTES:
            parts = plan_parts(digests.length, max(digests.length, 1))
            return UploadPlan({"key": key, "parts": False}, parts)
        part_size = max(PART_BYTES, -(-digests.length // MAX_PARTS // _MIB) * _MIB)
        return UploadPlan({"key": key, "parts": True}, plan_parts(digests.length, part_size))

    def sign_part(
        self,
        state: dict[str, Any],
        part: PartPlan,
        digests: Digests,
        expires_in: int = DEFAULT_EXPIRES_SECONDS,
    ) -> SignedRequest:
        if not state["parts"]:
            md5 = base64.b64encode(bytes.fromhex(digests.md5)).decode("ascii")
            return SignedRequest(
                "PUT", self._sign(state["key"], "PUT", expires_in, md5), {"Content-MD5": md5}
            )
        return SignedRequest("PUT", self._sign(_part_key(state, part.number), "PUT", expires_in))

    # --- the upload ----------------------------------------------------------------------
    def _size(self, key: str) -> int | None:
        with store_errors(f"looking up {key} in {self.store.url}"):
            try:
                return int(self.fs.info(key)["size"])
            except FileNotFoundError:
                return None

    def received_parts(self, state: dict[str, Any]) -> dict[int, int]:
        if not state["parts"]:
            size = self._size(state["key"])
            return {} if size is None else {1: size}
        folder, _, stem = state["key"].rpartition("/")
        with store_errors(f"listing the parts of an upload in {self.store.url}"):
            try:
                entries = self.fs.ls(folder, detail=True)
            except FileNotFoundError:
                entries = []
        received: dict[int, int] = {}
        for entry in entries:
            name = str(entry["name"]).rsplit("/", 1)[-1]
            number = name[len(stem) + len(".part-") :]
            if name.startswith(f"{stem}.part-") and number.isdigit():
                received[int(number)] = int(entry["size"])
        return received

    def is_assembled(self, state: dict[str, Any]) -> bool:
        return self._size(state["key"]) is not None

    def assemble(self, state: dict[str, Any], parts: list[PartPlan]) -> None:
        if not state["parts"]:
            return
        sources = [_part_key(state, p.number) for p in parts]
        if len(sources) > COMPOSE_AT_ONCE**2:
            raise ValidationError(f"an upload of {len(sources)} parts is more than GCS composes")
        with store_errors(f"composing an upload in {self.store.url}"):
            if len(sources) > COMPOSE_AT_ONCE:
                groups = [
                    sources[i : i + COMPOSE_AT_ONCE]
                    for i in range(0, len(sources), COMPOSE_AT_ONCE)
                ]
                middles = [f"{state['key']}.group-{n:04d}" for n in range(len(groups))]
                for group, middle in zip(groups, middles, strict=True):
                    self.fs.merge(middle, group)
                self.fs.merge(state["key"], middles)
                self.fs.rm(middles)
            else:
                self.fs.merge(state["key"], sources)
            self.fs.rm(sources)

    def open_temporary(self, state: dict[str, Any]) -> BinaryIO:
        with store_errors(f"reading an upload in {self.store.url}"):
            handle: BinaryIO = self.fs.open(state["key"], "rb", block_size=8 * _MIB)
        return handle

    def place(self, state: dict[str, Any], digests: Digests) -> None:
        target = self.store.key_of(digests.sha256)
        with store_errors(f"placing an upload in {self.store.url}"):
            if self._size(target) is None:
                self.fs.copy(state["key"], target)
            self.fs.rm(state["key"])
        self.store._check_written(digests)

    def abandon(self, state: dict[str, Any]) -> None:
        with store_errors(f"abandoning an upload in {self.store.url}"):
            leftovers = [state["key"]] if self._size(state["key"]) is not None else []
            if state["parts"]:
                leftovers += [_part_key(state, n) for n in self.received_parts(state)]
            if leftovers:
                self.fs.rm(leftovers)


def _part_key(state: dict[str, Any], number: int) -> str:
    return f"{state['key']}.part-{number:05d}"
