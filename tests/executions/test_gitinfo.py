"""Source detection: git URL, commit, version, dirty flag and checksum of a script."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from assetry import ValidationError
from assetry.executions import gitinfo
from assetry.executions.gitinfo import SourceInfo, detect_source, https_remote

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_ENV, HOME=str(repo.parent))
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    (root / "src dir").mkdir(parents=True)
    git(root, "init", "-q")
    (root / "src dir" / "train.py").write_text("print('train')\n")
    (root / "other.py").write_text("print('other')\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "first")
    git(root, "remote", "add", "origin", "git@github.com:org/repo.git")
    return root


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_committed_file_in_a_repository(repo: Path) -> None:
    script = repo / "src dir" / "train.py"
    commit = git(repo, "rev-parse", "HEAD")
    info = detect_source(script)
    assert info.commit == commit
    assert info.url == f"https://github.com/org/repo/blob/{commit}/src%20dir/train.py"
    assert info.version == commit[:7]  # no tags: the abbreviated commit
    assert info.dirty is False
    assert info.checksum == sha256(script)
    assert info.path == str(script.resolve())
    assert info.repo_path == "src dir/train.py"
    assert info.branch == "main"


def test_tags_and_dirty_files(repo: Path) -> None:
    git(repo, "tag", "v1.2.0")
    script = repo / "src dir" / "train.py"
    assert detect_source(script).version == "v1.2.0"
    (repo / "other.py").write_text("print('changed')\n")
    info = detect_source(script)
    assert info.dirty is False  # only other.py changed
    assert info.version == "v1.2.0-dirty"
    script.write_text("print('changed too')\n")
    info = detect_source(script)
    assert info.dirty is True
    assert info.checksum == sha256(script)
    # The URL still names the committed version of the file.
    assert info.url is not None and "/blob/" in info.url


def test_untracked_file_in_a_repository(repo: Path) -> None:
    new = repo / "new.py"
    new.write_text("print('new')\n")
    info = detect_source(new)
    assert info.dirty is True
    assert info.commit == git(repo, "rev-parse", "HEAD")
    assert info.url == new.resolve().as_uri()  # not in any commit: no web URL


def test_repository_without_remote_or_commits(tmp_path: Path) -> None:
    root = tmp_path / "bare"
    root.mkdir()
    git(root, "init", "-q")
    script = root / "s.py"
    script.write_text("x = 1\n")
    info = detect_source(script)
    assert info.commit is None and info.version is None and info.dirty is True
    assert info.url == script.resolve().as_uri()
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "c")
    info = detect_source(script)
    assert info.commit is not None and info.dirty is False
    assert info.url == script.resolve().as_uri()  # no origin: no web address


def test_file_outside_git(tmp_path: Path) -> None:
    script = tmp_path / "alone.py"
    script.write_bytes(b"print(1)\n")
    info = detect_source(script)
    assert info == SourceInfo(
        url=script.resolve().as_uri(),
        checksum=sha256(script),
        version=None,
        commit=None,
        path=str(script.resolve()),
        dirty=False,
    )


def test_git_missing(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-such-dir"))
    script = repo / "src dir" / "train.py"
    info = detect_source(script)
    assert info.url == script.resolve().as_uri()
    assert info.commit is None and info.version is None
    assert info.checksum == sha256(script)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="does not exist"):
        detect_source(tmp_path / "nope.py")
    with pytest.raises(ValidationError, match="not a file"):
        detect_source(tmp_path)


def test_default_is_the_running_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "main.py"
    script.write_text("pass\n")
    monkeypatch.setattr("sys.argv", [str(script), "--flag"])
    assert detect_source().path == str(script.resolve())
    # Interactively (no script file), the caller's file: this test module.
    monkeypatch.setattr("sys.argv", [""])
    assert detect_source().path == str(Path(__file__).resolve())
    monkeypatch.setattr("sys.argv", ["-c"])
    assert gitinfo.calling_script() == Path(__file__).resolve()


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("git@github.com:org/repo.git", "https://github.com/org/repo"),
        ("git@github.com:org/repo", "https://github.com/org/repo"),
        ("github.com:org/repo.git", "https://github.com/org/repo"),
        (
            "ssh://git@gitlab.example.org:2222/group/sub/repo.git",
            "https://gitlab.example.org/group/sub/repo",
        ),
        ("https://github.com/org/repo.git", "https://github.com/org/repo"),
        ("https://user:s3cret@github.com/org/repo.git", "https://github.com/org/repo"),
        ("https://git.example.org:8443/org/repo/", "https://git.example.org:8443/org/repo"),
        ("http://intranet/org/repo.git", "http://intranet/org/repo"),
        ("git://example.org/org/repo.git", "https://example.org/org/repo"),
        ("/srv/git/repo.git", None),
        ("file:///srv/git/repo.git", None),
        ("../repo", None),
        ("C:/repos/repo", None),
        ("", None),
    ],
)
def test_https_remote(remote: str, expected: str | None) -> None:
    assert https_remote(remote) == expected


def test_remote_credentials_never_reach_the_url(repo: Path) -> None:
    git(repo, "remote", "set-url", "origin", "https://user:s3cret@github.com/org/repo.git")
    info = detect_source(repo / "other.py")
    assert info.url is not None and "s3cret" not in info.url
    assert info.url.startswith("https://github.com/org/repo/blob/")
    state = gitinfo.repository_state(repo)
    assert state is not None and "s3cret" not in str(state)
    assert state["remote"] == "https://github.com/org/repo"
    assert state["dirty"] is False and state["branch"] == "main"
