"""Semantic versions of datasets: ``MAJOR.MINOR.PATCH``."""

from __future__ import annotations

import re

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
