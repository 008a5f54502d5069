"""Direct transfers for the S3 store: presigned ``PUT``s of one temporary object (small
objects, with a signed ``Content-MD5`` that S3 checks) or of the parts of a multipart
upload (large ones), and presigned ``GET``s of content objects. See ``store.direct``."""

from __future__ import annotations

import base64
from typing import Any, BinaryIO

import botocore.exceptions

from assetry.errors import NotFoundError, StoreError, ValidationError
from assetry.store.direct import (
    DEFAULT_EXPIRES_SECONDS,
    DirectTransfers,
    PartPlan,
    SignedRequest,
    UploadPlan,
    plan_parts,
)
from assetry.store.hashing import Digests
from assetry.store.s3 import S3Store, _Body, _s3_errors

SINGLE_MAX_BYTES = 64 << 20
"""Objects up to this size go in one presigned PUT; larger ones as a multipart upload."""
PART_BYTES = 32 << 20
MAX_PARTS = 10_000  # S3's limit
COPY_OBJECT_MAX_BYTES = 5 << 30  # the most one CopyObject request copies
_MIB = 1 << 20


class S3DirectTransfers(DirectTransfers):
    """Presigned transfers of one ``S3Store``."""

    def __init__(self, store: S3Store) -> None:
        self.store = store
        self.client = store.client
        self.bucket = store.bucket

    def sign_download(
        self, sha256: str, expires_in: int = DEFAULT_EXPIRES_SECONDS
    ) -> SignedRequest:
        return SignedRequest(
            "GET", self._presign("get_object", expires_in, Key=self.store.key_of(sha256))
        )

    def begin_upload(self, digests: Digests) -> UploadPlan:
        key = self.store._tmp_key()
        if digests.length <= SINGLE_MAX_BYTES:
            return UploadPlan(
                {"key": key, "upload_id": None}, plan_parts(digests.length, max(digests.length, 1))
            )
        part_size = max(PART_BYTES, -(-digests.length // MAX_PARTS // _MIB) * _MIB)
        with self._errors("starting a multipart upload"):
            started = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
        return UploadPlan(
            {"key": key, "upload_id": started["UploadId"]}, plan_parts(digests.length, part_size)
        )

    def sign_part(
        self,
        state: dict[str, Any],
        part: PartPlan,
        digests: Digests,
        expires_in: int = DEFAULT_EXPIRES_SECONDS,
    ) -> SignedRequest:
        key, upload_id = _state(state)
        if upload_id is None:
            md5 = base64.b64encode(bytes.fromhex(digests.md5)).decode("ascii")
            url = self._presign("put_object", expires_in, Key=key, ContentMD5=md5)
            return SignedRequest("PUT", url, {"Content-MD5": md5})
        url = self._presign(
            "upload_part", expires_in, Key=key, UploadId=upload_id, PartNumber=part.number
        )
        return SignedRequest("PUT", url)

    def received_parts(self, state: dict[str, Any]) -> dict[int, int]:
        key, upload_id = _state(state)
        if upload_id is None:
            size = self._size(key)
            return {} if size is None else {1: size}
        received: dict[int, int] = {}
        try:
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            for page in pages:
                for item in page.get("Parts", []):
                    received[int(item["PartNumber"])] = int(item["Size"])
        except botocore.exceptions.ClientError as err:
            if _code(err) in ("NoSuchUpload", "404"):
                raise NotFoundError(
                    f"the multipart upload to {key} is gone (aborted or expired)"
                ) from None
            raise self._error("listing the parts of an upload", err) from None
        return received

    def is_assembled(self, state: dict[str, Any]) -> bool:
        key, _ = _state(state)
        return self._size(key) is not None

    def assemble(self, state: dict[str, Any], parts: list[PartPlan]) -> None:
        key, upload_id = _state(state)
        if upload_id is None:
            return
        etags: dict[int, str] = {}
        with self._errors("completing a multipart upload"):
            pages = self.client.get_paginator("list_parts").paginate(
                Bucket=self.bucket, Key=key, UploadId=upload_id
            )
            for page in pages:
                for item in page.get("Parts", []):
                    etags[int(item["PartNumber"])] = item["ETag"]
            missing = [p.number for p in parts if p.number not in etags]
            if missing:
                raise ValidationError(f"the upload to {key} lacks parts {missing}")
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [{"PartNumber": p.number, "ETag": etags[p.number]} for p in parts]
                },
            )

    def open_temporary(self, state: dict[str, Any]) -> BinaryIO:
        key, _ = _state(state)
        with self._errors("reading an uploaded object"):
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        return _Body(answer["Body"])  # type: ignore[return-value]

    def place(self, state: dict[str, Any], digests: Digests) -> None:
        key, _ = _state(state)
        with self._errors("placing an uploaded object"):
            if self.store.stat(digests.sha256) is None:
                source = {"Bucket": self.bucket, "Key": key}
                target = self.store.key_of(digests.sha256)
                if digests.length <= COPY_OBJECT_MAX_BYTES:
                    # One request, copied inside S3 (boto3's managed copy would split it
                    # into part copies, which only pays for objects over 5 GiB).
                    self.client.copy_object(CopySource=source, Bucket=self.bucket, Key=target)
                else:
                    self.client.copy(source, self.bucket, target)
            self.client.delete_object(Bucket=self.bucket, Key=key)
        self.store._check_written(digests)

    def abandon(self, state: dict[str, Any]) -> None:
        key, upload_id = _state(state)
        if upload_id is not None:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except botocore.exceptions.ClientError as err:
                if _code(err) not in ("NoSuchUpload", "404"):
                    raise self._error("abandoning an upload", err) from None
        with self._errors("abandoning an upload"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    # --- helpers -------------------------------------------------------------------------
    def _presign(self, operation: str, expires_in: int, **params: Any) -> str:
        with self._errors("signing a URL"):
            url: str = self.client.generate_presigned_url(
                operation, Params={"Bucket": self.bucket, **params}, ExpiresIn=expires_in
            )
        return url

    def _size(self, key: str) -> int | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except botocore.exceptions.ClientError as err:
            if _code(err) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error("looking up an uploaded object", err) from None
        return int(head["ContentLength"])

    def _errors(self, action: str) -> Any:
        return _s3_errors(f"{self.store.url}: {action}")

    def _error(self, action: str, err: botocore.exceptions.ClientError) -> Exception:
        return StoreError(f"{self.store.url}: {action}: S3 answered {_code(err)}: {err}")


def _state(state: dict[str, Any]) -> tuple[str, str | None]:
    return str(state["key"]), state.get("upload_id")


def _code(err: botocore.exceptions.ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "?"))
