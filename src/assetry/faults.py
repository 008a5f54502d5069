"""Named fault points for crash tests.

``ASSETRY_FAULT_POINT=upload.after_object:17`` makes the process kill itself with SIGKILL
the 17th time it reaches ``fault_point("upload.after_object")``. Unset (always, outside
tests), a fault point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "ASSETRY_FAULT_POINT"
_hits: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get(ENV)
    if not spec:
        return None
    name, _, count = spec.partition(":")
    return name, int(count or "1")


def fault_point(name: str) -> None:
    """Die here (SIGKILL, no cleanup) if the environment names this point and count."""
    target = _target()
    if target is None or target[0] != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
