"""Opening an object store from its URL, by scheme; stores are imported lazily."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse
from urllib.request import url2pathname

from assetry.errors import ConfigError
from assetry.store.base import ObjectStore

KNOWN = ("a path", "file://", "s3://", "gs://", "az://", "abfs://")


def open_store(url: str, base: Path | None = None) -> ObjectStore:
    """The store at ``url``; a relative path is taken relative to ``base``."""
    scheme = _scheme(url)
    if scheme in ("", "file"):
        from assetry.store.local import LocalStore

        return LocalStore(_local_path(url, base).resolve())
    if scheme == "s3":
        try:
            from assetry.store.s3 import S3Store
        except ModuleNotFoundError as err:
            raise ConfigError(
                f"the S3 store needs {err.name!r}; install it with: pip install 'assetry[s3]'"
            ) from None
        return S3Store.from_url(url)
    if scheme == "gs":
        try:
            from assetry.store.gcs import GcsStore
        except ModuleNotFoundError as err:
            raise ConfigError(
                f"the GCS store needs {err.name!r}; install it with: pip install 'assetry[gcs]'"
            ) from None
        return GcsStore.from_url(url)
    if scheme in ("az", "abfs"):
        try:
            from assetry.store.azure import AzureStore
        except ModuleNotFoundError as err:
            raise ConfigError(
                f"the Azure store needs {err.name!r}; install it with: pip install 'assetry[azure]'"
            ) from None
        return AzureStore.from_url(url)
    raise ConfigError(
        f"unknown object store scheme {scheme!r} in {url!r}; known: {', '.join(KNOWN)}"
    )


def store_location(url: str, base: Path | None = None) -> str:
    """Where the store at ``url`` keeps its objects, written one way: two URLs with the
    same location name the same objects (``/x/d``, ``/x/d/``, ``file:///x/d`` and a link
    to that folder; ``s3://b/p/`` and ``s3://b/p``; ``az://`` and ``abfs://``), so that a
    catalog never records one place as two stores, which moving objects from one to the
    other would empty."""
    scheme = _scheme(url)
    if scheme in ("", "file"):
        return "file://" + os.path.realpath(_local_path(url, base))
    parsed = urlparse(url)
    query = urlencode(sorted(parse_qsl(parsed.query)))
    place = f"{'az' if scheme == 'abfs' else scheme}://{parsed.netloc.lower()}"
    place += "/" + parsed.path.strip("/")
    return place + (f"?{query}" if query else "")


def _scheme(url: str) -> str:
    return urlparse(url).scheme.lower() if "://" in url else ""


def _local_path(url: str, base: Path | None) -> Path:
    path = Path(url2pathname(urlparse(url).path)) if _scheme(url) == "file" else Path(url)
    if not path.is_absolute():
        if base is None:
            raise ConfigError(f"the store path {url!r} is relative, but to what?")
        path = base / path
    return path
