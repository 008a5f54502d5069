"""``assetry.autolog()`` (API §13): framework saves inside an execution are captured.

Each save function of a framework the program has already imported is wrapped: the
original runs, then the file it wrote is staged (a copy) in the execution whose ``with``
block the save ran in, as ``autolog/<file name>``. Nothing is imported to patch it: a
framework that is not in ``sys.modules`` when ``autolog()`` is called is left alone.
Patches are process-wide but capture only for executions that turned autolog on (and
executions entered inside one, such as steps); they are undone when the last of those
ends, normally or by an exception.

Saves are skipped when they name a file object rather than a path (its bytes may still
be coming), a file inside the execution's own working directory, or a file in a
temporary folder of assetry itself (materializers save through these same functions).
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.errors import StateError

if TYPE_CHECKING:
    from assetry.executions.execution import Execution

FOLDER = "autolog"
# assetry's own temporary folders (artifact registration and loading) start with this.
OWN_TEMPORARY = "assetry-"


@dataclass(frozen=True)
class Patch:
    """One save function: ``module`` (as in ``sys.modules``), the dotted path of its
    owner inside it (``""`` for the module itself), the attribute, where the file
    argument is (position after ``self`` for methods, and keyword), and a hint of what
    it saves."""

    module: str
    owner: str
    attribute: str
    position: int
    keyword: str
    hint: str
    method: bool = False

    @property
    def label(self) -> str:
        owner = f"{self.owner}." if self.owner else ""
        return f"{self.module}.{owner}{self.attribute}"


PATCHES = (
    Patch("joblib", "", "dump", 1, "filename", "model"),
    Patch("numpy", "", "save", 0, "file", "dataset"),
    Patch("pandas", "DataFrame", "to_parquet", 0, "path", "dataset", method=True),
    Patch("pandas", "DataFrame", "to_csv", 0, "path_or_buf", "dataset", method=True),
    Patch("matplotlib.figure", "Figure", "savefig", 0, "fname", "image", method=True),
    Patch("torch", "", "save", 1, "f", "model"),
    Patch("lightning.pytorch", "Trainer", "save_checkpoint", 0, "filepath", "checkpoint", True),
    Patch("pytorch_lightning", "Trainer", "save_checkpoint", 0, "filepath", "checkpoint", True),
    Patch("keras", "Model", "save", 0, "filepath", "model", method=True),
)


@dataclass(frozen=True)
class _Saved:
    """A patched attribute: its owner, the original and whether the owner held it
    itself (else it was inherited, and the patch is deleted to undo it)."""

    owner: Any
    label: str
    original: Any
    own: bool


_lock = threading.RLock()
_active: set[Execution] = set()  # executions that capture framework saves
_saved: dict[tuple[int, str], _Saved] = {}  # (id of the owner, attribute) -> what it was


def autolog(execution: Execution | None = None) -> list[str]:
    """Capture framework saves in ``execution`` (default: the one whose ``with`` block
    is running) until it ends. Returns the save functions patched (those of frameworks
    already imported)."""
    from assetry.executions.execution import current_execution

    exe = execution if execution is not None else current_execution()
    if exe is None:
        raise StateError(
            "assetry.autolog() captures saves inside an execution: call it in "
            "`with cat.create_execution(cfg) as exe:` (or in a @step)"
        )
    if exe.status not in ("Created", "Running"):
        raise StateError(f"execution {exe.rid} is {exe.status}: autolog needs a running one")
    with _lock:
        _active.add(exe)
        return _install()


def inherit(execution: Execution, outer: Execution | None) -> None:
    """An execution entered inside one that captures saves captures them too."""
    with _lock:
        if outer is not None and outer in _active:
            _active.add(execution)


def release(execution: Execution) -> None:
    """``execution`` ends: stop capturing for it, and undo every patch when it was the
    last one capturing."""
    with _lock:
        _active.discard(execution)
        if not _active:
            _restore()


def patched() -> list[str]:
    """The save functions currently patched."""
    with _lock:
        return sorted(saved.label for saved in _saved.values())


def _install() -> list[str]:
    for patch in PATCHES:
        owner = _owner(patch)
        if owner is None or (id(owner), patch.attribute) in _saved:
            continue
        original = getattr(owner, patch.attribute, None)
        if original is None:
            continue
        own = patch.attribute in vars(owner)
        _saved[(id(owner), patch.attribute)] = _Saved(owner, patch.label, original, own)
        setattr(owner, patch.attribute, _wrap(patch, original))
    return patched()


def _restore() -> None:
    for (_, attribute), saved in list(_saved.items()):
        if saved.own:
            setattr(saved.owner, attribute, saved.original)
        else:
            delattr(saved.owner, attribute)  # it was inherited: inherit it again
    _saved.clear()


def _owner(patch: Patch) -> Any:
    """The object holding the save function, if its framework is imported (never
    importing it)."""
    module = sys.modules.get(patch.module)
    if module is None:
        return None
    owner: Any = module
    for part in filter(None, patch.owner.split(".")):
        owner = getattr(owner, part, None)
        if owner is None:
            return None
    return owner


def _wrap(patch: Patch, original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def save(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        position = patch.position + (1 if patch.method else 0)
        target = args[position] if len(args) > position else kwargs.get(patch.keyword)
        _captured(patch, target, args, kwargs)
        return result

    return save


def _captured(patch: Patch, target: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    from assetry.executions.execution import current_execution

    exe = current_execution()
    if exe is None or exe not in _active or not isinstance(target, str | os.PathLike):
        return
    path = _written_path(patch, Path(os.fspath(target)), args, kwargs)
    if path is None or not path.is_file() or _ignored(path, exe.working_dir):
        return
    try:
        exe.capture_file(path, FOLDER, hint=patch.hint)
    except Exception as err:  # a save must not fail because capturing it did
        warnings.warn(
            f"execution {exe.rid}: {patch.label} wrote {path}, which could not be captured: "
            f"{type(err).__name__}: {err}",
            UserWarning,
            stacklevel=3,
        )


def _written_path(
    patch: Patch, path: Path, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Path | None:
    """The file a save wrote (numpy adds ``.npy``; matplotlib adds the format)."""
    if patch.module == "numpy" and path.suffix != ".npy":
        return path.with_name(path.name + ".npy")
    if patch.module == "matplotlib.figure" and not path.suffix:
        fmt = kwargs.get("format")
        if fmt is None:
            import matplotlib  # imported already: the figure came from it

            fmt = matplotlib.rcParams["savefig.format"]
        return path.with_name(f"{path.name}.{fmt}")
    return path


def _ignored(path: Path, working_dir: Path) -> bool:
    resolved = path.resolve()
    if working_dir.resolve() in resolved.parents:
        return True
    temp = Path(tempfile.gettempdir()).resolve()
    return any(
        parent.parent == temp and parent.name.startswith(OWN_TEMPORARY)
        for parent in resolved.parents
    )
