"""The pages on a catalog server (``/ui``): nothing without signing in, the session
cookie, CSRF on every change, roles exactly as on the API, sign-out, expiry."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests

from tests.ui.conftest import Served, csrf_of, sign_in
from tests.ui.test_pages import page_urls


def session_files(served: Served) -> list[Path]:
    return sorted((Path(served.server.location) / "ui-sessions").glob("*.json"))


def test_no_page_is_reachable_without_signing_in(served: Served) -> None:
    w = served.world
    urls = page_urls(served) + [  # type: ignore[arg-type]
        f"/asset/{w.images[0]}/download",
        f"/asset/{w.images[0]}/image",
        "/table/Subject/csv",
        f"/dataset/{w.dataset}/bag",
    ]
    for url in urls:
        answer = requests.get(served.url + url, allow_redirects=False)
        assert answer.status_code == 303, url
        target = urlsplit(answer.headers["location"])
        assert target.path == "/ui/signin"
        assert parse_qs(target.query)["next"] == ["/ui" + url.split("#")[0]]
    for url in (f"/row/{w.subjects[1]}/edit", "/vocab/Species/add", "/table/Subject/insert"):
        answer = requests.post(served.url + url, data={"c.Age": "1"}, allow_redirects=False)
        assert answer.status_code == 303, url
    assert requests.get(served.url + "/static/pico.min.css").status_code == 200


def test_signing_in_sets_a_strict_http_only_cookie_and_returns_to_the_page(
    served: Served,
) -> None:
    session = requests.Session()
    asked = "/ui/table/Subject?f.Species=mouse"
    first = session.get(served.server.url + asked)
    assert first.url.startswith(served.url + "/signin")
    token = served.server.tokens["reader"]
    answer = session.post(
        served.url + "/signin",
        data={"csrf": csrf_of(first.text), "next": asked, "token": token},
        allow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"] == asked
    cookie = answer.headers["set-cookie"]
    assert "assetry_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    assert "Max-Age=" in cookie
    page = session.get(served.server.url + asked)
    assert page.status_code == 200 and 'id="total"' in page.text
    assert "reader-user (reader)" in page.text
    # the token is kept only sealed: the session file never holds it
    (stored,) = session_files(served)
    assert token not in stored.read_text() and token.split("_")[2] not in stored.read_text()


def test_sign_in_refuses_bad_tokens_stale_forms_and_other_sites(served: Served) -> None:
    session = requests.Session()
    form = session.get(served.url + "/signin")
    token = csrf_of(form.text)
    bad = session.post(
        served.url + "/signin", data={"csrf": token, "next": "/ui/", "token": "ast_x_y"}
    )
    assert bad.status_code == 401 and "not valid" in bad.text
    stale = requests.post(
        served.url + "/signin",
        data={"csrf": token, "next": "/ui/", "token": served.server.tokens["admin"]},
    )
    assert stale.status_code == 403  # no sign-in cookie: a form posted from elsewhere
    away = session.post(
        served.url + "/signin",
        data={
            "csrf": token,
            "next": "https://evil.example/",
            "token": served.server.tokens["reader"],
        },
        allow_redirects=False,
    )
    assert away.headers["location"] == "/ui/"
    assert not session_files(served) or len(session_files(served)) == 1


def test_every_change_needs_the_session_csrf_token(served: Served) -> None:
    w = served.world
    curator = served.signed_in("curator")
    posts = [
        (f"/row/{w.subjects[2]}/edit", {"c.Age": "7"}),
        ("/table/Subject/insert", {"c.Name": "x"}),
        ("/vocab/Species/add", {"name": "Rattus"}),
        ("/vocab/Species/term/mouse/edit", {"description": "x"}),
        ("/vocab/Species/term/mouse/synonym", {"add": "house mouse"}),
        ("/vocab/Species/term/Danio rerio/delete", {}),
        ("/signout", {}),
    ]
    before = served.server.catalog("admin").snapshot()
    for url, data in posts:
        for token in (None, "forged-" + "x" * 40):
            fields = dict(data) if token is None else {**data, "csrf": token}
            answer = curator.post(served.url + url, data=fields, allow_redirects=False)
            assert answer.status_code == 403, (url, token)
    assert served.server.catalog("admin").snapshot() == before
    assert curator.get(served.url + "/").status_code == 200  # still signed in


def test_a_reader_is_refused_an_edit_by_the_catalog(served: Served) -> None:
    rid = served.world.subjects[2]
    reader = served.signed_in("reader")
    page = reader.get(f"{served.url}/row/{rid}").text
    assert 'id="edit"' not in page  # no form for a reader...
    answer = reader.post(  # ...and the catalog refuses the change all the same
        f"{served.url}/row/{rid}/edit", data={"c.Age": "77", "csrf": csrf_of(page)}
    )
    assert answer.status_code == 403
    assert "needs the writer role" in answer.text and "reader-user" in answer.text
    assert served.server.catalog("admin").resolve_rid(rid).row["Age"] != 77
    writer = served.signed_in("writer")
    page = writer.get(f"{served.url}/row/{rid}").text
    assert 'id="edit"' in page
    saved = writer.post(f"{served.url}/row/{rid}/edit", data={"c.Age": "77", "csrf": csrf_of(page)})
    assert saved.status_code == 200
    history = served.server.catalog("admin").history(rid)
    assert history[-1]["user"] == "writer-user" and history[-1]["row"]["Age"] == 77
    term = writer.get(f"{served.url}/vocab/Species/term/mouse").text
    refused = writer.post(
        f"{served.url}/vocab/Species/term/mouse/edit",
        data={"description": "changed", "csrf": csrf_of(term)},
    )
    assert refused.status_code == 403 and "curator" in refused.text


def test_a_curator_s_term_edit_is_in_the_term_s_history(served: Served) -> None:
    curator = served.signed_in("curator")
    page = curator.get(f"{served.url}/vocab/Species/term/mouse").text
    answer = curator.post(
        f"{served.url}/vocab/Species/term/Mus musculus/edit",
        data={"name": "Mus musculus", "description": "The *lab* mouse.", "csrf": csrf_of(page)},
    )
    assert answer.status_code == 200 and 'id="saved"' in answer.text
    assert "<em>lab</em>" in answer.text
    history = answer.text.split('id="history"', 1)[1]
    assert re.search(r"curator-user</td><td>update</td><td>The \*lab\* mouse\.", history)


def test_sign_out_ends_the_session(served: Served) -> None:
    session = served.signed_in("reader")
    page = session.get(served.url + "/")
    cookie = session.cookies.get("assetry_session")
    out = session.post(served.url + "/signout", data={"csrf": csrf_of(page.text)})
    assert out.url.endswith("/ui/signin")
    assert not session_files(served)
    replay = requests.get(
        served.url + "/", cookies={"assetry_session": cookie}, allow_redirects=False
    )
    assert replay.status_code == 303


def test_an_expired_session_signs_in_again_and_returns_to_the_page(served: Served) -> None:
    session = served.signed_in("reader")
    (stored,) = session_files(served)
    record = json.loads(stored.read_text())
    record["expires"] = time.time() - 1
    stored.write_text(json.dumps(record))
    asked = f"/ui/row/{served.world.subjects[7]}"
    answer = session.get(served.server.url + asked)
    assert answer.url.startswith(served.url + "/signin")
    assert "Your session has ended" in answer.text
    assert not stored.exists()
    back = session.post(
        served.url + "/signin",
        data={
            "csrf": csrf_of(answer.text),
            "next": re.search(r'name="next" value="([^"]+)"', answer.text).group(1),  # type: ignore[union-attr]
            "token": served.server.tokens["reader"],
        },
    )
    assert back.url == served.server.url + asked and back.status_code == 200


def test_a_revoked_token_ends_its_sessions(served: Served) -> None:
    from assetry import config
    from assetry.server import auth
    from assetry.sql.backend import SqlBackend

    session = sign_in(served.url, served.server.tokens["writer"])
    assert session.get(served.url + "/", allow_redirects=False).status_code == 200
    backend = SqlBackend.at(config.resolve_location(served.server.location))
    try:
        auth.revoke_token(backend, served.server.tokens["writer"])
    finally:
        backend.close()
    assert session.get(served.url + "/", allow_redirects=False).status_code == 303
