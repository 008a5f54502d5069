"""``assetry ui`` on every kind of catalog: the pages read PostgreSQL and a remote
catalog (through its server's API, with the user's token) as they read SQLite, and the
``assetry ui`` command serves them on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import BuildCatalog, BuildServer
from tests.ui.conftest import Local
from tests.ui.test_pages import page_urls
from tests.ui.world import build_ui_world


def serve_local(cat, world) -> Iterator[Local]:  # type: ignore[no-untyped-def]
    from assetry.server.run import background_server
    from assetry.ui.app import local_app

    with background_server(local_app(cat)) as base:
        yield Local(base + "/ui", cat, world)


def check_every_page(local: Local) -> None:
    for url in page_urls(local):
        answer = requests.get(local.url + url)
        assert answer.status_code == 200, (url, answer.text[:2000])
    w = local.world
    download = requests.get(f"{local.url}/asset/{w.images[0]}/download")
    assert download.content.startswith(b"\x89PNG")
    bag = requests.get(f"{local.url}/dataset/{w.dataset}/bag", params={"version": w.versions[1]})
    assert bag.status_code == 200 and bag.content.startswith(b"PK")
    page = requests.get(f"{local.url}/table/Subject", params={"sort": "Age", "f.Species": "mouse"})
    assert page.status_code == 200 and 'id="next"' in page.text


@pytest.mark.postgres
def test_pages_on_postgresql(built_postgres: BuildCatalog) -> None:
    cat, world = built_postgres(build_ui_world)
    for local in serve_local(cat, world):
        check_every_page(local)


def test_pages_on_a_remote_catalog(built_server: BuildServer) -> None:
    server, world = built_server(build_ui_world)
    cat = server.catalog("curator")
    try:
        for local in serve_local(cat, world):
            check_every_page(local)
            rid = world.subjects[9]
            page = requests.Session()
            form = page.get(f"{local.url}/row/{rid}")
            csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            saved = page.post(f"{local.url}/row/{rid}/edit", data={"c.Age": "31", "csrf": csrf})
            assert saved.status_code == 200
        assert server.catalog("admin").history(rid)[-1]["user"] == "curator-user"
    finally:
        cat.close()


def test_the_ui_command_serves_the_pages_on_loopback(built_catalog: BuildCatalog) -> None:
    cat, world = built_catalog(build_ui_world)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "assetry", "--catalog", cat.location, "ui"]
    command += ["--port", str(port)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=dict(os.environ)
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "assetry ui did not start"
                time.sleep(0.1)
        assert answer.url == f"http://127.0.0.1:{port}/ui/"
        assert "Recent executions" in answer.text
        table = requests.get(f"http://127.0.0.1:{port}/ui/table/Subject")
        assert f"/ui/row/{world.subjects[0]}" in table.text
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    assert f"at http://127.0.0.1:{port}/ui/" in output
