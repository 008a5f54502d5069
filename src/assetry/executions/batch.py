"""Staging many files at once: ``exe.asset_file_path(table, folder_or_list, ...)``.

A folder stands for every regular file under it (links to files included, links to
folders not followed), staged under its path relative to the folder; a list stands for
its files, each staged under its own name. ``rename_file`` puts them all under one
sub-folder of the staging folder. Everything is checked before anything is staged
(names, clashes, the files themselves); then the whole batch is journaled as one line.

Without ``copy_file`` the files are staged by reference: nothing is written per file,
the journal names each file's own path, and the upload reads the file then, copying it
into the store (a user's file is never moved into the store, nor linked to an object).
With ``copy_file`` each file is copied into the staging folder first; a failure removes
the copies made so far.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assetry.errors import ValidationError
from assetry.executions.staging import WorkingDir, checked_relative_name

# How many problems an error lists before it says how many more there are.
_SHOWN = 20


@dataclass(frozen=True)
class Planned:
    """One file of a batch: its own path (absolute) and its staged name."""

    source: str
    name: str


def plan(file_name: object, rename_file: str | None) -> list[Planned]:
    """The files a folder or a list stands for, with their staged names; a
    ``ValidationError`` listing every problem (a missing file, a duplicate or unsafe
    name) when there is any."""
    prefix = ""
    if rename_file is not None:
        prefix = checked_relative_name(rename_file, "rename_file (the batch's folder)") + "/"
    if isinstance(file_name, list | tuple):
        found, problems = _listed(file_name)
    else:
        assert isinstance(file_name, str | os.PathLike)
        found, problems = _walk(os.path.abspath(file_name)), []
    planned: list[Planned] = []
    for source, relative in found:
        try:
            name = checked_relative_name(prefix + relative, f"staged file name (for {source})")
        except ValidationError as err:
            problems += err.problems
            continue
        planned.append(Planned(source, name))
    problems += _duplicates(planned)
    _raise(problems)
    return planned


def check_against(work: WorkingDir, table: str, planned: Sequence[Planned]) -> None:
    """Refuse names already staged for ``table`` in this execution, and names that would
    be both a file and a folder (within the batch or with what is staged)."""
    staged = work.staged_names(table)
    names = {p.name for p in planned}
    folders = _folders(names) | _folders(staged)
    problems = [
        f"staged file name {p.name!r} (for {p.source}) is already staged in this execution"
        for p in planned
        if p.name in staged
    ]
    problems += [
        f"staged file name {p.name!r} (for {p.source}) is a folder of other staged files"
        for p in planned
        if p.name in folders
    ]
    problems += [
        f"staged file name {p.name!r} (for {p.source}) needs a folder {folder!r}, which is a "
        "staged file"
        for p in planned
        for folder in _parents(p.name)
        if folder in names or folder in staged
    ]
    _raise(problems)


def copy_in(work: WorkingDir, table: str, planned: Sequence[Planned]) -> list[str]:
    """Copy each planned file into ``assets/<table>/<name>``; return the copies' paths.
    On any failure the copies made so far are removed and a ``ValidationError`` names
    the file."""
    base = work.base(table)
    made: list[str] = []
    folders = sorted({os.path.dirname(f"{base}/{p.name}") for p in planned})
    new_folders = [f for f in folders if not os.path.isdir(f)]
    try:
        for folder in folders:
            os.makedirs(folder, exist_ok=True)
        for p in planned:
            target = f"{base}/{p.name}"
            shutil.copyfile(p.source, target)
            made.append(target)
    except OSError as err:
        for path in made:
            with contextlib.suppress(OSError):
                os.unlink(path)
        for folder in sorted(new_folders, key=len, reverse=True):
            _remove_empty(folder, work.path)
        raise ValidationError(
            f"copying {getattr(err, 'filename', None) or 'a file'} into the staging folder "
            f"failed ({err.strerror or err}); nothing of the batch was staged"
        ) from None
    return made


def _remove_empty(folder: str, top: Path) -> None:
    """Remove ``folder`` and its parents below ``top`` while they are empty."""
    stop = os.fspath(top)
    while folder.startswith(stop + "/"):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def _listed(items: Iterable[object]) -> tuple[list[tuple[str, str]], list[str]]:
    found, problems = [], []
    for item in items:
        if not isinstance(item, str | os.PathLike):
            problems.append(f"{item!r} is not a path")
            continue
        path = os.fspath(item)
        if not isinstance(path, str):
            problems.append(f"{item!r} is not a text path")
            continue
        try:
            regular = os.path.isfile(path)
        except (OSError, ValueError):
            regular = False
        if not regular:
            what = "a folder (give the folder itself, not in a list)" if _isdir(path) else None
            problems.append(f"{path} is {what or 'not an existing file'}")
            continue
        found.append((os.path.abspath(path), os.path.basename(path)))
    return found, problems


def _isdir(path: str) -> bool:
    try:
        return os.path.isdir(path)
    except (OSError, ValueError):
        return False


def _walk(root: str) -> list[tuple[str, str]]:
    """(absolute path, path relative to ``root`` with '/') of every regular file under
    ``root``, links to files included, links to folders not followed; sorted."""
    found: list[tuple[str, str]] = []
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{prefix}{entry.name}/"))
                elif entry.is_file():  # follows a link to a file
                    found.append((entry.path, prefix + entry.name))
    found.sort(key=lambda item: item[1])
    return found


def _duplicates(planned: Sequence[Planned]) -> list[str]:
    seen: dict[str, str] = {}
    problems = []
    for p in planned:
        if p.name in seen:
            problems.append(
                f"staged file name {p.name!r} is given twice: {seen[p.name]} and {p.source}"
            )
        else:
            seen[p.name] = p.source
    return problems


def _parents(name: str) -> list[str]:
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _folders(names: Iterable[str]) -> set[str]:
    return {folder for name in names for folder in _parents(name)}


def _raise(problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:_SHOWN]
    if len(problems) > _SHOWN:
        shown.append(f"... and {len(problems) - _SHOWN} more; nothing was staged")
    raise ValidationError(shown)
