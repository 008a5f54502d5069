"""The README's examples run: every Python block (in order, in a fresh folder), the
commands of its "Command line" section, and the model document of
``docs/model-document.md`` applied to a fresh catalog."""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

from assetry import Catalog
from assetry.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MODEL_DOC = ROOT / "docs" / "model-document.md"
NOT_RUN = "# not run:"


def blocks(path: Path, language: str) -> list[str]:
    """The fenced code blocks of ``language`` in a Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}(?: [^\n]*)?\n(.*?)^```", text, flags=re.M | re.S)


def section(path: Path, title: str) -> str:
    """The text of the ``## title`` section."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, flags=re.M | re.S)
    assert match, f"no section {title!r} in {path.name}"
    return match.group(1)


def test_the_readme_starts_with_make_demo_and_make_test() -> None:
    first = blocks(README, "sh")[0].strip().splitlines()
    assert [line.split()[:2] for line in first] == [["make", "demo"], ["make", "test"]]


def test_the_readme_points_only_inside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert "../" not in text
    for name in re.findall(r"`((?:docs|benchmarks|src|tests)/[^`\s]*)`", text):
        assert (ROOT / name).exists(), name


def test_every_python_block_of_the_readme_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETRY_CATALOG", raising=False)
    monkeypatch.delenv("ASSETRY_WORKDIR", raising=False)
    monkeypatch.delenv("ASSETRY_CACHE", raising=False)
    # The input files the examples name.
    (tmp_path / "scan1.png").write_bytes(b"\x89PNG first scan")
    (tmp_path / "scan2.png").write_bytes(b"\x89PNG second scan")
    found = blocks(README, "python")
    skipped = [b for b in found if b.lstrip().startswith(NOT_RUN)]
    to_run = [b for b in found if not b.lstrip().startswith(NOT_RUN)]
    assert len(skipped) <= 2, "only server and PostgreSQL blocks may be skipped"
    for block in skipped:
        reason = block.lstrip().splitlines()[0]
        assert re.search(r"server|PostgreSQL", reason), reason
    namespace: dict[str, Any] = {"__name__": "readme"}
    ran = 0
    try:
        for number, block in enumerate(to_run, start=1):
            code = compile(block, f"README.md python block {number}", "exec")
            exec(code, namespace)  # the README's own examples
            ran += 1
    finally:
        for value in list(namespace.values()):
            if isinstance(value, Catalog):
                value.close()
    assert ran == len(to_run) == len(found) - len(skipped) >= 3
    # What the blocks promise, checked.
    assert "Image" in capsys.readouterr().out  # the lineage printed
    assert (tmp_path / "my-catalog").is_dir() and (tmp_path / "elsewhere").is_dir()
    with Catalog(tmp_path / "elsewhere") as other:
        assert len(other.list_assets("Image")) == 2


def test_every_shell_block_of_the_readme_runs_or_says_why_not() -> None:
    """The first block is the two make commands; "Command line" runs below; any other
    shell block says on its first line why it is not run (the docs' convention)."""
    command_line = section(README, "Command line")
    for block in blocks(README, "sh")[1:]:
        if block in command_line:
            continue
        first = block.lstrip().splitlines()[0]
        assert first.startswith(NOT_RUN) and first[len(NOT_RUN) :].strip(), block


def _command_lines() -> list[str]:
    text = section(README, "Command line")
    [block] = re.findall(r"^```sh\n(.*?)^```", text, flags=re.M | re.S)
    return [line for line in block.splitlines() if line.startswith("assetry ")]


def test_the_command_line_section_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "subjects.csv").write_text("Name,Age,Species\nS1,3,rat\nS2,,\n")
    (tmp_path / "scans").mkdir()
    for n in range(3):
        (tmp_path / "scans" / f"scan{n}.png").write_bytes(f"scan {n}".encode())
    (tmp_path / "scans" / "notes.txt").write_text("not an image")
    lines = _command_lines()
    assert len(lines) >= 10
    rid = None
    for line in lines:
        # What a shell would do with the rest of the line (a pipe into graphviz) is not
        # assetry's part.
        command = line.split("|")[0]
        argv = shlex.split(command, comments=True)[1:]
        if rid is not None:
            argv = [rid if a == "<RID>" else a for a in argv]
        assert "<RID>" not in argv, line
        code = main(argv)
        out, err = capsys.readouterr()
        assert code == 0, (line, err)
        if "assets ingest" in line:
            assert "Ingested 3 file(s)" in out  # the folder's *.png only
            rid = out.splitlines()[3].split()[0]
    with Catalog(tmp_path / "lab") as cat:
        assert {a["Width"] for a in cat.list_assets("Image")} == {512}
        species = {r["Species"] for r in cat.get_table_as_dict("Subject")}
        assert species == {"Rattus norvegicus", None}


def _model_example() -> dict[str, Any]:
    [doc] = [json.loads(b) for b in blocks(MODEL_DOC, "json")]
    return doc  # type: ignore[no-any-return]


def _check_applied(cat: Catalog) -> None:
    assert set(cat.list_tables(kind="vocabulary")) >= {"Species"}
    assert "Subject" in cat.list_tables(kind="table")
    assert "Image" in cat.list_tables(kind="asset")
    assert {"Image_Asset_Type", "Image_Execution"} <= set(cat.list_tables())
    cat.add_term("Species", "Mus musculus", synonyms=["mouse"])
    [subject] = cat.insert("Subject", [{"Name": "S1", "Age": 3, "Species": "mouse"}])
    assert cat.resolve_rid(subject).row["Species"] == "Mus musculus"
    assert cat.lookup_term("Asset_Type", "Image").name == "Image"


def test_the_model_document_example_applies_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model.json"
    model.write_text(json.dumps(_model_example()))
    location = str(tmp_path / "cat")
    assert main(["--catalog", location, "init"]) == 0
    assert main(["--catalog", location, "model", "apply", str(model)]) == 0
    out = capsys.readouterr().out
    assert "Applied 3 change(s)" in out
    assert main(["--catalog", location, "model", "apply", str(model)]) == 0
    assert "Nothing to change" in capsys.readouterr().out
    # What `model show --json` prints applies too, and changes nothing.
    assert main(["--catalog", location, "--json", "model", "show"]) == 0
    shown = tmp_path / "shown.json"
    shown.write_text(capsys.readouterr().out)
    assert main(["--catalog", location, "model", "apply", str(shown)]) == 0
    assert "Nothing to change" in capsys.readouterr().out
    with Catalog(location) as cat:
        _check_applied(cat)


def test_the_model_document_example_applies_from_python(tmp_path: Path) -> None:
    with Catalog.create(tmp_path / "cat") as cat:
        changes = cat.apply_model(_model_example())
        assert changes == ["Species", "Subject", "Image"]
        _check_applied(cat)


def test_make_test_leaves_no_temporary_catalogs_behind(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    options = pyproject["tool"]["pytest"]["ini_options"]
    assert options["tmp_path_retention_policy"] == "failed"
    assert options["tmp_path_retention_count"] <= 1
    cache = Path(os.environ["XDG_CACHE_HOME"]).resolve()
    assert cache.is_relative_to(tmp_path_factory.getbasetemp().resolve())
