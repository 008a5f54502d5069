"""Planning a dataset split (DerivaML's ``split_dataset``): which members go where."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assetry.errors import ValidationError

PARTITIONS = ("Training", "Testing", "Validation")


@dataclass(frozen=True)
class SplitPlan:
    """The element table split and the member RIDs of each partition, in order."""

    table: str
    partitions: dict[str, list[str]]


def _count(size: object, total: int, name: str) -> int:
    if isinstance(size, float) and 0 < size < 1:
        return int(round(total * size))
    if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
        return size
    raise ValidationError(f"{name} must be a fraction in (0, 1) or a count >= 1, got {size!r}")


def sizes(total: int, test_size: object, train_size: object, val_size: object) -> dict[str, int]:
    """Members per partition (Training, Testing, then Validation when asked for); every
    problem at once."""
    problems = []
    counts: dict[str, int] = {}
    for name, size in (("test_size", test_size), ("val_size", val_size)):
        if size is None and name == "val_size":
            continue
        try:
            counts[name] = _count(size, total, name)
        except ValidationError as err:
            problems += err.problems
    if train_size is not None:
        try:
            counts["train_size"] = _count(train_size, total, "train_size")
        except ValidationError as err:
            problems += err.problems
    if problems:
        raise ValidationError(problems)
    test, val = counts["test_size"], counts.get("val_size", 0)
    train = counts.get("train_size", total - test - val)
    if train + test + val > total:
        problems.append(
            f"train ({train}) + test ({test})"
            + (f" + validation ({val})" if val_size is not None else "")
            + f" = {train + test + val} members exceed the {total} of the dataset"
        )
    for name, count in (("training", train), ("testing", test)):
        if count <= 0:
            problems.append(f"the {name} set would be empty ({count} of {total} members)")
    if val_size is not None and val <= 0:
        problems.append(f"the validation set would be empty ({val} of {total} members)")
    if problems:
        raise ValidationError(problems)
    out = {"Training": train, "Testing": test}
    if val_size is not None:
        out["Validation"] = val
    return out


def plan_split(
    members: Mapping[str, list[dict[str, Any]]],
    source: str,
    element_table: str | None,
    test_size: object,
    train_size: object,
    val_size: object,
    shuffle: bool,
    seed: int,
) -> SplitPlan:
    """Which members of ``source`` (its recursive members, by table) go to which
    partition: shuffled by ``numpy.random.default_rng(seed)`` as DerivaML does."""
    tables = [t for t, rows in members.items() if t != "Dataset" and rows]
    if element_table is None:
        if not tables:
            raise ValidationError(f"dataset {source} has no members to split")
        if len(tables) > 1:
            raise ValidationError(
                f"dataset {source} has members in {', '.join(tables)}: "
                "say which to split with element_table="
            )
        element_table = tables[0]
    if not members.get(element_table):
        raise ValidationError(
            f"dataset {source} has no members in {element_table!r} "
            f"(tables with members: {', '.join(tables) or 'none'})"
        )
    rids = [row["RID"] for row in members[element_table]]
    counts = sizes(len(rids), test_size, train_size, val_size)
    if shuffle:
        import numpy as np

        order = np.arange(len(rids))
        np.random.default_rng(seed).shuffle(order)
        rids = [rids[i] for i in order]
    out: dict[str, list[str]] = {}
    start = 0
    for name, count in counts.items():
        out[name] = rids[start : start + count]
        start += count
    return SplitPlan(element_table, out)
