"""Object store fixtures: a local directory store and an S3 store on moto's server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assetry.store.base import ObjectStore
from assetry.store.local import LocalStore
from tests.conftest import service_missing


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str | None]:
    """An S3 endpoint served by moto on 127.0.0.1 (a free port)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        yield None
        return
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_url(moto_endpoint: str | None) -> str:
    """The URL of an S3 store in a new, empty bucket."""
    if moto_endpoint is None:
        service_missing("moto[server] is not installed: S3 tests need it")
    import boto3

    bucket = f"assetry-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return f"s3://{bucket}/objects?endpoint_url={moto_endpoint}&region=us-east-1"


@pytest.fixture(params=["local", "s3", "http"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Every kind of object store, empty: a local folder, S3 (moto), and a catalog
    server's objects seen from a client (an admin's, so it may delete)."""
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    if request.param == "http":
        from assetry.client.objects import HttpObjectStore
        from assetry.client.transport import Transport

        server = request.getfixturevalue("remote_server")
        http = HttpObjectStore(Transport(server.url, server.tokens["admin"]))
        http.backing = LocalStore(tmp_path / "served" / "objects")  # type: ignore[attr-defined]
        return http
    from assetry.store.s3 import S3Store

    return S3Store.from_url(request.getfixturevalue("s3_url"), part_size=5 << 20)
