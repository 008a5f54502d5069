"""A remote catalog behaves as an embedded one: errors keep their class, listings page,
executions upload through the server (over SQLite and PostgreSQL), and many clients at
once lose nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
import requests

from assetry import (
    Catalog,
    ChecksumMismatch,
    ColumnDef,
    DatasetSpec,
    ExecutionConfiguration,
    StoreError,
)
from assetry.client import transport
from assetry.store.local import LocalStore
from tests.conftest import RemoteServer


def stock(cat: Catalog) -> None:
    cat.create_asset("Image", column_defs=[ColumnDef("Width", "int4")])
    cat.create_vocabulary("Species")
    cat.add_term("Species", "Mouse", synonyms=["mus"])


def run_execution(cat: Catalog, tmp: Path, n: int, files: int = 3) -> list[str]:
    wf = cat.create_workflow("remote", "Training", url="https://x/y.py", checksum="sha256:1")
    with cat.create_execution(ExecutionConfiguration(workflow=wf, description=f"run {n}")) as exe:
        for i in range(files):
            exe.asset_file_path("Image", f"img{i}.png", Width=i).write_bytes(f"{n}-{i}".encode())
    uploaded = exe.upload_execution_outputs()
    return [a["RID"] for a in uploaded["Image"]]


def test_an_execution_round_trip_over_postgresql(
    remote_pg_server: RemoteServer, tmp_path: Path
) -> None:
    cat = remote_pg_server.catalog("curator")
    stock(cat)
    assets = run_execution(cat, tmp_path, 0)
    assert {cat.resolve_rid(a).row["RCB"] for a in assets} == {"curator-user"}
    ds = cat.create_dataset([], description="remote data")
    cat.add_dataset_element_type("Image")
    version = cat.add_dataset_members(ds, assets)
    bag = cat.download_dataset_bag(DatasetSpec(ds, version, materialize=True))
    assert sorted(bag.list_dataset_members()["Image"], key=lambda r: r["RID"])[0]["RID"] in assets
    upstream = cat.lineage(assets[0])
    assert any(n["table"] == "Execution" for n in upstream.nodes)
    out = cat.download_asset(assets[1], tmp_path / "dl")
    assert out.read_bytes() == b"0-1"


def test_eight_clients_at_once_lose_nothing(remote_server: RemoteServer, tmp_path: Path) -> None:
    admin = remote_server.catalog("admin")
    stock(admin)
    results: dict[int, list[str]] = {}
    failures: list[BaseException] = []

    def client(n: int) -> None:
        try:
            cat = remote_server.catalog("writer")
            found = []
            for round_ in range(2):
                found += run_execution(cat, tmp_path, n * 10 + round_)
            results[n] = found
            cat.close()
        except BaseException as err:  # reported below
            failures.append(err)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    every = [rid for found in results.values() for rid in found]
    assert len(every) == len(set(every)) == 8 * 2 * 3
    rows = {r["RID"]: r for r in admin.get_table_as_dict("Image")}
    assert set(every) <= set(rows)
    store = LocalStore(Path(remote_server.location) / "objects")
    for rid in every:
        assert store.verify(rows[rid]["SHA256"]).sha256 == rows[rid]["SHA256"]
    assert len(admin.list_executions()) >= 16


def test_a_corrupt_object_behind_the_server_is_caught(
    remote_catalog: Catalog, remote_server: RemoteServer, tmp_path: Path
) -> None:
    stock(remote_catalog)
    src = tmp_path / "raw.png"
    src.write_bytes(b"good")
    [asset] = remote_catalog.upload_assets("Image", [src])
    path = LocalStore(Path(remote_server.location) / "objects").path_of(asset["SHA256"])
    path.chmod(0o644)
    path.write_bytes(b"evil")
    with pytest.raises(ChecksumMismatch) as caught:
        remote_catalog.download_asset(asset["RID"], tmp_path / "out")
    assert caught.value.expected == asset["SHA256"]


def test_a_server_that_is_gone_is_a_store_error(
    remote_server: RemoteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "RETRIES", 1)  # no need to wait out the real back-off
    with pytest.raises(StoreError, match="cannot be reached"):
        Catalog("http://127.0.0.1:9", token=remote_server.tokens["admin"])


def test_the_client_retries_until_the_server_answers(
    remote_server: RemoteServer, tmp_path: Path
) -> None:
    """Connection errors are retried: a server that comes up a moment late is reached."""
    import socket

    from assetry.server.app import create_app
    from assetry.server.run import background_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(remote_server.location)
    started = threading.Event()

    def late_server() -> None:
        threading.Event().wait(0.5)
        with background_server(app, port=port):
            started.set()
            threading.Event().wait(5)

    thread = threading.Thread(target=late_server, daemon=True)
    thread.start()
    cat = Catalog(f"http://127.0.0.1:{port}", token=remote_server.tokens["reader"])
    assert started.is_set() and cat.snapshot() >= 1
    cat.close()


def test_a_broken_download_resumes_with_range(
    remote_server: RemoteServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from assetry.client.objects import HttpObjectStore
    from assetry.client.transport import Transport

    store = HttpObjectStore(Transport(remote_server.url, remote_server.tokens["writer"]))
    data = os.urandom(3_000_000)
    digests = store.put_stream(io.BytesIO(data))
    real_get, starts = store._get, []

    class Dropping:
        """A response that breaks after its first megabyte."""

        def __init__(self, response: object) -> None:
            self.response = response

        def iter_content(self, size: int) -> object:
            sent = 0
            for chunk in self.response.iter_content(size):  # type: ignore[attr-defined]
                if sent >= 1_000_000:
                    raise requests.exceptions.ChunkedEncodingError("connection dropped")
                sent += len(chunk)
                yield chunk

        def __enter__(self) -> Dropping:
            return self

        def __exit__(self, *exc: object) -> None:
            self.response.close()  # type: ignore[attr-defined]

    def flaky_get(key: str, start: int) -> object:
        starts.append(start)
        response = real_get(key, start)
        return Dropping(response) if len(starts) == 1 else response

    monkeypatch.setattr(store, "_get", flaky_get)
    out = store.get_file(digests.sha256, tmp_path / "big.bin", expected=digests)
    assert out.read_bytes() == data
    assert starts[0] == 0 and starts[1] > 0
