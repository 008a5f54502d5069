"""The environment an execution ran in: Python, platform, installed packages, the git state
of the running script's repository, and the command line (the execution adds its
parameters before storing it, so one document holds everything needed to run it again).

It is captured once per process (the packages installed do not change under a running
program, and listing them costs tens of milliseconds) and serialised canonically, so the
same environment always gives the same bytes and is stored once however many executions
record it. Host and user names and environment variables are deliberately not recorded.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import platform
import re
import sys
from pathlib import PurePath
from typing import Any

from assetry.errors import ValidationError
from assetry.executions import gitinfo

FORMAT = 1


def capture_environment() -> dict[str, Any]:
    """The environment of this process as a JSON-able dict.

    Keys: ``format``, ``assetry`` (this package's version), ``python`` (``version``,
    ``implementation``, ``executable``, ``build``), ``platform`` (``system``, ``release``,
    ``machine``, ``platform``), ``packages`` (``{name: version}`` of every installed
    distribution, names normalised as in PEP 503, sorted), ``script`` (the running script's
    path, or None), ``git`` (``commit``, ``branch``, ``describe``, ``dirty``, ``remote`` of
    the script's repository, or None) and ``argv``.

    Captured on the first call; later calls return a copy of the same dict.
    """
    return copy.deepcopy(_captured())


@functools.cache
def _captured() -> dict[str, Any]:
    script = gitinfo.calling_script()
    return {
        "format": FORMAT,
        "assetry": _version("assetry"),
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "build": sys.version,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "platform": platform.platform(),
        },
        "packages": installed_packages(),
        "script": str(script) if script is not None else None,
        "git": gitinfo.repository_state(script) if script is not None else None,
        "argv": list(sys.argv),
    }


_DOCUMENT: list[tuple[dict[str, Any], bytes, str]] = []  # (captured, document, SHA-256)


def process_document() -> tuple[bytes, str]:
    """This process's environment as its canonical document, and the document's SHA-256
    (made once per capture: every execution records it, thousands may run in a process)."""
    env = _captured()
    if not _DOCUMENT or _DOCUMENT[0][0] is not env:
        document = environment_document(env)
        _DOCUMENT[:] = [(env, document, hashlib.sha256(document).hexdigest())]
    return _DOCUMENT[0][1], _DOCUMENT[0][2]


def installed_packages() -> dict[str, str]:
    """``{name: version}`` of the distributions importable in this process, sorted by
    name; where two copies are installed, the one found first on ``sys.path`` wins."""
    found: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if not name:
            continue
        found.setdefault(_canonical(name), dist.version or "")
    return dict(sorted(found.items()))


def environment_document(env: dict[str, Any], what: str = "the environment") -> bytes:
    """``env`` as canonical JSON (sorted keys, no spaces, UTF-8): identical environments
    give identical bytes. Paths become strings and sets sorted lists; a value JSON cannot
    hold raises ``ValidationError``."""
    try:
        text = json.dumps(
            env,
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
            default=_jsonable,
        )
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{what} cannot be stored as JSON: {err}") from None
    return text.encode("utf-8")


def _jsonable(value: object) -> Any:
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        # Running from a source tree that is not installed: the package's own version.
        module = sys.modules.get(distribution)
        version = getattr(module, "__version__", None)
        return version if isinstance(version, str) else None
