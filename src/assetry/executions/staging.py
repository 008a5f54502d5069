"""An execution's private working directory and what is staged in it.

Layout of ``<root>/<execution RID>/``::

    execution.json   which catalog and execution this directory belongs to
    staging.jsonl    one line per asset_file_path call (table, name, types, columns; a
                     file staged by reference also its source path), or one line for a
                     whole batch (``files``: [[name, source or null], ...])
    stored.jsonl     digests of files moved into the store (so a crash after the move
                     still knows what the object is)
    assets/<Table>/<staged name>   files to upload (regular files or links to user files)
    inputs/<Table>/<RID>/<file>    input assets, read-only

Journals are append-only JSON lines: appending is atomic enough for one writer, and a
torn last line (a crash mid-write) is ignored when reading.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from assetry.errors import ValidationError
from assetry.store.hashing import Digests

STATE_FILE = "execution.json"
STAGING_JOURNAL = "staging.jsonl"
STORED_JOURNAL = "stored.jsonl"
ASSETS_DIR = "assets"
INPUTS_DIR = "inputs"
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


@dataclass
class StagedFile:
    """One file to upload: where it is, which table, and its metadata."""

    table: str
    name: str  # relative to assets/<table>/, with '/' separators
    path: Path
    asset_types: list[str] = field(default_factory=list)
    description: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    # A user's file staged by reference (a batch): its bytes are read from here at upload
    # and always copied, never moved, into the store.
    source: str | None = None

    @property
    def staged_name(self) -> str:
        """The key of this entry within its execution: ``<table>/<name>``."""
        return f"{self.table}/{self.name}"


# Bytes in one path component of a staged name: 255 is the usual file-system limit, and a
# download writes ``.<name>.<random>.part`` first.
MAX_NAME_BYTES = 200


def checked_relative_name(name: object, what: str) -> str:
    """``name`` as a safe relative path inside the staging folder, or ``ValidationError``."""
    if isinstance(name, str) and _plain_name(name):
        return name  # the common case, decided without pathlib (it runs once per file)
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"{what} must be a non-empty relative file name, got {name!r}")
    if "\x00" in name or "\\" in name:
        raise ValidationError(f"{what} {name!r} contains a NUL or backslash character")
    pure = PurePosixPath(name)
    if pure.is_absolute():
        raise ValidationError(f"{what} {name!r} is absolute; it would leave the staging folder")
    parts = pure.parts
    if any(part in ("..", "") for part in parts):
        raise ValidationError(f"{what} {name!r} would leave the staging folder")
    if any(part == "." for part in name.split("/")):
        raise ValidationError(f"{what} {name!r} has a '.' path component")
    try:
        sizes = [len(part.encode("utf-8")) for part in parts]
    except UnicodeEncodeError:
        raise ValidationError(f"{what} {name!r} is not valid text (a lone surrogate)") from None
    if max(sizes) > MAX_NAME_BYTES:
        raise ValidationError(
            f"{what} {name!r} has a component of {max(sizes)} bytes; the limit is "
            f"{MAX_NAME_BYTES} (file systems allow 255, and downloads add a temporary suffix)"
        )
    return "/".join(parts)


def _plain_name(name: str) -> bool:
    """Whether ``name`` is already what ``checked_relative_name`` would make of it: not
    blank, relative, no NUL or backslash, every part neither empty, ``.`` nor ``..``,
    valid text and short enough."""
    if "\x00" in name or "\\" in name or name.startswith("/") or not name.strip():
        return False
    for part in name.split("/"):
        if part in ("", ".", ".."):
            return False
        try:
            if len(part.encode("utf-8")) > MAX_NAME_BYTES:
                return False
        except UnicodeEncodeError:
            return False
    return True


def _append(path: Path, record: dict[str, Any], sync: bool = False) -> None:
    line = json.dumps(record, sort_keys=True, default=str) + "\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        if sync:
            os.fsync(handle.fileno())


def _read(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a torn last line from a crash
            if isinstance(record, dict):
                yield record


class WorkingDir:
    """The staging area of one execution."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.assets = path / ASSETS_DIR
        self.inputs = path / INPUTS_DIR
        self._bases: dict[str, str] = {}  # table -> resolved assets/<table>
        # Staged in this process, per table: names, and the folders they need.
        self._names: dict[str, set[str]] = {}
        self._folders: dict[str, set[str]] = {}
        self._verified: dict[str, set[str]] = {}  # table -> folders checked by staged_place
        self._fd: int | None = None  # the staging journal, open for appending

    def create(self, state: dict[str, Any]) -> None:
        """Make the directory and write its state file (``assets/`` is made when the
        first file is staged). A new directory's state file is written in place: a crash
        before it is complete leaves a folder with no state and nothing staged, which
        nothing restores, as if the crash had come a moment earlier."""
        text = json.dumps(state, indent=2, sort_keys=True, default=str).encode()
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path / STATE_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            self._write_state(text)
            return
        try:
            while text:
                text = text[os.write(fd, text) :]
        finally:
            os.close(fd)

    def _write_state(self, text: bytes) -> None:
        tmp = self.path / f".{STATE_FILE}.tmp"
        tmp.write_bytes(text)
        os.replace(tmp, self.path / STATE_FILE)

    def update_state(self, values: dict[str, Any]) -> None:
        """Add ``values`` to the state file (atomically)."""
        state = {**(self.state() or {}), **values}
        self.path.mkdir(parents=True, exist_ok=True)
        self._write_state(json.dumps(state, indent=2, sort_keys=True, default=str).encode())

    def state(self) -> dict[str, Any] | None:
        try:
            loaded = json.loads((self.path / STATE_FILE).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        return loaded if isinstance(loaded, dict) else None

    def staged_path(self, table: str, name: str) -> Path:
        """Where ``name`` of ``table`` is staged; refuses paths that leave the folder."""
        return self.staged_place(table, name)[0]

    def staged_place(self, table: str, name: str) -> tuple[Path, str]:
        """``staged_path`` and the checked name relative to ``assets/<table>/``."""
        path, name = self.staged_text(table, name)
        return Path(path), name

    def staged_text(self, table: str, name: str) -> tuple[str, str]:
        """``staged_place`` with the path as a string (no pathlib on the per-file path)."""
        name = checked_relative_name(name, "staged file name")
        base = self.base(table)
        path = f"{base}/{name}"
        parent = name.rpartition("/")[0]
        try:
            info: os.stat_result | None = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            info = None
        verified = self._verified.setdefault(table, set())
        if parent not in verified or (info is not None and not stat.S_ISREG(info.st_mode)):
            target = os.path.realpath(path)
            if os.path.commonpath([base, target]) != base:
                raise ValidationError(f"staged file name {name!r} would leave the staging folder")
            self._check_file_or_folder(table, base, name)
            # A folder checked once stays checked in this process: staging many files
            # into one folder resolves it once, not once per file.
            verified.add(parent)
        else:
            self._check_names(table, name)
        return path, name

    def base(self, table: str) -> str:
        """``assets/<table>``, resolved once per table: a folder swapped for a link later
        makes the checks of ``staged_place`` fail (the target resolves elsewhere)."""
        base = self._bases.get(table)
        if base is None:
            base = self._bases[table] = os.path.realpath(self.assets / table)
        return base

    def _check_names(self, table: str, name: str) -> None:
        """The in-process half of ``_check_file_or_folder`` (no file-system look-ups)."""
        parents = name.split("/")[:-1]
        names = self._names.get(table, set())
        for i in range(len(parents)):
            prefix = "/".join(parents[: i + 1])
            if prefix in names:
                raise ValidationError(
                    f"staged file name {name!r} needs a folder {prefix!r}, which is a staged file"
                )
        if name in self._folders.get(table, set()):
            raise ValidationError(f"staged file name {name!r} is a folder of other staged files")

    def _check_file_or_folder(self, table: str, base: str, name: str) -> None:
        """One name cannot be both a staged file and a folder of staged files."""
        parents = name.split("/")[:-1]
        prefixes = ["/".join(parents[: i + 1]) for i in range(len(parents))]
        names, folders = self._names.get(table, set()), self._folders.get(table, set())
        clash = next((p for p in prefixes if p in names), None)
        if clash is None:
            clash = next((p for p in prefixes if os.path.isfile(os.path.join(base, p))), None)
        if clash is not None:
            raise ValidationError(
                f"staged file name {name!r} needs a folder {clash!r}, which is a staged file"
            )
        if name in folders or os.path.isdir(os.path.join(base, name)):
            raise ValidationError(f"staged file name {name!r} is a folder of other staged files")

    def record_staging(self, entry: StagedFile) -> None:
        self._remember(entry.table, [entry.name])
        record = {
            "table": entry.table,
            "name": entry.name,
            "asset_types": entry.asset_types,
            "description": entry.description,
            "columns": entry.columns,
        }
        if entry.source is not None:
            record["source"] = entry.source
        self._journal(json.dumps(record, sort_keys=True, default=str) + "\n")

    def record_batch(
        self,
        table: str,
        files: list[tuple[str, str | None]],
        asset_types: list[str],
        description: str | None,
        columns: dict[str, Any],
    ) -> None:
        """Journal many staged files of one table and metadata as one line (``files``:
        ``(name, source or None)``): a crash mid-write tears that line, and a torn line
        is ignored, so a batch is staged whole or not at all."""
        record = {
            "table": table,
            "files": [[name, source] for name, source in files],
            "asset_types": asset_types,
            "description": description,
            "columns": columns,
        }
        self._journal(json.dumps(record, sort_keys=True, default=str) + "\n")
        self._remember(table, [name for name, _ in files])

    def _journal(self, line: str) -> None:
        # One write(2) on an O_APPEND descriptor kept open while staging goes on (a line
        # is never interleaved with another process's); ``close`` ends it.
        data = line.encode("utf-8")
        if self._fd is None:
            try:
                self._fd = os.open(self.path / STAGING_JOURNAL, _APPEND, 0o644)
            except FileNotFoundError:
                self.path.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path / STAGING_JOURNAL, _APPEND, 0o644)
        while data:
            data = data[os.write(self._fd, data) :]

    def close(self) -> None:
        """Close the staging journal (staging again reopens it)."""
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        self.close()

    def _remember(self, table: str, names: list[str]) -> None:
        self._names.setdefault(table, set()).update(names)
        folders = self._folders.setdefault(table, set())
        for name in names:
            parts = name.split("/")[:-1]
            folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))

    def staged_names(self, table: str) -> set[str]:
        """Names staged for ``table`` so far, by any process (journal and folder)."""
        found = {e.name for e in self.staged() if e.table == table}
        return found | self._names.get(table, set())

    def record_stored(self, staged_name: str, digests: Digests) -> None:
        """Remember (durably) the digests of a file about to be moved into the store."""
        self.record_stored_many([(staged_name, digests)])

    def record_stored_many(self, entries: list[tuple[str, Digests]], sync: bool = True) -> None:
        """Remember (durably, with one sync, unless ``sync`` is False: then
        ``sync_journals`` follows) the digests of files about to be moved, or stored."""
        if not entries:
            return
        records = [
            {"name": name, "md5": d.md5, "sha256": d.sha256, "length": d.length}
            for name, d in entries
        ]
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
        with open(self.path / STORED_JOURNAL, "a", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())

    def stored(self) -> dict[str, Digests]:
        return {
            r["name"]: Digests(r["md5"], r["sha256"], int(r["length"]))
            for r in _read(self.path / STORED_JOURNAL)
            if {"name", "md5", "sha256", "length"} <= set(r)
        }

    def staged(self) -> list[StagedFile]:
        """Every staged entry: journal entries (latest wins) plus files found in
        ``assets/<Table>/`` that were written there directly."""
        # Paths are joined as strings: with thousands of entries pathlib's parsing
        # costs more than reading the journal and walking the folder.
        assets = os.fspath(self.assets)
        entries: dict[str, StagedFile] = {}
        for record in _read(self.path / STAGING_JOURNAL):
            try:
                table = record["table"]
                if "files" in record:
                    files = record["files"]
                else:
                    files = [[record["name"], record.get("source")]]
                types = list(record.get("asset_types") or [])
                description = record.get("description")
                columns = dict(record.get("columns") or {})
                for name, source in files:
                    entry = StagedFile(
                        table=table,
                        name=name,
                        path=Path(source if source is not None else f"{assets}/{table}/{name}"),
                        asset_types=types,
                        description=description,
                        columns=columns,
                        source=source,
                    )
                    entries[entry.staged_name] = entry
            except (KeyError, TypeError, ValueError):
                continue
        for table, name, path in _walk_assets(assets):
            key = f"{table}/{name}"
            if key not in entries:
                entries[key] = StagedFile(table, name, Path(path))
        return sorted(entries.values(), key=lambda e: e.staged_name)

    def sync_journals(self) -> None:
        self.close()
        for name in (STAGING_JOURNAL, STORED_JOURNAL):
            path = self.path / name
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())


def _walk_assets(assets: str) -> Iterator[tuple[str, str, str]]:
    """``(table, name, path)`` of every file or link under ``assets/<table>/`` (links to
    folders included, not followed), as ``Path.rglob`` would list them."""
    try:
        tables = [e for e in os.scandir(assets) if e.is_dir()]
    except FileNotFoundError:
        return
    for table in tables:
        stack = [(table.path, "")]
        while stack:
            folder, prefix = stack.pop()
            try:
                children = list(os.scandir(folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for child in children:
                name = prefix + child.name
                if child.is_dir(follow_symlinks=False):
                    stack.append((child.path, name + "/"))
                else:
                    yield table.name, name, child.path
