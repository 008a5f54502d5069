"""``DatasetBag.restructure_assets``: a bag's asset files laid out one folder per label,
as DerivaML does it for training (e.g. PyTorch's ``ImageFolder``).

``<output>/<type path>/<group values>/<file name>``:

- the type path: from the bag's dataset down to the dataset an asset belongs to (the
  most deeply nested one), one folder per dataset whose type ``type_to_dir_map`` maps
  (default ``Training`` -> ``training``, ``Testing`` -> ``testing``, ``Unknown`` ->
  ``unknown``); a dataset of another type adds no folder (a ``Split`` parent); one
  without types counts as ``Testing``. ``type_selector`` picks among several types
  (default: the first, by name).
- an asset belongs to a dataset when it is a member, references a member through foreign
  keys (transitively: an Image of a member Subject), or a member references it.
- each name of ``group_by`` adds a folder: a column of the asset table, or a feature of
  the asset table or of a table it references (``Feature`` or ``Feature.column``), whose
  value names the folder; ``Unknown`` when there is none. Several values of a feature for
  one asset need ``value_selector`` (with ``enforce_vocabulary``, else the first).
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.errors import BagError, RIDNotFound, ValidationError
from assetry.sql import rids

if TYPE_CHECKING:
    from assetry.bags.reader import DatasetBag

DEFAULT_DIRS = {"Training": "training", "Testing": "testing", "Unknown": "unknown"}
UNKNOWN = "Unknown"


def _model_tables(bag: DatasetBag) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in bag.model["tables"]}


def _asset_table(bag: DatasetBag, tables: dict[str, dict[str, Any]]) -> str:
    members = bag.list_dataset_members(recurse=True)
    found = [t for t in members if tables.get(t, {}).get("kind") == "asset"]
    if len(found) == 1:
        return found[0]
    present = [n for n, t in tables.items() if t.get("kind") == "asset" and n in bag.list_tables()]
    candidates = found or present
    if len(candidates) != 1:
        raise ValidationError(
            f"restructure_assets: say which asset table (asset_table=): the bag has "
            f"{', '.join(candidates) or 'none'}"
        )
    return candidates[0]


def _rows(bag: DatasetBag, table: str) -> list[dict[str, Any]]:
    return bag.get_table_as_dict(table) if table in bag.list_tables() else []


def _belonging(
    bag: DatasetBag, tables: dict[str, dict[str, Any]], dataset: str, asset_table: str
) -> set[str]:
    """RIDs of the assets of ``asset_table`` that belong to ``dataset`` (members,
    referencing members transitively, or referenced by members)."""
    reached: dict[str, set[str]] = defaultdict(set)
    for link in bag.list_tables():
        element = link.removeprefix("Dataset_")
        if element == link or element not in tables:
            continue
        spec = tables.get(link, {})
        targets = {fk.get("table") for fk in spec.get("foreign_keys", [])}
        if spec.get("kind") != "association" or targets != {"Dataset", element}:
            continue
        for row in _rows(bag, link):
            if row.get("Dataset") and rids.normalize(row["Dataset"]) == dataset:
                reached[element].add(rids.normalize(row[element]))
    out: set[str] = set()
    for table in list(reached):  # assets the members reference
        for fk in tables[table].get("foreign_keys", []):
            if fk.get("table") == asset_table:
                out |= {
                    rids.normalize(r[fk["column"]])
                    for r in _rows(bag, table)
                    if r.get(fk["column"]) and rids.normalize(r["RID"]) in reached[table]
                }
    frontier = dict(reached)
    while frontier:  # rows referencing what is reached, through user tables
        step: dict[str, set[str]] = defaultdict(set)
        for name, spec in tables.items():
            if spec.get("kind") not in ("table", "asset"):
                continue
            for fk in spec.get("foreign_keys", []):
                wanted = frontier.get(fk.get("table"), set())
                if not wanted:
                    continue
                for row in _rows(bag, name):
                    value = row.get(fk["column"])
                    rid = rids.normalize(row["RID"])
                    if value and rids.normalize(value) in wanted and rid not in reached[name]:
                        reached[name].add(rid)
                        step[name].add(rid)
        frontier = dict(step)
    return out | reached.get(asset_table, set())


def _feature_values(
    bag: DatasetBag,
    tables: dict[str, dict[str, Any]],
    asset_table: str,
    key: str,
    enforce_vocabulary: bool,
    value_selector: Callable[[list[Any]], Any] | None,
) -> tuple[str, dict[str, str]] | None:
    """For ``key`` a feature (``Feature`` or ``Feature.column``) of the asset table or a
    table it references: (the asset column holding the target, or ``RID``; target RID
    -> folder name)."""
    name, _, column = key.partition(".")
    targets = {asset_table: "RID"}
    for fk in tables[asset_table].get("foreign_keys", []):
        targets.setdefault(fk["table"], fk["column"])
    for feature in bag.find_features():
        if feature.feature_name != name or feature.target_table.name not in targets:
            continue
        terms = [c.name for c in feature.term_columns]
        if column:
            chosen = column
        elif len(feature.columns) == 1 or (enforce_vocabulary and len(terms) == 1):
            chosen = terms[0] if terms else feature.columns[0].name
        else:
            raise ValidationError(
                f"restructure_assets: feature {name!r} has several columns; group by "
                f"'{name}.<column>' ({', '.join(c.name for c in feature.columns)})"
            )
        if enforce_vocabulary and chosen not in terms:
            raise ValidationError(
                f"restructure_assets: {key!r} is not a vocabulary column of feature {name!r} "
                "(enforce_vocabulary=False allows any column)"
            )
        target = feature.target_table.name
        grouped: dict[str, list[Any]] = defaultdict(list)
        for record in bag.list_feature_values(target, name):
            grouped[rids.normalize(str(getattr(record, target)))].append(record)
        values: dict[str, str] = {}
        for rid, records in grouped.items():
            picked = records[0]
            if len(records) > 1:
                distinct = {getattr(r, chosen) for r in records}
                if value_selector is not None:
                    picked = value_selector(records)
                elif enforce_vocabulary and len(distinct) > 1:
                    raise ValidationError(
                        f"restructure_assets: {target} {rid} has {len(records)} values of "
                        f"feature {name!r} ({', '.join(sorted(map(str, distinct)))}); pass "
                        "value_selector= (e.g. FeatureRecord.select_newest)"
                    )
            value = getattr(picked, chosen, None) if picked is not None else None
            if value is not None:
                values[rid] = str(value)
        return targets[target], values
    return None


def restructure(
    bag: DatasetBag,
    output_dir: Path,
    asset_table: str | None,
    group_by: list[str],
    use_symlinks: bool,
    type_selector: Callable[[list[str]], str | None] | None,
    type_to_dir_map: dict[str, str] | None,
    enforce_vocabulary: bool,
    value_selector: Callable[[list[Any]], Any] | None,
    file_transformer: Callable[[Path, Path], Path] | None,
) -> dict[Path, Path]:
    """The layout ``DatasetBag.restructure_assets`` makes (module docstring)."""
    if bag.dataset_rid is None:
        raise BagError(f"{bag.path} is not a dataset bag")
    tables = _model_tables(bag)
    table = asset_table or _asset_table(bag, tables)
    if tables.get(table, {}).get("kind") != "asset":
        raise ValidationError(f"restructure_assets: {table!r} is not an asset table of the bag")
    dirs = DEFAULT_DIRS if type_to_dir_map is None else dict(type_to_dir_map)

    def folder_of(types: list[str]) -> str | None:
        if not types:
            return dirs.get("Testing", "testing")
        chosen = type_selector(types) if type_selector is not None else types[0]
        return dirs.get(chosen) if chosen is not None else None

    # Each dataset's type path, then each asset's most deeply nested dataset.
    paths: dict[str, list[str]] = {}
    order: list[str] = []

    def walk(dataset: str, above: list[str]) -> None:
        if dataset in paths:
            return
        own = folder_of(bag.dataset_types_of(dataset))
        paths[dataset] = above + ([own] if own else [])
        order.append(dataset)
        for child in bag.list_dataset_children(dataset=dataset):
            walk(child, paths[dataset])

    walk(rids.normalize(bag.dataset_rid), [])
    home: dict[str, str] = {}
    for dataset in reversed(order):  # the deepest first: the leaf wins
        for rid in _belonging(bag, tables, dataset, table):
            home.setdefault(rid, dataset)
    groups: list[tuple[str, dict[str, str] | None]] = []
    columns = {c["name"] for c in tables[table]["columns"]}
    for key in group_by:
        if key in columns:
            groups.append((key, None))
            continue
        found = _feature_values(bag, tables, table, key, enforce_vocabulary, value_selector)
        if found is None:
            raise ValidationError(
                f"restructure_assets: {key!r} is neither a column of {table!r} nor a "
                "feature of it or of a table it references"
            )
        groups.append(found)
    manifest: dict[Path, Path] = {}
    output_dir.mkdir(parents=True, exist_ok=True)
    for row in _rows(bag, table):
        rid = rids.normalize(row["RID"])
        if rid not in home:
            continue
        try:
            source = bag.asset_path(rid)
        except (RIDNotFound, BagError):
            continue  # not fetched: materialize() first
        names = []
        for column, values in groups:
            if values is None:
                value = row.get(column)
            else:
                anchor = row.get(column) if column != "RID" else row["RID"]
                value = values.get(rids.normalize(str(anchor))) if anchor else None
            names.append(str(value) if value not in (None, "") else UNKNOWN)
        target_dir = output_dir.joinpath(*paths[home[rid]], *names)
        target_dir.mkdir(parents=True, exist_ok=True)
        target = target_dir / source.name
        if target.exists() or target.is_symlink():
            target.unlink()
        if file_transformer is not None:
            written = Path(file_transformer(source, target))
        elif use_symlinks:
            target.symlink_to(source.resolve())
            written = target
        else:
            shutil.copyfile(source, target)
            written = target
        manifest[source] = written
    return manifest
