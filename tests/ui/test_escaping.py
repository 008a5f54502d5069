"""Hostile text in every place a user writes it (vocabulary and table comments, term
names, row values, file names, markdown descriptions, tags) reaches the pages escaped:
no page's HTML holds it as markup, and markdown links never become ``javascript:``."""

from __future__ import annotations

import re

import requests

from tests.ui.conftest import Local
from tests.ui.test_pages import page_urls
from tests.ui.world import XSS, XSS_NAME

RAW = ("<script>window.__xss", "<img src=x onerror", 'href="javascript:', "href='javascript:")


def test_no_page_carries_user_text_as_markup(local: Local) -> None:
    w = local.world
    urls = page_urls(local) + [
        f"/row/{w.subjects[0]}",
        f"/vocab/Species/term/{XSS_NAME}",
        f"/table/Subject?f.Name={XSS}",
        f"/table/Subject?f.Species={XSS_NAME}",
        f"/search?q={XSS}",
        f"/lineage/{w.artifact}?direction=both&depth=all",
    ]
    for url in urls:
        html = requests.get(local.url + url).text
        for raw in RAW:
            assert raw not in html, (url, raw)
    subject = requests.get(f"{local.url}/row/{w.subjects[0]}").text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in subject  # shown, as text
    assert "<em>emphasis</em>" in subject  # markdown still formats


def test_file_names_are_safe_in_downloads(local: Local) -> None:
    answer = requests.get(f"{local.url}/asset/{local.world.xss_file}/download")
    disposition = answer.headers["content-disposition"]
    assert re.fullmatch(
        r"attachment; filename=\"[A-Za-z0-9._-]+\"; filename\*=UTF-8''[A-Za-z0-9%._~-]+",
        disposition,
    ), disposition
    assert answer.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_names_of_tables_and_columns_cannot_hold_markup(local: Local) -> None:
    """Table and column names are identifiers (letters, digits, ``_``): markup in one is
    refused by the catalog before any page could show it."""
    import pytest

    from assetry import ColumnDef, TableDef, ValidationError

    with pytest.raises(ValidationError):
        local.cat.create_table(TableDef("<b>x</b>", [ColumnDef("Name")]))
    with pytest.raises(ValidationError):
        local.cat.add_column("Subject", ColumnDef('x"><script>'))
