"""Semantic versions of datasets: ``MAJOR.MINOR.PATCH``."""

from __future__ import annotations

import re
from enum import StrEnum

from assetry.errors import ValidationError

_SEMVER = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")
COMPONENTS = ("major", "minor", "patch")


def parse(version: object) -> tuple[int, int, int]:
    """The numbers of a version string; ``ValidationError`` if it is not one."""
    match = _SEMVER.match(version) if isinstance(version, str) else None
    if match is None:
        raise ValidationError(f"{version!r} is not a version (MAJOR.MINOR.PATCH, e.g. 0.1.0)")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def bump(version: str, component: str) -> str:
    """The next version after ``version``, raising ``component``."""
    part = component.lower() if isinstance(component, str) else component
    if part not in COMPONENTS:
        raise ValidationError(f"unknown version component {component!r}; use major, minor or patch")
    major, minor, patch = parse(version)
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def key(version: str) -> tuple[int, int, int]:
    """Sort key: versions in numeric order."""
    return parse(version)


class VersionPart(StrEnum):
    """The component of a version to raise (DerivaML's ``VersionPart``)."""

    major = "major"
    minor = "minor"
    patch = "patch"


class DatasetVersion(str):
    """A dataset's semantic version, comparable and printable like DerivaML's: made as
    ``DatasetVersion(0, 2, 0)`` or ``DatasetVersion("0.2.0")``, printed ``0.2.0``, ordered
    by its numbers (``0.10.0 > 0.9.0``), and equal to its text (``== "0.2.0"``), so it
    goes wherever a version string does."""

    def __new__(
        cls, major: int | str = 0, minor: int | None = None, patch: int | None = None
    ) -> DatasetVersion:
        if isinstance(major, str) and minor is None and patch is None:
            return super().__new__(cls, "{}.{}.{}".format(*parse(major)))
        given = (major, 0 if minor is None else minor, 0 if patch is None else patch)
        bad = [n for n in given if isinstance(n, bool) or not isinstance(n, int) or n < 0]
        if bad:
            raise ValidationError(f"version numbers must be non-negative integers: {given}")
        return super().__new__(cls, "{}.{}.{}".format(*given))

    @classmethod
    def parse(cls, text: str) -> DatasetVersion:
        """The version ``text`` (``MAJOR.MINOR.PATCH``)."""
        return cls(text)

    @property
    def major(self) -> int:
        return parse(str(self))[0]

    @property
    def minor(self) -> int:
        return parse(str(self))[1]

    @property
    def patch(self) -> int:
        return parse(str(self))[2]

    def to_tuple(self) -> tuple[int, int, int]:
        return parse(str(self))

    def to_dict(self) -> dict[str, int]:
        major, minor, patch = parse(str(self))
        return {"major": major, "minor": minor, "patch": patch}

    def increment_version(self, component: str) -> DatasetVersion:
        """The next version, raising ``component`` (a ``VersionPart`` or its name)."""
        return DatasetVersion(bump(str(self), str(getattr(component, "value", component))))

    def bump_major(self) -> DatasetVersion:
        return self.increment_version("major")

    def bump_minor(self) -> DatasetVersion:
        return self.increment_version("minor")

    def bump_patch(self) -> DatasetVersion:
        return self.increment_version("patch")

    def _other(self, other: object) -> tuple[int, int, int] | None:
        if isinstance(other, str):
            return parse(other)
        if isinstance(other, tuple) and len(other) == 3:
            return (int(other[0]), int(other[1]), int(other[2]))
        return None

    def __lt__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self.to_tuple() < theirs

    def __le__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self.to_tuple() <= theirs

    def __gt__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self.to_tuple() > theirs

    def __ge__(self, other: object) -> bool:
        theirs = self._other(other)
        return NotImplemented if theirs is None else self.to_tuple() >= theirs

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return self._other(other) == self.to_tuple()
        return str.__eq__(self, other)

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __repr__(self) -> str:
        return f"DatasetVersion({str(self)!r})"
