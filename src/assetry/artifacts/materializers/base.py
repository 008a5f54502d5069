"""The materializer interface and the registry that chooses one per object."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from assetry.errors import ValidationError


def python_type(obj: object) -> str:
    """``module.QualifiedName`` of the object's class."""
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def top_module(obj: object) -> str:
    """The top-level package the object's class comes from (``torch``, ``sklearn``)."""
    return type(obj).__module__.split(".", 1)[0]


class Materializer:
    """Saves objects of some types to one file and loads them back.

    ``name`` is recorded with the version; ``extension`` names the file; ``unsafe`` marks
    formats whose loading runs code (pickle): ``load`` needs ``trust=True``.
    """

    name: ClassVar[str] = ""
    extension: ClassVar[str] = ""
    unsafe: ClassVar[bool] = False

    def handles(self, obj: object) -> bool:
        raise NotImplementedError

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        """Write ``obj`` to ``path``; return what to record besides name and type (e.g.
        ``{"framework": "torch"}``)."""
        raise NotImplementedError

    def load(self, path: Path, info: dict[str, Any]) -> Any:
        raise NotImplementedError

    def accepts(self, obj: object) -> bool:
        """Whether it can save ``obj`` when asked for by name (by default: ``handles``)."""
        return self.handles(obj)


class Registry:
    """Materializers by name, chosen in order: those added by users first."""

    def __init__(self, builtin: list[Materializer]) -> None:
        self._builtin = list(builtin)
        self._users: list[Materializer] = []

    def add(self, materializer: Materializer) -> None:
        """Put ``materializer`` first (a user's replaces a built-in of the same name)."""
        if not isinstance(materializer, Materializer):
            raise ValidationError(
                f"a materializer must be an assetry Materializer instance, got {materializer!r}"
            )
        if not materializer.name or not materializer.extension:
            raise ValidationError("a materializer needs a name and an extension")
        self._users = [m for m in self._users if m.name != materializer.name]
        self._users.insert(0, materializer)

    def all(self) -> list[Materializer]:
        return self._users + [m for m in self._builtin if m.name not in self.user_names()]

    def user_names(self) -> set[str]:
        return {m.name for m in self._users}

    def named(self, name: str) -> Materializer:
        for materializer in self.all():
            if materializer.name == name:
                return materializer
        known = ", ".join(sorted(m.name for m in self.all()))
        raise ValidationError(
            f"no materializer is named {name!r} (known: {known}); register it with "
            "cat.artifacts.register_materializer"
        )

    def for_object(self, obj: object, wanted: str | None = None) -> Materializer:
        """The materializer of ``obj`` (``wanted`` by name, e.g. ``"yaml"``)."""
        if wanted is not None:
            materializer = self.named(wanted)
            if not materializer.accepts(obj):
                raise ValidationError(f"materializer {wanted!r} cannot save a {python_type(obj)}")
            return materializer
        for materializer in self.all():
            if materializer.handles(obj):
                return materializer
        raise ValidationError(
            f"no materializer saves objects of type {python_type(obj)}; write one (a "
            "subclass of assetry.Materializer with handles, save and load) and add it with "
            "cat.artifacts.register_materializer(...)"
        )
