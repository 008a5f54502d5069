"""Materializing holey bags over file://, http:// (a local server) and s3:// (moto)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assetry import BagChecksumMismatch, BagError
from assetry.bags import fetch
from assetry.bags.fetch import materialize
from assetry.bags.reader import DatasetBag
from tests.bags.test_reader import image_bytes, make_bag
from tests.conftest import service_missing

SERVER_LIFETIME = 120.0  # seconds; the server shuts itself down after this in any case


class Files(ThreadingHTTPServer):
    """Serves ``files`` (URL path -> bytes); ``/flaky/...`` fails once with a 500 first,
    ``/wrong/...`` answers other bytes of the same length; anything else is a 404."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.failed_once: set[str] = set()
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: Files

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.requests.append(self.path)
            first = self.path.startswith("/flaky/") and self.path not in self.server.failed_once
            self.server.failed_once.add(self.path)
        body = self.server.files.get(self.path)
        if body is None or first:
            self.send_error(500 if first else 404)
            return
        if self.path.startswith("/wrong/"):
            body = bytes(b ^ 0xFF for b in body)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Files]:
    files = Files()
    thread = threading.Thread(target=files.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    watchdog = threading.Timer(SERVER_LIFETIME, files.shutdown)
    watchdog.daemon = True
    watchdog.start()
    yield files
    watchdog.cancel()
    files.shutdown()
    files.server_close()
    thread.join(timeout=10)


def _served(server: Files, prefix: str = "/files") -> object:
    def url_for(path: str, data: bytes) -> str:
        server.files[f"{prefix}/{path}"] = data
        return server.url(f"{prefix}/{path}")

    return url_for


def _leftovers(bag: Path) -> list[str]:
    """Temporary files or folders materialize may have left in the bag."""
    return sorted(
        p.relative_to(bag).as_posix()
        for p in bag.rglob("*")
        if p.name.startswith(".assetry-fetch-") or p.name.endswith(".part")
    )


def test_file_urls(tmp_path: Path) -> None:
    source = tmp_path / "source"

    def url_for(path: str, data: bytes) -> str:
        target = source / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target.as_uri()

    bag = DatasetBag(make_bag(tmp_path / "bag", holes=[1, 3], url_for=url_for))
    assert not bag.is_complete
    assert bag.materialize() is bag and bag.is_complete
    assert bag.validate().complete
    assert bag.asset_path("T-I3").read_bytes() == image_bytes(3)
    assert materialize(bag.path) == []  # nothing left to fetch
    assert _leftovers(bag.path) == []


def test_http_fetches_fifty_files_in_parallel(tmp_path: Path, server: Files) -> None:
    holes = range(1, 51)
    root = make_bag(tmp_path / "bag", images=50, holes=holes, url_for=_served(server))
    fetched = materialize(root, workers=8)
    assert len(fetched) == 50 and all(p.is_file() for p in fetched)
    assert sorted(server.requests) == sorted(server.files)
    bag = DatasetBag(root)
    assert bag.is_complete and bag.validate().payload_files == 50 + 9  # + 8 tables, schema.json
    assert _leftovers(root) == []


def test_a_404_names_the_url_and_leaves_nothing(tmp_path: Path, server: Files) -> None:
    root = make_bag(tmp_path / "bag", holes=[1, 2], url_for=_served(server))
    del server.files["/files/data/assets/Image/T-I2/img2.png"]
    with pytest.raises(BagError) as caught:
        DatasetBag(root).materialize(workers=1)
    message = str(caught.value)
    assert "data/assets/Image/T-I2/img2.png" in message and "HTTP 404" in message
    assert server.url("/files/data/assets/Image/T-I2/img2.png") in message
    assert not (root / "data/assets/Image/T-I2/img2.png").exists()
    assert _leftovers(root) == []
    assert not DatasetBag(root).is_complete


def test_wrong_bytes_are_refused(tmp_path: Path, server: Files) -> None:
    root = make_bag(tmp_path / "bag", holes=[2], url_for=_served(server, "/wrong"))
    with pytest.raises(BagChecksumMismatch) as caught:
        materialize(root)
    err = caught.value
    assert err.path == "data/assets/Image/T-I2/img2.png" and err.algorithm in ("md5", "sha256")
    assert server.url("/wrong/data/assets/Image/T-I2/img2.png") in str(err)
    assert not (root / err.path).exists() and _leftovers(root) == []
    assert not DatasetBag(root).is_complete


def test_a_wrong_length_is_refused(tmp_path: Path, server: Files) -> None:
    root = make_bag(tmp_path / "bag", holes=[2], url_for=_served(server))
    server.files["/files/data/assets/Image/T-I2/img2.png"] += b"tail"
    with pytest.raises(BagChecksumMismatch, match="length") as caught:
        materialize(root)
    assert caught.value.algorithm == "length" and not (root / caught.value.path).exists()
    assert _leftovers(root) == []


def test_a_failing_server_is_retried_once(tmp_path: Path, server: Files) -> None:
    root = make_bag(tmp_path / "bag", holes=[1], url_for=_served(server, "/flaky"))
    assert len(materialize(root)) == 1
    assert len(server.requests) == 2 and DatasetBag(root).validate().complete


def test_an_unreachable_host_is_a_bag_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch, "RETRY_DELAY", 0.01)  # the refusal is retried once: at once
    root = make_bag(tmp_path / "bag", holes=[1])  # http://127.0.0.1:9/ refuses connections
    with pytest.raises(BagError, match=r"127.0.0.1:9/1.*tried twice"):
        materialize(root)
    assert _leftovers(root) == []


def test_fetch_paths_outside_data_are_refused_before_fetching(
    tmp_path: Path, server: Files
) -> None:
    root = make_bag(tmp_path / "bag", holes=[1], url_for=_served(server))
    fetch = root / "fetch.txt"
    fetch.write_text(fetch.read_text() + f"{server.url('/files/x')} 4 data/../../escape\n")
    with pytest.raises(BagError, match="climbs out of the bag"):
        materialize(root)
    assert server.requests == [] and not (tmp_path / "escape").exists()


# --- S3 (moto) -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        service_missing("moto[server] is not installed: S3 tests need it")
        raise
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    yield f"http://{host}:{port}"
    moto.stop()


def test_s3_urls(tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(key, value)
    bucket = f"bags-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)

    def url_for(path: str, data: bytes) -> str:
        s3.put_object(Bucket=bucket, Key=f"objects/{path}", Body=data)
        return f"s3://{bucket}/objects/{path}"

    root = make_bag(tmp_path / "bag", holes=[1, 2, 3], url_for=url_for)
    s3.delete_object(Bucket=bucket, Key="objects/data/assets/Image/T-I3/img3.png")
    with pytest.raises(BagError, match=rf"s3://{bucket}/objects/data/assets/Image/T-I3.*NoSuchKey"):
        materialize(root)
    assert not (root / "data/assets/Image/T-I3/img3.png").exists() and _leftovers(root) == []
    s3.put_object(Bucket=bucket, Key="objects/data/assets/Image/T-I3/img3.png", Body=image_bytes(3))
    materialize(root)
    assert DatasetBag(root).validate().complete
