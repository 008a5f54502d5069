"""The server and client against hostile or unlucky callers: body limits and timeouts,
connections closed after early answers, typed arguments, idempotent completion, tokens
kept out of URLs, abandoned uploads collected, no parsing before authentication."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import logging
import os
import socket
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import requests

from assetry import BagError, Catalog
from assetry.cli.main import main
from assetry.client import objects as client_objects
from assetry.client.objects import HttpObjectStore
from assetry.client.transport import Transport
from assetry.errors import StoreError
from assetry.server import auth, bodies, errors, objects
from assetry.server.app import MAX_REQUEST_BYTES, SMALL_REQUEST_BYTES, create_app
from assetry.server.run import background_server
from assetry.sql.backend import SqlBackend
from assetry.store import upload_folder
from tests.conftest import ROLES, RemoteServer, clone_sqlite


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bearer(server: RemoteServer, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[role]}"}


def op(server: RemoteServer, name: str, body: Any, role: str = "admin") -> requests.Response:
    return requests.post(
        f"{server.url}/api/v1/ops/{name}", json=body, headers=bearer(server, role), timeout=30
    )


def error_of(response: requests.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"class", "message", "fields"}
    return error


@contextmanager
def own_server(
    template: Path,
    folder: Path,
    header_timeout: float = 30.0,
    prepare: Callable[[Path], object] | None = None,
    **options: Any,
) -> Iterator[RemoteServer]:
    """A server over a fresh catalog (``prepare``d before it starts) made with
    ``create_app(**options)``."""
    clone_sqlite(template, folder).close()
    if prepare is not None:
        prepare(folder)
    local = Catalog(folder)
    assert isinstance(local._backend, SqlBackend)
    tokens = {r: auth.create_token(local._backend, f"{r}-user", r)[0] for r in ROLES}
    local.close()
    app = create_app(str(folder), **options)
    with background_server(app, header_timeout=header_timeout) as url:
        yield RemoteServer(url, tokens, str(folder))


class Raw:
    """One HTTP/1.1 connection driven by hand: requests whose bodies lie or stall."""

    def __init__(self, url: str, timeout: float = 10) -> None:
        parsed = urlparse(url)
        assert parsed.hostname is not None and parsed.port is not None
        self.host = parsed.netloc
        self.conn = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)

    def send_head(
        self, method: str, path: str, headers: dict[str, str], length: int | None
    ) -> None:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}"]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        lines += [f"{k}: {v}" for k, v in headers.items()] + ["", ""]
        self.conn.sendall("\r\n".join(lines).encode())

    def read_until_closed(self) -> bytes:
        """Everything the server sends until it closes (a timeout fails the test)."""
        chunks = []
        try:
            while chunk := self.conn.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # closed with bytes of ours unread: a reset, also a close
        return b"".join(chunks)

    def read_response(self) -> tuple[bytes, bytes]:
        """One response's head and body (by its Content-Length)."""
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.conn.recv(65536)
            assert chunk, f"closed before a response: {data!r}"
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(rest) < length:
            chunk = self.conn.recv(65536)
            assert chunk
            rest += chunk
        return head, rest[:length]

    def close(self) -> None:
        self.conn.close()


# --- 1. one request cannot stall the server ------------------------------------------------


def test_an_oversized_search_body_is_413_at_once_and_others_still_answer(
    remote_server: RemoteServer,
) -> None:
    raw = Raw(remote_server.url)
    headers = {**bearer(remote_server, "reader"), "Content-Type": "application/json"}
    started = time.monotonic()
    raw.send_head("POST", "/api/v1/ops/search", headers, 50 * 1024 * 1024)
    raw.conn.sendall(b'{"text": "')  # and nothing more: the server must not wait for it
    answer = raw.read_until_closed()
    raw.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"connection: close" in answer.lower()
    assert b"ValidationError" in answer and str(SMALL_REQUEST_BYTES).encode() in answer
    assert time.monotonic() - started < 5
    who = requests.get(
        remote_server.url + "/api/v1/whoami", headers=bearer(remote_server, "reader"), timeout=10
    )
    assert who.json()["role"] == "reader"
    # Operations that carry rows keep the large limit.
    assert 50 * 1024 * 1024 < MAX_REQUEST_BYTES
    raw = Raw(remote_server.url)
    raw.send_head("POST", "/api/v1/ops/insert", headers, 50 * 1024 * 1024)
    raw.conn.sendall(b'{"table": "Workflow", "rows": []}')
    raw.conn.shutdown(socket.SHUT_WR)
    answer = raw.read_until_closed()
    raw.close()
    assert not answer.startswith(b"HTTP/1.1 413"), answer[:300]


def test_json_is_parsed_off_the_event_loop(
    remote_server: RemoteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request whose body is still being parsed does not hold up another: the parse
    below lasts until the other request has been answered (at most 10 s, when parsing
    blocks the event loop and the other waits behind it)."""
    real = bodies.parse_json
    parsing, answered = threading.Event(), threading.Event()

    def slow(body: bytes) -> Any:
        parsing.set()
        answered.wait(10)  # a huge body being parsed
        return real(body)

    monkeypatch.setattr(bodies, "parse_json", slow)
    with ThreadPoolExecutor(1) as pool:
        arguments = {"text": "x", "tables": None, "limit": 5}
        search = pool.submit(op, remote_server, "search", arguments, "reader")
        assert parsing.wait(10)
        started = time.monotonic()
        who = requests.get(
            remote_server.url + "/api/v1/whoami",
            headers=bearer(remote_server, "reader"),
            timeout=10,
        )
        waited = time.monotonic() - started
        answered.set()
        assert who.status_code == 200
        assert waited < 5, f"whoami waited {waited:.1f} s behind a parse"
        assert search.result().status_code == 200


@pytest.mark.parametrize("depth", [65, 1_000, 100_000])
def test_deep_nesting_is_a_json_4xx(remote_server: RemoteServer, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    for name, body in [
        ("search", '{"text": ' + nested + "}"),
        ("rows_page", '{"table": "Workflow", "filters": {"a": ' + nested + "}}"),
    ]:
        response = requests.post(
            f"{remote_server.url}/api/v1/ops/{name}",
            data=body.encode(),
            headers={**bearer(remote_server, "reader"), "Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code in (413, 422), response.text[:300]
        assert "nests deeper than 64" in error_of(response)["message"]
    assert op(remote_server, "snapshot", {}, "reader").status_code == 200


def test_a_stalled_body_is_408_and_the_connection_closes(
    sqlite_template: Path, tmp_path: Path
) -> None:
    with own_server(sqlite_template, tmp_path / "served", body_timeout=1.0) as server:
        data = b"0123456789"
        raw = Raw(server.url)
        started = time.monotonic()
        raw.send_head("PUT", f"/objects/{sha(data * 10)}", bearer(server, "writer"), 100)
        raw.conn.sendall(data)  # ten of a hundred bytes, then silence
        answer = raw.read_until_closed()
        raw.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
        assert time.monotonic() - started < 8
        assert list((Path(server.location) / "server-uploads").glob("put-*")) == []


def test_silent_and_slow_connections_are_closed(sqlite_template: Path, tmp_path: Path) -> None:
    with own_server(sqlite_template, tmp_path / "served", header_timeout=1.0) as server:
        silent, slow = Raw(server.url), Raw(server.url)
        slow.conn.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n")  # never finished
        started = time.monotonic()
        assert silent.read_until_closed() == b""
        assert slow.read_until_closed() == b""
        assert time.monotonic() - started < 6
        silent.close()
        slow.close()
        who = requests.get(
            server.url + "/api/v1/whoami", headers=bearer(server, "reader"), timeout=10
        )
        assert who.status_code == 200


# --- 2. early answers close the connection; retried chunks resend their bytes ---------------


def start_upload(server: RemoteServer, data: bytes) -> str:
    declared = {"sha256": sha(data), "md5": hashlib.md5(data).hexdigest(), "length": len(data)}
    started = requests.post(
        f"{server.url}/uploads", json=declared, headers=bearer(server, "writer"), timeout=30
    )
    assert started.status_code == 201, started.text
    upload_id: str = started.json()["id"]
    return upload_id


@pytest.mark.parametrize("case", ["wrong offset", "no token", "bad key"])
def test_an_early_error_closes_the_connection(remote_server: RemoteServer, case: str) -> None:
    """The server answers without reading the body, says so, and closes: the body's
    bytes are never taken for the next request on the connection."""
    data = os.urandom(2000)
    upload_id = start_upload(remote_server, data)
    headers = bearer(remote_server, "writer")
    path = f"/uploads/{upload_id}?offset=1000"
    if case == "no token":
        headers, path = {}, f"/uploads/{upload_id}?offset=0"
    elif case == "bad key":
        path = "/objects/not-a-key"
    raw = Raw(remote_server.url)
    raw.send_head("PUT", path, headers, 64 * 1024 * 1024)  # and no body at all
    head, body = raw.read_response()
    status = {"wrong offset": b"409", "no token": b"401", "bad key": b"422"}[case]
    assert head.startswith(b"HTTP/1.1 " + status), head
    assert b"connection: close" in head.lower()
    assert json.loads(body)["error"]["class"]
    raw.conn.sendall(b"GET /api/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.read_until_closed() == b""  # closed: the next request is not swallowed
    raw.close()


class _FlakyUploads(http.server.BaseHTTPRequestHandler):
    """A server of resumable uploads that drops the connection after the headers of the
    first chunk (a server restarting), then records the chunks it receives."""

    protocol_version = "HTTP/1.1"
    timeout = 5
    state: dict[str, Any]

    def log_message(self, *args: Any) -> None:
        pass

    def answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_HEAD(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path == "/uploads":
            self.state["declared"] = json.loads(body)
            self.answer(201, {"id": "u1", "offset": 0, "stored": False})
        else:
            self.answer(201, {"sha256": self.state["declared"]["sha256"]})

    def do_GET(self) -> None:
        self.answer(200, {"offset": len(self.state["received"])})

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        offset = int(self.path.split("offset=")[1])
        self.state["attempts"] += 1
        if self.state["attempts"] == 1:
            self.close_connection = True  # gone before reading or answering
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            chunk = self.rfile.read(length)
        except TimeoutError:
            chunk = b""
        self.state["chunks"].append((offset, length, chunk))
        if len(chunk) != length or offset != len(self.state["received"]):
            self.close_connection = True
            self.answer(409, {"error": {"class": "ConflictError", "message": "short chunk",
                                        "fields": {}}})  # fmt: skip
            return
        self.state["received"] += chunk
        self.answer(200, {"offset": len(self.state["received"])})


def test_a_retried_chunk_sends_its_bytes_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_objects, "SINGLE_PUT_BYTES", 1000)
    monkeypatch.setattr(client_objects, "UPLOAD_CHUNK_BYTES", 4000)
    state: dict[str, Any] = {"attempts": 0, "chunks": [], "received": b""}
    handler = type("Handler", (_FlakyUploads,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        data = os.urandom(10_000)
        (tmp_path / "big.bin").write_bytes(data)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        store = HttpObjectStore(Transport(url, "ast_x_y"))
        store.put_file(tmp_path / "big.bin")
    finally:
        server.shutdown()
        server.server_close()
    assert state["attempts"] >= 4  # the first chunk was sent twice
    for offset, length, chunk in state["chunks"]:
        assert chunk == data[offset : offset + length], (offset, length, len(chunk))
    assert state["received"] == data


def test_a_stream_that_cannot_rewind_is_sent_once(monkeypatch: pytest.MonkeyPatch) -> None:
    transport = Transport("http://127.0.0.1:9", None)
    sent: list[Any] = []

    def refuse(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        sent.append((self, kwargs.get("data")))
        raise requests.exceptions.ConnectionError("reset")

    monkeypatch.setattr(requests.Session, "request", refuse)

    class OneWay:
        def read(self, size: int = -1) -> bytes:
            return b""

    with pytest.raises(StoreError):
        transport.request("PUT", "/objects/x", data=OneWay(), idempotent=True)
    assert len(sent) == 1 and sent[0][0] is not transport.session  # no read retries
    sent.clear()
    rewindable = io.BytesIO(b"abcdef")
    rewindable.seek(2)
    with pytest.raises(StoreError):
        transport.request("PUT", "/objects/x", data=rewindable, idempotent=True)
    assert len(sent) == 3 and rewindable.tell() == 2  # each attempt from where it began


# --- 3. arguments are typed: wrong types are 422 naming the argument -------------------------


@pytest.mark.parametrize(
    ("name", "body", "argument"),
    [
        (
            "rows_page",
            {
                "table": "Workflow",
                "filters": None,
                "as_of": None,
                "after": 1,
                "offset": 0,
                "limit": 10,
            },
            "after",
        ),
        (
            "change_term",
            {
                "table": "Workflow_Type",
                "term_name": "Training",
                "action": "describe",
                "values": "x",
            },
            "values",
        ),
        ("ensure_asset", {"entry": 1}, "entry"),
    ],
)
def test_wrongly_typed_arguments_are_422_naming_them(
    remote_server: RemoteServer, name: str, body: dict[str, Any], argument: str
) -> None:
    """Where the method's own checks do not catch a wrong type (it would fail with a
    TypeError or the like), the argument model names the argument."""
    response = op(remote_server, name, body)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert error["class"] == "ValidationError"
    assert f"argument {argument}" in error["message"], error["message"]


def test_no_wrongly_typed_argument_is_a_5xx(remote_server: RemoteServer) -> None:
    """Each argument of each operation, given a value of each wrong JSON type."""
    import inspect
    import typing

    from assetry.backend import Backend
    from assetry.protocol.operations import OPERATIONS

    wrong: list[Any] = [1, -1, 1.5, "x", True, [], [1], {}, {"a": 1}, None, [[["x"]]]]
    failures = []
    session = requests.Session()
    session.headers.update(bearer(remote_server, "admin"))
    for name in OPERATIONS:
        attribute = inspect.getattr_static(Backend, name)
        if isinstance(attribute, property):
            continue
        params = [p for p in inspect.signature(attribute).parameters.values() if p.name != "self"]
        typing.get_type_hints(attribute)
        for param in params:
            for value in wrong:
                response = session.post(
                    f"{remote_server.url}/api/v1/ops/{name}", json={param.name: value}, timeout=30
                )
                if response.status_code >= 500:
                    failures.append(f"{name}({param.name}={value!r}): {response.text[:150]}")
    session.close()
    assert failures == []


def test_an_overlong_token_lifetime_is_422(remote_server: RemoteServer) -> None:
    for span in ("99999999999999w", "999999999d", "40000d"):
        response = requests.post(
            remote_server.url + "/api/v1/tokens",
            json={"user": "x", "role": "reader", "expires_in": span},
            headers=bearer(remote_server, "admin"),
            timeout=30,
        )
        assert response.status_code == 422, response.text
        assert error_of(response)["class"] == "ValidationError"
    assert auth.parse_duration("30d").days == 30


def test_an_unexpected_error_is_500_logged_once(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info:
                records.append(record)

    handler = Collect()
    loggers = [logging.getLogger(n) for n in ("assetry.server", "uvicorn.error", "uvicorn")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with own_server(sqlite_template, tmp_path / "served") as server:
            monkeypatch.setattr(SqlBackend, "snapshot", lambda self: 1 / 0)
            response = op(server, "snapshot", {}, "reader")
            time.sleep(0.2)
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert response.status_code == 500
    assert error_of(response)["message"] == "internal server error (see the server log)"
    assert len(records) == 1, [r.getMessage() for r in records]


# --- 4. completion is idempotent; errors name no server paths -------------------------------


def test_concurrent_completes_of_one_upload_all_succeed(remote_server: RemoteServer) -> None:
    data = os.urandom(3_000_000)
    upload_id = start_upload(remote_server, data)
    url = f"{remote_server.url}/uploads/{upload_id}"
    headers = bearer(remote_server, "writer")
    sent = requests.put(url + "?offset=0", data=data, headers=headers, timeout=30)
    assert sent.status_code == 200, sent.text
    barrier = threading.Barrier(8)

    def complete(_: int) -> requests.Response:
        barrier.wait()
        return requests.post(url + "/complete", headers=headers, timeout=60)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(complete, range(8)))
    assert all(a.status_code in (200, 201) for a in answers), [a.text for a in answers]
    expected = {"sha256": sha(data), "md5": hashlib.md5(data).hexdigest(), "length": len(data)}
    assert all(a.json() == expected for a in answers)
    stored = requests.head(f"{remote_server.url}/objects/{sha(data)}", headers=headers, timeout=30)
    assert stored.status_code == 200
    assert list((Path(remote_server.location) / "server-uploads").glob("*")) == []
    again = requests.post(url + "/complete", headers=headers, timeout=30)
    assert again.status_code == 200 and again.json() == expected


def test_error_bodies_carry_no_server_paths(
    remote_server: RemoteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = (Path(remote_server.location) / "server-uploads").resolve()

    def broken(store: Any, path: Path, digests: Any, *routing: Any) -> None:
        raise StoreError(
            f"moving {path} into the store {Path(remote_server.location).as_uri()}/objects: "
            f"[Errno 2] No such file or directory: '{path}' and '/srv/elsewhere/x.part'"
        )

    monkeypatch.setattr(objects, "_install", broken)
    data = b"some bytes"
    upload_id = start_upload(remote_server, data)
    url = f"{remote_server.url}/uploads/{upload_id}"
    headers = bearer(remote_server, "writer")
    assert requests.put(url + "?offset=0", data=data, headers=headers, timeout=30).ok
    failed = requests.post(url + "/complete", headers=headers, timeout=30)
    assert failed.status_code == 502
    message = error_of(failed)["message"]
    assert "<server>" in message and "Errno 2" in message
    for private in (str(uploads), remote_server.location, "/srv/elsewhere", "file://"):
        assert private not in failed.text, failed.text
    scrub = errors.Scrubber(["/data/catalog"])
    assert scrub("table 'x' in /data/catalog/objects") == "table 'x' in <server>/objects"
    assert scrub("see GET /api/v1/tokens") == "see GET /api/v1/tokens"  # not storage


# --- 5. a whole token never travels in a URL ----------------------------------------------


def test_token_revoke_sends_the_token_in_a_body(
    remote_server: RemoteServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    local = Catalog(remote_server.location)
    assert isinstance(local._backend, SqlBackend)
    token, info = auth.create_token(local._backend, "leaky", "reader")
    token2, info2 = auth.create_token(local._backend, "leaky2", "reader")
    local.close()
    secret = token.split("_", 2)[2]
    urls: list[str] = []
    real = requests.Session.request

    def record(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        urls.append(url)
        return real(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", record)
    monkeypatch.setenv("ASSETRY_TOKEN", remote_server.tokens["admin"])
    assert main(["--catalog", remote_server.url, "token", "revoke", token]) == 0
    assert f"Revoked token {info.id}" in capsys.readouterr().out
    assert urls and not any(secret in u for u in urls)
    with pytest.raises(Exception, match="not valid"):
        Catalog(remote_server.url, token=token)
    # By id in the body, or in the URL as before; a whole token in the URL is refused
    # without being repeated.
    admin = bearer(remote_server, "admin")
    refused = requests.delete(
        f"{remote_server.url}/api/v1/tokens/{token2}", headers=admin, timeout=30
    )
    assert refused.status_code == 422 and token2.split("_", 2)[2] not in refused.text
    assert Catalog(remote_server.url, token=token2).snapshot() >= 1
    by_id = requests.delete(
        f"{remote_server.url}/api/v1/tokens/{info2.id}", headers=admin, timeout=30
    )
    assert by_id.status_code == 200 and by_id.json()["revoked"]
    in_body = requests.post(
        f"{remote_server.url}/api/v1/tokens/revoke",
        json={"token": info.id},
        headers=admin,
        timeout=30,
    )
    assert in_body.status_code == 200 and in_body.json()["id"] == info.id


# --- 6. abandoned uploads are collected ---------------------------------------------------


def make_leftovers(folder: Path, age: float) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    upload_id = os.urandom(16).hex()
    made = [
        folder / f"put-{os.urandom(4).hex()}.part",
        folder / f"{upload_id}.json",
        folder / f"{upload_id}.part",
    ]
    for path in made:
        path.write_bytes(b"partial")
        os.utime(path, (time.time() - age, time.time() - age))
    return made


def test_collect_abandoned_removes_only_old_leftovers(tmp_path: Path) -> None:
    from assetry.store.local import LocalStore

    folder = tmp_path / "uploads"
    old = make_leftovers(folder, 7200)
    fresh = make_leftovers(folder, 10)
    (folder / "notes.txt").write_text("not ours")
    os.utime(folder / "notes.txt", (0, 0))
    store = LocalStore(tmp_path / "objects")
    store_tmp = tmp_path / "objects" / ".tmp"
    store_tmp.mkdir(parents=True)
    (store_tmp / "x.part").write_bytes(b"x")
    os.utime(store_tmp / "x.part", (0, 0))
    removed = upload_folder.collect_abandoned(folder, store, grace_seconds=3600)
    assert sorted(removed) == sorted([*old, store_tmp / "x.part"])
    assert all(p.exists() for p in fresh) and (folder / "notes.txt").exists()
    assert upload_folder.collect_abandoned(folder, None, grace_seconds=60) == []  # fresh: 10 s
    assert sorted(upload_folder.collect_abandoned(folder, None, grace_seconds=5)) == sorted(fresh)


def test_the_server_collects_abandoned_uploads_at_startup(
    sqlite_template: Path, tmp_path: Path
) -> None:
    made: dict[str, list[Path]] = {}

    def prepare(folder: Path) -> None:
        # Sessions expire a day after they began; a killed PUT's file after an hour.
        made["expired"] = make_leftovers(folder / "server-uploads", 2 * 86400)
        made["hours old"] = make_leftovers(folder / "server-uploads", 7200)
        made["fresh"] = make_leftovers(folder / "server-uploads", 10)

    with own_server(sqlite_template, tmp_path / "served", prepare=prepare):
        assert not any(p.exists() for p in made["expired"])
        put_part, *session = made["hours old"]
        assert not put_part.exists() and all(p.exists() for p in session)
        assert all(p.exists() for p in made["fresh"])


# --- 7. no parsing before authentication; exact upload ids; tar free space -----------------


@pytest.mark.parametrize("path", ["/api/v1/tokens", "/uploads", "/api/v1/tokens/revoke"])
def test_no_token_is_401_before_the_body_is_parsed(remote_server: RemoteServer, path: str) -> None:
    for body in (b"{not json", b"[" * 10_000, b'{"user": 1}'):
        response = requests.post(
            remote_server.url + path,
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        assert response.status_code == 401, (path, response.text)
        assert error_of(response)["class"] == "AuthenticationError"
    malformed = requests.post(
        remote_server.url + path,
        data=b"{not json",
        headers={**bearer(remote_server, "admin"), "Content-Type": "application/json"},
        timeout=30,
    )
    assert malformed.status_code == 422 and "not JSON" in error_of(malformed)["message"]


def test_an_upload_id_with_a_trailing_newline_is_unknown(remote_server: RemoteServer) -> None:
    data = b"abc"
    upload_id = start_upload(remote_server, data)
    uploads = Path(remote_server.location) / "server-uploads"
    # A session file whose name ends in a newline: "^...$" would have matched its id.
    (uploads / f"{upload_id}\n.json").write_text((uploads / f"{upload_id}.json").read_text())
    (uploads / f"{upload_id}\n.part").write_bytes(b"")
    headers = bearer(remote_server, "writer")
    found = requests.get(f"{remote_server.url}/uploads/{upload_id}%0A", headers=headers, timeout=30)
    assert found.status_code == 404, found.text
    assert requests.get(f"{remote_server.url}/uploads/{upload_id}", headers=headers,
                        timeout=30).status_code == 200  # fmt: skip


def test_tar_extraction_checks_free_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil as real_shutil
    from collections import namedtuple

    from assetry.bags import extract

    archive = tmp_path / "bag.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        for name, data in [("bag/bagit.txt", b"BagIt-Version: 1.0\n"), ("bag/data/x", b"x" * 500)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    usage = namedtuple("usage", "total used free")

    class Shutil:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_shutil, name)

        @staticmethod
        def disk_usage(path: Any) -> Any:
            return usage(1000, 900, 100)

    monkeypatch.setattr(extract, "shutil", Shutil())
    with pytest.raises(BagError, match="not enough free space"):
        extract.open_bag_path(archive, tmp_path / "work")
    assert not any((tmp_path / "work").glob("*/bag/data/x"))


# --- connections of several workers ---------------------------------------------------------


def test_responses_are_not_held_back_on_a_socket_bound_for_several_workers(
    remote_server: RemoteServer,
) -> None:
    """``serve --workers N`` hands each worker a listening socket bound by uvicorn, whose
    protocol number is 0, so asyncio leaves Nagle's algorithm on for the connections it
    accepts. The server turns it off on every connection itself: otherwise each response
    body waits for the client's delayed ACK (~40 ms a request on a kept-alive connection)."""
    import uvicorn

    from assetry.server.run import uvicorn_options

    app = create_app(remote_server.location)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                            **uvicorn_options())  # fmt: skip
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn's
    listener.bind(("127.0.0.1", 0))
    assert listener.proto == 0
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        host, port = listener.getsockname()
        with requests.Session() as session:
            for _ in range(2):  # a kept-alive connection
                answer = session.get(
                    f"http://{host}:{port}/api/v1/whoami",
                    headers=bearer(remote_server, "reader"),
                    timeout=10,
                )
                assert answer.status_code == 200
            [connection] = list(server.server_state.connections)
            accepted = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()
