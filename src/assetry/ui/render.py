"""Templates and the small helpers they use to show values.

Jinja2 escapes everything (autoescape on for every template); markdown is rendered by
markdown-it with raw HTML off, so a description can format text but never inject markup
or ``javascript:`` links.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from assetry.ui.context import Page

TEXT_CELL = 80  # characters of a value shown in a table cell


@functools.cache
def environment() -> jinja2.Environment:
    folder = resources.files("assetry.ui").joinpath("templates")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        markdown=markdown,
        shown=shown,
        short=short,
        size=size,
        when=when,
        pretty_json=pretty_json,
    )
    return env


@functools.cache
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown(text: str | None) -> Markup:
    """A markdown description as HTML (raw HTML in it is shown as text)."""
    if not text:
        return Markup("")
    return Markup(_markdown().render(str(text)))


def shown(value: Any) -> str:
    """A value as text: timestamps in ISO form, JSON compact, NULL as empty."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def short(value: Any, length: int = TEXT_CELL) -> str:
    """``shown`` cut to ``length`` characters."""
    text = shown(value)
    return text if len(text) <= length else text[: length - 1] + "…"


def size(length: int | None) -> str:
    """A byte count for people: ``1.5 MB``."""
    if length is None:
        return ""
    value = float(length)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return str(length)


def when(value: dt.datetime | None) -> str:
    """A timestamp to the second, UTC."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def render(page: Page, template: str, status: int = 200, **context: Any) -> Response:
    """The HTML answer of ``template`` for ``page``."""
    html = environment().get_template(template).render(page=page, **context)
    return page.finish(HTMLResponse(html, status_code=status))
