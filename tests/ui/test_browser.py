"""The pages in a real browser (Debian's headless Chromium, driven by Playwright): every
page opens with no console error and no failed request, at a desktop and a phone width;
a person clicks from a model through its lineage to the images it was trained on, uses
filters, paging, facets and the CSV and bag downloads, signs in and out, is refused or
allowed edits by role. Screenshots of the main pages go to ``build/screenshots/``."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import Local, Served
from tests.ui.test_pages import page_urls

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


class Watched:
    """A browser tab that records console errors, failed requests and error answers."""

    def __init__(self, browser: Any, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, accept_downloads=True)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on(
            "response",
            lambda r: self.problems.append(f"{r.status}: {r.url}") if r.status >= 400 else None,
        )

    def open(self, url: str) -> Any:
        self.page.goto(url)
        self.page.wait_for_load_state("networkidle")
        return self.page

    def expected(self, status: int) -> None:
        """Forget the error answer a test asked for (and the console line it makes)."""
        self.problems = [
            p
            for p in self.problems
            if not p.startswith(f"{status}: ") and f"status of {status} " not in p
        ]

    def clean(self, where: str) -> None:
        assert self.problems == [], (where, self.problems)
        assert self.page.evaluate("window.__xss") is None, where

    def shoot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def tab(browser: Any) -> Iterator[Watched]:
    watched = Watched(browser, DESKTOP)
    yield watched
    watched.context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Watched]:
    watched = Watched(browser, PHONE)
    yield watched
    watched.context.close()


SHOTS = {
    "/": "home",
    "/table/Subject": "table",
    "/tables": "tables",
    "/datasets": "datasets",
    "/vocab/Species": "vocabulary",
    "/artifacts": "artifacts",
}


def test_every_page_opens_cleanly_at_desktop_width(local: Local, tab: Watched) -> None:
    w = local.world
    named = {
        **SHOTS,
        f"/row/{w.images[0]}": "asset",
        f"/row/{w.training}": "execution",
        f"/row/{w.dataset}": "dataset",
        f"/row/{w.artifact}": "artifact",
        f"/lineage/{w.model}": "lineage",
    }
    for url in page_urls(local):
        tab.open(local.url + url)
        tab.clean(url)
        if url in named:
            tab.shoot(named[url])
    for url in ("/table/Nope", f"/row/{w.subjects[0]}"):  # an error page; hostile text
        tab.open(local.url + url)
        tab.expected(404)
        tab.clean(url)


def test_pages_fit_a_phone(local: Local, phone: Watched) -> None:
    w = local.world
    for url, name in [
        ("/", "phone-home"),
        ("/table/Subject", "phone-table"),
        (f"/row/{w.images[0]}", "phone-asset"),
        (f"/lineage/{w.model}", None),
        (f"/row/{w.dataset}", None),
    ]:
        page = phone.open(local.url + url)
        phone.clean(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (url, overflow)  # wide tables and pictures scroll inside
        if name:
            phone.shoot(name)


def test_from_a_model_through_its_lineage_to_its_input_images(local: Local, tab: Watched) -> None:
    w = local.world
    page = tab.open(f"{local.url}/row/{w.model}")
    page.click("text=Explore the lineage")
    page.wait_for_url(f"**/lineage/{w.model}")
    page.select_option("select[name=direction]", "upstream")  # sends the form
    page.wait_for_url("**direction=upstream**")
    page.click(f'a.node[data-rid="{w.training}"]')
    page.wait_for_url(f"**/row/{w.training}")
    assert page.inner_text("h1").endswith(w.training)
    page.click(f'section.execution a.rid[href$="/row/{w.images[1]}"]')
    page.wait_for_url(f"**/row/{w.images[1]}")
    assert page.inner_text("#filename") == "image-1.png"
    width = page.eval_on_selector("img.preview", "img => img.complete && img.naturalWidth")
    assert width == 16
    tab.clean("lineage walk")


def test_filters_facets_paging_and_csv(local: Local, tab: Watched) -> None:
    page = tab.open(f"{local.url}/table/Subject")
    page.click("#filters summary")
    page.fill('input[name="f.Age"]', ">=10")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**f.Age=**")
    total = int(page.inner_text("#total"))
    assert total == local.cat.count_rows("Subject", [("Age", ">=", 10)])
    page.click("details.facet >> text=Danio rerio")
    page.wait_for_url("**f.Species=Danio**")
    both = int(page.inner_text("#total"))
    assert both == local.cat.count_rows(
        "Subject", [("Age", ">=", 10), ("Species", "==", "Danio rerio")]
    )
    page.goto(f"{local.url}/table/Subject")
    first = page.inner_text("#rows tbody tr:first-child td:first-child")
    page.click("#next")
    page.wait_for_url("**after=**")
    assert page.inner_text("#rows tbody tr:first-child td:first-child") != first
    page.click("#previous")
    page.wait_for_url("**before=**")
    assert page.inner_text("#rows tbody tr:first-child td:first-child") == first
    page.goto(f"{local.url}/table/Subject?f.Species=mouse")
    with page.expect_download() as download:
        page.click("#csv")
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == 1 + int(page.inner_text("#total"))
    page.fill('input[name="f.Age"]', "old")
    page.click("#filters button[type=submit]")
    assert "is not a whole number" in page.inner_text("#error")
    tab.expected(422)
    tab.clean("filters")


def test_bag_download_from_the_dataset_page(local: Local, tab: Watched, tmp_path: Path) -> None:
    w = local.world
    page = tab.open(f"{local.url}/row/{w.dataset}")
    with page.expect_download() as download:
        page.click("a.bag >> nth=0")  # the newest version first
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == f"Dataset_{w.dataset}_v{w.versions[-1]}.zip"
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
    assert any(n.endswith("bagit.txt") for n in names)
    assert sum(n.endswith(".png") for n in names) == 3
    tab.clean("bag")


def sign_in(tab: Watched, served: Served, role: str, asked: str = "/ui/") -> Any:
    page = tab.open(served.server.url + asked)
    page.wait_for_url("**/ui/signin**")
    page.fill("input[name=token]", served.server.tokens[role])
    page.click("button[type=submit]")
    page.wait_for_url(served.server.url + asked)
    return page


def test_sign_in_cookie_and_sign_out(served: Served, tab: Watched) -> None:
    asked = f"/ui/row/{served.world.images[0]}"
    page = sign_in(tab, served, "reader", asked)
    tab.shoot("signed-in")
    (cookie,) = [c for c in tab.context.cookies() if c["name"] == "assetry_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
    assert "assetry_session" not in page.evaluate("document.cookie")
    page.click("#signout")
    page.wait_for_url("**/ui/signin")
    page.goto(served.server.url + asked)
    page.wait_for_url("**/ui/signin?next=**")
    tab.clean("sign in and out")


def test_a_reader_is_refused_and_a_curator_edits_a_term(served: Served, tab: Watched) -> None:
    rid = served.world.subjects[4]
    page = sign_in(tab, served, "reader", f"/ui/row/{rid}")
    assert page.locator("#edit").count() == 0
    answer = page.evaluate(
        """async (url) => {
            const csrf = document.querySelector('meta[name=csrf-token]').content;
            const r = await fetch(url, {method: 'POST', body: new URLSearchParams(
                {csrf: csrf, 'c.Age': '55'})});
            return [r.status, await r.text()];
        }""",
        f"/ui/row/{rid}/edit",
    )
    assert answer[0] == 403 and "needs the writer role" in answer[1]
    tab.expected(403)
    page.click("#signout")
    page.wait_for_url("**/ui/signin")
    page = sign_in(tab, served, "curator", "/ui/vocab/Species/term/mouse")
    page.fill("#edit-term textarea[name=description]", "The **lab** mouse.")
    page.click("#edit-term button[type=submit]")
    page.wait_for_url("**saved=1")
    assert page.inner_text("#description") == "The lab mouse."
    assert "curator-user" in page.inner_text("#history tbody tr:first-child")
    tab.shoot("term-edited")
    tab.clean("edits")
