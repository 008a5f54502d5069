"""Which HTTP status each assetry error travels with.

First match wins (subclasses before their bases); ``with_status`` lets one answer use
another status (413, 408) while its body still names the class, so the client rebuilds
the same error whatever the status.
"""

from __future__ import annotations

from assetry import errors

# First match wins: subclasses before their bases.
STATUS: list[tuple[type[errors.AssetryError], int]] = [
    (errors.AuthenticationError, 401),
    (errors.PermissionDenied, 403),
    (errors.NotFoundError, 404),
    (errors.ValidationError, 422),
    (errors.ConflictError, 409),
    (errors.StateError, 409),
    (errors.IntegrityError, 422),
    (errors.BagError, 422),
    (errors.StoreError, 502),
    (errors.SchemaVersionError, 503),
    (errors.ConfigError, 400),
    (errors.AssetryError, 400),
]

_STATUS_ATTRIBUTE = "_assetry_http_status"


def with_status(exc: errors.AssetryError, status: int) -> errors.AssetryError:
    """``exc`` answered with ``status`` instead of its class's (413, 408): the body still
    names the class, so the client rebuilds the same error."""
    setattr(exc, _STATUS_ATTRIBUTE, status)
    return exc


def status_of(exc: errors.AssetryError) -> int:
    explicit = getattr(exc, _STATUS_ATTRIBUTE, None)
    if isinstance(explicit, int):
        return explicit
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400
