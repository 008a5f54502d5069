"""An asset dict that also answers DerivaML's asset attributes."""

from __future__ import annotations

from typing import Any

# Columns of an asset dict that are not the table's own metadata.
_FILE_COLUMNS = frozenset(
    ("RID", "RCT", "RMT", "RCB", "RMB", "URL", "Filename", "Length", "MD5", "SHA256",
     "Description", "Asset_Type", "Table", "Asset_Role")
)  # fmt: skip


class AssetRecord(dict[str, Any]):
    """An asset dict (the row's columns plus ``Asset_Type``, the list of its types) with
    ``asset_rid``, ``asset_table``, ``asset_types``, ``filename``, ``url``, ``length``,
    ``md5``, ``description`` and ``metadata`` (its own columns) as attributes."""

    def __init__(self, row: dict[str, Any], table: str) -> None:
        super().__init__(row)
        self.asset_table = table

    @property
    def asset_rid(self) -> str:
        return str(self["RID"])

    @property
    def asset_types(self) -> list[str]:
        return list(self.get("Asset_Type") or [])

    @property
    def filename(self) -> str | None:
        return self.get("Filename")

    @property
    def url(self) -> str | None:
        return self.get("URL")

    @property
    def length(self) -> int | None:
        return self.get("Length")

    @property
    def md5(self) -> str | None:
        return self.get("MD5")

    @property
    def description(self) -> str | None:
        return self.get("Description")

    @property
    def metadata(self) -> dict[str, Any]:
        """The asset table's own columns (and references) of this asset."""
        return {k: v for k, v in self.items() if k not in _FILE_COLUMNS}


class UploadedAssets(dict[str, list[AssetRecord]]):
    """What ``upload_execution_outputs`` recorded: ``{table: [AssetRecord]}``. DerivaML
    keys the same lists by ``"<schema>/<table>"``; those keys are answered too."""

    def __missing__(self, key: str) -> list[AssetRecord]:
        if isinstance(key, str) and "/" in key:
            table = key.rsplit("/", 1)[1]
            if table in self:
                return self[table]
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        if super().__contains__(key):
            return True
        return isinstance(key, str) and "/" in key and super().__contains__(key.rsplit("/", 1)[1])
