"""An execution's private working directory and what is staged in it.

Layout of ``<root>/<execution RID>/``::

    execution.json   which catalog and execution this directory belongs to
    staging.jsonl    one line per asset_file_path call (table, name, types, columns)
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


@dataclass
class StagedFile:
    """One file to upload: where it is, which table, and its metadata."""

    table: str
    name: str  # relative to assets/<table>/, with '/' separators
    path: Path
    asset_types: list[str] = field(default_factory=list)
    description: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)

    @property
    def staged_name(self) -> str:
        """The key of this entry within its execution: ``<table>/<name>``."""
        return f"{self.table}/{self.name}"


# Bytes in one path component of a staged name: 255 is the usual file-system limit, and a
# download writes ``.<name>.<random>.part`` first.
MAX_NAME_BYTES = 200


def checked_relative_name(name: object, what: str) -> str:
    """``name`` as a safe relative path inside the staging folder, or ``ValidationError``."""
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

    def create(self, state: dict[str, Any]) -> None:
        """Make the directory and write its state file (atomically)."""
        self.assets.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True, default=str))
        os.replace(tmp, self.path / STATE_FILE)

    def update_state(self, values: dict[str, Any]) -> None:
        """Add ``values`` to the state file (atomically)."""
        self.create({**(self.state() or {}), **values})

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
        name = checked_relative_name(name, "staged file name")
        base = self._bases.get(table)
        if base is None:
            # Resolved once per table: a folder swapped for a link later makes the
            # check below fail (the target resolves elsewhere), never pass wrongly.
            base = self._bases[table] = os.path.realpath(self.assets / table)
        target = os.path.realpath(os.path.join(base, name))
        if os.path.commonpath([base, target]) != base:
            raise ValidationError(f"staged file name {name!r} would leave the staging folder")
        self._check_file_or_folder(table, base, name)
        return Path(base, name), name

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
        self._names.setdefault(entry.table, set()).add(entry.name)
        parts = entry.name.split("/")[:-1]
        self._folders.setdefault(entry.table, set()).update(
            "/".join(parts[: i + 1]) for i in range(len(parts))
        )
        self.path.mkdir(parents=True, exist_ok=True)
        _append(
            self.path / STAGING_JOURNAL,
            {
                "table": entry.table,
                "name": entry.name,
                "asset_types": entry.asset_types,
                "description": entry.description,
                "columns": entry.columns,
            },
        )

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
                table, name = record["table"], record["name"]
                entry = StagedFile(
                    table=table,
                    name=name,
                    path=Path(f"{assets}/{table}/{name}"),
                    asset_types=list(record.get("asset_types") or []),
                    description=record.get("description"),
                    columns=dict(record.get("columns") or {}),
                )
            except (KeyError, TypeError):
                continue
            entries[entry.staged_name] = entry
        for table, name, path in _walk_assets(assets):
            key = f"{table}/{name}"
            if key not in entries:
                entries[key] = StagedFile(table, name, Path(path))
        return sorted(entries.values(), key=lambda e: e.staged_name)

    def sync_journals(self) -> None:
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
