"""``Catalog.create(..., store="s3://...")`` checks the bucket first: it must exist and take
writes. A failed check names the bucket and what failed, and creates nothing."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from botocore.stub import Stubber

from assetry import Catalog, ConfigError, StoreError
from assetry.store import s3
from tests.conftest import PgDatabases, pg_url, service_missing


@pytest.fixture
def endpoint(moto_endpoint: str | None) -> str:
    if moto_endpoint is None:
        service_missing("moto[server] is not installed: S3 tests need it")
    assert moto_endpoint is not None
    return moto_endpoint


@pytest.fixture
def quick_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks that give up on an endpoint after half a second, without retrying."""
    monkeypatch.setattr(s3, "CHECK_TIMEOUT", 0.5)
    monkeypatch.setattr(s3, "CHECK_ATTEMPTS", 1)


def _keys(endpoint: str, bucket: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_working_bucket_is_checked_and_used(s3_url: str, tmp_path: Path) -> None:
    with Catalog.create(tmp_path / "cat", store=s3_url) as cat:
        cat.create_asset("Image")
        [asset] = cat.upload_assets("Image", [_file(tmp_path, b"in the bucket")])
        assert cat._context.store().route(None, None).scheme == "s3"
    bucket = s3_url.split("/")[2]
    endpoint = s3_url.split("endpoint_url=")[1].split("&")[0]
    keys = _keys(endpoint, bucket)
    assert not [k for k in keys if "probe" in k]  # the probe object is gone
    assert any(k.endswith(asset["SHA256"][2:]) for k in keys)


def test_a_missing_bucket_creates_nothing(endpoint: str, tmp_path: Path) -> None:
    bucket = f"assetry-missing-{uuid.uuid4().hex[:8]}"
    url = f"s3://{bucket}/objects?endpoint_url={endpoint}&region=us-east-1"
    with pytest.raises(ConfigError, match=f"{bucket}.* does not exist"):
        Catalog.create(tmp_path / "cat", store=url)
    assert not (tmp_path / "cat").exists()


def test_a_missing_bucket_creates_no_database(
    endpoint: str, pg_databases: PgDatabases, tmp_path: Path
) -> None:
    name = f"assetry_t_never_{uuid.uuid4().hex[:10]}"
    pg_databases.created.append(name)  # dropped afterwards, should it exist after all
    url = f"s3://assetry-missing-{uuid.uuid4().hex[:8]}?endpoint_url={endpoint}"
    with pytest.raises(ConfigError, match="does not exist"):
        Catalog.create(pg_url(name), store=url)
    with pg_databases.admin.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
    assert found is None


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port on 127.0.0.1 that takes connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.mark.usefixtures("quick_checks")
@pytest.mark.parametrize("port", ["closed_port", "silent_port"])
def test_an_unreachable_endpoint_creates_nothing(
    request: pytest.FixtureRequest, port: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    number = request.getfixturevalue(port)
    url = f"s3://far-bucket/objects?endpoint_url=http://127.0.0.1:{number}&region=us-east-1"
    started = time.monotonic()
    with pytest.raises(StoreError, match="far-bucket.*cannot be reached"):
        Catalog.create(tmp_path / "cat", store=url)
    assert time.monotonic() - started < 4
    assert not (tmp_path / "cat").exists()


def _stubbed_store() -> tuple[s3.S3Store, Stubber]:
    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return s3.S3Store("s3://locked/p", "locked", "p", client), Stubber(client)


def test_access_denied_names_the_bucket_and_the_step() -> None:
    store, stub = _stubbed_store()
    stub.add_client_error("head_bucket", "403", "Forbidden", 403)
    with stub, pytest.raises(ConfigError, match="'locked'.*access denied while looking it up"):
        store.check_writable()

    store, stub = _stubbed_store()
    stub.add_response("head_bucket", {})
    stub.add_client_error("put_object", "AccessDenied", "Access Denied", 403)
    with stub, pytest.raises(ConfigError, match="'locked'.*denied while writing a probe"):
        store.check_writable()

    store, stub = _stubbed_store()
    stub.add_response("head_bucket", {})
    stub.add_client_error("put_object", "InternalError", "boom", 500)
    with stub, pytest.raises(StoreError, match="'locked'.*writing a probe.*InternalError"):
        store.check_writable()


def _file(folder: Path, data: bytes) -> Path:
    path = folder / "a.bin"
    path.write_bytes(data)
    return path
