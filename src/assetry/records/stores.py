"""A catalog's object stores and the rules choosing one for each new object.

A catalog has one store named ``default`` (the location it was created with) and may
have more, each a name and a store URL. New objects go to the store the first matching
rule names, else to the default store (``default`` unless another was made the
default). A rule matches an object of an asset table (``table``, when it names one:
an asset table, or a term of ``Asset_Type`` such as ``Model_File`` that the asset has)
larger than ``size_over`` bytes (when given). Reads look in every store.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assetry.errors import ValidationError

PRIMARY = "default"
"""The name of the store a catalog was created with."""

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}\Z")
# The unit's prefix in either case ("kB" is SI's spelling), its "B" in capitals only: a
# lowercase "b" is bits ("100Mb"), refused rather than read as bytes.
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGTkmgt]?i?B)?\s*\Z")
_LARGEST = (1 << 63) - 1  # the catalog stores sizes as 64-bit integers
_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 1 << 10,
    "MIB": 1 << 20,
    "GIB": 1 << 30,
    "TIB": 1 << 40,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


@dataclass(frozen=True)
class StoreEntry:
    """One store of a catalog: its name, URL and whether new objects go there by
    default."""

    name: str
    url: str
    default: bool = False


@dataclass(frozen=True)
class StoreRule:
    """New objects of ``table`` (an asset table, or an ``Asset_Type`` term the asset
    has; any asset when None) larger than ``size_over`` bytes (any size when None) go to
    ``store``."""

    store: str
    table: str | None = None
    size_over: int | None = None

    def matches(self, table: str | None, size: int | None, asset_types: Sequence[str] = ()) -> bool:
        if self.table is not None:
            names = {n.casefold() for n in (table, *asset_types) if n is not None}
            if self.table.casefold() not in names:
                return False
        return self.size_over is None or (size is not None and size > self.size_over)

    def describe(self) -> str:
        what = f"objects of {self.table}" if self.table else "objects"
        if self.size_over is not None:
            what += f" over {self.size_over} bytes"
        return f"{what} -> {self.store}"


def choose(
    rules: Sequence[StoreRule],
    default: str,
    table: str | None,
    size: int | None,
    asset_types: Sequence[str] = (),
) -> str:
    """The store a new object of ``table`` with ``size`` bytes (and ``asset_types``)
    goes to."""
    for rule in rules:
        if rule.matches(table, size, asset_types):
            return rule.store
    return default


def check_name(name: object) -> str:
    """``name`` if it can name a store, else ``ValidationError`` saying why."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValidationError(
            f"store name {name!r}: use 1-63 ASCII letters, digits, '_' or '-', starting "
            "with a letter"
        )
    return name


def parse_size(value: int | str | None) -> int | None:
    """A byte count from ``100MB``, ``1.5GiB``, ``4096`` or an int (None stays None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"size {value!r} is not a byte count")
    size: int | None = None
    if isinstance(value, int):
        if value < 0:
            raise ValidationError(f"size {value} is negative")
        size = value
    elif isinstance(value, str):
        found = _SIZE.match(value)
        if found:
            unit = (found.group(2) or "").upper()
            if unit in _UNITS:
                size = int(float(found.group(1)) * _UNITS[unit])
    if size is None:
        raise ValidationError(
            f"size {value!r} is not a byte count: give an int or a number with a unit "
            "(B, KB, MB, GB, TB = powers of 1000; KiB, MiB, GiB, TiB = powers of 1024; "
            "B is bytes, a lowercase b would be bits), e.g. '100MB'"
        )
    if size > _LARGEST:
        raise ValidationError(f"size {value!r} is too large (at most {_LARGEST:,} bytes)")
    return size
