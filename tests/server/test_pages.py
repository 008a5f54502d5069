"""The routes that need no token: ``/``, ``/health`` and ``/docs`` (offline Swagger UI)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.conftest import RemoteServer, clone_sqlite, service_missing


def test_health_answers_without_a_token(remote_server: RemoteServer) -> None:
    response = requests.get(remote_server.url + "/health", timeout=30)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_home_says_what_this_is(remote_server: RemoteServer) -> None:
    from assetry import __version__

    response = requests.get(remote_server.url + "/", timeout=30)
    assert response.status_code == 200
    doc = response.json()
    assert doc["name"] == "assetry" and doc["version"] == __version__
    assert doc["api"] == "/api/v1"
    assert doc["openapi"] == "/openapi.json" and doc["docs"] == "/docs"
    assert doc["health"] == "/health"
    assert "ui" in doc  # "/ui" once the web interface is mounted, else null
    for part in ("openapi", "docs", "health"):
        assert requests.get(remote_server.url + doc[part], timeout=30).status_code == 200


def test_docs_are_served_without_any_cdn(remote_server: RemoteServer) -> None:
    page = requests.get(remote_server.url + "/docs", timeout=30)
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers["Content-Type"]
    urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
    assert urls, page.text
    for url in urls:
        assert not url.startswith(("http://", "https://", "//")), url  # nothing off-server
        answer = requests.get(remote_server.url + url, timeout=30)
        assert answer.status_code == 200, url
    js = requests.get(remote_server.url + "/static/swagger-ui/swagger-ui-bundle.js", timeout=30)
    assert "javascript" in js.headers["Content-Type"] and len(js.content) > 100_000
    css = requests.get(remote_server.url + "/static/swagger-ui/swagger-ui.css", timeout=30)
    assert "text/css" in css.headers["Content-Type"]
    nothing = requests.get(remote_server.url + "/static/swagger-ui/index.html", timeout=30)
    assert nothing.status_code == 404
    sneaky = requests.get(remote_server.url + "/static/swagger-ui/..%2F__init__.py", timeout=30)
    assert sneaky.status_code == 404


def test_swagger_ui_licence_is_kept() -> None:
    from importlib.metadata import distribution

    dist = distribution("swagger-ui-bundle")
    assert dist.metadata["License"] == "Apache-2.0"
    assert any(str(f).endswith("LICENSE") for f in dist.files or [])


@pytest.fixture
def served_app(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[str, object]]:
    """A server whose app the test can reach (to break its database)."""
    try:
        from assetry.server.app import create_app
        from assetry.server.run import background_server
    except ModuleNotFoundError as err:
        service_missing(f"the server extra is not installed ({err.name})")
        raise
    clone_sqlite(sqlite_template, tmp_path / "served").close()
    app = create_app(str(tmp_path / "served"))
    with background_server(app) as url:
        yield url, app


def test_health_is_503_when_the_database_does_not_answer(
    served_app: tuple[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, app = served_app
    backend = app.state.assetry.backend  # type: ignore[attr-defined]

    def broken() -> int:
        raise OSError("database is gone")

    monkeypatch.setattr(backend, "snapshot", broken)
    response = requests.get(url + "/health", timeout=30)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "gone" not in response.text  # details stay in the server's log
    monkeypatch.undo()
    assert requests.get(url + "/health", timeout=30).status_code == 200
