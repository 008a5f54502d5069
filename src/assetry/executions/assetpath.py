"""``AssetFilePath``: the path of an execution's asset file that also carries what the
asset is (DerivaML's ``AssetFilePath``): its table, asset types, metadata and, once it
is in the catalog, its RID.

It is a ``pathlib.Path`` (open it, write it, pass it wherever a path goes); paths derived
from it (``parent``, ``with_name``, ``/``) are plain paths. A staged output's types and
metadata can still be changed until the upload (``set_asset_types``, ``set_metadata``,
or assigning ``metadata``); each change is checked and journaled at once, as
``asset_file_path`` checks and journals the first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

# (asset types or None, metadata or None) -> (canonical types, checked metadata)
Restage = Callable[["AssetFilePath", list[str] | None, dict[str, Any] | None], None]

_PathBase: type[Path] = type(
    Path()
)  # PosixPath or WindowsPath: Path itself cannot be subclassed on 3.11


class AssetFilePath(_PathBase):  # type: ignore[valid-type,misc]
    """A path with ``asset_table``, ``asset_types``, ``metadata``, ``asset_rid`` and
    ``file_name`` (DerivaML's names; ``asset_metadata`` and ``asset_name`` too)."""

    # Defaults for the plain paths Python 3.11 derives with this class (``parent`` ...).
    asset_table: str | None = None
    asset_rid: str | None = None
    asset_types: list[str] = []
    asset_metadata: dict[str, Any] = {}
    file_name: str = ""
    _restage: Restage | None = None

    def __new__(cls, path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> AssetFilePath:
        made: AssetFilePath = super().__new__(cls, path)
        return made

    def __init__(
        self,
        path: str | os.PathLike[str],
        asset_table: str,
        asset_types: list[str] | str | None = None,
        metadata: Mapping[str, Any] | None = None,
        asset_rid: str | None = None,
        restage: Restage | None = None,
    ) -> None:
        if hasattr(Path, "with_segments"):  # Python 3.12+: paths keep their parts here
            super().__init__(path)
        self.asset_table = asset_table
        self.asset_types = (
            [asset_types] if isinstance(asset_types, str) else list(asset_types or [])
        )
        self.asset_metadata = dict(metadata or {})
        self.asset_rid = asset_rid
        self.file_name = self.name
        self._restage = restage

    def with_segments(self, *segments: Any) -> Path:
        """Derived paths are plain paths (Python 3.12+)."""
        return Path(*segments)

    @property
    def asset_name(self) -> str | None:
        """DerivaML's older name of ``asset_table``."""
        return self.asset_table

    @property
    def metadata(self) -> dict[str, Any]:
        """The asset's own column values (a copy)."""
        return dict(self.asset_metadata)

    @metadata.setter
    def metadata(self, values: Any) -> None:
        self.set_metadata(values)

    def set_metadata(self, values: Any = None, **more: Any) -> None:
        """Replace the asset's column values with ``values`` (a mapping, or a pydantic
        record) and ``more``; checked against the table now."""
        given = dict(_as_mapping(values))
        given.update(more)
        self._change(None, given)

    def set_asset_types(self, types: list[str] | str) -> None:
        """Replace the asset's types (terms or synonyms of ``Asset_Type``)."""
        self._change([types] if isinstance(types, str) else list(types), None)

    def _change(self, types: list[str] | None, metadata: dict[str, Any] | None) -> None:
        if self._restage is None:
            from assetry.errors import StateError

            raise StateError(f"{os.fspath(self)} is not a staged output: its asset is fixed")
        self._restage(self, types, metadata)


def _as_mapping(values: Any) -> Mapping[str, Any]:
    if values is None:
        return {}
    if isinstance(values, Mapping):
        return values
    dump = getattr(values, "model_dump", None)
    if callable(dump):
        return {k: v for k, v in dump().items() if v is not None}
    from assetry.errors import ValidationError

    raise ValidationError(
        f"metadata must be a mapping of column values, got {type(values).__name__}"
    )
