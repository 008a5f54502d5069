"""The documentation site's examples run: every Python and shell block of every page of
``docs/`` (each page in a fresh folder, its blocks in order in one namespace, pages in
parallel under xdist), unless the block's first line is ``# not run: <reason>``; and
every public name of ``assetry`` has documentation for the generated reference.

Shell blocks run line by line as a shell would: ``assetry ...`` commands in this process
through the command's own ``main`` (so a page of commands costs no interpreter start-ups),
with ``| ...`` and ``> file`` after them done by bash; ``export NAME=VALUE`` and
``NAME=$(assetry ...)`` set variables; every other line (heredocs included) goes to bash
with the virtual environment's ``bin`` first on ``PATH``. Every line must succeed.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import io
import linecache
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import assetry
from assetry import Catalog
from assetry.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NOT_RUN = "# not run:"
RUN = {"python", "sh"}
# Languages that are shown, not run: pictures, data and configuration of other programs.
INERT = {"text", "json", "csv", "yaml", "toml", "ini", "nginx", "caddy", "dot", "mermaid"}
FENCE = re.compile(r"^( *)```([\w-]*)([^\n]*)\n(.*?)^\1```", flags=re.M | re.S)
# A shown block with a title (```json title="model.json") is that file: it is written into
# the page's folder when the page runs, as a reader would save it.
TITLE = re.compile(r'title="([^"/]+)"')


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "hooks" not in p.relative_to(DOCS).parts)


def fenced(path: Path) -> list[tuple[str, str]]:
    """(language, code) of each fenced block of a page, in order, de-indented."""
    return [(language, code) for language, _, code in titled(path)]


def titled(path: Path) -> list[tuple[str, str | None, str]]:
    """(language, file name from its title or None, code) of each fenced block."""
    text = path.read_text(encoding="utf-8")
    found = []
    for indent, language, info, body in FENCE.findall(text):
        lines = [line[len(indent) :] for line in body.splitlines()]
        title = TITLE.search(info)
        code = "\n".join(lines) + "\n"
        found.append((language or "text", title.group(1) if title else None, code))
    return found


def not_run_reason(code: str) -> str | None:
    first = code.lstrip().splitlines()[0] if code.strip() else ""
    return first[len(NOT_RUN) :].strip() if first.startswith(NOT_RUN) else None


# --- a small shell -----------------------------------------------------------------------


def _commands(block: str) -> list[str]:
    """The block's commands: continuation lines joined, heredocs kept whole, comments and
    blank lines dropped."""
    lines = block.splitlines()
    commands: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i].strip()
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", line)
        if heredoc:
            end = heredoc.group(1)
            body = []
            while i < len(lines) and lines[i].strip() != end:
                body.append(lines[i])
                i += 1
            i += 1
            line = "\n".join([line, *body, end])
        commands.append(line)
    return commands


def _split_top(line: str) -> tuple[str, str]:
    """``line`` cut at its first unquoted ``|`` or ``>``: (command, the rest)."""
    quote = ""
    for at, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (at == 0 or line[at - 1].isspace()):
            return line[:at], ""
        elif char in "|>":
            return line[:at], line[at:]
    return line, ""


def _bash(script: str, cwd: Path, stdin: str | None = None) -> str:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (script, done.stdout, done.stderr)
    return done.stdout


def _assetry(command: str) -> str:
    """Run one ``assetry ...`` command in this process; its standard output."""
    line = os.path.expandvars(command)
    argv: list[str] = []
    for word in shlex.split(line)[1:]:
        quoted = f"'{word}'" in line or f'"{word}"' in line
        matches = sorted(glob.glob(word)) if not quoted and re.search(r"[*?[]", word) else []
        argv += matches or [word]  # a shell expands unquoted patterns that match
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors and --help
            code = exc.code if isinstance(exc.code, int) else 1
    assert code == 0, (command, out.getvalue(), err.getvalue())
    return out.getvalue()


def run_shell(block: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for line in _commands(block):
        stripped = line.strip()
        if stripped.startswith("export ") and "$(" not in stripped:
            for pair in shlex.split(os.path.expandvars(stripped))[1:]:
                name, _, value = pair.partition("=")
                monkeypatch.setenv(name, value)
            continue
        assignment = re.fullmatch(r"(\w+)=\$\((assetry [^()]*)\)", stripped)
        if assignment:
            monkeypatch.setenv(assignment.group(1), _assetry(assignment.group(2)).strip())
            continue
        command, rest = _split_top(stripped)
        if command.startswith("assetry ") and "\n" not in line:
            out = _assetry(command)
            if rest.startswith("|"):
                _bash(rest[1:], cwd, stdin=out)
            elif rest.startswith(">"):
                target = rest.lstrip(">").strip()
                mode = "a" if rest.startswith(">>") else "w"
                with open(cwd / os.path.expandvars(target), mode, encoding="utf-8") as f:
                    f.write(out)
            continue
        _bash(line, cwd)


# --- the tests ---------------------------------------------------------------------------


def test_every_tutorial_is_a_story_that_runs() -> None:
    for page in sorted((DOCS / "tutorials").glob("*.md")):
        runnable = [c for lang, c in fenced(page) if lang == "python" and not not_run_reason(c)]
        assert len(runnable) >= 3, f"{page.name}: a tutorial is code a reader can run"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_every_block_of_the_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ASSETRY_CATALOG", "ASSETRY_WORKDIR", "ASSETRY_CACHE", "ASSETRY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    namespace: dict[str, Any] = {"__name__": "docs"}
    try:
        for number, (language, title, code) in enumerate(titled(page), start=1):
            assert language in RUN | INERT, f"{page.name} block {number}: ```{language}"
            reason = not_run_reason(code)
            if language not in RUN:
                if title:
                    (tmp_path / title).write_text(code, encoding="utf-8")
                continue
            if reason is not None:
                assert reason, f"{page.name} block {number}: '# not run:' needs a reason"
                continue
            where = f"{page.relative_to(DOCS)} block {number}"
            if language == "python":
                # Known to linecache, so a failure's traceback shows the page's lines.
                linecache.cache[where] = (len(code), None, code.splitlines(True), where)
                exec(compile(code, where, "exec"), namespace)  # the page's own example
            else:
                run_shell(code, tmp_path, monkeypatch)
    finally:
        for value in list(namespace.values()):
            if isinstance(value, Catalog):
                value.close()


def test_every_fence_is_closed() -> None:
    """A runnable block inside an admonition or a list is found and run too."""
    for page in pages():
        text = page.read_text(encoding="utf-8")
        fences = re.findall(r"^ *```", text, flags=re.M)
        assert len(fences) == 2 * len(fenced(page)), f"{page.name}: an unclosed fence"


def _hook() -> ModuleType:
    path = DOCS / "hooks" / "reference.py"
    spec = importlib.util.spec_from_file_location("assetry_docs_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_is_documented() -> None:
    hook = _hook()
    missing = [name for name in assetry.__all__ if not hook.documentation(name)]
    assert not missing, f"public names without a docstring (or a #: comment): {missing}"


def test_the_python_reference_lists_every_public_name() -> None:
    page = _hook().python_page()
    for name in assetry.__all__:
        assert f"`{name}`" in page or f"assetry.{name}\n" in page, name


def test_the_cli_reference_has_every_command() -> None:
    page = _hook().cli_page()
    for command in ("assetry init", "assetry bag export", "assetry artifacts alias", "assetry ui"):
        assert f"## `{command}`" in page or f"# `{command}`" in page, command
