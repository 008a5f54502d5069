"""The dataset namespace of the facade, and the ``Dataset`` handle bound to it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assetry.errors import ValidationError
from assetry.records.datasets import (
    DatasetHistory,
    DatasetSpec,
    DatasetVersion,
    PartitionInfo,
    SplitResult,
    check_validate,
    member_list,
)

if TYPE_CHECKING:
    from assetry.api.context import Context
    from assetry.backend import Backend


class Datasets:
    """Datasets, members, nesting and versions of a catalog."""

    def __init__(self, context: Context) -> None:
        self._backend = context.backend

    def create_dataset(
        self,
        dataset_types: Sequence[str] | str | None = None,
        description: str | None = None,
        version: str = "0.1.0",
        execution_rid: str | None = None,
    ) -> str:
        """Create a dataset (recording its first version); return its RID."""
        if isinstance(dataset_types, str):
            dataset_types = [dataset_types]
        return self._backend.create_dataset(
            list(dataset_types or []), description, version, execution_rid
        )

    def add_dataset_element_type(self, element: str) -> str:
        """Let rows of table ``element`` be dataset members; return the membership table."""
        return self._backend.add_dataset_element_type(element)

    def list_dataset_element_types(self) -> list[str]:
        """Tables whose rows may be dataset members."""
        return self._backend.dataset_element_types()

    def add_dataset_members(
        self,
        dataset_rid: str,
        members: Sequence[str] | Mapping[str, Sequence[str]],
        validate: bool = True,
        description: str | None = None,
        execution_rid: str | None = None,
    ) -> DatasetVersion | None:
        """Add members (RIDs of any element type, or nested dataset RIDs); mint the next
        minor version and return it (None when all were members already).

        ``validate`` is DerivaML's argument: here members are always checked (each must
        be a row of an element type), whatever its value.
        """
        check_validate(validate)
        return _version(
            self._backend.add_dataset_members(
                _rid(dataset_rid), member_list(members), description, execution_rid
            )
        )

    def delete_dataset_members(
        self,
        dataset_rid: str,
        members: Sequence[str] | Mapping[str, Sequence[str]],
        description: str | None = None,
    ) -> DatasetVersion | None:
        """Remove members; mint the next minor version and return it."""
        return _version(
            self._backend.delete_dataset_members(
                _rid(dataset_rid), member_list(members), description
            )
        )

    def list_dataset_members(
        self,
        dataset_rid: str,
        version: str | None = None,
        recurse: bool = False,
        limit: int | None = None,
        *,
        table: str | None = None,
        after: str | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Members by table, as of ``version`` (latest when None); ``recurse`` adds the
        members of nested datasets; at most ``limit`` rows per table (by RID).

        Paging: ``table`` keeps one element table, ``after`` the members with RID
        greater than it; pass the last RID of a page for the next one (keyset paging:
        every page of a large dataset costs the same)."""
        return self._backend.dataset_members(
            _rid(dataset_rid), version, recurse, limit, table, after
        )

    def list_dataset_children(self, dataset_rid: str, recurse: bool = False) -> list[str]:
        """RIDs of the datasets nested in this one: directly, or with ``recurse`` at any
        depth."""
        return self._backend.dataset_relatives(_rid(dataset_rid), True, recurse)

    def list_dataset_parents(self, dataset_rid: str, recurse: bool = False) -> list[str]:
        """RIDs of the datasets this one is nested in: directly, or with ``recurse`` at
        any height."""
        return self._backend.dataset_relatives(_rid(dataset_rid), False, recurse)

    def dataset_version(self, dataset_rid: str) -> DatasetVersion:
        """The latest version of a dataset (DerivaML's ``dataset_version``)."""
        return DatasetVersion(self._backend.dataset_version(_rid(dataset_rid), None)["Version"])

    def delete_dataset(self, dataset: Any, recurse: bool = False) -> list[str]:
        """Delete a dataset (with ``recurse``, the datasets nested in it too): hidden from
        ``find_datasets()`` (``deleted=True`` shows it), its versions and bags still
        readable, its members frozen. A dataset nested in another is refused
        (``ConflictError``): remove it from its parent first. Returns the RIDs deleted."""
        return self._backend.delete_dataset(_rid(dataset), recurse)

    def increment_dataset_version(
        self,
        dataset_rid: str,
        component: str = "minor",
        description: str | None = None,
        execution_rid: str | None = None,
    ) -> DatasetVersion:
        """Mint the next version (``major``, ``minor`` or ``patch``); return it."""
        component = getattr(component, "value", component)
        return DatasetVersion(
            self._backend.increment_dataset_version(
                _rid(dataset_rid), component, description, execution_rid
            )
        )

    def dataset_history(self, dataset_rid: str) -> list[DatasetHistory]:
        """Every version of a dataset, oldest first."""
        rows = self._backend.dataset_versions(_rid(dataset_rid))
        return [DatasetHistory.from_row(r) for r in rows]

    def find_datasets(
        self,
        dataset_type: str | None = None,
        deleted: bool = False,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[dict[str, Any]]:
        """Datasets (rows plus ``Dataset_Type`` and latest ``Version``) ordered by RID;
        deleted ones only with ``deleted=True``. Paging: at most ``limit`` of them, those
        with RID greater than ``after`` (the last RID of the previous page)."""
        return self._backend.dataset_summaries(dataset_type, deleted, limit, after)

    def split_dataset(
        self,
        source_dataset_rid: str,
        *,
        test_size: float | int = 0.2,
        train_size: float | int | None = None,
        val_size: float | int | None = None,
        shuffle: bool = True,
        seed: int = 42,
        split_description: str = "",
        training_types: Sequence[str] | None = None,
        testing_types: Sequence[str] | None = None,
        validation_types: Sequence[str] | None = None,
        element_table: str | None = None,
        execution_rid: str | None = None,
        dry_run: bool = False,
    ) -> SplitResult:
        """Split the members of one element table of a dataset (nested ones included)
        into training, testing and (with ``val_size``) validation datasets, nested in a
        new ``Split`` dataset, as DerivaML's ``split_dataset`` does: sizes are fractions
        in (0, 1) or counts; the training set is the rest unless ``train_size`` says;
        with ``shuffle`` the members (by RID) are permuted by ``numpy``'s generator
        seeded with ``seed`` (the same seed, the same split). ``dry_run`` creates
        nothing."""
        from assetry.api.split import plan_split

        plan = plan_split(
            self._backend.dataset_members(_rid(source_dataset_rid), None, True, None),
            source_dataset_rid,
            element_table,
            test_size,
            train_size,
            val_size,
            shuffle,
            seed,
        )
        counts = {name: len(rids) for name, rids in plan.partitions.items()}
        if dry_run:
            none = PartitionInfo("(dry run)", "(dry run)", 0)

            def info(name: str) -> PartitionInfo:
                return PartitionInfo("(dry run)", "(dry run)", counts[name])

            return SplitResult(
                source_dataset_rid,
                none,
                info("Training"),
                info("Testing"),
                info("Validation") if "Validation" in counts else None,
                seed,
                plan.table,
            )
        sizes = ", ".join(f"{k}={v}" for k, v in counts.items())
        about = f"Split of dataset {source_dataset_rid} (random, {sizes}, seed={seed})"
        split = self.create_dataset(["Split"], split_description or about, "0.1.0", execution_rid)
        extra = {
            "Training": list(training_types or []),
            "Testing": list(testing_types or []),
            "Validation": list(validation_types or []),
        }
        made: dict[str, str] = {}
        for name in plan.partitions:
            text = f"{name} subset ({counts[name]} samples) of {source_dataset_rid} (seed={seed})"
            made[name] = self.create_dataset([name, *extra[name]], text, "0.1.0", execution_rid)
        self.add_dataset_members(split, list(made.values()), execution_rid=execution_rid)
        for name, rids in plan.partitions.items():
            self.add_dataset_members(made[name], rids, execution_rid=execution_rid)

        def part(name: str) -> PartitionInfo:
            return PartitionInfo(made[name], self.dataset_version(made[name]), counts[name])

        return SplitResult(
            source_dataset_rid,
            PartitionInfo(split, self.dataset_version(split), sum(counts.values())),
            part("Training"),
            part("Testing"),
            part("Validation") if "Validation" in made else None,
            seed,
            plan.table,
        )

    def lookup_dataset(
        self, rid: str | DatasetSpec | None = None, *, dataset: str | DatasetSpec | None = None
    ) -> Dataset:
        """A ``Dataset`` object bound to the dataset ``rid`` (a RID or a ``DatasetSpec``;
        ``dataset=`` is DerivaML's name for the same argument)."""
        if (rid is None) == (dataset is None):
            raise ValidationError("lookup_dataset needs one dataset: rid= or dataset=")
        wanted = rid if rid is not None else dataset
        if isinstance(wanted, DatasetSpec):
            wanted = wanted.rid
        row = self._backend.dataset_version(wanted, None)  # type: ignore[arg-type]
        return Dataset(self, self._backend, row["Dataset"])


def _rid(dataset: Any) -> str:
    """A dataset RID from a RID, a ``Dataset`` or a ``DatasetSpec``."""
    found = getattr(dataset, "rid", dataset)
    return found  # type: ignore[no-any-return]


def _version(version: str | None) -> DatasetVersion | None:
    return None if version is None else DatasetVersion(version)


class Dataset:
    """A dataset bound to its catalog: the catalog's dataset methods without the RID."""

    def __init__(self, datasets: Datasets, backend: Backend, rid: str) -> None:
        self._catalog = datasets
        self._backend = backend
        self.rid = rid

    def __repr__(self) -> str:
        return f"Dataset({self.rid!r})"

    @property
    def dataset_rid(self) -> str:
        """The dataset's RID (DerivaML's name for ``rid``)."""
        return self.rid

    @property
    def version(self) -> DatasetVersion:
        """The latest version."""
        return self._catalog.dataset_version(self.rid)

    @property
    def current_version(self) -> DatasetVersion:
        """The latest version (DerivaML's name)."""
        return self._catalog.dataset_version(self.rid)

    @property
    def description(self) -> str | None:
        return self._backend.resolve_rid(self.rid).row.get("Description")

    @property
    def dataset_types(self) -> list[str]:
        for summary in self._catalog.find_datasets(deleted=True):
            if summary["RID"] == self.rid:
                return list(summary["Dataset_Type"])
        return []

    def add_dataset_members(
        self,
        members: Sequence[str] | Mapping[str, Sequence[str]],
        validate: bool = True,
        description: str | None = None,
        execution_rid: str | None = None,
    ) -> DatasetVersion | None:
        return self._catalog.add_dataset_members(
            self.rid, members, validate, description, execution_rid
        )

    def delete_dataset_members(
        self, members: Sequence[str] | Mapping[str, Sequence[str]], description: str | None = None
    ) -> DatasetVersion | None:
        return self._catalog.delete_dataset_members(self.rid, members, description)

    def list_dataset_members(
        self,
        version: str | None = None,
        recurse: bool = False,
        limit: int | None = None,
        *,
        table: str | None = None,
        after: str | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        return self._catalog.list_dataset_members(
            self.rid, version, recurse, limit, table=table, after=after
        )

    def list_dataset_children(self, recurse: bool = False) -> list[str]:
        return self._catalog.list_dataset_children(self.rid, recurse)

    def list_dataset_parents(self, recurse: bool = False) -> list[str]:
        return self._catalog.list_dataset_parents(self.rid, recurse)

    def increment_dataset_version(
        self,
        component: str = "minor",
        description: str | None = None,
        execution_rid: str | None = None,
    ) -> DatasetVersion:
        return self._catalog.increment_dataset_version(
            self.rid, component, description, execution_rid
        )

    def dataset_history(self) -> list[DatasetHistory]:
        return self._catalog.dataset_history(self.rid)

    def delete_dataset(self, recurse: bool = False) -> list[str]:
        return self._catalog.delete_dataset(self.rid, recurse)
