"""Fixtures of the web interface's tests: the built world served by ``assetry ui``'s app
(local) or by a catalog server (``/ui`` with sign-in), and a headless Chromium.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright's Python package
(``executable_path``; Playwright's own browser builds are never installed). Playwright
rather than Selenium: console messages, failed requests, error answers, downloads and
cookie attributes are events and calls of one API, where Selenium needs browser logs and
DevTools plumbing for each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from assetry import Catalog
from tests.conftest import BuildCatalog, BuildServer, RemoteServer, service_missing
from tests.ui.world import UiWorld, build_ui_world

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Local:
    """``assetry ui``'s app over a copy of the world, at ``url`` (ends in ``/ui``)."""

    url: str
    cat: Catalog
    world: UiWorld


@dataclass
class Served:
    """A catalog server over a copy of the world; its pages are at ``url`` + ``/ui``."""

    server: RemoteServer
    world: UiWorld

    @property
    def url(self) -> str:
        return self.server.url + "/ui"

    def signed_in(self, role: str) -> requests.Session:
        """A requests session signed in with the token of ``role``."""
        return sign_in(self.url, self.server.tokens[role])


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(ui_url: str, token: str) -> requests.Session:
    session = requests.Session()
    form = session.get(ui_url + "/signin")
    answer = session.post(
        ui_url + "/signin",
        data={"csrf": csrf_of(form.text), "next": "/ui/", "token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return session


@pytest.fixture
def local(built_catalog: BuildCatalog) -> Iterator[Local]:
    from assetry.server.run import background_server
    from assetry.ui.app import local_app

    cat, world = built_catalog(build_ui_world)
    with background_server(local_app(cat)) as base:
        yield Local(base + "/ui", cat, world)


@pytest.fixture
def served(built_server: BuildServer) -> Served:
    server, world = built_server(build_ui_world)
    return Served(server, world)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        service_missing("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        service_missing("playwright is not installed (the dev extra)")
        raise
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
