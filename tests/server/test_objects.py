"""Objects through the server: verified streamed upload, resumable uploads, ranged
downloads; bad uploads are 4xx with a JSON error and store nothing."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import requests

from assetry import ChecksumMismatch, StoreError
from assetry.client import objects as client_objects
from assetry.client.objects import HttpObjectStore
from assetry.client.transport import Transport
from assetry.store.local import LocalStore
from tests.conftest import RemoteServer


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def md5_header(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def served_objects(server: RemoteServer) -> list[str]:
    return sorted(o.sha256 for o in LocalStore(Path(server.location) / "objects").iter_objects())


def put(server: RemoteServer, key: str, body: bytes, **headers: str) -> requests.Response:
    token = server.tokens["writer"]
    return requests.put(
        f"{server.url}/objects/{key}",
        data=body,
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )


def error_of(response: requests.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    error: dict[str, Any] = response.json()["error"]
    return error


def test_a_good_put_is_stored_and_readable_with_ranges(remote_server: RemoteServer) -> None:
    data = os.urandom(300_000)
    answer = put(remote_server, sha(data), data, **{"Content-MD5": md5_header(data)})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"sha256": sha(data), "md5": hashlib.md5(data).hexdigest(),
                             "length": len(data)}  # fmt: skip
    auth = {"Authorization": f"Bearer {remote_server.tokens['reader']}"}
    got = requests.get(f"{remote_server.url}/objects/{sha(data)}", headers=auth, timeout=30)
    assert got.content == data and got.headers["X-Assetry-SHA256"] == sha(data)
    part = requests.get(
        f"{remote_server.url}/objects/{sha(data)}",
        headers={**auth, "Range": "bytes=1000-"},
        timeout=30,
    )
    assert part.status_code == 206 and part.content == data[1000:]
    head = requests.head(f"{remote_server.url}/objects/{sha(data)}", headers=auth, timeout=30)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong sha256", 422),
        ("wrong md5", 422),
        ("bad md5 header", 422),
        ("truncated", 422),
        ("too long for its length", 422),
        ("bad key", 422),
        ("dot-dot key", 404),
    ],
)
def test_bad_puts_store_nothing(remote_server: RemoteServer, case: str, status: int) -> None:
    data = b"the real bytes"
    key, body, headers = sha(data), data, {"Content-MD5": md5_header(data)}
    if case == "wrong sha256":
        key = sha(b"other")
    elif case == "wrong md5":
        headers["Content-MD5"] = md5_header(b"other")
    elif case == "bad md5 header":
        headers["Content-MD5"] = "not base64!"
    elif case == "bad key":
        key = "ABC"
    elif case == "dot-dot key":
        key = "../../catalog.db"
    if case in ("truncated", "too long for its length"):
        # Lie about the length on a raw connection (requests would correct it).
        length = len(data) + 10 if case == "truncated" else len(data) - 4
        answer = raw_put(remote_server, key, body, length)
        # A client that went away mid-body hears nothing; one that sent too much, a 4xx.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 4"), answer[:200]
        assert list((Path(remote_server.location) / "server-uploads").glob("put-*")) == []
    else:
        response = put(remote_server, key, body, **headers)
        assert response.status_code == status, response.text
        if response.status_code != 404:
            assert error_of(response)["class"] in ("ValidationError", "ChecksumMismatch")
    assert served_objects(remote_server) == []


def raw_put(server: RemoteServer, key: str, body: bytes, length: int) -> bytes:
    headers = {"Authorization": f"Bearer {server.tokens['writer']}"}
    return raw_request(server, "PUT", f"/objects/{key}", headers, body, length)


def raw_request(
    server: RemoteServer,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    length: int,
) -> bytes:
    """Send a request whose Content-Length may lie (requests would correct it)."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(server.url)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {url.netloc}", f"Content-Length: {length}"]
    lines += [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close", "", ""]
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall("\r\n".join(lines).encode() + body)
        if length > len(body):
            conn.shutdown(socket.SHUT_WR)  # the client went away mid-body
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_oversized_put_is_413(remote_server: RemoteServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from assetry.server import objects as server_objects

    monkeypatch.setattr(server_objects, "MAX_SINGLE_PUT_BYTES", 10)
    data = b"more than ten bytes"
    response = put(remote_server, sha(data), data)
    assert response.status_code == 413 and "limit" in error_of(response)["message"]
    assert served_objects(remote_server) == []


def test_resumable_upload_survives_broken_connections(
    remote_server: RemoteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_objects, "SINGLE_PUT_BYTES", 100_000)
    monkeypatch.setattr(client_objects, "UPLOAD_CHUNK_BYTES", 64_000)
    transport = Transport(remote_server.url, remote_server.tokens["writer"])
    store = HttpObjectStore(transport)
    data = os.urandom(1_000_000)
    (tmp_path / "big.bin").write_bytes(data)
    real, calls = transport.request, {"n": 0}

    def flaky(method: str, path: str, **kwargs: Any) -> requests.Response:
        if method == "PUT" and path.startswith("/uploads/"):
            calls["n"] += 1
            if calls["n"] in (3, 7):
                # Half the chunk arrives, then the connection drops.
                data_ = kwargs["data"]
                half = data_.remaining // 2
                kwargs = {**kwargs, "data": data_.handle.read(half)}
                kwargs["headers"] = {**kwargs["headers"], "Content-Length": str(half)}
                real(method, path, **kwargs)
                raise StoreError("connection reset (simulated)")
        return real(method, path, **kwargs)

    monkeypatch.setattr(transport, "request", flaky)
    digests = store.put_file(tmp_path / "big.bin")
    assert digests.sha256 == sha(data) and calls["n"] > 10
    assert served_objects(remote_server) == [sha(data)]
    assert store.get_file(sha(data), tmp_path / "back.bin", expected=digests).read_bytes() == data
    assert list((Path(remote_server.location) / "server-uploads").glob("*")) == []


def test_a_resumable_upload_with_wrong_bytes_is_refused(remote_server: RemoteServer) -> None:
    auth = {"Authorization": f"Bearer {remote_server.tokens['writer']}"}
    data = b"x" * 1000
    declared = {"sha256": sha(b"y" * 1000), "md5": hashlib.md5(data).hexdigest(), "length": 1000}
    started = requests.post(f"{remote_server.url}/uploads", json=declared, headers=auth, timeout=30)
    assert started.status_code == 201
    upload = f"{remote_server.url}/uploads/{started.json()['id']}"
    assert requests.put(upload + "?offset=0", data=data, headers=auth, timeout=30).ok
    wrong_offset = requests.put(upload + "?offset=5", data=b"z", headers=auth, timeout=30)
    assert wrong_offset.status_code == 409 and "offset 1000" in error_of(wrong_offset)["message"]
    done = requests.post(upload + "/complete", headers=auth, timeout=30)
    assert done.status_code == 422 and error_of(done)["class"] == "ChecksumMismatch"
    assert served_objects(remote_server) == []
    other = {"Authorization": f"Bearer {remote_server.tokens['admin']}"}
    assert requests.get(upload, headers=other, timeout=30).status_code == 404


def test_client_verifies_downloads(remote_server: RemoteServer, tmp_path: Path) -> None:
    store = HttpObjectStore(Transport(remote_server.url, remote_server.tokens["writer"]))
    digests = store.put_stream(__import__("io").BytesIO(b"precious"))
    backing = LocalStore(Path(remote_server.location) / "objects").path_of(digests.sha256)
    backing.chmod(0o644)
    backing.write_bytes(b"tampered")
    with pytest.raises(ChecksumMismatch):
        store.get_file(digests.sha256, tmp_path / "out", expected=digests)
    assert not (tmp_path / "out").exists()


def test_malformed_requests_get_json_errors(remote_server: RemoteServer) -> None:
    auth = {"Authorization": f"Bearer {remote_server.tokens['admin']}"}
    url = remote_server.url
    bad_json = requests.post(
        url + "/api/v1/ops/insert",
        data=b"{not json",
        headers={**auth, "Content-Type": "application/json"},
        timeout=30,
    )
    assert bad_json.status_code == 422 and error_of(bad_json)["class"] == "ValidationError"
    unknown = requests.get(url + "/api/v1/nothing-here", headers=auth, timeout=30)
    assert unknown.status_code == 404 and error_of(unknown)["class"] == "NotFoundError"
    method = requests.delete(url + "/api/v1/ops/insert", headers=auth, timeout=30)
    assert method.status_code == 405 and "error" in method.json()
    extra = requests.post(
        url + "/api/v1/ops/snapshot", json={"surprise": 1}, headers=auth, timeout=30
    )
    assert extra.status_code < 500
    wrong_args = requests.post(
        url + "/api/v1/ops/insert", json={"table": "Workflow", "rowz": []}, headers=auth, timeout=30
    )
    assert wrong_args.status_code == 422 and "rowz" in error_of(wrong_args)["message"]


def test_oversized_json_body_is_413(remote_server: RemoteServer) -> None:
    from assetry.server.app import MAX_REQUEST_BYTES

    headers = {
        "Authorization": f"Bearer {remote_server.tokens['admin']}",
        "Content-Type": "application/json",
    }
    answer = raw_request(
        remote_server, "POST", "/api/v1/ops/insert", headers, b"{}", MAX_REQUEST_BYTES + 1
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"ValidationError" in answer
