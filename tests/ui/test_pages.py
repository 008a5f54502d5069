"""Every page over HTTP on ``assetry ui``'s app: what each shows, keyset paging, sorting,
filters and their errors, CSV and bag downloads, previews, 404s, headers, edits."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html import unescape

import bagit
import pytest
import requests

from tests.ui.conftest import Local, csrf_of
from tests.ui.world import SUBJECTS


def page_urls(local: Local) -> list[str]:
    w = local.world
    return [
        "/",
        "/tables",
        "/table/Subject",
        "/table/Subject?sort=Age&desc=1",
        "/table/Image",
        "/table/Execution",
        f"/row/{w.subjects[1]}",
        f"/row/{w.images[0]}",
        f"/row/{w.pgm}",
        f"/row/{w.csv}",
        f"/row/{w.xss_file}",
        f"/row/{w.model}",
        f"/row/{w.training}",
        f"/row/{w.workflow}",
        f"/row/{w.dataset}",
        f"/row/{w.artifact}",
        "/datasets",
        "/vocab",
        "/vocab/Species",
        "/vocab/Species/term/mouse",
        "/artifacts",
        "/artifacts?q=stage:production",
        f"/lineage/{w.model}",
        f"/lineage/{w.images[0]}?direction=downstream&depth=all",
        "/search?q=S001",
    ]


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_every_page_answers(local: Local) -> None:
    for url in page_urls(local):
        answer = requests.get(local.url + url)
        assert answer.status_code == 200, (url, answer.text[:2000])
        assert answer.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"


def test_home_counts_recent_executions_and_search(local: Local) -> None:
    home = requests.get(local.url + "/").text
    assert f'href="/ui/row/{local.world.training}"' in home
    assert re.search(r'href="/ui/table/Subject">Subject</a></td><td>table</td><td class="num">'
                     rf"{SUBJECTS}<", home)  # fmt: skip
    found = requests.get(local.url + "/search", params={"q": "S042"}).text
    assert f'/ui/row/{local.world.subjects[42]}"' in found


def next_link(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" id="next"', html)
    return unescape(found.group(1)) if found else None


def rids_on(html: str) -> list[str]:
    body = html.split('id="rows"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr><td><a href="/ui/row/([^"]+)" class="rid">', body)


@pytest.mark.parametrize("sort", ["RID", "Age"])
def test_keyset_pages_walk_every_row_once(local: Local, sort: str) -> None:
    url: str | None = f"/ui/table/Subject?sort={sort}&desc=1"
    host = local.url.removesuffix("/ui")
    seen: list[str] = []
    pages = 0
    while url:
        html = requests.get(host + url).text
        seen += rids_on(html)
        pages += 1
        url = next_link(html)
    assert pages == 3
    assert sorted(seen) == sorted(local.world.subjects)
    rows = {r["RID"]: r for r in local.cat.get_table_as_dict("Subject")}
    keys = [(rows[rid][sort], rid) for rid in seen]
    assert keys == sorted(keys, reverse=True)
    # and back: the previous page of the last page is the middle one
    last = requests.get(host + f"/ui/table/Subject?sort={sort}&desc=1").text
    middle = requests.get(host + next_link(last)).text  # type: ignore[operator]
    end = requests.get(host + next_link(middle)).text  # type: ignore[operator]
    back = re.search(r'href="([^"]+)" id="previous"', end)
    assert back is not None
    assert rids_on(requests.get(host + unescape(back.group(1))).text) == rids_on(middle)


def test_filters_and_vocabulary_facets(local: Local) -> None:
    html = requests.get(
        local.url + "/table/Subject", params={"f.Species": "mouse", "f.Age": ">=25"}
    ).text
    expected = local.cat.count_rows(
        "Subject", [("Species", "==", "Mus musculus"), ("Age", ">=", 25)]
    )
    assert f'<span id="total">{expected}</span>' in html
    assert len(rids_on(html)) == expected
    facets = requests.get(local.url + "/table/Subject").text
    facet = re.search(r'f.Species=Danio\+rerio"[^>]*>Danio rerio</a> <small>(\d+)</small>', facets)
    assert facet is not None and int(facet.group(1)) == SUBJECTS // 2  # the odd rows


def test_a_filter_of_the_wrong_type_is_a_message_not_a_500(local: Local) -> None:
    answer = requests.get(local.url + "/table/Subject", params={"f.Age": "old"})
    assert answer.status_code == 422
    assert "filter on Age: 'old' is not a whole number" in unescape(answer.text)
    assert 'id="filters"' in answer.text  # the page itself, to correct the filter
    answer = requests.get(local.url + "/table/Subject", params={"f.Age": ">null"})
    assert answer.status_code == 422 and "null can only be compared" in answer.text
    answer = requests.get(local.url + "/table/Subject", params={"sort": "Nope"})
    assert answer.status_code == 422 and "cannot sort by" in unescape(answer.text)
    answer = requests.get(local.url + "/table/Subject", params={"after": "[1"})
    assert answer.status_code == 422 and "bad page position" in answer.text


def test_unknown_table_rid_and_page_are_styled_404s_naming_them(local: Local) -> None:
    for url, named in (
        ("/table/Nope", "Nope"),
        ("/row/ZZZZ-ZZZZ", "ZZZZ-ZZZZ"),
        ("/lineage/ZZZZ-ZZZZ", "ZZZZ-ZZZZ"),
        ("/vocab/Species/term/unicorn", "unicorn"),
        ("/no/such/page", "/ui/no/such/page"),
    ):
        answer = requests.get(local.url + url)
        assert answer.status_code == 404, url
        assert "pico.min.css" in answer.text and "<h1>Not found</h1>" in answer.text
        assert named in unescape(answer.text), (url, answer.text)


def test_csv_holds_exactly_the_filtered_rows(local: Local) -> None:
    answer = requests.get(
        local.url + "/table/Subject/csv", params={"f.Species": "zebrafish", "sort": "Age"}
    )
    assert answer.headers["content-disposition"] == 'attachment; filename="Subject.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    wanted = [r for r in local.cat.get_table_as_dict("Subject") if r["Species"] == "Danio rerio"]
    assert sorted(r["RID"] for r in rows) == sorted(r["RID"] for r in wanted)
    assert [int(r["Age"]) for r in rows] == sorted(r["Age"] for r in wanted)
    assert list(rows[0])[:4] == ["RID", "RCT", "RMT", "RCB"]


def test_bag_download_of_each_version(local: Local, tmp_path) -> None:
    w = local.world
    sizes = {}
    for version in w.versions:
        answer = requests.get(f"{local.url}/dataset/{w.dataset}/bag", params={"version": version})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/zip"
        assert f"Dataset_{w.dataset}_v{version}.zip" in answer.headers["content-disposition"]
        folder = tmp_path / version
        with zipfile.ZipFile(io.BytesIO(answer.content)) as archive:
            archive.extractall(folder)
        (bag_dir,) = folder.iterdir()
        bagit.Bag(str(bag_dir)).validate()
        sizes[version] = len(list((bag_dir / "data").rglob("*.png")))
    assert sizes == {w.versions[0]: 0, w.versions[1]: 2, w.versions[2]: 3}


def test_asset_download_preview_and_checksums(local: Local) -> None:
    w = local.world
    row = local.cat.resolve_rid(w.images[0]).row
    answer = requests.get(f"{local.url}/asset/{w.images[0]}/download")
    assert answer.content == local.cat.open_asset(w.images[0]).read()
    assert answer.headers["content-disposition"].startswith('attachment; filename="image-0.png"')
    assert answer.headers["content-type"] == "application/octet-stream"
    page = requests.get(f"{local.url}/row/{w.images[0]}").text
    assert row["SHA256"] in page and row["MD5"] in page
    assert f'src="/ui/asset/{w.images[0]}/image"' in page
    image = requests.get(f"{local.url}/asset/{w.images[0]}/image")
    assert image.headers["content-type"] == "image/png" and image.content.startswith(b"\x89PNG")
    converted = requests.get(f"{local.url}/asset/{w.pgm}/image")
    assert converted.headers["content-type"] == "image/png"
    text = requests.get(f"{local.url}/asset/{w.xss_file}/image")
    assert text.status_code == 422  # not an image: never served as one
    csv_page = requests.get(f"{local.url}/row/{w.csv}").text
    assert "<th>a</th><th>b</th>" in csv_page and "&lt;b&gt;x&lt;/b&gt;" in csv_page


def test_execution_workflow_dataset_and_artifact_pages(local: Local) -> None:
    w = local.world
    run = text_of(requests.get(f"{local.url}/row/{w.training}").text)
    assert "Completed" in run and "epoch 1 of 1" in run and '"lr": 0.1' in run
    assert "model.bin" in run and "image-2.png" in run and "environment.json" in run
    flow = requests.get(f"{local.url}/row/{w.workflow}").text
    assert f'/ui/row/{w.training}"' in flow
    ds = requests.get(
        f"{local.url}/row/{w.dataset}", params={"a": w.versions[1], "b": w.versions[2]}
    ).text
    assert all(v in ds for v in w.versions)
    diff = ds.split('id="diff"', 1)[1].split("</article>", 1)[0]
    assert f"/ui/row/{w.images[2]}" in diff and f"/ui/row/{w.images[0]}" not in diff
    art = text_of(requests.get(f"{local.url}/row/{w.artifact}").text)
    assert "classifier" in art and "production" in art and '"weights"' in art


def test_row_history_and_as_of_view(local: Local) -> None:
    rid = local.world.subjects[5]
    before = local.cat.resolve_rid(rid).row
    local.cat.update("Subject", [{"RID": rid, "Age": 99}])
    page = requests.get(f"{local.url}/row/{rid}").text
    history = page.split('id="history"', 1)[1]
    assert "update" in history and "Age" in history
    snapshot = re.findall(r"as_of=(\d+)", history)[-1]  # the oldest version
    old = requests.get(f"{local.url}/row/{rid}", params={"as_of": snapshot}).text
    assert f"As it was at snapshot {snapshot}" in old
    columns = old.split('id="columns"', 1)[1].split("</dl>", 1)[0]
    assert f"<dd>{before['Age']}</dd>" in columns and "<dd>99</dd>" not in columns


def test_foreign_keys_are_links_and_references_are_listed(local: Local) -> None:
    w = local.world
    image = requests.get(f"{local.url}/row/{w.images[0]}").text
    assert f'href="/ui/row/{w.subjects[1]}" class="rid"' in image
    subject = requests.get(f"{local.url}/row/{w.subjects[1]}").text
    assert 'href="/ui/vocab/Species/term/Danio rerio"' in subject
    referenced = subject.split("Referenced by", 1)[1]
    assert all(f"/ui/row/{rid}" in referenced for rid in w.images)


def test_local_edits_need_the_page_token(local: Local) -> None:
    session = requests.Session()
    rid = local.world.subjects[3]
    page = session.get(f"{local.url}/row/{rid}")
    token = csrf_of(page.text)
    refused = session.post(f"{local.url}/row/{rid}/edit", data={"c.Age": "42"})
    assert refused.status_code == 403
    wrong = session.post(f"{local.url}/row/{rid}/edit", data={"c.Age": "42", "csrf": "x" * 43})
    assert wrong.status_code == 403
    assert local.cat.resolve_rid(rid).row["Age"] != 42
    saved = session.post(f"{local.url}/row/{rid}/edit", data={"c.Age": "42", "csrf": token})
    assert saved.status_code == 200 and 'id="saved"' in saved.text
    assert local.cat.resolve_rid(rid).row["Age"] == 42
    bad = session.post(f"{local.url}/row/{rid}/edit", data={"c.Age": "old", "csrf": token})
    assert bad.status_code == 422 and "Age: &#39;old&#39; is not a whole number" in bad.text
    added = session.post(
        f"{local.url}/table/Subject/insert",
        data={"c.Name": "new one", "c.Species": "mouse", "csrf": token},
    )
    assert added.status_code == 200
    assert local.cat.count_rows("Subject", [("Name", "==", "new one")]) == 1


def test_the_local_interface_answers_only_its_loopback_names(local: Local) -> None:
    answer = requests.get(local.url + "/", headers={"Host": "attacker.example"})
    assert answer.status_code == 421


def test_system_rows_offer_only_their_description(local: Local) -> None:
    w = local.world
    session = requests.Session()
    page = session.get(f"{local.url}/row/{w.training}").text
    form = page.split('id="edit"', 1)[1].split("</form>", 1)[0]
    assert re.findall(r'name="c\.(\w+)"', form) == ["Description"]
    saved = session.post(
        f"{local.url}/row/{w.training}/edit",
        data={"c.Description": "Train it *well*", "csrf": csrf_of(page)},
    )
    assert saved.status_code == 200 and "<em>well</em>" in saved.text
    refused = session.post(
        f"{local.url}/row/{w.training}/edit",
        data={"c.Description": "x", "c.Status": "Failed", "csrf": csrf_of(page)},
    )
    assert refused.status_code == 200  # Status is not a field of the form: ignored
    assert local.cat.resolve_rid(w.training).row["Status"] == "Completed"
    link = local.cat.query_page("Image_Execution", limit=1)[0]["RID"]
    assert 'id="edit"' not in session.get(f"{local.url}/row/{link}").text
