"""DataFrames of a table's rows, built column by column.

The rows come as pages of columns (``Backend.column_pages``), so no dict or tuple is made
per row: each column's values are gathered into one list, turned into its pandas array
and dropped before the next column is converted, which keeps the peak memory near the
frame's own size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from assetry.records.bulk import collector_paused

if TYPE_CHECKING:
    import pandas as pd

_INT_TYPES = {"int2", "int4", "int8"}


def build_frame(
    columns: list[tuple[str, str]], pages: Iterable[list[Sequence[Any]]]
) -> pd.DataFrame:
    """A DataFrame with one column per ``(name, type)`` of ``columns`` (model order) and
    the rows of ``pages``. Integer columns are nullable ``Int64``, booleans ``boolean``;
    every other column is what pandas infers from its values."""
    import pandas as pd

    gathered: list[list[Any]] = [[] for _ in columns]
    with collector_paused():
        for page in pages:
            for values, more in zip(gathered, page, strict=True):
                values += more
        data: dict[str, Any] = {}
        for i, (name, kind) in enumerate(columns):
            values, gathered[i] = gathered[i], []
            data[name] = _array(pd, values, kind)
            del values
        return pd.DataFrame(data, columns=[name for name, _ in columns])


def _array(pd: Any, values: list[Any], kind: str) -> Any:
    if kind in _INT_TYPES:
        return pd.array(values, dtype="Int64")
    if kind == "boolean":
        return pd.array(values, dtype="boolean")
    if not values:
        return pd.Series(values, dtype=object)
    return pd.Series(values)
