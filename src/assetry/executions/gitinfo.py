"""Where a workflow's code comes from: its file, checksum and git repository state.

``git`` is run as a subprocess (never through a shell, always with a timeout); a machine
without git, a file outside any repository, a repository without commits or without an
``origin`` remote all give an answer with fewer details, never an error.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import subprocess
import sys
import sysconfig
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assetry.errors import ValidationError

GIT_TIMEOUT = 10.0

# Variables that would point git at another repository than the file's own.
_GIT_REDIRECTS = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES")

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SourceInfo:
    """What identifies a script: where to find it, its bytes' checksum, its git state.

    - ``url``: ``https://<host>/<owner>/<repo>/blob/<commit>/<path>`` when the file is in a
      committed git work tree with a web-style ``origin`` remote, else a ``file://`` URI;
    - ``checksum``: ``sha256:<hex>`` of the file's bytes;
    - ``version``: ``git describe --tags --always --dirty``, or None without git;
    - ``commit``: the HEAD commit, or None;
    - ``path``: the file's absolute path;
    - ``dirty``: True when the file has uncommitted changes (or is not committed at all);
    - ``repo_path``: the file's path inside its repository (POSIX), or None;
    - ``branch``: the checked-out branch, or None (detached HEAD, no git).
    """

    url: str | None
    checksum: str | None
    version: str | None
    commit: str | None
    path: str | None
    dirty: bool
    repo_path: str | None = None
    branch: str | None = None


def detect_source(path: Path | None = None) -> SourceInfo:
    """Describe the script at ``path`` (default: the running script, see
    ``calling_script``).

    Raises ``ValidationError`` if ``path`` is given and is not an existing file. When no
    script can be found (an interactive session with no file), every field is None.
    """
    if path is None:
        found = calling_script()
        if found is None:
            return SourceInfo(None, None, None, None, None, False)
        file = found
    else:
        file = Path(path).expanduser()
        if not file.exists():
            raise ValidationError(f"{str(path)!r} does not exist")
        if not file.is_file():
            raise ValidationError(f"{str(path)!r} is not a file")
    file = file.resolve()
    checksum = file_checksum(file)
    repo = _toplevel(file.parent)
    if repo is None:
        return SourceInfo(file.as_uri(), checksum, None, None, str(file), False)

    repo_path = _relative_posix(file, repo)
    commit = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD")
    version = _git(repo, "describe", "--tags", "--always", "--dirty") if commit else None
    committed = bool(
        commit
        and repo_path
        and _git(repo, "ls-tree", "--name-only", "HEAD", "--", repo_path) == repo_path
    )
    status = _git(repo, "status", "--porcelain", "--", repo_path) if repo_path else None
    # Uncommitted changes, or a file that is not in the commit at all.
    dirty = bool(status) or not committed
    remote = _git(repo, "remote", "get-url", "origin")
    web = https_remote(remote) if remote else None
    if web is not None and commit is not None and repo_path is not None and committed:
        url = f"{web}/blob/{commit}/{urllib.parse.quote(repo_path)}"
    else:
        url = file.as_uri()
    return SourceInfo(
        url=url,
        checksum=checksum,
        version=version,
        commit=commit,
        path=str(file),
        dirty=dirty,
        repo_path=repo_path,
        branch=_branch(repo),
    )


def repository_state(path: Path) -> dict[str, Any] | None:
    """The git state of the repository holding ``path`` (a file or directory): ``commit``,
    ``branch``, ``describe``, ``dirty`` (any uncommitted change to tracked files) and
    ``remote`` (``origin`` as an https URL, credentials removed). None outside git."""
    start = path if path.is_dir() else path.parent
    repo = _toplevel(start)
    if repo is None:
        return None
    commit = _git(repo, "rev-parse", "--verify", "--quiet", "HEAD")
    status = _git(repo, "status", "--porcelain", "--untracked-files=no")
    remote = _git(repo, "remote", "get-url", "origin")
    return {
        "commit": commit,
        "branch": _branch(repo),
        "describe": _git(repo, "describe", "--tags", "--always", "--dirty") if commit else None,
        "dirty": bool(status),
        "remote": (https_remote(remote) or _strip_credentials(remote)) if remote else None,
    }


def calling_script() -> Path | None:
    """The running program's main script (``sys.argv[0]``) when it is a file; otherwise
    (interactive sessions, ``python -c``) the file of the nearest caller outside assetry."""
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and argv0 not in ("-c", "-m"):
        candidate = Path(argv0)
        if candidate.is_file():
            return candidate.resolve()
    skip = [_PACKAGE_DIR, *_library_dirs()]
    frame = inspect.currentframe()
    try:
        while frame is not None:
            filename = frame.f_code.co_filename
            if not filename.startswith("<"):
                candidate = Path(filename)
                if candidate.is_file():
                    resolved = candidate.resolve()
                    if not any(_inside(resolved, d) for d in skip):
                        return resolved
            frame = frame.f_back
    finally:
        del frame
    return None


def file_checksum(path: Path) -> str:
    """``sha256:<hex>`` of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


_SCP_LIKE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]+):(?!//)(?P<path>[^\s]+)$")


def https_remote(remote: str) -> str | None:
    """A git remote as the https URL of its web page, without credentials and ``.git``:
    ``git@github.com:o/r.git`` -> ``https://github.com/o/r``. None for a remote with no
    web address (a local path, ``file://``)."""
    remote = remote.strip()
    if not remote:
        return None
    scp = _SCP_LIKE.match(remote)
    # user@host:path, but not a Windows drive ("C:/...") or a local path.
    if scp and "://" not in remote and len(scp.group("host")) > 1:
        host, path = scp.group("host"), scp.group("path")
    else:
        parsed = urllib.parse.urlsplit(remote)
        if parsed.scheme not in ("https", "http", "ssh", "git", "git+ssh", "ssh+git"):
            return None
        host = parsed.hostname or ""
        if not host:
            return None
        path = parsed.path
        if parsed.scheme in ("https", "http") and parsed.port is not None:
            host = f"{host}:{parsed.port}"
        if parsed.scheme == "http":
            return f"http://{host}/{_clean_repo_path(path)}".rstrip("/")
    clean = _clean_repo_path(path)
    if not clean:
        return None
    return f"https://{host}/{clean}"


# --- helpers -------------------------------------------------------------------------------


def _clean_repo_path(path: str) -> str:
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return path.rstrip("/")


def _strip_credentials(remote: str) -> str:
    parsed = urllib.parse.urlsplit(remote)
    if parsed.scheme and parsed.hostname and (parsed.username or parsed.password):
        host = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
        return urllib.parse.urlunsplit(parsed._replace(netloc=host))
    return remote


def _library_dirs() -> list[Path]:
    """Where the standard library and installed packages live (not user scripts)."""
    out = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        value = sysconfig.get_paths().get(key)
        if value:
            out.append(Path(value).resolve())
    return out


def _inside(path: Path, directory: Path) -> bool:
    try:
        path.relative_to(directory)
    except ValueError:
        return False
    return True


def _relative_posix(file: Path, repo: Path) -> str | None:
    try:
        return file.relative_to(repo).as_posix()
    except ValueError:
        return None


def _toplevel(directory: Path) -> Path | None:
    top = _git(directory, "rev-parse", "--show-toplevel")
    if not top:
        return None
    return Path(top).resolve()


def _branch(repo: Path) -> str | None:
    return _git(repo, "symbolic-ref", "--quiet", "--short", "HEAD")


def _git(cwd: Path, *args: str) -> str | None:
    """``git args`` in ``cwd``: its stripped output, or None if git is missing, fails or
    takes too long."""
    env = {k: v for k, v in os.environ.items() if k not in _GIT_REDIRECTS}
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_OPTIONAL_LOCKS": "0",
            "GIT_LITERAL_PATHSPECS": "1",  # a file name is a name, never a pattern
            "LC_ALL": "C",
        }
    )
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    out = done.stdout.decode("utf-8", "replace").strip()
    return out or None
