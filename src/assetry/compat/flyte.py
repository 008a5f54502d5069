"""Flyte's ``Artifact`` (API §12) over ``cat.artifacts``, without a Flyte cluster: a name
with partition keys and, optionally, a time partition; ``register`` records a value as a
new version with its partition values, ``query`` finds the latest version matching some.

    RideCountData = Artifact(name="ride_count_data", time_partitioned=True,
                             partition_keys=["region"])
    RideCountData.register(cat, df, region="us", time_partition=dt)
    RideCountData.query(cat, region="us")                   # the latest ArtifactVersion
    RideCountData.query(cat, region="us", time_partition=dt)

What Flyte binds inside tasks and workflows (``Inputs.region``, ``Annotated`` outputs,
``bind_time_partition``, artifact triggers) has no counterpart here: values are given
when registering or querying.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assetry.errors import ValidationError

if TYPE_CHECKING:
    from assetry.catalog import Catalog
    from assetry.records.artifacts import ArtifactVersion


class Artifact:
    """A named artifact as Flyte declares it: ``Artifact(name=..., partition_keys=[...],
    time_partitioned=True)``; also ``Artifact[pd.DataFrame](name=...)``.

    The first ``register`` declares the name in the catalog with these keys (as
    ``cat.artifacts.register`` does for any first version); later versions must give
    exactly the same keys.
    """

    def __init__(
        self,
        name: str,
        partition_keys: Sequence[str] | None = None,
        time_partitioned: bool = False,
        artifact_type: str | None = None,
        description: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name:
            raise ValidationError(f"an Artifact needs a name, got {name!r}")
        keys = partition_keys or []
        if isinstance(keys, str) or not all(isinstance(k, str) and k for k in keys):
            raise ValidationError(
                f"artifact {name!r}: partition_keys must be a list of names, got {keys!r}"
            )
        if len(set(keys)) != len(keys):
            raise ValidationError(f"artifact {name!r}: partition_keys repeat a key: {keys}")
        if not isinstance(time_partitioned, bool):
            raise ValidationError(
                f"artifact {name!r}: time_partitioned must be True or False, "
                f"got {time_partitioned!r}"
            )
        self.name = name
        self.partition_keys = list(keys)
        self.time_partitioned = time_partitioned
        self.artifact_type = artifact_type
        self.description = description

    def __class_getitem__(cls, item: object) -> type[Artifact]:
        """``Artifact[pd.DataFrame]``: the value's type is documentation only."""
        return cls

    def __repr__(self) -> str:
        return (
            f"Artifact(name={self.name!r}, partition_keys={self.partition_keys!r}, "
            f"time_partitioned={self.time_partitioned!r})"
        )

    def declare(self, catalog: Catalog) -> dict[str, Any]:
        """Declare the name before any version (curator role; ``register`` declares it
        anyway on first use)."""
        return catalog.artifacts.declare(
            self.name,
            self.artifact_type or "Custom",
            self.partition_keys or None,
            self.time_partitioned,
            self.description,
        )

    def register(
        self,
        catalog: Catalog,
        value: Any,
        /,
        *,
        time_partition: dt.datetime | None = None,
        execution: Any = None,
        parents: Sequence[Any] | None = None,
        **partitions: Any,
    ) -> ArtifactVersion:
        """Record ``value`` (saved through its materializer) as a new version with
        exactly the declared partition values; a time-partitioned artifact without
        ``time_partition`` takes the current time."""
        missing = sorted(set(self.partition_keys) - set(partitions))
        if missing:
            raise ValidationError(
                f"artifact {self.name!r} is partitioned by {self.partition_keys}: "
                f"give {', '.join(missing)}"
            )
        self._check(partitions, time_partition)
        if self.time_partitioned and time_partition is None:
            time_partition = dt.datetime.now(dt.UTC)
        return catalog.artifacts.register(
            self.name,
            artifact_type=self.artifact_type,
            data=value,
            partitions=partitions,
            time_partition=time_partition,
            parents=parents,
            execution=execution,
            description=self.description,
        )

    def query(
        self,
        catalog: Catalog,
        /,
        *,
        time_partition: dt.datetime | None = None,
        time_range: tuple[dt.datetime, dt.datetime] | None = None,
        **partitions: Any,
    ) -> ArtifactVersion | list[ArtifactVersion]:
        """The latest version matching the given partition values (any subset of the
        keys, and ``time_partition``); ``NotFoundError`` names them when none does. With
        ``time_range=(start, end)``: every match in [start, end), newest first."""
        self._check(partitions, time_partition if time_partition is not None else time_range)
        return catalog.artifacts.query(
            self.name, time_partition=time_partition, time_range=time_range, **partitions
        )

    def partition_values(self, catalog: Catalog, key: str) -> list[str]:
        """The values of partition ``key`` that the versions use."""
        self._check({key: None}, None)
        return catalog.artifacts.partition_values(self.name, key)

    def _check(self, partitions: dict[str, Any], when: object) -> None:
        unknown = sorted(set(partitions) - set(self.partition_keys))
        if unknown:
            declared = ", ".join(self.partition_keys) or "no partition keys"
            raise ValidationError(
                f"artifact {self.name!r} has {declared}; unknown: {', '.join(unknown)}"
            )
        if when is not None and not self.time_partitioned:
            raise ValidationError(
                f"artifact {self.name!r} is not time-partitioned (time_partitioned=False)"
            )
