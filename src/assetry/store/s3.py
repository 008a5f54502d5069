"""A content-addressed object store in an S3 bucket: ``s3://bucket/prefix/ab/cdef...``.

Small objects are hashed in memory and written straight to their key. Larger ones are
streamed as a multipart upload to a temporary key while they are hashed (one read of the
source), then copied server-side to their content key. Endpoint, region and credentials
come from the usual AWS settings, or from ``?endpoint_url=...&region=...`` in the URL.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.config
import botocore.exceptions

from assetry.errors import ConfigError, StoreError
from assetry.store.base import ObjectInfo, ObjectStore, missing
from assetry.store.hashing import Digests, Hasher, is_sha256

PART_SIZE = 8 << 20
_TMP = "tmp"


@contextmanager
def _s3_errors(action: str) -> Iterator[None]:
    try:
        yield
    except botocore.exceptions.ClientError as err:
        code = err.response.get("Error", {}).get("Code", "?")
        raise StoreError(f"{action}: S3 answered {code}: {err}") from None
    except botocore.exceptions.BotoCoreError as err:
        raise StoreError(f"{action}: {err}") from None


class _Body:
    """A file-like view of an S3 object body that closes the connection when done."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def read(self, size: int = -1) -> bytes:
        with _s3_errors("reading from S3"):
            data: bytes = self._body.read(None if size < 0 else size)
        return data

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


class S3Store(ObjectStore):
    """Objects in an S3 bucket under a prefix."""

    scheme = "s3"

    def __init__(
        self,
        url: str,
        bucket: str,
        prefix: str,
        client: Any,
        part_size: int = PART_SIZE,
    ) -> None:
        super().__init__(url)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.part_size = part_size

    @classmethod
    def from_url(cls, url: str, part_size: int = PART_SIZE) -> S3Store:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ConfigError(f"an S3 store URL needs a bucket: s3://BUCKET/prefix, got {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise ConfigError(f"unknown S3 store options {sorted(unknown)} in {url!r}")
        config = botocore.config.Config(
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            s3={"addressing_style": "path"} if "endpoint_url" in query else {},
        )
        client = boto3.client(
            "s3",
            endpoint_url=query.get("endpoint_url"),
            region_name=query.get("region"),
            config=config,
        )
        return cls(url, parsed.netloc, parsed.path, client, part_size)

    def key_of(self, sha256: str) -> str:
        return "/".join(p for p in (self.prefix, sha256[:2], sha256[2:]) if p)

    def fetch_url(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self.key_of(sha256)}"

    def _tmp_key(self) -> str:
        return "/".join(p for p in (self.prefix, _TMP, uuid.uuid4().hex) if p)

    def put_stream(self, source: BinaryIO, durable: bool = True) -> Digests:
        first = source.read(self.part_size)
        if len(first) < self.part_size:
            hasher = Hasher()
            hasher.update(first)
            digests = hasher.digests()
            if self.stat(digests.sha256) is None:
                with _s3_errors(f"writing to {self.url}"):
                    self.client.put_object(
                        Bucket=self.bucket,
                        Key=self.key_of(digests.sha256),
                        Body=first,
                        ContentMD5=_b64md5(first),
                    )
            self._check_written(digests)
            return digests
        return self._put_multipart(first, source)

    def _put_multipart(self, first: bytes, source: BinaryIO) -> Digests:
        tmp_key = self._tmp_key()
        hasher = Hasher()
        with _s3_errors(f"writing to {self.url}"):
            upload = self.client.create_multipart_upload(Bucket=self.bucket, Key=tmp_key)
            upload_id = upload["UploadId"]
            try:
                parts = []
                chunk, number = first, 1
                while chunk:
                    hasher.update(chunk)
                    answer = self.client.upload_part(
                        Bucket=self.bucket,
                        Key=tmp_key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=chunk,
                        ContentMD5=_b64md5(chunk),
                    )
                    parts.append({"ETag": answer["ETag"], "PartNumber": number})
                    chunk, number = source.read(self.part_size), number + 1
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=tmp_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            except BaseException:
                self.client.abort_multipart_upload(
                    Bucket=self.bucket, Key=tmp_key, UploadId=upload_id
                )
                raise
            digests = hasher.digests()
            try:
                if self.stat(digests.sha256) is None:
                    self.client.copy(
                        {"Bucket": self.bucket, "Key": tmp_key},
                        self.bucket,
                        self.key_of(digests.sha256),
                    )
            finally:
                self.client.delete_object(Bucket=self.bucket, Key=tmp_key)
        self._check_written(digests)
        return digests

    def _check_written(self, digests: Digests) -> None:
        info = self.stat(digests.sha256)
        if info is None or info.length != digests.length:
            raise StoreError(
                f"{self.url}: object {digests.sha256} was not stored whole "
                f"({info.length if info else 'no'} bytes of {digests.length})"
            )
        self.remember(digests)

    def stat(self, sha256: str) -> ObjectInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except botocore.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StoreError(f"reading {self.url}: {err}") from None
        except botocore.exceptions.BotoCoreError as err:
            raise StoreError(f"reading {self.url}: {err}") from None
        return ObjectInfo(sha256, int(head["ContentLength"]))

    def open_raw(self, sha256: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key_of(sha256))
        except botocore.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise missing(self.url, sha256) from None
            raise StoreError(f"reading {self.url}: {err}") from None
        except botocore.exceptions.BotoCoreError as err:
            raise StoreError(f"reading {self.url}: {err}") from None
        return _Body(answer["Body"])  # type: ignore[return-value]

    def delete(self, sha256: str) -> None:
        self.forget(sha256)
        with _s3_errors(f"deleting from {self.url}"):
            self.client.delete_object(Bucket=self.bucket, Key=self.key_of(sha256))

    def iter_objects(self) -> Iterator[ObjectInfo]:
        prefix = f"{self.prefix}/" if self.prefix else ""
        with _s3_errors(f"listing {self.url}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(prefix) :].replace("/", "")
                    if is_sha256(key):
                        modified = item.get("LastModified")
                        yield ObjectInfo(
                            key, int(item["Size"]), modified.timestamp() if modified else None
                        )
