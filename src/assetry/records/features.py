"""Features (DerivaML's labelling model) as data: which tables are features, their
columns, and the pydantic classes of their records.

A feature ``F`` of table ``T`` is an association table ``Execution_T_F`` with the columns
``Execution`` (the run that produced a value), ``T`` (the target row), ``Feature_Name``
(a term of the ``Feature_Name`` vocabulary, by default ``F``) and its own columns: terms
of vocabularies, RIDs of assets, other values. It is recognized by its shape, as DerivaML
does: an association table whose unique key is ``Execution``, the target and
``Feature_Name``. The same rule reads a live catalog's model and a bag's schema.json.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, create_model

from assetry.errors import ValidationError

FEATURE_NAME = "Feature_Name"
EXECUTION = "Execution"
SYSTEM_COLUMNS = ("RID", "RCT", "RMT", "RCB", "RMB")


def feature_table_name(target: str, feature_name: str) -> str:
    """The table of feature ``feature_name`` of ``target`` (DerivaML's name)."""
    return f"{EXECUTION}_{target}_{feature_name}"


@dataclass(frozen=True)
class TableRef:
    """A table by name (DerivaML hands out table objects: ``f.target_table.name``)."""

    name: str
    schema: str | None = None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FeatureColumn:
    """One of a feature's own columns: ``role`` is ``term`` (a vocabulary's term),
    ``asset`` (an asset's RID) or ``value`` (anything else, references to plain tables
    included); ``table`` is the table a term or reference column points at."""

    name: str
    type: str
    nullok: bool
    role: str
    table: str | None = None
    default: Any = None
    comment: str | None = None


@dataclass(frozen=True)
class Feature:
    """The structure of one feature (not its values)."""

    feature_name: str
    target_table: TableRef
    feature_table: TableRef
    columns: tuple[FeatureColumn, ...]
    comment: str | None = None
    _classes: dict[str, type[FeatureRecord]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def feature_columns(self) -> list[FeatureColumn]:
        """The feature's own columns (not RID..RMB, Execution, the target, Feature_Name)."""
        return list(self.columns)

    @property
    def term_columns(self) -> list[FeatureColumn]:
        return [c for c in self.columns if c.role == "term"]

    @property
    def asset_columns(self) -> list[FeatureColumn]:
        return [c for c in self.columns if c.role == "asset"]

    @property
    def value_columns(self) -> list[FeatureColumn]:
        return [c for c in self.columns if c.role == "value"]

    def to_doc(self) -> dict[str, Any]:
        """The feature as plain data (model documents, ``--json`` output)."""
        return {
            "feature_name": self.feature_name,
            "target_table": self.target_table.name,
            "feature_table": self.feature_table.name,
            "terms": [c.table for c in self.term_columns],
            "assets": [c.table for c in self.asset_columns],
            "values": [c.name for c in self.value_columns],
            "optional": [c.name for c in self.columns if c.nullok],
            "comment": self.comment,
        }

    def feature_record_class(self) -> type[FeatureRecord]:
        """The pydantic class of this feature's records (built once per Feature)."""
        found = self._classes.get("record")
        if found is None:
            found = self._classes["record"] = _record_class(self)
        return found

    def __repr__(self) -> str:
        return (
            f"Feature(target_table={self.target_table.name}, feature_name={self.feature_name}, "
            f"feature_table={self.feature_table.name})"
        )


def feature_of(table: Mapping[str, Any], kinds: Mapping[str, str]) -> Feature | None:
    """The feature that the model document's ``table`` implements, or None.

    ``kinds`` maps every table name of the model to its kind (to tell term and asset
    columns from the others)."""
    if table.get("kind") != "association":
        return None
    fkeys = {fk.get("column"): fk for fk in table.get("foreign_keys") or []}
    name_key, run_key = fkeys.get(FEATURE_NAME), fkeys.get(EXECUTION)
    if name_key is None or run_key is None or name_key.get("table") != FEATURE_NAME:
        return None
    if run_key.get("table") != EXECUTION:
        return None
    target = None
    for key in table.get("unique") or []:
        others = set(key) - {EXECUTION, FEATURE_NAME}
        if len(key) == 3 and len(others) == 1:
            target = next(iter(others))
    if target is None or target not in fkeys:
        return None
    columns = {c["name"]: c for c in table.get("columns") or []}
    name = columns.get(FEATURE_NAME, {}).get("default")
    if not isinstance(name, str):
        return None
    own = []
    for column in table.get("columns") or []:
        if column["name"] in (*SYSTEM_COLUMNS, EXECUTION, FEATURE_NAME, target):
            continue
        fk = fkeys.get(column["name"])
        points_at = fk.get("table") if fk else None
        kind = kinds.get(points_at) if points_at else None
        role = {"vocabulary": "term", "asset": "asset"}.get(kind or "", "value")
        own.append(
            FeatureColumn(
                name=column["name"],
                type=column.get("type", "text"),
                nullok=bool(column.get("nullok", True)),
                role=role,
                table=points_at,
                default=column.get("default"),
                comment=column.get("comment"),
            )
        )
    schema = table.get("schema")
    return Feature(
        feature_name=name,
        target_table=TableRef(fkeys[target]["table"], None),
        feature_table=TableRef(table["name"], schema),
        columns=tuple(own),
        comment=table.get("comment"),
    )


def features_of_model(model: Mapping[str, Any]) -> list[Feature]:
    """Every feature of a model document, by target table then feature name."""
    tables = [t for t in model.get("tables") or [] if isinstance(t, Mapping)]
    kinds = {str(t.get("name")): str(t.get("kind")) for t in tables}
    found = [f for f in (feature_of(t, kinds) for t in tables) if f is not None]
    return sorted(found, key=lambda f: (f.target_table.name, f.feature_name))


def find_feature(features: Sequence[Feature], table: str, feature_name: str) -> Feature:
    """The feature ``feature_name`` of ``table`` among ``features``, or ``NotFoundError``
    listing the table's features."""
    from assetry.errors import NotFoundError

    on_table = [f for f in features if f.target_table.name == table]
    for feature in on_table:
        if feature.feature_name == feature_name:
            return feature
    names = ", ".join(f.feature_name for f in on_table) or "none"
    raise NotFoundError(f"table {table!r} has no feature {feature_name!r} (its features: {names})")


# --- records --------------------------------------------------------------------------


class FeatureRecord(BaseModel):
    """One value of a feature: the base of the classes ``feature_record_class`` makes.

    Its fields are the feature's columns (the target's RID, terms, asset RIDs or staged
    file paths, values), ``Execution`` (filled in by ``exe.add_features``) and
    ``Feature_Name``; records read back also carry ``RID``, ``RCT``, ``RMT``, ``RCB``
    and ``RMB``. A record is also a read-only mapping of its fields, so
    ``pandas.DataFrame(records)`` has one column per field.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    Execution: str | None = None
    Feature_Name: str
    RID: str | None = None
    RCT: str | None = None
    RMT: str | None = None
    RCB: str | None = None
    RMB: str | None = None
    feature: ClassVar[Feature | None] = None

    # The mapping face (pandas builds a frame's columns from ``keys``).
    def keys(self) -> list[str]:
        return list(type(self).model_fields)

    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def __len__(self) -> int:
        return len(type(self).model_fields)

    @classmethod
    def _feature(cls) -> Feature:
        if cls.feature is None:
            raise ValidationError("FeatureRecord is a base class: use feature_record_class()")
        return cls.feature

    @classmethod
    def feature_columns(cls) -> list[FeatureColumn]:
        return cls._feature().feature_columns

    @classmethod
    def term_columns(cls) -> list[FeatureColumn]:
        return cls._feature().term_columns

    @classmethod
    def asset_columns(cls) -> list[FeatureColumn]:
        return cls._feature().asset_columns

    @classmethod
    def value_columns(cls) -> list[FeatureColumn]:
        return cls._feature().value_columns

    # Selectors: given the records of one target, pick one (``list_feature_values``'s
    # ``selector=`` and ``restructure_assets``'s ``value_selector=``).
    @staticmethod
    def select_newest(records: list[FeatureRecord]) -> FeatureRecord:
        """The record created last (by RCT)."""
        return max(records, key=lambda r: r.RCT or "")

    @staticmethod
    def select_latest(records: list[FeatureRecord]) -> FeatureRecord:
        return FeatureRecord.select_newest(records)

    @staticmethod
    def select_first(records: list[FeatureRecord]) -> FeatureRecord:
        """The record created first (by RCT)."""
        return min(records, key=lambda r: r.RCT or "")

    @staticmethod
    def select_by_execution(execution_rid: str) -> Callable[[list[FeatureRecord]], FeatureRecord]:
        """A selector keeping the newest record of one execution (``ValidationError``
        when a target has none)."""

        def select(records: list[FeatureRecord]) -> FeatureRecord:
            mine = [r for r in records if r.Execution == execution_rid]
            if not mine:
                raise ValidationError(f"no feature record of execution {execution_rid!r}")
            return FeatureRecord.select_newest(mine)

        return select

    @classmethod
    def select_majority_vote(
        cls, column: str | None = None
    ) -> Callable[[list[FeatureRecord]], FeatureRecord]:
        """A selector keeping the most frequent value of ``column`` (the feature's only
        term column by default), the newest record among ties."""

        def select(records: list[FeatureRecord]) -> FeatureRecord:
            name = column
            if name is None:
                terms = type(records[0])._feature().term_columns
                if len(terms) != 1:
                    raise ValidationError(
                        "select_majority_vote needs column= for a feature with "
                        f"{len(terms)} term columns"
                    )
                name = terms[0].name
            counts = Counter(getattr(r, name, None) for r in records)
            best = max(counts.values())
            return FeatureRecord.select_newest(
                [r for r in records if counts[getattr(r, name, None)] == best]
            )

        return select


# pandas (and ``dict(record)``) treat a record as the mapping of its fields.
MappingABC.register(FeatureRecord)


def _python_type(column: FeatureColumn) -> Any:
    if column.role == "asset":
        return str | Path
    return {
        "int2": int,
        "int4": int,
        "int8": int,
        "float4": float,
        "float8": float,
        "boolean": bool,
        "date": dt.date,
        "timestamp": dt.datetime,
        "timestamptz": dt.datetime,
        "json": Any,
        "jsonb": Any,
    }.get(column.type, str)


def _record_class(feature: Feature) -> type[FeatureRecord]:
    fields: dict[str, Any] = {
        feature.target_table.name: (str, ...),
        FEATURE_NAME: (str, feature.feature_name),
    }
    for column in feature.columns:
        kind = _python_type(column)
        if column.nullok:
            fields[column.name] = (kind | None, column.default)
        elif column.default is not None:
            fields[column.name] = (kind, column.default)
        else:
            fields[column.name] = (kind, ...)
    lines = "\n".join(f"    {c.name} ({c.role})" for c in feature.columns)
    cls = create_model(
        f"{feature.target_table.name}Feature{feature.feature_name}",
        __base__=FeatureRecord,
        __doc__=f"A value of feature {feature.feature_name} of {feature.target_table.name}:\n"
        + lines,
        **fields,
    )
    cls.feature = feature
    result: type[FeatureRecord] = cls
    return result


def record_from_row(cls: type[FeatureRecord], row: Mapping[str, Any]) -> FeatureRecord:
    """A record read back from a row of the feature's table (timestamps of the system
    columns as ISO 8601 text, as DerivaML gives them)."""
    fields = cls.model_fields
    values = {}
    for key, value in row.items():
        if key not in fields:
            continue
        if key in SYSTEM_COLUMNS and isinstance(value, dt.datetime):
            value = value.isoformat()
        values[key] = value
    return cls.model_validate(values)


def group_by_target(
    records: Sequence[FeatureRecord], target: str
) -> Iterator[tuple[str, list[FeatureRecord]]]:
    """Records grouped by their target RID, in first-seen order."""
    groups: dict[str, list[FeatureRecord]] = {}
    for record in records:
        groups.setdefault(str(getattr(record, target)), []).append(record)
    yield from groups.items()


def select(
    records: Sequence[FeatureRecord],
    target: str,
    selector: Callable[[list[FeatureRecord]], FeatureRecord | None] | None,
) -> list[FeatureRecord]:
    """``records`` reduced to one per target by ``selector`` (None drops a target)."""
    if selector is None:
        return list(records)
    out = []
    for _, group in group_by_target(records, target):
        chosen = selector(group) if len(group) > 1 else group[0]
        if chosen is not None:
            out.append(chosen)
    return out
