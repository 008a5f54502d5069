"""The wire format shared by the server and the remote client.

JSON carries what it can; the values it cannot carry exactly are tagged objects with one
``$`` key, so a row read through the server equals the row read embedded::

    datetime -> {"$datetime": "2026-01-02T03:04:05.000006+00:00"}
    date     -> {"$date": "2026-01-02"}        time     -> {"$time": "03:04:05"}
    Decimal  -> {"$decimal": "1.50"}           bytes    -> {"$bytes": "<base64>"}
    nan/inf  -> {"$float": "nan" | "inf" | "-inf"}
    set      -> {"$set": [...]}                pandas.NaT -> {"$nat": null}
    anything else -> {"$opaque": "<type>: <repr>"} (refused by the server's checks)
    a dict whose keys start with "$" -> {"$dict": {...}}

Dataclasses travel as plain objects and tuples and sets as arrays; ``build`` turns them
back into the types a ``Backend`` method's annotations name. Errors travel as
``{"error": {"class", "message", "fields"}}`` and are rebuilt into the same
``assetry.errors`` class.
"""

from __future__ import annotations

import base64
import collections.abc as cabc
import dataclasses
import datetime as dt
import decimal
import functools
import math
import types
import typing
from pathlib import PurePath
from typing import Any

from assetry import errors
from assetry.errors import AssetryError, ValidationError

_TAGS = frozenset(
    ("$datetime", "$date", "$time", "$decimal", "$bytes", "$float", "$dict", "$set", "$nat")
    + ("$opaque",)
)


def encode(value: Any) -> Any:
    """``value`` as JSON-able data, tagging what JSON cannot hold exactly."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if type(value).__name__ == "NaTType":  # pandas' missing time: refused like embedded
        return {"$nat": None}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, PurePath):
        return str(value)
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return encode(value.item())  # numpy scalars, e.g. from a DataFrame
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, cabc.Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"cannot send a mapping with a non-text key {key!r}")
            out[key] = encode(item)
        return {"$dict": out} if any(k.startswith("$") for k in out) else out
    if isinstance(value, set | frozenset):
        return {"$set": [encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, list | tuple | cabc.Iterator):
        return [encode(v) for v in value]
    # Anything else travels as a stand-in, so the server's checks refuse it with the same
    # message (row, column, value) an embedded catalog gives.
    return {"$opaque": f"{type(value).__name__}: {value!r}"}


def decode(data: Any) -> Any:
    """The inverse of ``encode`` on parsed JSON (tagged objects become Python values)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        [(key, raw)] = data.items()
        if key in _TAGS:
            return _untag(key, raw)
    return {k: decode(v) for k, v in data.items()}


class Opaque:
    """A value the client could not put on the wire (shown by its type and repr)."""

    def __init__(self, description: str) -> None:
        self.description = description

    def __repr__(self) -> str:
        return f"<{self.description}>"


def _untag(tag: str, raw: Any) -> Any:
    if tag == "$opaque":
        return Opaque(str(raw))
    if tag == "$nat":
        import pandas as pd

        return pd.NaT
    if tag == "$set":
        if not isinstance(raw, list):
            raise ValidationError("a $set value must be an array")
        items = [decode(v) for v in raw]
        try:
            return set(items)
        except TypeError:
            raise ValidationError("a $set holds only hashable values") from None
    if tag == "$dict":
        if not isinstance(raw, dict):
            raise ValidationError("a $dict value must be an object")
        return {k: decode(v) for k, v in raw.items()}
    if not isinstance(raw, str):
        raise ValidationError(f"a {tag} value must be a string, got {raw!r}")
    try:
        if tag == "$datetime":
            return dt.datetime.fromisoformat(raw)
        if tag == "$date":
            return dt.date.fromisoformat(raw)
        if tag == "$time":
            return dt.time.fromisoformat(raw)
        if tag == "$decimal":
            return decimal.Decimal(raw)
        if tag == "$bytes":
            return base64.b64decode(raw.encode("ascii"), validate=True)
        if raw not in ("nan", "inf", "-inf"):
            raise ValueError(raw)
        return float(raw)
    except (ValueError, decimal.InvalidOperation, UnicodeEncodeError) as err:
        raise ValidationError(f"bad {tag} value {raw!r}: {err}") from None


# --- typed reconstruction -------------------------------------------------------------------


def build(hint: Any, value: Any, where: str = "value") -> Any:
    """``value`` (decoded JSON) as the type ``hint`` names: dataclasses, tuples and sets
    rebuilt, scalars checked. A mismatch is a ``ValidationError`` naming ``where``."""
    if hint is Any or hint is object:
        return value
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        problems = []
        for option in args:
            if option is type(None):
                continue
            try:
                return build(option, value, where)
            except ValidationError as err:
                problems.extend(err.problems)
        raise ValidationError(problems or [f"{where}: {value!r} has the wrong type"])
    if hint is type(None):
        if value is not None:
            raise ValidationError(f"{where}: expected null, got {value!r}")
        return None
    if origin is not None:
        return _build_generic(origin, args, value, where)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, value, where)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(hint, type):
        if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
            return value
        raise ValidationError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def _build_generic(origin: Any, args: tuple[Any, ...], value: Any, where: str) -> Any:
    if origin in (set, frozenset) and isinstance(value, set):
        value = sorted(value, key=repr)
    if origin in (list, cabc.Sequence, cabc.Iterator, cabc.Iterable, set, frozenset, tuple):
        if not isinstance(value, list):
            raise ValidationError(f"{where}: expected a list, got {value!r}")
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) != len(value):
                raise ValidationError(f"{where}: expected {len(args)} items, got {value!r}")
            pairs = enumerate(zip(args, value, strict=True))
            return tuple(build(a, v, f"{where}[{i}]") for i, (a, v) in pairs)
        item = args[0] if args else Any
        items = [build(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
        if origin in (set, frozenset):
            return origin(items)
        return tuple(items) if origin is tuple else items
    if origin in (dict, cabc.Mapping, cabc.MutableMapping):
        if not isinstance(value, dict):
            raise ValidationError(f"{where}: expected an object, got {value!r}")
        val_hint = args[1] if len(args) == 2 else Any
        return {k: build(val_hint, v, f"{where}.{k}") for k, v in value.items()}
    return value


def _build_dataclass(cls: type, value: Any, where: str, lenient: bool = False) -> Any:
    if isinstance(value, cls):
        return value
    if not isinstance(value, dict):
        if lenient:
            return value
        raise ValidationError(f"{where}: expected an object ({cls.__name__}), got {value!r}")
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        raise ValidationError(f"{where}: unknown fields {', '.join(unknown)}")
    kwargs = {}
    for name, field in fields.items():
        if name in value:
            if lenient:
                kwargs[name] = shape(hints[name], value[name])
            else:
                kwargs[name] = build(hints[name], value[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ValidationError(f"{where}: missing field {name!r}")
    return cls(**kwargs)


@functools.cache
def _hints(obj: Any) -> dict[str, Any]:
    return typing.get_type_hints(obj)


def shape(hint: Any, value: Any) -> Any:
    """``value`` with the containers ``hint`` names rebuilt (dataclasses from objects,
    tuples and sets from arrays) and every scalar left as it came.

    The server uses this for arguments: the Backend method itself checks the values, so
    a remote caller gets the same ``ValidationError`` an embedded one gets.
    """
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for option in args:
            if _fits(option, value):
                return shape(option, value)
        return value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build_dataclass(hint, value, "value", lenient=True)
    if isinstance(value, list) and origin in _SEQUENCES:
        item = args[0] if args and not (origin is tuple and len(args) != 2) else Any
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(args) == len(value):
                pairs = zip(args, value, strict=True)
                return tuple(shape(a, v) for a, v in pairs)
            return tuple(value)
        items = [shape(item, v) for v in value]
        if origin in (set, frozenset):
            try:
                return origin(items)
            except TypeError:
                return items
        return tuple(items) if origin is tuple else items
    if isinstance(value, dict) and origin in _MAPPINGS:
        val_hint = args[1] if len(args) == 2 else Any
        return {k: shape(val_hint, v) for k, v in value.items()}
    return value


_SEQUENCES = (list, cabc.Sequence, cabc.Iterator, cabc.Iterable, set, frozenset, tuple)
_MAPPINGS = (dict, cabc.Mapping, cabc.MutableMapping)


def _fits(hint: Any, value: Any) -> bool:
    """Whether ``value`` has the kind of container (or scalar) ``hint`` names."""
    origin = typing.get_origin(hint) or hint
    if hint is Any:
        return True
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return isinstance(value, dict)
    if origin in _SEQUENCES:
        return isinstance(value, list)
    if origin in _MAPPINGS:
        return isinstance(value, dict)
    if hint is type(None):
        return value is None
    return isinstance(origin, type) and isinstance(value, origin)


# --- errors --------------------------------------------------------------------------------

_ERROR_FIELDS: dict[str, tuple[str, ...]] = {
    "TableNotFound": ("table",),
    "RIDNotFound": ("rid",),
    "TermNotFound": ("vocabulary", "term"),
    "ChecksumMismatch": ("path", "algorithm", "expected", "found"),
    "BagChecksumMismatch": ("path", "algorithm", "expected", "found"),
}


def error_body(exc: AssetryError) -> dict[str, Any]:
    """The JSON body describing ``exc`` on the wire."""
    name = type(exc).__name__
    fields: dict[str, Any] = {f: getattr(exc, f, None) for f in _ERROR_FIELDS.get(name, ())}
    if isinstance(exc, ValidationError):
        fields["problems"] = list(exc.problems)
    return {"error": {"class": name, "message": str(exc), "fields": fields}}


def error_from_body(body: Any, fallback: str) -> AssetryError:
    """Rebuild the ``assetry.errors`` exception a server sent (``fallback`` describes the
    response when the body is not an assetry error)."""
    info = body.get("error") if isinstance(body, dict) else None
    if not isinstance(info, dict):
        return errors.AssetryError(fallback)
    name, message = info.get("class"), str(info.get("message") or fallback)
    raw_fields = info.get("fields")
    fields: dict[str, Any] = raw_fields if isinstance(raw_fields, dict) else {}
    cls = getattr(errors, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, AssetryError)):
        return errors.AssetryError(message)
    if cls is errors.ValidationError:
        problems = fields.get("problems")
        return errors.ValidationError(problems if isinstance(problems, list) else message)
    if cls is errors.TableNotFound:
        return errors.TableNotFound(str(fields.get("table")), message)
    if cls is errors.RIDNotFound:
        return errors.RIDNotFound(str(fields.get("rid")), message)
    if cls is errors.TermNotFound:
        return errors.TermNotFound(str(fields.get("vocabulary")), str(fields.get("term")), message)
    if cls in (errors.ChecksumMismatch, errors.BagChecksumMismatch):
        path, algorithm, expected, found = (
            str(fields.get(f)) for f in _ERROR_FIELDS["ChecksumMismatch"]
        )
        if cls is errors.BagChecksumMismatch:
            return errors.BagChecksumMismatch(path, algorithm, expected, found)
        return errors.ChecksumMismatch(path, algorithm, expected, found, message)
    return cls(message)
