"""The feature operations of ``SqlBackend`` (DerivaML's features; one transaction per
call)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from assetry.records.definitions import ColumnDef
from assetry.sql import features
from assetry.sql.session import Session


class SqlFeaturesMixin:
    """Feature operations, written once over ``session()``."""

    def session(self, write: bool = False, durable: bool = True) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def create_feature(
        self,
        target: str,
        feature_name: str,
        terms: Sequence[str],
        assets: Sequence[str],
        metadata: Sequence[ColumnDef],
        references: Sequence[str],
        optional: Sequence[str],
        comment: str | None,
    ) -> str:
        with self.session(write=True) as s:
            table = features.create(
                s, target, feature_name, terms, assets, metadata, references, optional, comment
            )
            return table.name

    def delete_feature(self, target: str, feature_name: str) -> bool:
        with self.session(write=True) as s:
            return features.delete(s, target, feature_name)

    def record_features(
        self, execution: str, batches: Sequence[Mapping[str, Any]]
    ) -> dict[str, list[str]]:
        with self.session(write=True) as s:
            return features.record(s, execution, batches)
