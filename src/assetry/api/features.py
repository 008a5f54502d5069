"""The feature namespace of the facade (DerivaML's labelling model): ``cat.features``.

A feature attaches values (terms, assets, other values) to rows of a table, each value
recorded by the execution that produced it (``exe.add_features``). Its structure is in
the model (``records.features``); these calls create, find and delete features and read
their values. DerivaML's flat names on ``Catalog`` delegate here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from assetry.errors import ValidationError
from assetry.records.definitions import ColumnDef
from assetry.records.features import (
    Feature,
    FeatureRecord,
    features_of_model,
    find_feature,
    record_from_row,
    select,
)

if TYPE_CHECKING:
    import pandas as pd

    from assetry.api.context import Context

Selector = Callable[[list[FeatureRecord]], FeatureRecord | None]


def table_name(table: object, what: str = "table") -> str:
    """A table given by name or as an object with a ``name`` (DerivaML's Table)."""
    name = getattr(table, "name", table)
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{what} must be a table name, got {table!r}")
    return name


def _names(values: object, what: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValidationError(f"{what} must be a list, got {values!r}")
    return [table_name(v, f"{what} entry") for v in values]


class Features:
    """Features of a catalog: definitions and values."""

    def __init__(self, context: Context) -> None:
        self._backend = context.backend

    def create_feature(
        self,
        target_table: Any,
        feature_name: str,
        terms: Sequence[Any] | None = None,
        assets: Sequence[Any] | None = None,
        metadata: Sequence[ColumnDef | Any] | None = None,
        optional: Sequence[str] | None = None,
        comment: str | None = "",
        update_navbar: bool = True,
    ) -> type[FeatureRecord]:
        """Create feature ``feature_name`` of ``target_table`` and return the class of its
        records.

        Its table ``Execution_<target>_<feature_name>`` has ``Execution``, the target,
        ``Feature_Name``, one column per vocabulary in ``terms`` (a term's name), per
        asset table in ``assets`` (an asset's RID), then ``metadata``: ``ColumnDef``s
        (value columns) or table names (a reference column each). Every column is
        required but those named in ``optional`` (and ``ColumnDef``s with
        ``nullok=True``). ``update_navbar`` is DerivaML's and does nothing here."""
        del update_navbar  # DerivaML's web-interface flag: nothing to update here
        columns: list[ColumnDef] = []
        references: list[str] = []
        if metadata is not None and (
            isinstance(metadata, str) or not isinstance(metadata, Sequence)
        ):
            raise ValidationError(f"metadata must be a list, got {metadata!r}")
        for item in metadata or []:
            if isinstance(item, ColumnDef):
                columns.append(item)
            else:
                references.append(table_name(item, "metadata entry"))
        if optional is not None and (
            isinstance(optional, str) or not isinstance(optional, Sequence)
        ):
            raise ValidationError(f"optional must be a list of column names, got {optional!r}")
        target = table_name(target_table, "target_table")
        self._backend.create_feature(
            target,
            feature_name,
            _names(terms, "terms"),
            _names(assets, "assets"),
            columns,
            references,
            list(optional or []),
            comment or None,
        )
        return self.feature_record_class(target, feature_name)

    def find_features(self, table: Any = None) -> list[Feature]:
        """The features of ``table`` (every feature of the catalog when None)."""
        found = features_of_model(self._backend.model_document())
        if table is None:
            return found
        name = table_name(table)
        self._backend.table_columns(name)  # TableNotFound for an unknown table
        return [f for f in found if f.target_table.name == name]

    def lookup_feature(self, table: Any, feature_name: str) -> Feature:
        """The structure of feature ``feature_name`` of ``table`` (``NotFoundError``
        listing the table's features)."""
        name = table_name(table)
        self._backend.table_columns(name)
        return find_feature(self.find_features(), name, feature_name)

    def feature_record_class(self, table: Any, feature_name: str) -> type[FeatureRecord]:
        """The pydantic class of the feature's records (for ``exe.add_features``)."""
        return self.lookup_feature(table, feature_name).feature_record_class()

    def delete_feature(self, table: Any, feature_name: str) -> bool:
        """Delete the feature (its table and values; versions minted before keep
        reading them); False when there is no such feature."""
        return self._backend.delete_feature(table_name(table), feature_name)

    def list_feature_values(
        self,
        table: Any,
        feature_name: str,
        selector: Selector | None = None,
        as_of: int | None = None,
    ) -> list[FeatureRecord]:
        """The values of a feature as records of its class, by RID (with ``RID``,
        ``RCT``, ``Execution``, ...); ``selector`` reduces the values of each target to
        one (e.g. ``FeatureRecord.select_newest``). A list of records is also a table:
        ``pandas.DataFrame(values)`` has one column per field."""
        feature = self.lookup_feature(table, feature_name)
        cls = feature.feature_record_class()
        rows = self._backend.iter_rows(feature.feature_table.name, None, as_of)
        records = [record_from_row(cls, row) for row in rows]
        return select(records, feature.target_table.name, selector)

    def feature_values(
        self, table: Any, feature_name: str, selector: Selector | None = None
    ) -> list[FeatureRecord]:
        """DerivaML's newer name of ``list_feature_values``."""
        return self.list_feature_values(table, feature_name, selector)

    def fetch_table_features(
        self, table: Any, feature_name: str | None = None, selector: Selector | None = None
    ) -> dict[str, list[FeatureRecord]]:
        """The values of every feature of ``table`` (or of one), by feature name."""
        wanted = self.find_features(table)
        if feature_name is not None:
            wanted = [self.lookup_feature(table, feature_name)]
        return {
            f.feature_name: self.list_feature_values(table, f.feature_name, selector)
            for f in wanted
        }

    def feature_values_dataframe(self, table: Any, feature_name: str) -> pd.DataFrame:
        """The values of a feature as a DataFrame (one row per value)."""
        import pandas as pd

        feature = self.lookup_feature(table, feature_name)
        fields = list(feature.feature_record_class().model_fields)
        return pd.DataFrame(self.list_feature_values(table, feature_name), columns=fields)
