"""The bags namespace of the facade: export, download and import of dataset versions' bags."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.errors import (
    AssetryError,
    BagChecksumMismatch,
    BagError,
    ConflictError,
    ValidationError,
)
from assetry.faults import fault_point
from assetry.records.datasets import DatasetSpec

if TYPE_CHECKING:
    from assetry.api.context import Context
    from assetry.bags.reader import DatasetBag

ARCHIVES = ("zip", "tgz")


def bag_name(rid: str, version: str) -> str:
    """The folder (and archive) name of a dataset version's bag."""
    return f"Dataset_{rid}_v{version}"


def human_size(size: int) -> str:
    """``size`` bytes as text: ``512 B``, ``1.5 KB``, ``2.0 GB`` (powers of 1024)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class Bags:
    """Export, download and import of BagIt bags of dataset versions."""

    def __init__(self, context: Context) -> None:
        self._context = context
        self._backend = context.backend

    def export_dataset_bag(
        self,
        spec: DatasetSpec,
        dest: str | os.PathLike[str] = ".",
        archive: str | None = None,
        link: bool = False,
    ) -> Path:
        """Write the bag of a dataset version into directory ``dest``; return the bag
        folder ``dest/Dataset_<RID>_v<version>``, or the archive (``zip`` or ``tgz``) of
        that name plus its suffix when ``archive`` is given.

        The bag is the same, byte for byte, whenever the version is exported. Payload
        files are copies unless ``link`` (read-only hard links to the local store).

        Into a ``dest`` that already holds an export of the version: a bag folder there
        is a ``ConflictError`` for a folder export (a folder can have been edited or
        materialized since; remove it or choose another dest). An archive export builds
        its bag folder in a private staging folder inside ``dest``, so a bag folder of the
        same name is never touched; an archive already there with the same bytes is left
        as it is and its path returned, one with other bytes is a ``ConflictError``
        naming it.
        """
        from assetry.bags.archive import export_archive
        from assetry.bags.writer import write_bag

        if not isinstance(spec, DatasetSpec):
            raise ValidationError(f"expected a DatasetSpec, got {spec!r}")
        if archive is not None and archive not in ARCHIVES:
            raise ValidationError(f"unknown archive format {archive!r}; use zip or tgz")
        folder = Path(dest)
        if folder.exists() and not folder.is_dir():
            raise ConflictError(f"dest {folder} exists and is not a directory")
        content = self._backend.bag_content(spec.rid, spec.version)
        name = bag_name(content.dataset, content.version)
        if archive is None:
            return write_bag(
                content,
                folder / name,
                self._context.store(),
                materialize=spec.materialize,
                link=link,
            )
        return export_archive(
            content,
            folder,
            name,
            archive,
            self._context.store(),
            materialize=spec.materialize,
            link=link,
        )

    def download_dataset_bag(
        self, dataset: DatasetSpec, dest: str | os.PathLike[str] | None = None
    ) -> DatasetBag:
        """The bag of the version ``dataset`` (a ``DatasetSpec``) names, as a
        ``DatasetBag`` (kept under the catalog's local folder unless ``dest``; a bag
        already there is validated and reused)."""
        from assetry.bags.reader import DatasetBag

        version = self._backend.dataset_version(dataset.rid, dataset.version)
        root = Path(dest) if dest is not None else self._context.local_root() / "bags"
        folder = root / bag_name(version["Dataset"], version["Version"])
        if folder.is_dir():
            bag = DatasetBag(folder)
            try:
                if dataset.materialize:
                    bag.materialize()
                bag.validate(fast=not dataset.materialize, allow_incomplete=not dataset.materialize)
                return bag
            except BagError:
                shutil.rmtree(folder)
        root.mkdir(parents=True, exist_ok=True)
        pinned = DatasetSpec(version["Dataset"], version["Version"], dataset.materialize)
        return DatasetBag(self.export_dataset_bag(pinned, root))

    def estimate_bag_size(
        self, dataset: DatasetSpec | str, version: str | None = None
    ) -> dict[str, Any]:
        """The size of a dataset version's bag before writing it (``dataset`` a
        ``DatasetSpec`` or a RID with ``version``, the latest when None), measured from
        the scope the bag would have: ``tables`` (per table ``row_count``, ``is_asset``,
        ``asset_bytes``, ``csv_bytes``), ``total_rows``, ``total_asset_bytes``,
        ``total_csv_bytes``, ``total_estimated_bytes`` and the same three as text
        (``total_asset_size``, ...), as DerivaML's ``estimate_bag_size`` gives them. The
        counts are exact; the bytes are those of the CSV files and asset files (not of
        bagit's tag files)."""
        from assetry.bags.csvcodec import dump_rows

        if isinstance(dataset, DatasetSpec):
            rid, version = dataset.rid, version or dataset.version
        else:
            rid = dataset
        content = self._backend.bag_content(rid, version)
        asset_bytes: dict[str, int] = {}
        for asset in content.assets:
            asset_bytes[asset.table] = asset_bytes.get(asset.table, 0) + asset.length
        tables: dict[str, dict[str, Any]] = {}
        for name, table in content.tables.items():
            csv = sum(len(p.encode()) for p in dump_rows(table.columns, table.types, table.rows))
            tables[name] = {
                "row_count": len(table.rows),
                "is_asset": name in asset_bytes,
                "asset_bytes": asset_bytes.get(name, 0),
                "csv_bytes": csv,
            }
        total_assets = sum(asset_bytes.values())
        total_csv = sum(t["csv_bytes"] for t in tables.values())
        return {
            "dataset": content.dataset,
            "version": content.version,
            "tables": tables,
            "total_rows": sum(t["row_count"] for t in tables.values()),
            "total_asset_bytes": total_assets,
            "total_asset_size": human_size(total_assets),
            "total_csv_bytes": total_csv,
            "total_csv_size": human_size(total_csv),
            "total_estimated_bytes": total_assets + total_csv,
            "total_estimated_size": human_size(total_assets + total_csv),
        }

    def import_bag(self, bag: DatasetBag | str | os.PathLike[str]) -> dict[str, int]:
        """Load a bag (from any catalog) into this one: model, terms, rows, assets, with
        their RIDs and checksums. Importing the same bag again changes nothing; a RID
        present here with different content is a ``ConflictError`` and nothing is
        imported. Returns the number of new rows per table."""
        from assetry.bags.reader import DatasetBag

        if not isinstance(bag, DatasetBag):
            bag = DatasetBag(bag)
        if not bag.is_complete:
            bag.materialize()
        bag.validate()
        tables = {name: bag.get_table_as_dict(name) for name in bag.list_tables()}
        added: list[str] = []
        try:
            self._store_bag_assets(bag, tables, added)
            fault_point("import.before_rows")
            return self._backend.import_rows(bag.model, tables)
        except Exception:
            self._remove_unrecorded(added)
            raise

    def _store_bag_assets(
        self, bag: DatasetBag, tables: dict[str, list[dict[str, Any]]], added: list[str]
    ) -> None:
        """Put every asset file of the bag in this catalog's store (before any row); the
        keys of objects the store did not hold go to ``added``."""
        kinds = {t["name"]: t.get("kind") for t in bag.model.get("tables", [])}
        store = self._context.store()
        for name, found in tables.items():
            if kinds.get(name) != "asset":
                continue
            types: dict[str, list[str]] = {}  # by RID: the rules may route by type
            for link in tables.get(f"{name}_Asset_Type", []):
                types.setdefault(str(link.get(name)), []).append(str(link.get("Asset_Type")))
            for row in found:
                if store.exists(row["SHA256"]):
                    continue
                path = bag.asset_path(row["RID"])
                size, kinds_of_row = path.stat().st_size, types.get(row["RID"], [])
                digests = store.route(name, size, kinds_of_row).put_file(path)
                added.append(digests.sha256)
                if digests.sha256 != row["SHA256"]:
                    raise BagChecksumMismatch(str(path), "sha256", row["SHA256"], digests.sha256)
                fault_point("import.after_object")

    def _remove_unrecorded(self, keys: list[str]) -> None:
        """After a failed import: remove the objects it stored that no row names (a
        caller who may not delete objects leaves them to ``fsck --repair``)."""
        if not keys:
            return
        try:
            referenced = self._backend.referenced_keys()
            store = self._context.store()
            for key in keys:
                if key not in referenced:
                    store.delete(key)
        except AssetryError:
            pass  # what is left is unreferenced: fsck --repair collects it
