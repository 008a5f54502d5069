"""How each BuiltinType is stored (SQLAlchemy type) and how its values are checked.

A checker takes a Python value and returns the value to store, or raises ``ValueError``
with a message that names what is wrong; the caller collects the messages of a whole call.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
import struct
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect

from assetry.records.definitions import BuiltinType

UTC = dt.UTC


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware timestamp stored in UTC on every engine.

    SQLite has no time zone type, so values are normalised to UTC before they are stored
    and marked UTC when read back.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        stamp: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        """The standard processing (the engine's own, then ``process_result_value``),
        remembered per raw value: rows written by one call share their timestamps, and
        converting each again costs more than the rest of reading the row."""
        convert = super().result_processor(dialect, coltype)
        if convert is None:  # pragma: no cover - process_result_value is defined
            return None
        cache: dict[Any, dt.datetime | None] = {}

        def process(value: Any) -> dt.datetime | None:
            if value is None:
                return None
            if type(value) is not str:
                return convert(value)
            try:
                return cache[value]
            except KeyError:
                pass
            out = convert(value)
            if len(cache) >= _RESULT_CACHE_SIZE:
                cache.clear()  # a dict is thread-safe for this; a lost entry is harmless
            cache[value] = out
            return out

        return process


# Only text (SQLite's stored form) is remembered: equal texts are the same instant. Aware
# datetimes (PostgreSQL) are not: two with the same zone and wall time but a different
# ``fold`` compare equal although they are different instants.
_RESULT_CACHE_SIZE = 4096


def rid_type() -> sa.types.TypeEngine[Any]:
    """Text compared byte by byte on every engine, so RIDs sort the same everywhere
    (PostgreSQL's default collation may ignore punctuation such as '-')."""
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


class SQLiteJSONText(sa.types.TypeDecorator[Any]):
    """JSON kept as TEXT on SQLite.

    A column declared ``JSON`` has NUMERIC affinity in SQLite, which turns a top-level
    JSON number into an SQLite number (an integer beyond 64 bits comes back rounded). A
    TEXT column keeps the JSON text as written. Columns created before this type read
    the same way (a number SQLite already converted is returned as it is stored).
    """

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str:
        return json.dumps(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        return json.loads(value) if isinstance(value, str) else value


def json_type() -> sa.types.TypeEngine[Any]:
    """JSON: JSONB on PostgreSQL, JSON text on SQLite."""
    return (
        sa.JSON()
        .with_variant(postgresql.JSONB(), "postgresql")
        .with_variant(SQLiteJSONText(), "sqlite")
    )


def sql_type(kind: BuiltinType) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type that stores values of ``kind``."""
    kind = BuiltinType.parse(kind)
    return _SQL_TYPES[kind.value]()


_SQL_TYPES: dict[str, Callable[[], sa.types.TypeEngine[Any]]] = {
    "text": sa.Text,
    "markdown": sa.Text,
    "uri": sa.Text,
    "int2": sa.SmallInteger,
    "int4": sa.Integer,
    "int8": sa.BigInteger,
    "float4": lambda: sa.Float(precision=24),
    "float8": sa.Double,
    "boolean": sa.Boolean,
    "date": sa.Date,
    "timestamp": lambda: sa.DateTime(timezone=False),
    "timestamptz": UTCDateTime,
    "json": json_type,
}


# --- value checkers -------------------------------------------------------------------


def _check_text(value: Any) -> str:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text may not contain a NUL character")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text is not valid Unicode (it holds a lone surrogate)") from None
        return str(value)
    raise ValueError(f"expected text, got {type(value).__name__} {value!r:.60}")


def _int_checker(bits: int) -> Callable[[Any], int]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def check(value: Any) -> int:
        if type(value) is int and low <= value <= high:
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise ValueError(f"expected an integer, got {type(value).__name__} {value!r:.60}")
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"{number} is out of range for int{bits // 8}")
        return number

    return check


def _check_float(value: Any) -> float:
    if type(value) is float and math.isfinite(value):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r:.60}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{value!r:.60} is too large for a floating-point column") from None
    if not math.isfinite(number):
        raise ValueError(f"{number} is not a finite number")
    return number


FLOAT4_MAX = 3.4028234663852886e38


def _check_float4(value: Any) -> float:
    number = _check_float(value)
    if abs(number) > FLOAT4_MAX:
        raise ValueError(f"{number} is out of range for float4")
    if number != 0 and struct.unpack("f", struct.pack("f", number))[0] == 0:
        # PostgreSQL refuses what single precision rounds to zero; refuse it everywhere.
        raise ValueError(f"{number} is too small for float4 (it would round to zero)")
    return number


def _check_bool(value: Any) -> bool:
    if value is True or value is False:
        return value
    kind = type(value)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool", "bool_"):
        return bool(value)
    raise ValueError(f"expected true or false, got {type(value).__name__} {value!r:.60}")


def _check_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date, got a timestamp {value!r:.60}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date (YYYY-MM-DD), got {value!r:.60}")


def _parse_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value != value:  # pandas.NaT, a datetime that equals nothing
            raise ValueError("NaT is not a timestamp (use None for a missing value)")
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected an ISO 8601 timestamp, got {value!r:.60}")


def _check_timestamp(value: Any) -> dt.datetime:
    stamp = _parse_datetime(value)
    if stamp.tzinfo is not None:
        raise ValueError(f"timestamp {value!r:.60} has a time zone; use a timestamptz column")
    return stamp


def _check_timestamptz(value: Any) -> dt.datetime:
    stamp = _parse_datetime(value)
    # A naive value is taken as UTC, the only zone a catalog stores.
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    try:
        return stamp.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r:.60} is out of range once converted to UTC") from None


def _check_json(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"value is not JSON-serialisable: {exc}") from None
    _check_json_strings(value)
    return value


def _check_json_strings(value: Any) -> None:
    """Every key and string inside a JSON value must be storable text (no NUL, no lone
    surrogate), as PostgreSQL's jsonb demands."""
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                # json.dumps would turn 1, True or None into a text key: a value that
                # reads back different from what was written.
                raise ValueError(
                    f"JSON object keys must be text, got {type(key).__name__} {key!r:.60}"
                )
            _check_text(key)
            _check_json_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_json_strings(item)


CHECKERS: dict[str, Callable[[Any], Any]] = {
    "text": _check_text,
    "markdown": _check_text,
    "uri": _check_text,
    "int2": _int_checker(16),
    "int4": _int_checker(32),
    "int8": _int_checker(64),
    "float4": _check_float4,
    "float8": _check_float,
    "boolean": _check_bool,
    "date": _check_date,
    "timestamp": _check_timestamp,
    "timestamptz": _check_timestamptz,
    "json": _check_json,
}


def checker(kind: BuiltinType | str) -> Callable[[Any], Any]:
    """The value checker of ``kind``."""
    return CHECKERS[BuiltinType.parse(kind).value]
