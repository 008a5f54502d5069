"""Direct transfers: a server in front of S3 (moto) signs URLs and checks results; the
bytes go between client and S3. A client that lies about what it sent stores nothing;
a broken or unfinished upload resumes; sessions expire and are collected; uploads are
routed to the store the catalog's rules choose for their asset table."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests

from assetry import ChecksumMismatch, ExecutionConfiguration
from assetry.client import direct as client_direct
from assetry.client.objects import HttpObjectStore
from assetry.server import objects as server_objects
from assetry.store import s3_direct
from assetry.store.hashing import Digests
from tests.conftest import RemoteServer, clone_sqlite, start_server

MiB = 1 << 20


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of 5 MiB (S3's least), one PUT up to 1 MiB, direct from 1 MiB: a multipart
    upload with a few parts stays small enough for a test."""
    monkeypatch.setattr(s3_direct, "SINGLE_MAX_BYTES", 1 * MiB)
    monkeypatch.setattr(s3_direct, "PART_BYTES", 5 * MiB)
    monkeypatch.setattr(client_direct, "DIRECT_MIN_BYTES", 512 * 1024)


@pytest.fixture
def no_bytes_through_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any request that would carry object bytes through the server."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("object bytes went through the server")

    monkeypatch.setattr(server_objects, "_receive", refuse)
    monkeypatch.setattr(server_objects, "_stream", refuse)


@pytest.fixture
def s3_server(
    s3_url: str, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RemoteServer]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    cat = clone_sqlite(sqlite_template, tmp_path / "served")
    cat._backend.set_setting("store", s3_url)
    cat.create_asset("Image")
    cat.close()
    yield from start_server(str(tmp_path / "served"))


def s3_client(s3_url: str) -> Any:
    endpoint = parse_qs(urlparse(s3_url).query)["endpoint_url"][0]
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def bucket_keys(s3_url: str) -> list[str]:
    bucket = urlparse(s3_url).netloc
    listed = s3_client(s3_url).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


def open_uploads(s3_url: str) -> list[str]:
    bucket = urlparse(s3_url).netloc
    listed = s3_client(s3_url).list_multipart_uploads(Bucket=bucket)
    return [u["Key"] for u in listed.get("Uploads", [])]


def digests_of(data: bytes) -> Digests:
    return Digests(
        md5=hashlib.md5(data).hexdigest(), sha256=hashlib.sha256(data).hexdigest(), length=len(data)
    )


def call(server: RemoteServer, method: str, path: str, role: str = "writer", **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {server.tokens[role]}"}
    return requests.request(method, server.url + path, headers=headers, timeout=60, **kw)


def send(part: dict[str, Any], data: bytes) -> requests.Response:
    request = part["request"]
    body = data[part["offset"] : part["offset"] + part["size"]]
    return requests.request(
        request["method"], request["url"], data=body, headers=request["headers"], timeout=60
    )


def test_a_large_object_goes_straight_to_s3_in_parts_and_comes_back_verified(
    s3_server: RemoteServer, s3_url: str, small_parts: None, no_bytes_through_server: None,
    tmp_path: Path,
) -> None:  # fmt: skip
    data = os.urandom(11 * MiB + 123)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    store = HttpObjectStore(s3_server.catalog("writer")._backend.transport)  # type: ignore[attr-defined]
    digests = store.put_file(path)
    assert digests == digests_of(data)
    prefix = urlparse(s3_url).path.strip("/")
    key = f"{prefix}/{digests.sha256[:2]}/{digests.sha256[2:]}"
    assert bucket_keys(s3_url) == [key]  # no temporary object left
    assert open_uploads(s3_url) == []
    got = store.get_file(digests.sha256, tmp_path / "back.bin", expected=digests)
    assert got.read_bytes() == data


@pytest.fixture
def through_server(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the objects whose bytes went through the server."""
    keys: list[str] = []
    real = server_objects._install

    def install(store: Any, path: Path, digests: Digests, *args: Any) -> None:
        keys.append(digests.sha256)
        real(store, path, digests, *args)

    monkeypatch.setattr(server_objects, "_install", install)
    return keys


def test_an_execution_output_uploads_directly(
    s3_server: RemoteServer, small_parts: None, through_server: list[str]
) -> None:
    cat = s3_server.catalog("writer")
    wf = cat.create_workflow("direct", "Training", url="u", checksum="c")
    exe = cat.create_execution(ExecutionConfiguration(workflow=wf))
    data = os.urandom(2 * MiB)
    with exe:
        exe.asset_file_path("Image", "scan.bin").write_bytes(data)
    row = exe.upload_execution_outputs()["Image"][0]
    assert row["MD5"] == hashlib.md5(data).hexdigest()
    assert through_server and hashlib.sha256(data).hexdigest() not in through_server
    assert cat.resolve_rid(row["RID"]).row["Length"] == len(data)


def test_a_single_put_is_signed_with_its_md5(s3_server: RemoteServer, small_parts: None) -> None:
    data = os.urandom(700_000)
    d = digests_of(data)
    body = {"sha256": d.sha256, "md5": d.md5, "length": d.length, "table": "Image"}
    started = call(s3_server, "POST", "/transfers/uploads", json=body)
    assert started.status_code == 201, started.text
    plan = started.json()
    assert [p["number"] for p in plan["parts"]] == [1]
    md5_b64 = base64.b64encode(bytes.fromhex(d.md5)).decode()
    assert plan["parts"][0]["request"]["headers"] == {"Content-MD5": md5_b64}
    assert send(plan["parts"][0], data).status_code == 200
    done = call(s3_server, "POST", f"/transfers/uploads/{plan['id']}/complete")
    assert done.status_code == 201 and done.json()["sha256"] == d.sha256
    again = call(s3_server, "POST", f"/transfers/uploads/{plan['id']}/complete")
    assert again.status_code == 200 and again.json() == done.json()  # idempotent
    stored = call(s3_server, "POST", "/transfers/uploads", json=body)
    assert stored.status_code == 200 and stored.json()["stored"] is True


def test_bytes_that_do_not_match_the_declared_digests_are_never_stored(
    s3_server: RemoteServer, s3_url: str, small_parts: None
) -> None:
    declared, sent = os.urandom(6 * MiB), os.urandom(6 * MiB)
    d = digests_of(declared)
    plan = call(
        s3_server, "POST", "/transfers/uploads",
        json={"sha256": d.sha256, "md5": d.md5, "length": d.length},
    ).json()  # fmt: skip
    assert len(plan["parts"]) == 2
    for part in plan["parts"]:
        assert send(part, sent).status_code == 200
    done = call(s3_server, "POST", f"/transfers/uploads/{plan['id']}/complete")
    assert done.status_code == 422, done.text
    assert done.json()["error"]["class"] == "ChecksumMismatch"
    assert bucket_keys(s3_url) == [] and open_uploads(s3_url) == []
    gone = call(s3_server, "GET", f"/transfers/uploads/{plan['id']}")
    assert gone.status_code == 404  # bad bytes are not resumed


def test_completing_early_names_the_missing_parts_and_the_upload_goes_on(
    s3_server: RemoteServer, small_parts: None
) -> None:
    data = os.urandom(12 * MiB)
    d = digests_of(data)
    plan = call(
        s3_server, "POST", "/transfers/uploads",
        json={"sha256": d.sha256, "md5": d.md5, "length": d.length},
    ).json()  # fmt: skip
    assert [p["size"] for p in plan["parts"]] == [5 * MiB, 5 * MiB, 2 * MiB]
    assert send(plan["parts"][1], data).status_code == 200
    early = call(s3_server, "POST", f"/transfers/uploads/{plan['id']}/complete")
    assert early.status_code == 422
    assert "parts 1, 3 of 3" in early.json()["error"]["message"]
    status = call(s3_server, "GET", f"/transfers/uploads/{plan['id']}").json()
    assert [p["received"] for p in status["parts"]] == [False, True, False]
    assert "request" not in status["parts"][1]
    for part in status["parts"]:
        if not part["received"]:
            assert send(part, data).status_code == 200
    done = call(s3_server, "POST", f"/transfers/uploads/{plan['id']}/complete")
    assert done.status_code == 201 and done.json()["sha256"] == d.sha256


def test_a_part_that_fails_is_sent_again(
    s3_server: RemoteServer, small_parts: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = client_direct._send_part
    failed: list[int] = []

    def flaky(fd: int, part: dict[str, Any]) -> str | None:
        if part["number"] == 2 and not failed:
            failed.append(2)
            return "part 2: connection reset (injected)"
        return real(fd, part)

    monkeypatch.setattr(client_direct, "_send_part", flaky)
    monkeypatch.setattr(client_direct.time, "sleep", lambda s: None)
    data = os.urandom(11 * MiB)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    store = HttpObjectStore(s3_server.catalog("writer")._backend.transport)  # type: ignore[attr-defined]
    assert store.put_file(path) == digests_of(data)
    assert failed == [2]
    assert store.verify(digests_of(data).sha256) == digests_of(data)


def test_a_reader_may_download_directly_but_not_upload(
    s3_server: RemoteServer, small_parts: None, tmp_path: Path
) -> None:
    data = os.urandom(MiB)
    d = digests_of(data)
    body = {"sha256": d.sha256, "md5": d.md5, "length": d.length}
    refused = call(s3_server, "POST", "/transfers/uploads", role="reader", json=body)
    assert refused.status_code == 403
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    HttpObjectStore(s3_server.catalog("writer")._backend.transport).put_file(path)  # type: ignore[attr-defined]
    signed = call(s3_server, "GET", f"/transfers/objects/{d.sha256}", role="reader").json()
    assert signed["direct"] is True and signed["length"] == len(data)
    assert requests.get(signed["request"]["url"], timeout=60).content == data
    missing = call(s3_server, "GET", f"/transfers/objects/{'0' * 64}", role="reader")
    assert missing.status_code == 404
    bad = call(s3_server, "GET", "/transfers/objects/not-a-key", role="reader")
    assert bad.status_code == 422


def test_bad_requests_are_refused_with_the_field_named(s3_server: RemoteServer) -> None:
    for body, word in (
        ({"sha256": "x", "md5": "0" * 32, "length": 1}, "sha256"),
        ({"sha256": "0" * 64, "md5": "0" * 32, "length": -1}, "length"),
        ({"sha256": "0" * 64, "md5": "0" * 32, "length": 1, "table": "a b"}, "table"),
        ({"sha256": "0" * 64, "md5": "0" * 32, "length": 1, "extra": 1}, "extra"),
    ):
        answer = call(s3_server, "POST", "/transfers/uploads", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert word in answer.json()["error"]["message"]
    assert call(s3_server, "GET", "/transfers/uploads/nothex").status_code == 404


def test_a_local_store_keeps_the_bytes_going_through_the_server(
    remote_server: RemoteServer, small_parts: None, tmp_path: Path
) -> None:
    data = os.urandom(MiB)
    d = digests_of(data)
    body = {"sha256": d.sha256, "md5": d.md5, "length": d.length}
    answer = call(remote_server, "POST", "/transfers/uploads", json=body)
    assert answer.status_code == 200 and answer.json() == {"stored": False, "direct": False}
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    store = HttpObjectStore(remote_server.catalog("writer")._backend.transport)  # type: ignore[attr-defined]
    assert store.put_file(path) == d
    assert store.get_file(d.sha256, tmp_path / "back", expected=d).read_bytes() == data


def test_uploads_expire_and_are_collected_in_the_store(
    s3_url: str, sqlite_template: Path, tmp_path: Path, small_parts: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from assetry.server import auth, transfers
    from assetry.server.app import create_app
    from assetry.server.run import background_server

    cat = clone_sqlite(sqlite_template, tmp_path / "served")
    cat._backend.set_setting("store", s3_url)
    token = auth.create_token(cat._backend, "w", "writer")[0]
    cat.close()
    app = create_app(str(tmp_path / "served"), upload_expiry=1.0)
    headers = {"Authorization": f"Bearer {token}"}
    data = os.urandom(6 * MiB)
    d = digests_of(data)
    with background_server(app) as url:
        plan = requests.post(
            f"{url}/transfers/uploads",
            json={"sha256": d.sha256, "md5": d.md5, "length": d.length},
            headers=headers, timeout=60,
        ).json()  # fmt: skip
        resumable = requests.post(
            f"{url}/uploads",
            json={"sha256": "1" * 64, "md5": d.md5, "length": 10},
            headers=headers, timeout=60,
        ).json()  # fmt: skip
        assert open_uploads(s3_url) != []
        time.sleep(1.2)
        for path in (f"/transfers/uploads/{plan['id']}", f"/uploads/{resumable['id']}"):
            late = requests.get(url + path, headers=headers, timeout=60)
            assert late.status_code == 404 and "expired" in late.json()["error"]["message"]
        state = app.state.assetry
        assert len(transfers.collect_expired(state)) == 1
        assert open_uploads(s3_url) == [] and bucket_keys(s3_url) == []
        monkeypatch.setattr(transfers, "_last_collected", [0.0])
        transfers.collect_now_and_then(state)
        assert not list(state.upload_dir.glob(f"{resumable['id']}.*"))


def test_objects_are_routed_by_their_asset_table_on_the_server(
    s3_url: str, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    cat = clone_sqlite(sqlite_template, tmp_path / "served")
    cat.create_asset("Image")
    cat.create_asset("Weights")
    cat.add_store("archive", s3_url)
    cat.set_store_rule(table="Weights", store="archive")
    cat.close()
    with contextlib.contextmanager(start_server)(str(tmp_path / "served")) as server:
        rows = upload_two(server)
    weights = hashlib.sha256(b"weights" * 100).hexdigest()
    image = hashlib.sha256(b"image" * 100).hexdigest()
    archive = [k.rsplit("/", 2) for k in bucket_keys(s3_url)]
    assert [a[-2] + a[-1] for a in archive] == [weights]
    default = tmp_path / "served" / "objects"
    assert (default / image[:2] / image[2:]).exists()
    assert not (default / weights[:2] / weights[2:]).exists()
    assert rows["Weights"][0]["MD5"] == hashlib.md5(b"weights" * 100).hexdigest()


def upload_two(server: RemoteServer) -> dict[str, Any]:
    remote = server.catalog("writer")
    wf = remote.create_workflow("route", "Training", url="u", checksum="c")
    exe = remote.create_execution(ExecutionConfiguration(workflow=wf))
    with exe:
        exe.asset_file_path("Weights", "weights.bin").write_bytes(b"weights" * 100)
        exe.asset_file_path("Image", "scan.png").write_bytes(b"image" * 100)
    return exe.upload_execution_outputs()


def test_checksum_mismatch_is_the_error_class_a_client_gets(
    s3_server: RemoteServer, small_parts: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(2 * MiB)
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    lie = Digests(
        md5=hashlib.md5(data).hexdigest(),
        sha256=hashlib.sha256(b"other").hexdigest(),
        length=len(data),
    )
    store = HttpObjectStore(s3_server.catalog("writer")._backend.transport)  # type: ignore[attr-defined]
    with pytest.raises(ChecksumMismatch), open(path, "rb") as handle:
        client_direct.upload(store.transport, handle.fileno(), lie)


def test_serve_refuses_a_bad_upload_expiry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from assetry.cli.main import main

    for span in ("0h", "soon", "-1d"):
        code = main(["--catalog", str(tmp_path / "c"), "serve", f"--upload-expiry={span}"])
        err = capsys.readouterr().err
        assert code == 1 and "--upload-expiry" in err and span in err, err


# --- Azure (Azurite): SAS-signed blocks -----------------------------------------------------


@pytest.fixture
def azure_server(
    azure_url: str, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RemoteServer]:
    from assetry.store import azure_direct

    monkeypatch.setattr(azure_direct, "SINGLE_MAX_BYTES", 1 * MiB)
    monkeypatch.setattr(azure_direct, "PART_BYTES", 1 * MiB)
    monkeypatch.setattr(client_direct, "DIRECT_MIN_BYTES", 512 * 1024)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    cat = clone_sqlite(sqlite_template, tmp_path / "served")
    cat._backend.set_setting("store", azure_url)
    cat.close()
    yield from start_server(str(tmp_path / "served"))


@pytest.mark.parametrize("size", [700_000, 3 * MiB + 5])
def test_azure_objects_go_straight_to_the_container_and_back(
    azure_server: RemoteServer, no_bytes_through_server: None, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    store = HttpObjectStore(azure_server.catalog("writer")._backend.transport)  # type: ignore[attr-defined]
    digests = store.put_file(path)
    assert digests == digests_of(data)
    assert store.get_file(digests.sha256, tmp_path / "back", expected=digests).read_bytes() == data
    signed = call(azure_server, "GET", f"/transfers/objects/{digests.sha256}", role="reader")
    assert "sig=" in signed.json()["request"]["url"]


def test_azure_bytes_that_do_not_match_are_never_stored(
    azure_server: RemoteServer, tmp_path: Path
) -> None:
    data = os.urandom(3 * MiB)
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    lie = Digests(
        md5=hashlib.md5(data).hexdigest(),
        sha256=hashlib.sha256(b"other").hexdigest(),
        length=len(data),
    )
    store = HttpObjectStore(azure_server.catalog("writer")._backend.transport)  # type: ignore[attr-defined]
    with pytest.raises(ChecksumMismatch), open(path, "rb") as handle:
        client_direct.upload(store.transport, handle.fileno(), lie)
    assert store.stat(lie.sha256) is None
    assert list(store.iter_objects()) == []


# --- GCS (the emulator): V4-signed parts, composed -----------------------------------------


def signing_key_file(folder: Path) -> Path:
    """A service account's JSON key (a fresh RSA key) that signs V4 URLs."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = folder / "signer.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "test",
                "private_key_id": "1",
                "private_key": pem,
                "client_email": "signer@test.iam.gserviceaccount.com",
                "client_id": "1",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


@pytest.fixture
def gcs_server(
    gcs_url: str, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RemoteServer]:
    from assetry.store import gcs_direct

    monkeypatch.setattr(gcs_direct, "SINGLE_MAX_BYTES", 1 * MiB)
    monkeypatch.setattr(gcs_direct, "PART_BYTES", 1 * MiB)
    monkeypatch.setattr(gcs_direct, "COMPOSE_AT_ONCE", 2)  # two levels of composing
    monkeypatch.setattr(client_direct, "DIRECT_MIN_BYTES", 512 * 1024)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    cat = clone_sqlite(sqlite_template, tmp_path / "served")
    signer = signing_key_file(tmp_path)
    cat._backend.set_setting("store", f"{gcs_url}&signing_key={signer}")
    cat.close()
    yield from start_server(str(tmp_path / "served"))


@pytest.mark.parametrize("size", [700_000, 3 * MiB + 5])
def test_gcs_objects_go_straight_to_the_bucket_and_back(
    gcs_server: RemoteServer, no_bytes_through_server: None, tmp_path: Path, size: int
) -> None:
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    store = HttpObjectStore(gcs_server.catalog("writer")._backend.transport)  # type: ignore[attr-defined]
    digests = store.put_file(path)
    assert digests == digests_of(data)
    assert store.get_file(digests.sha256, tmp_path / "back", expected=digests).read_bytes() == data
    assert [o.sha256 for o in store.iter_objects()] == [digests.sha256]  # no parts left
    signed = call(gcs_server, "GET", f"/transfers/objects/{digests.sha256}", role="reader")
    assert "X-Goog-Signature=" in signed.json()["request"]["url"]


def test_gcs_without_a_signing_key_streams_through_the_server(
    gcs_url: str, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "client-cache"))
    cat = clone_sqlite(sqlite_template, tmp_path / "served")
    cat._backend.set_setting("store", gcs_url)
    cat.close()
    with contextlib.contextmanager(start_server)(str(tmp_path / "served")) as server:
        data = os.urandom(MiB)
        d = digests_of(data)
        body = {"sha256": d.sha256, "md5": d.md5, "length": d.length}
        answer = call(server, "POST", "/transfers/uploads", json=body)
        assert answer.json() == {"stored": False, "direct": False}


def test_a_gcs_signing_key_that_cannot_be_read_is_named(tmp_path: Path, gcs_url: str) -> None:
    from assetry import ConfigError
    from assetry.store.gcs import GcsStore

    store = GcsStore.from_url(f"{gcs_url}&signing_key={tmp_path / 'missing.json'}")
    with pytest.raises(ConfigError, match="signing_key"):
        store.direct()
