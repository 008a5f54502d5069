"""Streaming external references once to learn or check their checksums.

Nothing is copied: each reference is read in chunks and hashed (MD5, SHA-256, length).
``file://`` and ``http(s)://`` need nothing more; ``s3://`` uses boto3 (``assetry[s3]``,
credentials and endpoint from the usual AWS settings); ``gs://`` is recorded and verified
when gcsfs is installed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit

from assetry.errors import ChecksumMismatch, ConfigError, NotFoundError, StoreError
from assetry.records.artifacts import Reference
from assetry.store.hashing import CHUNK_SIZE, Digests, Hasher

HTTP_TIMEOUT = (10.0, 60.0)  # connect, read (seconds)


def measure(reference: Reference) -> Digests:
    """MD5, SHA-256 and length of the referenced bytes, read once."""
    hasher = Hasher()
    with _chunks(reference.uri) as chunks:
        for chunk in chunks:
            hasher.update(chunk)
    return hasher.digests()


def verified(reference: Reference) -> Reference:
    """``reference`` with the checksums and size it lacked; ``ChecksumMismatch`` when
    the bytes differ from those it records."""
    found = measure(reference)
    for algorithm, expected, got in (
        ("md5", reference.md5, found.md5),
        ("sha256", reference.sha256, found.sha256),
        ("size", None if reference.size_bytes is None else str(reference.size_bytes),
         str(found.length)),
    ):  # fmt: skip
        if expected is not None and expected != got:
            raise ChecksumMismatch(reference.uri, algorithm, expected, got)
    return Reference(reference.uri, found.length, found.md5, found.sha256, reference.description)


@contextlib.contextmanager
def _chunks(uri: str) -> Iterator[Iterator[bytes]]:
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "file":
        path = unquote(parts.path)
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise NotFoundError(f"reference {uri}: no file at {path}") from None
        with handle:
            yield iter(lambda: handle.read(CHUNK_SIZE), b"")
        return
    if scheme in ("http", "https"):
        import requests

        try:
            response = requests.get(uri, stream=True, timeout=HTTP_TIMEOUT)
        except requests.RequestException as err:
            raise StoreError(f"reference {uri}: {err}") from None
        with response:
            if response.status_code == 404:
                raise NotFoundError(f"reference {uri}: 404 Not Found")
            if response.status_code >= 400:
                raise StoreError(f"reference {uri}: HTTP {response.status_code}")
            yield response.iter_content(CHUNK_SIZE)
        return
    if scheme == "s3":
        body = _s3_body(parts.netloc, parts.path.lstrip("/"), uri)
        with contextlib.closing(body):
            yield iter(lambda: body.read(CHUNK_SIZE), b"")
        return
    if scheme == "gs":
        try:
            import gcsfs
        except ImportError:
            raise ConfigError(
                f"reference {uri}: reading gs:// needs gcsfs (pip install gcsfs); the "
                "reference is recorded as given"
            ) from None
        with gcsfs.GCSFileSystem().open(uri, "rb") as handle:
            yield iter(lambda: handle.read(CHUNK_SIZE), b"")
        return
    raise ConfigError(f"reference {uri}: cannot read scheme {scheme!r}")


def _s3_body(bucket: str, key: str, uri: str) -> Any:
    try:
        import boto3
        import botocore.exceptions
    except ImportError:
        raise ConfigError(
            f"reference {uri}: reading s3:// needs pip install 'assetry[s3]'"
        ) from None
    try:
        return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    except botocore.exceptions.ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "404", "NoSuchBucket"):
            raise NotFoundError(f"reference {uri}: not found ({code})") from None
        raise StoreError(f"reference {uri}: {err}") from None
    except botocore.exceptions.BotoCoreError as err:
        raise StoreError(f"reference {uri}: {err}") from None
