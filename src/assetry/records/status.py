"""The two status machines of an execution: the run and the upload of its outputs.

Run (``Status``): Created -> Running -> Completed | Failed; Running -> Running updates
the detail; Aborted from any state (a run that never started is Aborted, not Failed).
Upload (``Upload_Status``): Not_Started -> Pending -> Uploaded | Failed; Failed -> Pending
to retry; Pending -> Pending to resume an interrupted upload.
"""

from __future__ import annotations

from assetry.errors import StateError

RUN_TRANSITIONS: dict[str, set[str]] = {
    "Created": {"Running", "Aborted"},
    "Running": {"Running", "Completed", "Failed", "Aborted"},
    "Completed": {"Aborted"},
    "Failed": {"Aborted"},
    "Aborted": {"Aborted"},
}

UPLOAD_TRANSITIONS: dict[str, set[str]] = {
    "Not_Started": {"Pending"},
    "Pending": {"Pending", "Uploaded", "Failed"},
    "Failed": {"Pending"},
    "Uploaded": set(),
}

FINISHED = {"Completed", "Failed", "Aborted"}

TRANSITIONS = {"Status": RUN_TRANSITIONS, "Upload_Status": UPLOAD_TRANSITIONS}


def check_transition(column: str, current: str, new: str, execution: str) -> None:
    """Raise ``StateError`` unless ``current -> new`` is allowed for ``column``."""
    allowed = TRANSITIONS[column].get(current, set())
    if new not in allowed:
        choices = ", ".join(sorted(allowed)) or "nothing"
        raise StateError(
            f"execution {execution}: {column} cannot go from {current} to {new} "
            f"(from {current} it can go to {choices})"
        )
