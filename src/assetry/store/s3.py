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
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import parse_qs, urlparse

import boto3
import botocore.config
import botocore.exceptions

from assetry.errors import ConfigError, StoreError
from assetry.store.base import ObjectInfo, ObjectStore, missing
from assetry.store.hashing import Digests, Hasher, is_sha256

if TYPE_CHECKING:
    from assetry.store.s3_direct import S3DirectTransfers

PART_SIZE = 8 << 20
_TMP = "tmp"
# Seconds to connect and to wait for an answer, and attempts, when a new catalog checks
# its bucket (``check_new_bucket``): an unreachable endpoint is reported soon.
CHECK_TIMEOUT = 5.0
CHECK_ATTEMPTS = 2
# Error codes S3 answers for a bucket that is not there, or not this caller's to use.
_NO_BUCKET = {"404", "NoSuchBucket", "NotFound"}
_DENIED = {
    "403",
    "AccessDenied",
    "AllAccessDisabled",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccountProblem",
}


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
    def from_url(
        cls,
        url: str,
        part_size: int = PART_SIZE,
        *,
        connect_timeout: float = 5,
        read_timeout: float = 60,
        attempts: int = 4,
    ) -> S3Store:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ConfigError(f"an S3 store URL needs a bucket: s3://BUCKET/prefix, got {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise ConfigError(f"unknown S3 store options {sorted(unknown)} in {url!r}")
        config = botocore.config.Config(
            retries={"max_attempts": attempts, "mode": "standard"},
            signature_version="s3v4",  # presigned URLs sign Content-MD5 (SigV2 would not)
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            s3={"addressing_style": "path"} if "endpoint_url" in query else {},
        )
        client = boto3.client(
            "s3",
            endpoint_url=query.get("endpoint_url"),
            region_name=query.get("region"),
            config=config,
        )
        return cls(url, parsed.netloc, parsed.path, client, part_size)

    def check_writable(self) -> None:
        """Check that the bucket exists and takes writes: write a small probe object under
        the prefix's temporary keys, then delete it. ``ConfigError`` naming the bucket
        when it does not exist or this caller may not use it (or has no credentials);
        ``StoreError`` when the endpoint cannot be reached or S3 fails otherwise."""
        endpoint = self.client.meta.endpoint_url
        where = f"the S3 bucket {self.bucket!r} at {endpoint}"
        key = "/".join(p for p in (self.prefix, _TMP, f"probe-{uuid.uuid4().hex}") if p)
        probe = b"assetry: checking that this bucket takes writes\n"
        step = "looking it up"
        try:
            self.client.head_bucket(Bucket=self.bucket)
            step = f"writing a probe object {key!r}"
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=probe, ContentMD5=_b64md5(probe)
            )
            step = f"deleting the probe object {key!r}"
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except botocore.exceptions.ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", "?"))
            if code in _NO_BUCKET and step == "looking it up":
                raise ConfigError(f"{where} does not exist (create it first)") from None
            if code in _DENIED:
                raise ConfigError(f"{where}: access denied while {step} ({code})") from None
            raise StoreError(f"{where}: {step} failed: S3 answered {code}: {err}") from None
        except botocore.exceptions.NoCredentialsError:
            raise ConfigError(
                f"{where}: no AWS credentials found (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or a profile)"
            ) from None
        except botocore.exceptions.BotoCoreError as err:
            raise StoreError(f"{where}: the endpoint cannot be reached ({err})") from None

    def direct(self) -> S3DirectTransfers:
        """Presigned transfers (``store.s3_direct``)."""
        from assetry.store.s3_direct import S3DirectTransfers

        return S3DirectTransfers(self)

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
        return self.iter_objects_after(None)

    def iter_objects_after(self, after: str | None) -> Iterator[ObjectInfo]:
        """S3 lists keys in order, and ``prefix/ab/cdef...`` sorts as the SHA-256 does:
        the listing starts right after ``after``."""
        prefix = f"{self.prefix}/" if self.prefix else ""
        start = {"StartAfter": self.key_of(after)} if after else {}
        with _s3_errors(f"listing {self.url}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, **start
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(prefix) :].replace("/", "")
                    if is_sha256(key):
                        modified = item.get("LastModified")
                        yield ObjectInfo(
                            key, int(item["Size"]), modified.timestamp() if modified else None
                        )


def check_new_bucket(url: str) -> None:
    """``S3Store.check_writable`` for the store at ``url``, waiting at most about
    ``CHECK_TIMEOUT`` seconds per attempt for the endpoint."""
    S3Store.from_url(
        url,
        connect_timeout=CHECK_TIMEOUT,
        read_timeout=CHECK_TIMEOUT,
        attempts=CHECK_ATTEMPTS,
    ).check_writable()
