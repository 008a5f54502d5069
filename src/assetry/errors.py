"""The exception tree of assetry.

Every error a user can see is one of these; no raw SQLAlchemy, boto3 or requests
exception crosses the public API::

    AssetryError
     +-- ConfigError            bad location, unknown scheme, missing extra
     +-- SchemaVersionError     catalog schema older (or newer) than the code
     +-- NotFoundError
     |    +-- TableNotFound
     |    +-- RIDNotFound
     |    +-- TermNotFound
     +-- ValidationError        bad input; ``.problems`` lists every problem found
     +-- ConflictError          uniqueness, still-referenced rows, concurrent change
     +-- StateError             illegal state transition
     +-- IntegrityError         bytes and checksums only
     |    +-- ChecksumMismatch  (path, algorithm, expected, found)
     +-- StoreError             object store, catalog server or database server
     |                          unreachable or failing
     +-- BagError               a BagIt bag that cannot be read or validated
     |    +-- BagChecksumMismatch (also a ChecksumMismatch)
     +-- AuthError
          +-- AuthenticationError
          +-- PermissionDenied

A database unique or foreign-key violation becomes ``ConflictError`` or
``ValidationError``; ``IntegrityError`` is reserved for bytes that do not match their
recorded checksums.
"""

from __future__ import annotations

from collections.abc import Iterable


class AssetryError(Exception):
    """Base class of every assetry error."""


class ConfigError(AssetryError):
    """A location, scheme, option or installed extra is wrong or missing."""


class SchemaVersionError(AssetryError):
    """The catalog's schema does not match this version of assetry."""


class NotFoundError(AssetryError):
    """Something named by the caller does not exist."""


class TableNotFound(NotFoundError):
    """No table of that name exists in the catalog."""

    def __init__(self, table: str, message: str | None = None) -> None:
        self.table = table
        super().__init__(message or f"table {table!r} does not exist")


class RIDNotFound(NotFoundError):
    """No row has that RID."""

    def __init__(self, rid: str, message: str | None = None) -> None:
        self.rid = rid
        super().__init__(message or f"RID {rid!r} does not exist")


class TermNotFound(NotFoundError):
    """No term (or synonym) of that name exists in the vocabulary."""

    def __init__(self, vocabulary: str, term: str, message: str | None = None) -> None:
        self.vocabulary = vocabulary
        self.term = term
        super().__init__(message or f"vocabulary {vocabulary!r} has no term or synonym {term!r}")


class ValidationError(AssetryError):
    """Input was rejected; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems) if self.problems else "invalid input")


class ConflictError(AssetryError):
    """The change conflicts with what is stored (duplicate, still referenced, ...)."""


class StateError(AssetryError):
    """An operation is not allowed in the object's current state."""


class IntegrityError(AssetryError):
    """Bytes do not match what the catalog recorded for them."""


class ChecksumMismatch(IntegrityError):
    """A file's checksum differs from the expected one."""

    def __init__(
        self,
        path: str,
        algorithm: str,
        expected: str,
        found: str,
        message: str | None = None,
    ) -> None:
        self.path = path
        self.algorithm = algorithm
        self.expected = expected
        self.found = found
        super().__init__(
            message or f"{path}: {algorithm} is {found}, expected {expected}",
        )


class StoreError(AssetryError):
    """The object store, the catalog server or the database server failed or could not be
    reached."""


class BagError(AssetryError):
    """A BagIt bag is malformed, incomplete or fails validation."""


class BagChecksumMismatch(BagError, ChecksumMismatch):
    """A bag's payload or tag file does not match its manifest."""

    def __init__(self, path: str, algorithm: str, expected: str, found: str) -> None:
        ChecksumMismatch.__init__(self, path, algorithm, expected, found)


class AuthError(AssetryError):
    """Authentication or authorization failed."""


class AuthenticationError(AuthError):
    """No valid credentials were presented."""


class PermissionDenied(AuthError):
    """The credentials are valid but their role does not allow the operation."""


__all__ = [
    "AssetryError",
    "AuthError",
    "AuthenticationError",
    "BagChecksumMismatch",
    "BagError",
    "ChecksumMismatch",
    "ConfigError",
    "ConflictError",
    "IntegrityError",
    "NotFoundError",
    "PermissionDenied",
    "RIDNotFound",
    "SchemaVersionError",
    "StateError",
    "StoreError",
    "TableNotFound",
    "TermNotFound",
    "ValidationError",
]
