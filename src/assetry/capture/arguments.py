"""A step's arguments: which are inputs and which are parameters, and what each holds.

- An ``ArtifactVersion`` (or a list of them) is an input, identified by its content
  digest; an asset dict (a row with ``RID`` and ``SHA256``) is an input asset, by its
  SHA-256; a ``DatasetBag`` is an input dataset version.
- A value an earlier step of this process returned, unchanged since, is an input too:
  the artifact version it was registered as (flowyml's "pass the value, get the
  lineage").
- Anything else is a parameter: JSON values as they are, other objects as their type
  and content digest.

The content identity of every argument goes into the cache key, so a changed byte of
any input or parameter makes a different key.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import math
import pickle
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assetry.bags.reader import DatasetBag
from assetry.records.artifacts import ArtifactVersion

ASSET_KEYS = frozenset({"RID", "URL", "MD5", "SHA256", "Length"})


@dataclass
class Arguments:
    """A call's arguments, sorted into what an execution records."""

    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: list[str] = field(default_factory=list)  # artifact version RIDs
    assets: list[str] = field(default_factory=list)  # asset RIDs
    bags: list[DatasetBag] = field(default_factory=list)
    identity: dict[str, Any] = field(default_factory=dict)  # argument -> content identity
    unhashable: list[str] = field(default_factory=list)  # arguments with no digest


def bind(
    signature: inspect.Signature, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Argument name -> value, defaults included; ``*args`` as ``name[i]`` and
    ``**kwargs`` by their own names."""
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    out: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            out.update({f"{name}[{i}]": item for i, item in enumerate(value)})
        elif kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        else:
            out[name] = value
    return out


def classify(values: Mapping[str, Any], produced: Produced) -> Arguments:
    """Sort bound arguments into inputs and parameters, with their identities."""
    result = Arguments()
    for name, value in values.items():
        versions = _versions(value)
        if versions is not None:
            result.artifacts += [v.rid for v in versions]
            result.identity[name] = [["artifact", v.content or v.rid] for v in versions]
        elif isinstance(value, DatasetBag):
            result.bags.append(value)
            result.identity[name] = ["dataset", value.dataset_rid, value.version]
        elif _is_asset(value):
            result.assets.append(str(value["RID"]))
            result.identity[name] = ["asset", value["SHA256"]]
        else:
            digest = value_digest(value)
            version = produced.version_of(value, digest)
            if version is not None:
                result.artifacts.append(version.rid)
                result.identity[name] = ["artifact", version.content or version.rid]
                continue
            if digest is None:
                result.unhashable.append(name)
            result.identity[name] = ["value", digest]
            result.parameters[name] = (
                value if _plain(value) else {"type": python_type(value), "sha256": digest}
            )
    return result


def _versions(value: object) -> list[ArtifactVersion] | None:
    if isinstance(value, ArtifactVersion):
        return [value]
    if isinstance(value, list | tuple) and value:
        versions = [item for item in value if isinstance(item, ArtifactVersion)]
        return versions if len(versions) == len(value) else None
    return None


def _is_asset(value: object) -> bool:
    return isinstance(value, Mapping) and ASSET_KEYS <= set(value)


def python_type(obj: object) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _plain(obj: object, depth: int = 0) -> bool:
    """JSON's own values (what the Execution row's parameters can hold as they are)."""
    if depth > 50:
        return False
    if obj is None or isinstance(obj, bool | str | int):
        return True
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, list | tuple):
        return all(_plain(item, depth + 1) for item in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in obj.items())
    return False


def value_digest(value: object) -> str | None:
    """SHA-256 of what ``value`` holds (equal content, equal digest), or None when it
    cannot be read (an object that does not pickle)."""
    hasher = hashlib.sha256()
    module = type(value).__module__.split(".", 1)[0]
    try:
        if _plain(value):
            text = json.dumps(value, sort_keys=True, separators=(",", ":"))
            hasher.update(b"json:" + text.encode("utf-8"))
        elif module == "numpy" and type(value).__name__ == "ndarray" and value.dtype != object:  # type: ignore[attr-defined]
            array: Any = value
            header = f"numpy:{array.dtype.str}:{array.shape}:"
            hasher.update(header.encode() + array.tobytes(order="C"))
        elif module == "pandas" and type(value).__name__ in ("DataFrame", "Series"):
            hasher.update(_pandas_bytes(value))
        else:
            hasher.update(b"pickle:" + pickle.dumps(value, protocol=5))
    except Exception:
        return None
    return hasher.hexdigest()


def _pandas_bytes(value: Any) -> bytes:
    import pandas as pd

    try:
        rows = pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes()
    except TypeError:  # cells pandas cannot hash (lists, dicts): their pickle
        return b"pandas-pickle:" + pickle.dumps(value, protocol=5)
    if isinstance(value, pd.DataFrame):
        shape = json.dumps([[str(c), str(t)] for c, t in value.dtypes.items()])
    else:
        shape = json.dumps([str(value.name), str(value.dtype)])
    return b"pandas:" + shape.encode("utf-8") + rows


class Produced:
    """Values earlier steps of this process returned, each with the artifact version it
    was registered as and its digest then (a value changed since is not that version).

    Objects that take weak references are remembered while they live; dicts, lists and
    sets (which do not) while they are among the last ``KEEP``. Numbers, text and other
    immutable values are not remembered: equal ones are often one shared object, so
    their identity says nothing about where they came from.
    """

    KEEP = 256

    def __init__(self) -> None:
        # Reentrant: a weak reference's callback may run (garbage collection) while
        # this thread holds the lock.
        self._lock = threading.RLock()
        self._weak: dict[int, tuple[weakref.ref[Any], ArtifactVersion, str]] = {}
        self._strong: OrderedDict[int, tuple[Any, ArtifactVersion, str]] = OrderedDict()

    def remember(self, value: object, version: ArtifactVersion, digest: str | None) -> None:
        if digest is None or _immutable(value):
            return
        key = id(value)
        with self._lock:
            try:
                ref = weakref.ref(value, functools.partial(self._forget, key))
            except TypeError:
                self._strong[key] = (value, version, digest)
                self._strong.move_to_end(key)
                while len(self._strong) > self.KEEP:
                    self._strong.popitem(last=False)
            else:
                self._weak[key] = (ref, version, digest)

    def version_of(self, value: object, digest: str | None) -> ArtifactVersion | None:
        """The version ``value`` was registered as, if it is that object, unchanged."""
        if digest is None:
            return None
        key = id(value)
        with self._lock:
            weak = self._weak.get(key)
            strong = self._strong.get(key)
        if weak is not None and weak[0]() is value and weak[2] == digest:
            return weak[1]
        if strong is not None and strong[0] is value and strong[2] == digest:
            return strong[1]
        return None

    def _forget(self, key: int, _: object = None) -> None:
        with self._lock:
            self._weak.pop(key, None)


def _immutable(value: object) -> bool:
    return value is None or isinstance(value, bool | int | float | complex | str | bytes | tuple)
