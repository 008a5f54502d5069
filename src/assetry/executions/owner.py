"""Which process runs an execution, and whether it is still alive.

An execution's working directory records the host, process id and process start time of
the process that created it. A Running execution whose process is gone (it was killed,
or the machine rebooted) is *stale*: nothing will ever finish it, so ``exec list
--stale`` shows it, ``restore_execution(...).upload_execution_outputs()`` gives it its
final status after uploading what it staged, and ``exec abort`` ends it.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), so a recycled pid is
    not taken for the process that died; None where /proc does not tell."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields after its
    # closing parenthesis are plain; the start time is field 22.
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def this_process() -> dict[str, Any]:
    """What a working directory's state records of the process creating it."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _start_time(pid)}


def is_gone(state: dict[str, Any] | None) -> bool:
    """True if ``state`` names a process on this host that is no longer running. False
    when it is alive, runs elsewhere, or the state does not say (older working folders)."""
    if not state or state.get("host") != socket.gethostname():
        return False
    pid = state.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, another user's
    started = state.get("started")
    return started is not None and _start_time(pid) not in (None, started)
