"""The ``dataset`` and ``bag`` subcommands, run in-process through ``main(argv)`` (helpers
shared with ``test_cli.py``)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog, ColumnDef, TableDef
from tests.cli.test_cli import make_runner
from tests.conftest import BAGIT_CONFORMANCE, BuildCatalog, NewCatalog

CONFORMANCE = BAGIT_CONFORMANCE / "v1.0" / "invalid"


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    return make_runner(capsys)


@dataclass
class Study:
    """A catalog with subjects and images as element types and one dataset at 0.2.0."""

    loc: str
    dataset: str  # members: subjects[0] and both images
    subjects: list[str]
    images: list[str]
    note: str  # a row of a table that is not an element type

    def c(self, *argv: str) -> list[str]:
        return ["--catalog", self.loc, *argv]


def study_model(cat: Catalog) -> tuple[str, list[str], list[str], str]:
    """Subject, Note, Image (of a subject), two element types, two subjects, a note, two
    ingested images and dataset 0.2.0 of S1 and both images: (dataset, subjects, images,
    note)."""
    cat.create_table(TableDef("Subject", [ColumnDef("Name", "text")]))
    cat.create_table(TableDef("Note", [ColumnDef("Text", "text")]))
    cat.create_asset("Image", [ColumnDef("Width", "int4")], referenced_tables=["Subject"])
    cat.add_dataset_element_type("Subject")
    cat.add_dataset_element_type("Image")
    subjects = cat.insert("Subject", [{"Name": "S1"}, {"Name": "S2"}])
    [note] = cat.insert("Note", [{"Text": "not a member"}])
    with tempfile.TemporaryDirectory() as folder:
        files = [Path(folder) / "a.png", Path(folder) / "b.png"]
        files[0].write_bytes(b"alpha pixels" * 10)
        files[1].write_bytes(b"beta pixels" * 10)
        images = [a["RID"] for a in cat.upload_assets("Image", files)]
    cat.update("Image", [{"RID": images[0], "Subject": subjects[0], "Width": 64}])
    ds = cat.create_dataset("Training", description="study")
    assert cat.add_dataset_members(ds, [subjects[0], *images]) == "0.2.0"
    return ds, subjects, images, note


@pytest.fixture
def study(built_catalog: BuildCatalog) -> Study:
    """A catalog holding ``study_model`` (copied from one built once)."""
    cat, (ds, subjects, images, note) = built_catalog(study_model)
    cat.close()
    return Study(cat.location, ds, subjects, images, note)


def test_help_lists_the_new_commands(run: Any) -> None:
    result = run("--help")
    assert "dataset" in result.out and "bag" in result.out
    for sub in ("create", "add", "remove", "element-type", "members", "version", "history"):
        assert sub in run("dataset", "--help").out
    for sub in ("export", "download", "validate", "materialize", "import"):
        assert sub in run("bag", "--help").out


@pytest.mark.parametrize(
    "argv",
    [
        ["dataset"],
        ["dataset", "add", "X"],
        ["dataset", "remove"],
        ["dataset", "create", "--type"],
        ["dataset", "version", "X"],
        ["dataset", "version", "X", "huge"],
        ["dataset", "members"],
        ["bag"],
        ["bag", "export"],
        ["bag", "export", "X", "--archive", "rar"],
        ["bag", "validate"],
        ["bag", "import", "a", "b"],
    ],
)
def test_usage_errors_exit_2(run: Any, argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2
    assert "usage:" in result.err


# --- dataset create, element-type ------------------------------------------------------------


def test_dataset_create(run: Any, study: Study) -> None:
    text = run(*study.c("dataset", "create", "--description", "held out"))
    assert text.code == 0, text.err
    rid = text.out.strip()
    assert text.out == rid + "\n"
    doc = run(
        *study.c(
            "--json", "dataset", "create", "--type", "training", "Testing", "--version", "2.0.0"
        )
    ).json()
    assert doc["version"] == "2.0.0" and doc["rid"] != rid
    assert sorted(doc["dataset_types"]) == ["Testing", "Training"]
    with Catalog(study.loc) as cat:
        assert [v.version for v in cat.dataset_history(rid)] == ["0.1.0"]
        assert cat.resolve_rid(rid).row["Description"] == "held out"
        found = {d["RID"]: d for d in cat.find_datasets()}
        assert sorted(found[doc["rid"]]["Dataset_Type"]) == ["Testing", "Training"]


def test_dataset_create_errors(run: Any, study: Study) -> None:
    run(*study.c("dataset", "create", "--type", "Blurry")).assert_one_line_error("'Blurry'")
    run(*study.c("dataset", "create", "--version", "one")).assert_one_line_error("'one'")
    with Catalog(study.loc) as cat:
        assert len(cat.find_datasets()) == 1


def test_dataset_element_type(run: Any, study: Study) -> None:
    text = run(*study.c("dataset", "element-type", "Note"))
    assert text.code == 0, text.err
    assert text.out == "Rows of Note can be dataset members (membership table Dataset_Note)\n"
    doc = run(*study.c("--json", "dataset", "element-type", "Note")).json()  # again: no change
    assert doc["association"] == "Dataset_Note"
    assert set(doc["element_types"]) == {"Subject", "Image", "Note"}
    added = run(*study.c("dataset", "add", study.dataset, study.note))
    assert added.out == "0.3.0\n"
    run(*study.c("dataset", "element-type", "Nope")).assert_one_line_error("'Nope'")


# --- dataset add, remove ---------------------------------------------------------------------


def test_dataset_add_and_remove(run: Any, study: Study) -> None:
    s2 = study.subjects[1]
    added = run(*study.c("dataset", "add", study.dataset.lower(), s2, "--description", "more"))
    assert added.code == 0, added.err
    assert added.out == "0.3.0\n"
    same = run(*study.c("dataset", "add", study.dataset, s2))
    assert same.code == 0, same.err
    assert same.out.startswith("Nothing changed") and "still version 0.3.0" in same.out
    doc = run(*study.c("--json", "dataset", "add", study.dataset, s2)).json()
    assert doc == {
        "dataset": study.dataset,
        "changed": False,
        "version": "0.3.0",
        "previous_version": "0.3.0",
    }
    removed = run(*study.c("--json", "dataset", "remove", study.dataset, s2, study.images[1]))
    assert removed.code == 0, removed.err
    assert removed.json()["version"] == "0.4.0" and removed.json()["changed"] is True
    again = run(*study.c("dataset", "remove", study.dataset, s2))
    assert again.out.startswith("Nothing changed") and "not members" in again.out
    with Catalog(study.loc) as cat:
        history = cat.dataset_history(study.dataset)
        assert [v.version for v in history] == ["0.1.0", "0.2.0", "0.3.0", "0.4.0"]
        assert history[2].description == "more"
        members = cat.list_dataset_members(study.dataset)
        assert [m["RID"] for m in members["Image"]] == [study.images[0]]


def test_dataset_add_errors(run: Any, study: Study) -> None:
    s2 = study.subjects[1]
    run(*study.c("dataset", "add", "ZZZZ-ZZZZ", s2)).assert_one_line_error("ZZZZ-ZZZZ")
    run(*study.c("dataset", "remove", "ZZZZ-ZZZZ", s2)).assert_one_line_error("ZZZZ-ZZZZ")
    run(*study.c("dataset", "add", s2, study.images[0])).assert_one_line_error(s2, "not a Dataset")
    run(*study.c("dataset", "add", study.dataset, study.note)).assert_one_line_error(
        study.note, "'Note'", "not a dataset element type"
    )
    run(*study.c("dataset", "add", study.dataset, "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")
    with Catalog(study.loc) as cat:
        assert cat.dataset_history(study.dataset)[-1].version == "0.2.0"


# --- dataset members -------------------------------------------------------------------------


def test_dataset_members(run: Any, study: Study) -> None:
    doc = run(*study.c("--json", "dataset", "members", study.dataset.lower())).json()
    assert doc["dataset"] == study.dataset and doc["version"] == "0.2.0"
    assert doc["recurse"] is False
    assert [m["RID"] for m in doc["members"]["Subject"]] == [study.subjects[0]]
    assert {m["RID"] for m in doc["members"]["Image"]} == set(study.images)
    assert doc["members"]["Image"][0]["SHA256"]

    text = run(*study.c("dataset", "members", study.dataset))
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0] == f"Dataset {study.dataset} version 0.2.0: 3 member(s)"
    assert "Subject (1):" in lines and "Image (2):" in lines
    subject_part = text.out.split("Subject (1):")[1]
    assert subject_part.splitlines()[1].split() == ["RID", "Name"]
    assert f"  {study.subjects[0]}  S1" in subject_part

    first = run(*study.c("--json", "dataset", "members", study.dataset, "--version", "0.1.0"))
    assert first.json()["members"] == {} or not any(first.json()["members"].values())
    empty = run(*study.c("dataset", "members", study.dataset, "--version", "0.1.0"))
    assert empty.out.splitlines()[0] == f"Dataset {study.dataset} version 0.1.0: 0 member(s)"


def test_dataset_members_recurse(run: Any, study: Study) -> None:
    parent = run(*study.c("dataset", "create", "--type", "Split")).out.strip()
    assert run(*study.c("dataset", "add", parent, study.dataset)).out == "0.2.0\n"
    flat = run(*study.c("--json", "dataset", "members", parent)).json()["members"]
    assert [m["RID"] for m in flat["Dataset"]] == [study.dataset]
    assert not flat.get("Image")
    deep = run(*study.c("--json", "dataset", "members", parent, "--recurse")).json()
    assert deep["recurse"] is True
    assert {m["RID"] for m in deep["members"]["Image"]} == set(study.images)
    text = run(*study.c("dataset", "members", parent, "--recurse")).out
    assert "with the members of nested datasets" in text and "Image (2):" in text


def test_dataset_members_errors(run: Any, study: Study) -> None:
    run(*study.c("dataset", "members", "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")
    missing = run(*study.c("--json", "dataset", "members", study.dataset, "--version", "9.9.9"))
    missing.assert_one_line_error("no version '9.9.9'", "0.1.0, 0.2.0")
    assert missing.out == ""
    run(*study.c("dataset", "members", study.subjects[0])).assert_one_line_error(study.subjects[0])


# --- dataset version, history, list ----------------------------------------------------------


def test_dataset_version(run: Any, study: Study) -> None:
    text = run(*study.c("dataset", "version", study.dataset, "patch", "--description", "fixes"))
    assert text.code == 0, text.err
    assert text.out == "0.2.1\n"
    doc = run(*study.c("--json", "dataset", "version", study.dataset.lower(), "major")).json()
    assert doc == {"dataset": study.dataset, "version": "1.0.0", "previous_version": "0.2.1"}
    assert run(*study.c("dataset", "version", study.dataset, "minor")).out == "1.1.0\n"
    run(*study.c("dataset", "version", "ZZZZ-ZZZZ", "minor")).assert_one_line_error("ZZZZ-ZZZZ")


def test_dataset_history(run: Any, study: Study) -> None:
    run(*study.c("dataset", "version", study.dataset, "patch", "--description", "fixed a label"))
    doc = run(*study.c("--json", "dataset", "history", study.dataset)).json()
    assert [v["version"] for v in doc] == ["0.1.0", "0.2.0", "0.2.1"]
    assert doc[0]["description"] == "study" and doc[2]["description"] == "fixed a label"
    assert doc[0]["snapshot"] < doc[1]["snapshot"] < doc[2]["snapshot"]
    assert all(v["dataset"] == study.dataset and "T" in v["created"] for v in doc)

    lines = run(*study.c("dataset", "history", study.dataset)).out.splitlines()
    assert lines[0].split() == ["VERSION", "SNAPSHOT", "CREATED", "DESCRIPTION"]
    assert lines[2].split()[0:2] == ["0.1.0", str(doc[0]["snapshot"])]
    assert lines[4].startswith("0.2.1") and lines[4].endswith("fixed a label")
    run(*study.c("dataset", "history", "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")


def test_dataset_list(run: Any, study: Study) -> None:
    other = run(*study.c("dataset", "create", "--type", "Testing", "Labeled")).out.strip()
    doc = run(*study.c("--json", "dataset", "list")).json()
    by_rid = {d["RID"]: d for d in doc}
    assert set(by_rid) == {study.dataset, other}
    assert by_rid[study.dataset]["Version"] == "0.2.0"
    assert by_rid[study.dataset]["Dataset_Type"] == ["Training"]
    training = run(*study.c("--json", "dataset", "list", "--type", "training")).json()
    assert [d["RID"] for d in training] == [study.dataset]

    lines = run(*study.c("dataset", "list")).out.splitlines()
    assert lines[0].split() == ["RID", "VERSION", "TYPE", "DESCRIPTION"]
    row = next(line for line in lines if line.startswith(study.dataset))
    assert row.split() == [study.dataset, "0.2.0", "Training", "study"]
    assert "Labeled, Testing" in next(line for line in lines if line.startswith(other))
    none = run(*study.c("dataset", "list", "--type", "Validation"))
    assert none.code == 0 and none.out == "(no datasets of type 'Validation')\n"
    run(*study.c("dataset", "list", "--type", "Blurry")).assert_one_line_error("'Blurry'")


# --- bag export, download --------------------------------------------------------------------


@pytest.fixture
def bags() -> None:
    """Bag commands need the bag reader and writer."""
    pytest.importorskip("assetry.bags.reader")
    pytest.importorskip("assetry.bags.writer")


def bag_name(study: Study, version: str) -> str:
    return f"Dataset_{study.dataset}_v{version}"


def image_path(study: Study, bag_dir: Path, which: int, name: str) -> Path:
    return bag_dir / "data" / "assets" / "Image" / study.images[which] / name


def test_bag_export(run: Any, study: Study, bags: None, tmp_path: Path) -> None:
    dest = tmp_path / "out"
    text = run(*study.c("bag", "export", study.dataset.lower(), "--dest", str(dest)))
    assert text.code == 0, text.err
    bag_dir = dest / bag_name(study, "0.2.0")
    assert text.out == f"{bag_dir}\n"
    assert (bag_dir / "bagit.txt").is_file() and not (bag_dir / "fetch.txt").exists()
    assert image_path(study, bag_dir, 0, "a.png").read_bytes() == b"alpha pixels" * 10

    doc = run(
        *study.c("--json", "bag", "export", study.dataset, "--version", "0.1.0"),
        "--dest", str(tmp_path / "zips"), "--archive", "zip",
    ).json()  # fmt: skip
    assert doc["version"] == "0.1.0" and doc["archive"] == "zip"
    assert doc["dataset"] == study.dataset
    assert Path(doc["path"]).is_file() and doc["path"].endswith(".zip")

    lazy = run(
        *study.c("--json", "bag", "export", study.dataset, "--no-materialize"),
        "--dest", str(tmp_path / "lazy"),
    ).json()  # fmt: skip
    assert lazy["materialized"] is False
    assert (Path(lazy["path"]) / "fetch.txt").is_file()
    assert not image_path(study, Path(lazy["path"]), 0, "a.png").exists()

    linked = run(*study.c("bag", "export", study.dataset, "--link", "--dest", str(tmp_path / "l")))
    assert linked.code == 0, linked.err
    assert image_path(study, Path(linked.out.strip()), 1, "b.png").is_file()


def test_bag_export_errors(run: Any, study: Study, bags: None, tmp_path: Path) -> None:
    dest = str(tmp_path / "out")
    run(*study.c("bag", "export", "ZZZZ-ZZZZ", "--dest", dest)).assert_one_line_error("ZZZZ-ZZZZ")
    missing = run(*study.c("bag", "export", study.dataset, "--version", "9.9.9", "--dest", dest))
    missing.assert_one_line_error("no version '9.9.9'")
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    run(*study.c("bag", "export", study.dataset, "--dest", str(a_file))).assert_one_line_error(
        "a-file", "not a directory"
    )
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_bag_download(run: Any, study: Study, bags: None, tmp_path: Path) -> None:
    dest = tmp_path / "bags"
    text = run(*study.c("bag", "download", study.dataset, "--dest", str(dest)))
    assert text.code == 0, text.err
    bag_dir = dest / bag_name(study, "0.2.0")
    assert text.out == f"{bag_dir}\n"
    assert image_path(study, bag_dir, 1, "b.png").read_bytes() == b"beta pixels" * 10
    doc = run(
        *study.c("--json", "bag", "download", study.dataset, "--version", "0.1.0"),
        "--dest", str(dest), "--no-materialize",
    ).json()  # fmt: skip
    assert doc["dataset"] == study.dataset and doc["version"] == "0.1.0"
    assert Path(doc["path"]) == dest / bag_name(study, "0.1.0")
    default = run(*study.c("bag", "download", study.dataset))  # the catalog's own folder
    assert default.code == 0, default.err
    assert Path(default.out.strip()).is_dir()
    run(*study.c("bag", "download", "ZZZZ-ZZZZ")).assert_one_line_error("ZZZZ-ZZZZ")
    run(*study.c("bag", "download", study.dataset, "--version", "3.0.0")).assert_one_line_error(
        "no version '3.0.0'"
    )


def export(run: Any, study: Study, dest: Path, *options: str) -> Path:
    result = run(*study.c("bag", "export", study.dataset, "--dest", str(dest), *options))
    assert result.code == 0, result.err
    return Path(result.out.strip())


# --- bag validate ----------------------------------------------------------------------------


def test_bag_validate(run: Any, study: Study, bags: None, tmp_path: Path) -> None:
    bag_dir = export(run, study, tmp_path / "out")
    text = run("bag", "validate", str(bag_dir))
    assert text.code == 0, text.err
    assert text.out.startswith(f"{bag_dir}: valid bag of dataset {study.dataset} version 0.2.0")
    doc = run("--json", "bag", "validate", str(bag_dir), "--fast").json()
    assert doc["valid"] is True and doc["fast"] is True and doc["complete"] is True
    assert (doc["dataset"], doc["version"]) == (study.dataset, "0.2.0")
    archive = export(run, study, tmp_path / "tgz", "--archive", "tgz")
    packed = run("bag", "validate", str(archive))
    assert packed.code == 0, packed.err
    assert packed.out.startswith(f"{archive}: valid bag of dataset {study.dataset}")
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]  # extracted, removed
    lazy = export(run, study, tmp_path / "lazy", "--no-materialize")
    run("bag", "validate", str(lazy), "--fast").assert_one_line_error("incomplete", "a.png")


def test_bag_validate_a_tampered_bag(run: Any, study: Study, bags: None, tmp_path: Path) -> None:
    bag_dir = export(run, study, tmp_path / "out")
    payload = image_path(study, bag_dir, 0, "a.png")
    payload.chmod(0o644)
    payload.write_bytes(b"alpha pixelz" * 10)  # same size: only the checksums tell
    relative = payload.relative_to(bag_dir).as_posix()
    result = run("bag", "validate", str(bag_dir))
    result.assert_one_line_error(relative)
    assert result.out == ""
    doc = run("--json", "bag", "validate", str(bag_dir))
    doc.assert_one_line_error(relative)
    assert doc.json()["valid"] is False and relative in doc.json()["error"]
    assert run("bag", "validate", str(bag_dir), "--fast").code == 0  # sizes still match
    with Catalog(study.loc) as cat:
        assert cat.fsck().ok  # editing the bag never changes a stored object


@pytest.mark.parametrize("name", sorted(p.name for p in CONFORMANCE.iterdir()))
def test_bag_validate_conformance_invalid(run: Any, bags: None, tmp_path: Path, name: str) -> None:
    bag_dir = tmp_path / name
    shutil.copytree(CONFORMANCE / name, bag_dir)  # never touch the shared suite
    result = run("bag", "validate", str(bag_dir))
    result.assert_one_line_error()
    assert result.out == ""


def test_bag_validate_missing_path(run: Any, bags: None, tmp_path: Path) -> None:
    run("bag", "validate", str(tmp_path / "nothing")).assert_one_line_error("nothing")


# --- bag materialize -------------------------------------------------------------------------


def test_bag_materialize(run: Any, study: Study, bags: None, tmp_path: Path) -> None:
    lazy = export(run, study, tmp_path / "lazy", "--no-materialize")
    wanted = {
        image_path(study, lazy, 0, "a.png").relative_to(lazy).as_posix(),
        image_path(study, lazy, 1, "b.png").relative_to(lazy).as_posix(),
    }
    doc = run("--json", "bag", "materialize", str(lazy))
    assert doc.code == 0, doc.err
    assert doc.json()["complete"] is True
    assert {f["path"] for f in doc.json()["fetched"]} == wanted
    assert image_path(study, lazy, 1, "b.png").read_bytes() == b"beta pixels" * 10
    assert run("bag", "validate", str(lazy)).code == 0
    again = run("bag", "materialize", str(lazy))
    assert again.code == 0 and again.out == f"Nothing to fetch: {lazy} is complete\n"

    text_bag = export(run, study, tmp_path / "lazy2", "--no-materialize")
    text = run("bag", "materialize", str(text_bag))
    assert text.code == 0, text.err
    assert text.out.startswith(f"Fetched 2 file(s) into {text_bag}:")
    assert all(path in text.out for path in (p.replace("lazy", "lazy2") for p in wanted))


def test_bag_materialize_errors(run: Any, study: Study, bags: None, tmp_path: Path) -> None:
    lazy = export(run, study, tmp_path / "lazy", "--no-materialize")
    with Catalog(study.loc) as cat:  # the fetched bytes no longer match the manifest
        sha = cat.resolve_rid(study.images[0]).row["SHA256"]
    stored = Path(study.loc) / "objects" / sha[:2] / sha[2:]
    stored.chmod(0o644)
    stored.write_bytes(b"alpha pixelz" * 10)
    run("bag", "materialize", str(lazy)).assert_one_line_error("a.png")
    run("bag", "materialize", str(tmp_path / "nothing")).assert_one_line_error("nothing")


# --- bag import ------------------------------------------------------------------------------


def test_bag_import(
    run: Any, study: Study, bags: None, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    archive = export(run, study, tmp_path / "out", "--archive", "zip")
    other = tmp_path / "other"
    new_catalog(other).close()
    doc = run("--catalog", str(other), "--json", "bag", "import", str(archive))
    assert doc.code == 0, doc.err
    added = doc.json()["added"]
    assert added["Image"] == 2 and added["Subject"] == 1
    assert doc.json()["total"] == sum(added.values())
    assert doc.json()["dataset"] == study.dataset and doc.json()["version"] == "0.2.0"
    with Catalog(other) as cat:
        # The bag holds 0.2.0 only: the empty 0.1.0 is not in it.
        assert [v.version for v in cat.dataset_history(study.dataset)] == ["0.2.0"]
        image = cat.resolve_rid(study.images[0]).row
        assert image["Width"] == 64 and image["Subject"] == study.subjects[0]
        assert cat.fsck().ok
    again = run("--catalog", str(other), "bag", "import", str(archive))
    assert again.code == 0, again.err
    assert again.out.startswith("Nothing new")

    third = tmp_path / "third"
    new_catalog(third).close()
    text = run("--catalog", str(third), "bag", "import", str(export(run, study, tmp_path / "f")))
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0].startswith("Imported ") and f"dataset {study.dataset} version 0.2.0" in lines[0]
    assert lines[1].split() == ["TABLE", "ROWS"]
    assert any(line.split() == ["Image", "2"] for line in lines)


def test_bag_import_errors(
    run: Any, study: Study, bags: None, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    bag_dir = export(run, study, tmp_path / "out")
    other = tmp_path / "other"
    new_catalog(other).close()
    payload = image_path(study, bag_dir, 1, "b.png")
    payload.chmod(0o644)
    payload.write_bytes(b"beta pixelz" * 10)
    bad = run("--catalog", str(other), "bag", "import", str(bag_dir))
    bad.assert_one_line_error("b.png")
    with Catalog(other) as cat:
        assert cat.find_datasets() == []
    run("--catalog", str(other), "bag", "import", str(tmp_path / "none")).assert_one_line_error(
        "none"
    )


def test_bag_import_conflict_imports_nothing(
    run: Any, study: Study, bags: None, tmp_path: Path, new_catalog: NewCatalog
) -> None:
    other = tmp_path / "other"
    new_catalog(other).close()
    first = export(run, study, tmp_path / "first")
    assert run("--catalog", str(other), "bag", "import", str(first)).code == 0
    s1 = study.subjects[0]
    with Catalog(other) as cat:
        cat.update("Subject", [{"RID": s1, "Name": "local edit"}])
        before = cat.snapshot()
    with Catalog(study.loc) as cat:
        cat.update("Subject", [{"RID": s1, "Name": "source edit"}])
    assert run(*study.c("dataset", "version", study.dataset, "patch")).out == "0.2.1\n"
    newer = export(run, study, tmp_path / "newer")
    result = run("--catalog", str(other), "--json", "bag", "import", str(newer))
    result.assert_one_line_error(s1)
    assert result.out == ""
    with Catalog(other) as cat:
        assert cat.snapshot() == before
        assert [v.version for v in cat.dataset_history(study.dataset)] == ["0.2.0"]
