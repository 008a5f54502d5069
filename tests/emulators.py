"""Local emulators of Google Cloud Storage and Azure Blob Storage for the store tests.

- GCS: ``gcp-storage-emulator`` (a Python package, in the dev extra), in a thread of the
  test process on 127.0.0.1, port 0; buckets are made through its JSON API.
- Azure: Azurite's blob service (its npm package, version ``AZURITE_VERSION``), installed
  into ``build/azurite`` when missing (``make emulators`` does the same, or
  ``python -m tests.emulators``), run as a child process on 127.0.0.1, port 0, with
  telemetry off and its files under pytest's temporary folder.

Like moto, each skips with a reason when it cannot be had and fails instead when
``ASSETRY_REQUIRE_ALL=1`` (CI). The fixtures are imported by ``tests/conftest.py``.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

AZURITE_VERSION = "3.37.0"
AZURITE_DIR = Path(__file__).resolve().parents[1] / "build" / "azurite"
AZURITE_BIN = AZURITE_DIR / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
_LISTENING = re.compile(r"successfully listens on (http://127\.0\.0\.1:\d+)")


def install_azurite() -> Path:
    """Azurite's blob service from npm into ``build/azurite`` unless it is there (one
    process at a time: a lock file beside it). ``RuntimeError`` when it cannot be had."""
    if AZURITE_BIN.exists():
        return AZURITE_BIN
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise RuntimeError("Node.js and npm are needed to install Azurite (the Azure emulator)")
    AZURITE_DIR.mkdir(parents=True, exist_ok=True)
    with open(AZURITE_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AZURITE_BIN.exists():
            done = subprocess.run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--prefix",
                    str(AZURITE_DIR),
                    f"azurite@{AZURITE_VERSION}",
                ],  # fmt: skip
                capture_output=True,
                text=True,
                timeout=900,
            )
            if done.returncode != 0 or not AZURITE_BIN.exists():
                raise RuntimeError(f"npm install azurite@{AZURITE_VERSION} failed: {done.stderr}")
    return AZURITE_BIN


class Azurite:
    """Azurite's blob service as a child process; ``stop()`` ends it."""

    def __init__(self, location: Path) -> None:
        location.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                str(install_azurite()),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "0",
                "--location",
                str(location),
                "--silent",
                "--skipApiVersionCheck",
                "--loose",
                "--disableTelemetry",
            ],  # fmt: skip
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.endpoint = self._wait_listening()
        # Drain its output so it never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()

    def _wait_listening(self) -> str:
        assert self.process.stdout is not None
        seen = []
        for line in self.process.stdout:
            seen.append(line)
            found = _LISTENING.search(line)
            if found:
                return found.group(1)
        self.process.wait(timeout=10)
        raise RuntimeError(f"Azurite did not start: {''.join(seen)}")

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    @property
    def blob_endpoint(self) -> str:
        return f"{self.endpoint}/{AZURITE_ACCOUNT}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite | str]:
    """A running Azurite, or the reason there is none."""
    try:
        server = Azurite(tmp_path_factory.mktemp("azurite"))
    except (RuntimeError, OSError, subprocess.SubprocessError) as err:
        yield str(err)
        return
    os.environ.setdefault("AZURE_STORAGE_ACCOUNT_KEY", AZURITE_KEY)
    yield server
    server.stop()


def azure_container(blob_endpoint: str) -> str:
    """A new, empty container at ``blob_endpoint``; its name."""
    from azure.storage.blob import BlobServiceClient

    name = f"assetry-{uuid.uuid4().hex[:12]}"
    client = BlobServiceClient(
        account_url=blob_endpoint,
        credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY},
    )
    with client:
        client.create_container(name)
    return name


def azure_store_url(blob_endpoint: str, container: str) -> str:
    return f"az://{container}/objects?account_name={AZURITE_ACCOUNT}&endpoint_url={blob_endpoint}"


@pytest.fixture
def azure_url(azurite: Azurite | str) -> str:
    """The URL of an Azure store in a new, empty container of Azurite."""
    from tests.conftest import service_missing

    if isinstance(azurite, str):
        service_missing(f"Azurite (the Azure emulator) cannot be started: {azurite}")
    assert isinstance(azurite, Azurite)
    try:
        import adlfs  # noqa: F401
    except ImportError:
        service_missing("adlfs is not installed (pip install 'assetry[azure]')")
    return azure_store_url(azurite.blob_endpoint, azure_container(azurite.blob_endpoint))


# --- GCS ----------------------------------------------------------------------------------


def _exact_multipart(raw: bytes, content_type: str) -> dict[str, object]:
    """The metadata and content of a ``multipart/related`` upload, byte for byte.

    gcp-storage-emulator parses these with Python's email parser, which drops a final
    ``\r`` of the content (1 object in 256 of random bytes), so the store (rightly)
    finds the object damaged. This takes the content part exactly as it was sent."""
    import json

    boundary = content_type.split("boundary=", 1)[1].split(";", 1)[0].strip().strip('"')
    delimiter = b"--" + boundary.encode()
    first = raw.index(delimiter) + len(delimiter)
    eol = b"\r\n" if raw[first : first + 2] == b"\r\n" else b"\n"
    second = raw.index(eol + delimiter, first)
    meta_start = raw.index(eol + eol, first) + 2 * len(eol)
    headers_end = raw.index(eol + eol, second + len(eol))
    part_headers = raw[second + len(eol) + len(delimiter) : headers_end].decode()
    content_kind = "application/octet-stream"
    for line in part_headers.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-type":
            content_kind = value.split(";", 1)[0].strip()
    end = raw.rindex(eol + delimiter + b"--")
    return {
        "meta": json.loads(raw[meta_start:second]),
        "content": raw[headers_end + 2 * len(eol) : end],
        "content-type": content_kind,
    }


def _patch_emulator_multipart() -> None:
    from gcp_storage_emulator import server

    if getattr(server, "_assetry_exact_multipart", False):
        return
    original = server._read_data

    def read_data(handler: object, query: object) -> object:
        content_type = handler.headers.get("Content-Type") or ""  # type: ignore[attr-defined]
        if not content_type.startswith("multipart/related"):
            return original(handler, query)
        raw = server._decode_raw_data(server._read_raw_data(handler), handler)
        return _exact_multipart(raw, content_type) if raw else None

    server._read_data = read_data
    server._assetry_exact_multipart = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a test's proxy cut it) is no error of the emulator."""


class GcsEmulator:
    """gcp-storage-emulator serving on 127.0.0.1 (a free port) in this process.

    Its request handler and storage, served by a threading HTTP server: the emulator's
    own server answers one connection at a time, so a connection opened and not used
    (as a proxy in front of it opens one for each of its clients) would stall all."""

    def __init__(self) -> None:
        from gcp_storage_emulator.server import RequestHandler
        from gcp_storage_emulator.storage import Storage

        _patch_emulator_multipart()
        storage = Storage(use_memory_fs=True)
        self.httpd = _Server(("127.0.0.1", 0), functools.partial(RequestHandler, storage))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        host, port = self.httpd.server_address[:2]
        self.endpoint = f"http://{host}:{port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def gcs_emulator() -> Iterator[GcsEmulator | str]:
    """A running GCS emulator, or the reason there is none."""
    try:
        import gcsfs  # noqa: F401

        emulator = GcsEmulator()
    except ImportError as err:
        yield f"{err.name} is not installed (pip install 'assetry[gcs]' and the dev extra)"
        return
    yield emulator
    emulator.stop()


def gcs_bucket(endpoint: str) -> str:
    """A new, empty bucket at ``endpoint``; its name."""
    import requests

    name = f"assetry-{uuid.uuid4().hex[:12]}"
    answer = requests.post(
        f"{endpoint}/storage/v1/b", params={"project": "test"}, json={"name": name}, timeout=10
    )
    answer.raise_for_status()
    return name


def gcs_store_url(endpoint: str, bucket: str) -> str:
    return f"gs://{bucket}/objects?endpoint_url={endpoint}&token=anon&project=test"


@pytest.fixture
def gcs_url(gcs_emulator: GcsEmulator | str) -> str:
    """The URL of a GCS store in a new, empty bucket of the emulator."""
    from tests.conftest import service_missing

    if isinstance(gcs_emulator, str):
        service_missing(f"the GCS emulator cannot be started: {gcs_emulator}")
    assert isinstance(gcs_emulator, GcsEmulator)
    return gcs_store_url(gcs_emulator.endpoint, gcs_bucket(gcs_emulator.endpoint))


if __name__ == "__main__":  # `make emulators`: install what the fixtures start
    print(install_azurite())
