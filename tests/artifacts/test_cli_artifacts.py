"""``assetry artifacts list|show|get|download|search|tag|alias|query|delete``, run
in-process through ``main(argv)``: text and ``--json`` output of each command, and one
clear error line (exit 1) for each kind of bad input."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, Reference
from assetry.cli.main import main
from tests.conftest import clone_sqlite

UTC = dt.UTC
DAYS = [dt.datetime(2026, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
VERSION_KEYS = {
    "rid", "name", "version", "artifact_type", "execution", "tags", "aliases", "partitions",
    "time_partition", "properties", "files", "objects", "references", "description",
    "created", "deleted",
}  # fmt: skip


class Result:
    """What one run of the command produced."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)

    def ok(self) -> str:
        assert self.code == 0, (self.out, self.err)
        assert self.err == ""
        return self.out

    def assert_one_line_error(self, *fragments: str) -> None:
        assert self.code == 1, (self.out, self.err)
        assert self.err.startswith("assetry: error: "), self.err
        assert self.err.count("\n") == 1 and self.err.endswith("\n"), self.err
        assert "Traceback" not in self.err
        for fragment in fragments:
            assert fragment in self.err, (fragment, self.err)


@dataclass
class Shop:
    """A catalog with a dataset, two versions of a model and a partitioned artifact."""

    loc: str
    dataset: str
    v1: str  # fraud v1: a file, an object, a reference; staging; parent: the dataset
    v2: str  # fraud v2: an object; parent: v1
    rides: dict[tuple[str, int], str]  # (region, day index) -> RID of that version
    files: dict[str, Any]  # fraud v1's files by artifact path: bytes, or the JSON object

    def c(self, *argv: str) -> list[str]:
        return ["--catalog", self.loc, *argv]

    def check_files(self, root: Path) -> None:
        """``root`` holds fraud v1's files, laid out by their artifact paths."""
        found = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        assert found == set(self.files)
        for path, content in self.files.items():
            data = (root / path).read_bytes()
            assert (data if isinstance(content, bytes) else json.loads(data)) == content


def _build(cat: Catalog, folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "classifier.pkl"
    weights.write_bytes(b"pretend weights")
    ds = cat.create_dataset(["Training"], description="fraud training set")
    v1 = cat.artifacts.register(
        "fraud_detector",
        artifact_type="Model",
        files={"model/classifier.pkl": weights},
        data={"threshold": 0.7},
        references=[Reference("https://example.org/big.tar.gz", size_bytes=5)],
        properties={"f1_score": 0.92},
        tags={"stage": "staging", "team": "fraud"},
        parents=[ds],
        description="first detector",
    )
    v2 = cat.artifacts.register(
        "fraud_detector", data={"threshold": 0.8}, parents=[v1], tags={"team": "fraud"}
    )
    cat.artifacts.declare(
        "ride_count_data", "Dataset", partition_keys=["region"], time_partitioned=True
    )
    rides = {}
    for n, day in enumerate(DAYS):
        for region in ("us", "eu"):
            v = cat.artifacts.register(
                "ride_count_data",
                data={"rides": n, "region": region},
                partitions={"region": region},
                time_partition=day,
            )
            rides[f"{region}:{n}"] = v.rid
    return {"dataset": ds, "v1": v1.rid, "v2": v2.rid, "rides": rides}


@pytest.fixture(scope="module")
def shop_template(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """The shop, built once per module; each test works on a copy."""
    root = tmp_path_factory.mktemp("shop")
    with clone_sqlite(sqlite_template, root / "catalog") as cat:
        made = _build(cat, root / "files")
    return root / "catalog", made


@pytest.fixture
def shop(shop_template: tuple[Path, dict[str, Any]], tmp_path: Path) -> Shop:
    template, made = shop_template
    shutil.copytree(template, tmp_path / "shop")
    rides = {(k.split(":")[0], int(k.split(":")[1])): v for k, v in made["rides"].items()}
    return Shop(
        loc=str(tmp_path / "shop"),
        dataset=made["dataset"],
        v1=made["v1"],
        v2=made["v2"],
        rides=rides,
        files={
            "model/classifier.pkl": b"pretend weights",
            "objects/data.json": {"threshold": 0.7},
        },
    )


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def runner(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return runner


Run = Callable[..., Result]


# --- help ------------------------------------------------------------------------------------


def test_help_names_every_command_and_the_split_between_get_and_download(run: Run) -> None:
    out = run("artifacts", "--help").ok()
    for name in ("list", "show", "get", "download", "search", "tag", "alias", "query", "delete"):
        assert f"    {name}" in out, name
    get = " ".join(run("artifacts", "get", "--help").ok().split())
    assert "./NAME-vN" in get and "download" in get
    assert "DEST" in " ".join(run("artifacts", "download", "--help").ok().split())
    assert "artifacts" in run("--help").ok()


@pytest.mark.parametrize(
    "argv",
    [
        ["artifacts"],
        ["artifacts", "nonsense"],
        ["artifacts", "list", "--limit", "-1"],
        ["artifacts", "alias", "fraud_detector"],
        ["artifacts", "download", "fraud_detector"],
        ["artifacts", "search"],
    ],
)
def test_usage_errors_exit_2(run: Run, argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2 and "usage:" in result.err


def test_key_values_and_words_may_follow_options(run: Run, shop: Shop) -> None:
    def rids(*argv: str) -> list[str]:
        found = run(*shop.c("--json", "artifacts", *argv)).json()
        return [v["rid"] for v in (found if isinstance(found, list) else [found])]

    at = ["--time", "2026-01-02"]
    assert rids("query", "ride_count_data", *at, "region=eu") == [shop.rides["eu", 1]]
    assert rids("query", "ride_count_data", "region=eu", *at) == [shop.rides["eu", 1]]
    assert rids("search", "--limit", "5", "first", "type:Model") == [shop.v1]
    assert rids("search", "first", "--limit", "5", "type:Model") == [shop.v1]
    run(*shop.c("artifacts", "tag", "--version", "1", "fraud_detector", "a=1", "--remove",
                "team", "b=2")).ok()  # fmt: skip
    with Catalog(shop.loc) as cat:
        assert cat.artifacts.get(shop.v1).tags == {"a": "1", "b": "2", "stage": "staging"}
    assert run(*shop.c("artifacts", "tag", "fraud_detector", "--bogus", "a=1")).code == 2


# --- list ------------------------------------------------------------------------------------


def test_list_text_and_json(run: Run, shop: Shop) -> None:
    out = run(*shop.c("artifacts", "list")).ok()
    lines = out.splitlines()
    assert lines[0].split() == [
        "RID", "NAME", "VERSION", "TYPE", "TAGS", "ALIASES", "CREATED", "DESCRIPTION",
    ]  # fmt: skip
    assert len(lines) == 2 + 8
    assert shop.v1 in out and "stage=staging, team=fraud" in out and "first detector" in out
    versions = run(*shop.c("artifacts", "list", "--json")).json()
    assert [v["name"] for v in versions[:2]] == ["ride_count_data"] * 2  # newest first
    assert all(set(v) == VERSION_KEYS for v in versions)
    [v1] = [v for v in versions if v["rid"] == shop.v1]
    assert v1["tags"] == {"stage": "staging", "team": "fraud"}
    assert v1["properties"] == {"f1_score": 0.92}
    assert {f["path"] for f in v1["files"]} == set(shop.files)
    assert v1["references"][0]["uri"] == "https://example.org/big.tar.gz"


def test_list_filters_and_pages(run: Run, shop: Shop) -> None:
    def rids(*argv: str) -> list[str]:
        return [v["rid"] for v in run(*shop.c("--json", "artifacts", "list", *argv)).json()]

    assert rids("--type", "Model") == [shop.v2, shop.v1]
    assert rids("--type", "model", "--tag", "stage=staging") == [shop.v1]
    assert rids("--name", "fraud_detector", "--tag", "team=fraud", "stage=staging") == [shop.v1]
    assert rids("--tag", "stage=production") == []
    us = rids("--partition", "region=us")
    assert us == [shop.rides["us", n] for n in (2, 1, 0)]
    every = rids("--name", "ride_count_data")
    assert len(every) == 6 and every[0] == shop.rides["eu", 2]
    assert rids("--name", "ride_count_data", "--limit", "2", "--offset", "1") == every[1:3]
    out = run(*shop.c("artifacts", "list", "--limit", "3")).ok()
    assert "--limit and --offset" in out
    assert "(no artifacts)" in run(*shop.c("artifacts", "list", "--tag", "stage=none")).ok()


def test_list_include_deleted_marks_them(run: Run, shop: Shop) -> None:
    run(*shop.c("artifacts", "delete", shop.v2)).ok()
    assert shop.v2 not in run(*shop.c("artifacts", "list")).ok()
    out = run(*shop.c("artifacts", "list", "--include-deleted", "--name", "fraud_detector")).ok()
    assert "2 (deleted)" in out and shop.v2 in out
    listed = run(*shop.c("--json", "artifacts", "list", "--include-deleted", "--type", "Model"))
    assert [(v["rid"], v["deleted"]) for v in listed.json()] == [(shop.v2, True), (shop.v1, False)]


# --- show ------------------------------------------------------------------------------------


def test_show_text_has_everything(run: Run, shop: Shop) -> None:
    out = run(*shop.c("artifacts", "show", "fraud_detector", "--version", "1")).ok()
    assert out.startswith(f"Artifact fraud_detector v1 ({shop.v1})\n")
    for fragment in (
        "Type:        Model",
        "Description: first detector",
        "Tags:        stage=staging, team=fraud",
        "Properties:  f1_score=0.92",
        "(assetry register, Completed)",
        "Files (2):",
        "model/classifier.pkl",
        "Objects (1):",
        "builtins.dict",
        "References (1):",
        "https://example.org/big.tar.gz",
        "Parents (1):",
        f"dataset  {shop.dataset}  Dataset",
        "fraud training set v0.1.0",
        "Children (1):",
        f"artifact  {shop.v2}  Artifact_Version  fraud_detector v2",
    ):
        assert fragment in out, fragment
    assert all(line == line.rstrip() for line in out.splitlines())


def test_show_json_shape(run: Run, shop: Shop) -> None:
    doc = run(*shop.c("artifacts", "show", "fraud_detector", "--json")).json()
    assert set(doc) == {"artifact", "generated_by", "parents", "children"}
    assert set(doc["artifact"]) == VERSION_KEYS
    assert (doc["artifact"]["rid"], doc["artifact"]["version"]) == (shop.v2, 2)
    assert doc["generated_by"]["execution"] == doc["artifact"]["execution"]
    assert doc["generated_by"]["workflow_name"] == "assetry register"
    assert doc["generated_by"]["status"] == "Completed"
    assert doc["parents"] == [
        {
            "rid": shop.v1,
            "kind": "artifact",
            "table": "Artifact_Version",
            "label": "fraud_detector v1",
            "name": "fraud_detector",
            "version": 1,
            "artifact_type": "Model",
        }
    ]
    assert doc["children"] == []
    first = run(*shop.c("--json", "artifacts", "show", shop.v1)).json()
    assert [(p["kind"], p["rid"]) for p in first["parents"]] == [("dataset", shop.dataset)]
    assert [c["rid"] for c in first["children"]] == [shop.v2]


def test_show_by_rid_in_any_case_by_alias_and_latest(run: Run, shop: Shop) -> None:
    def shown(*argv: str) -> str:
        return str(run(*shop.c("--json", "artifacts", "show", *argv)).json()["artifact"]["rid"])

    assert shown(shop.v1.lower()) == shop.v1
    assert shown(shop.v1, "--version", "1") == shop.v1  # a RID and its own version agree
    assert shown("fraud_detector", "--version", "latest") == shop.v2
    run(*shop.c("artifacts", "alias", "fraud_detector", "production", "--version", "1")).ok()
    assert shown("fraud_detector", "--version", "production") == shop.v1


# --- get, download ---------------------------------------------------------------------------


def test_get_writes_the_latest_into_name_dash_version_by_default(
    run: Run, shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = run(*shop.c("artifacts", "get", "fraud_detector", "--version", "1")).ok()
    root = tmp_path / "fraud_detector-v1"
    assert out.startswith(f"fraud_detector v1 ({shop.v1}): 2 file(s), ")
    assert "verified, in fraud_detector-v1" in out
    assert "1 reference(s) stay where they are:" in out
    shop.check_files(root)
    for path in shop.files:
        assert f"fraud_detector-v1/{path}" in out
    run(*shop.c("artifacts", "get", "fraud_detector")).ok()
    assert (tmp_path / "fraud_detector-v2" / "objects" / "data.json").is_file()


def test_get_by_alias_into_dest_json(run: Run, shop: Shop, tmp_path: Path) -> None:
    run(*shop.c("artifacts", "alias", shop.v1, "production")).ok()
    dest = tmp_path / "deploy"
    doc = run(
        *shop.c(
            "--json",
            "artifacts",
            "get",
            "fraud_detector",
            "--version",
            "production",
            "--dest",
            str(dest),
        )  # fmt: skip
    ).json()
    assert set(doc) == {"artifact", "dest", "files", "references"}
    assert doc["artifact"]["rid"] == shop.v1 and doc["dest"] == str(dest)
    shop.check_files(dest)
    assert {f["path"]: f["local"] for f in doc["files"]} == {p: str(dest / p) for p in shop.files}
    assert all(set(f) == {"path", "local", "length", "sha256"} for f in doc["files"])
    assert doc["references"][0]["uri"] == "https://example.org/big.tar.gz"


def test_download_by_rid_or_name_into_dest(run: Run, shop: Shop, tmp_path: Path) -> None:
    out = run(*shop.c("artifacts", "download", shop.v1, str(tmp_path / "a"))).ok()
    assert str(tmp_path / "a" / "model" / "classifier.pkl") in out
    assert (tmp_path / "a" / "model" / "classifier.pkl").read_bytes() == b"pretend weights"
    doc = run(
        *shop.c(
            "--json",
            "artifacts",
            "download",
            "fraud_detector",
            str(tmp_path / "b"),
            "--version",
            "2",
        )  # fmt: skip
    ).json()
    assert doc["artifact"]["rid"] == shop.v2
    assert json.loads((tmp_path / "b" / "objects" / "data.json").read_text()) == {"threshold": 0.8}


# --- search ----------------------------------------------------------------------------------


def test_search_words_tags_and_type(run: Run, shop: Shop) -> None:
    def found(text: str) -> list[str]:
        return [v["rid"] for v in run(*shop.c("--json", "artifacts", "search", text)).json()]

    assert found("stage:staging type:Model") == [shop.v1]
    assert found("detector team:fraud") == [shop.v2, shop.v1]
    assert found("name:ride_count_data")[0] == shop.rides["eu", 2]
    out = run(*shop.c("artifacts", "search", "first", "team:fraud")).ok()  # words joined
    assert shop.v1 in out and shop.v2 not in out
    empty = run(*shop.c("artifacts", "search", "stage:production")).ok()
    assert empty.strip() == "(no artifacts match 'stage:production')"


# --- tag, alias ------------------------------------------------------------------------------


def test_tag_sets_and_removes(run: Run, shop: Shop) -> None:
    out = run(*shop.c("artifacts", "tag", "fraud_detector", "--version", "1", "stage=production",
                      "--remove", "team", "owner=ana", "--remove", "nokey")).ok()  # fmt: skip
    assert out.splitlines() == [
        f"fraud_detector v1 ({shop.v1}) tags: owner=ana, stage=production",
        "(no tag nokey to remove)",
    ]
    doc = run(
        *shop.c("--json", "artifacts", "tag", shop.v1, "owner=bo", "--remove", "stage")
    ).json()
    assert set(doc) == {"artifact", "set", "removed", "absent"}
    assert doc["set"] == {"owner": "bo"} and doc["removed"] == ["stage"] and doc["absent"] == []
    assert doc["artifact"]["tags"] == {"owner": "bo"}
    # Keys that are parameter names of cat.artifacts.tag are tags like any other.
    named = run(*shop.c("--json", "artifacts", "tag", shop.v1, "version=3")).json()
    assert named["artifact"]["tags"] == {"owner": "bo", "version": "3"}
    with Catalog(shop.loc) as cat:
        assert cat.artifacts.get(shop.v1).tags == {"owner": "bo", "version": "3"}
        assert cat.artifacts.search("owner:bo")[0].rid == shop.v1


def test_alias_new_moved_and_again(run: Run, shop: Shop) -> None:
    out = run(*shop.c("artifacts", "alias", "fraud_detector", "production", "--version", "1"))
    assert out.ok().strip() == f"Alias 'production' of fraud_detector: v1 ({shop.v1}) (new alias)"
    doc = run(*shop.c("--json", "artifacts", "alias", "fraud_detector", "production")).json()
    assert set(doc) == {"artifact", "alias", "previous"}
    assert doc["artifact"]["rid"] == shop.v2 and doc["artifact"]["aliases"] == ["production"]
    assert doc["previous"] == {"rid": shop.v1, "name": "fraud_detector", "version": 1}
    again = run(*shop.c("artifacts", "alias", shop.v2, "production")).ok()
    assert again.strip().endswith("(already)")
    moved = run(*shop.c("artifacts", "alias", shop.v1, "production")).ok()
    assert moved.strip().endswith("(moved from v2)")


# --- query -----------------------------------------------------------------------------------


def test_query_latest_matching_at_a_time_and_in_a_range(run: Run, shop: Shop) -> None:
    def q(*argv: str) -> Any:
        return run(*shop.c("--json", "artifacts", "query", "ride_count_data", *argv)).json()

    latest = q("region=us")
    assert set(latest) == VERSION_KEYS and latest["rid"] == shop.rides["us", 2]
    assert q("region=eu", "--time", "2026-01-02")["rid"] == shop.rides["eu", 1]
    at = q("region=eu", "--time", "2026-01-02T00:00:00+00:00")
    assert at["time_partition"] == "2026-01-02T00:00:00+00:00"
    window = q("region=us", "--from", "2026-01-01", "--to", "2026-01-03")
    assert [v["rid"] for v in window] == [shop.rides["us", 1], shop.rides["us", 0]]
    assert q("--from", "2027-01-01", "--to", "2027-02-01") == []
    text = run(*shop.c("artifacts", "query", "ride_count_data", "region=us")).ok()
    assert text.splitlines()[0].split()[:2] == ["RID", "NAME"]
    assert shop.rides["us", 2] in text and len(text.splitlines()) == 3
    empty = run(*shop.c("artifacts", "query", "ride_count_data", "region=us",
                        "--from", "2027-01-01", "--to", "2027-02-01")).ok()  # fmt: skip
    assert "(no version of 'ride_count_data' with region=us has a time partition" in empty


# --- delete ----------------------------------------------------------------------------------


def test_delete_by_name_and_version_says_what_was_hidden(run: Run, shop: Shop) -> None:
    run(*shop.c("artifacts", "alias", "fraud_detector", "production")).ok()
    out = run(*shop.c("artifacts", "delete", "fraud_detector", "--version", "2")).ok()
    assert out.splitlines() == [
        f"Deleted fraud_detector v2 ({shop.v2}): hidden from list, search and latest "
        "(show, history and lineage still find it)",
        "Alias(es) production no longer name a version of fraud_detector",
        f"Latest of fraud_detector is now v1 ({shop.v1})",
    ]
    assert (
        run(*shop.c("--json", "artifacts", "show", "fraud_detector")).json()["artifact"]["rid"]
        == shop.v1
    )
    again = run(*shop.c("artifacts", "delete", shop.v2)).ok()
    assert again.strip() == f"fraud_detector v2 ({shop.v2}) was already deleted: nothing changed"
    shown = run(*shop.c("artifacts", "show", shop.v2)).ok()
    assert "Deleted:     yes" in shown


def test_delete_json_and_the_last_version(run: Run, shop: Shop) -> None:
    doc = run(*shop.c("--json", "artifacts", "delete", shop.v2)).json()
    assert set(doc) == {"artifact", "changed", "released_aliases", "latest"}
    assert doc["changed"] is True and doc["artifact"]["deleted"] is True
    assert doc["latest"] == {"rid": shop.v1, "name": "fraud_detector", "version": 1}
    last = run(*shop.c("--json", "artifacts", "delete", "fraud_detector", "--version", "latest"))
    assert last.json()["latest"] is None
    out = run(*shop.c("artifacts", "delete", "ride_count_data", "--version", "6")).ok()
    assert "Latest of ride_count_data is now v5" in out
    run(*shop.c("artifacts", "get", "fraud_detector")).assert_one_line_error(
        "no artifact 'fraud_detector'"
    )


# --- bad input: one line, exit 1 -------------------------------------------------------------

BAD = [
    (["list", "--tag", "stage"], "--tag 'stage' is not KEY=VALUE"),
    (["list", "--partition", "=us"], "--partition '=us' is not KEY=VALUE"),
    (["list", "--tag", "a=1", "a=2"], "--tag 'a' is given twice"),
    (["list", "--name", "nope"], "no artifact is named 'nope'"),
    (["list", "--type", "Nope"], "'Nope' is not a term of vocabulary 'Artifact_Type'"),
    (["list", "--tag", "bad key=x"], "tag key 'bad key' is not allowed"),
    (["show", "nope"], "no artifact 'nope'"),
    (["show", "fraud_detector", "--version", "9"], "no artifact 'fraud_detector' version 9"),
    (["show", "fraud_detector", "--version", "0"], "version number is 1 or more"),
    (["show", "fraud_detector", "--version", "nope"], "no artifact 'fraud_detector' alias 'nope'"),
    (["show", "{v2}", "--version", "1"], "give the name with --version, or the RID alone"),
    (["get", "nope"], "no artifact 'nope'"),
    (["get", "fraud_detector", "--version", "nope"], "alias 'nope'"),
    (["get", "fraud_detector", "--dest", "{file}"], "exists and is not a directory"),
    (["download", "nope", "{tmp}/x"], "no artifact 'nope'"),
    (["download", "{v1}", "{file}"], "exists and is not a directory"),
    (["search", "stage:"], "search term 'stage:' needs key:value"),
    (["search", "type:Nope"], "'Nope' is not a term of vocabulary 'Artifact_Type'"),
    (["tag", "fraud_detector"], "nothing to change"),
    (["tag", "fraud_detector", "stage"], "tag 'stage' is not KEY=VALUE"),
    (["tag", "fraud_detector", "bad key=x"], "tag key 'bad key' is not allowed"),
    (["tag", "fraud_detector", "a=1", "--remove", "a"], "tag 'a' is both set and removed"),
    (["tag", "nope", "a=1"], "no artifact 'nope'"),
    (["alias", "fraud_detector", "3"], "alias '3' is not allowed: it reads as a version"),
    (["alias", "fraud_detector", "bad alias"], "alias 'bad alias' is not allowed"),
    (["alias", "nope", "production"], "no artifact 'nope'"),
    (["query", "nope", "region=us"], "no artifact is named 'nope'"),
    (["query", "ride_count_data", "region"], "partition 'region' is not KEY=VALUE"),
    (["query", "ride_count_data", "region=mars"], "matches region=mars"),
    (["query", "ride_count_data", "--time", "yesterday"], "--time 'yesterday' is not an ISO"),
    (["query", "ride_count_data", "--from", "2026-01-01"], "--from and --to go together"),
    (["query", "ride_count_data", "--to", "2026-13-01", "--from", "2026-01-01"], "--to '2026-13"),
    (
        [
            "query",
            "ride_count_data",
            "--time",
            "2026-01-01",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-02",
        ],  # fmt: skip
        "not both",
    ),
    (["query", "ride_count_data", "name=x"], "has no partition key 'name' (its keys: region)"),
    (["delete", "fraud_detector"], "which version of 'fraud_detector'? give --version N"),
    (["delete", "nope", "--version", "1"], "no artifact 'nope' version 1"),
    (["delete", "fraud_detector", "--version", "9"], "no artifact 'fraud_detector' version 9"),
]


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_error_line(
    run: Run, shop: Shop, tmp_path: Path, argv: list[str], message: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    fill = {"v1": shop.v1, "v2": shop.v2, "file": str(tmp_path / "a-file"), "tmp": str(tmp_path)}
    argv = [a.format(**fill) for a in argv]
    for json_mode in ([], ["--json"]):
        result = run(*shop.c(*json_mode, "artifacts", *argv))
        result.assert_one_line_error(message)
        assert result.out == ""
    with Catalog(shop.loc) as cat:  # nothing changed
        assert cat.artifacts.get(shop.v1).tags == {"stage": "staging", "team": "fraud"}
        assert cat.artifacts.get("fraud_detector").rid == shop.v2
        assert cat.artifacts.get(shop.v1).aliases == []


# --- through a server ------------------------------------------------------------------------


def test_through_a_server_writers_tag_and_curators_delete(
    run: Run, remote_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with remote_server.catalog("writer") as writer:
        v = writer.artifacts.register("served", artifact_type="Model", data={"k": 1})
    url = remote_server.url
    monkeypatch.setenv("ASSETRY_TOKEN", remote_server.tokens["writer"])
    run("--catalog", url, "artifacts", "tag", "served", "stage=production").ok()
    run("--catalog", url, "artifacts", "alias", "served", "production").ok()
    found = run("--catalog", url, "--json", "artifacts", "search", "stage:production").json()
    assert [f["rid"] for f in found] == [v.rid]
    run("--catalog", url, "artifacts", "get", "served", "--dest", str(tmp_path / "s")).ok()
    assert json.loads((tmp_path / "s" / "objects" / "data.json").read_text()) == {"k": 1}
    run("--catalog", url, "artifacts", "delete", v.rid).assert_one_line_error()
    monkeypatch.setenv("ASSETRY_TOKEN", remote_server.tokens["curator"])
    out = run("--catalog", url, "artifacts", "delete", "served", "--version", "1").ok()
    assert out.startswith(f"Deleted served v1 ({v.rid})")
