"""Checking a catalog's objects against its asset rows, and removing stray objects.

Every asset row's object must exist and (with ``verify``) match its checksums. An object
no current or historical asset row, upload-ledger entry or execution working folder
refers to is *unreferenced*; ``repair`` deletes those older than a grace period (an
upload may be in flight: its object is stored before its row commits).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assetry.errors import ChecksumMismatch, NotFoundError
from assetry.executions.staging import WorkingDir
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests, hash_file
from assetry.store.storeset import StoreSet

DEFAULT_GRACE_SECONDS = 3600.0


@dataclass
class FsckReport:
    """What fsck found (and, with repair, removed)."""

    objects: int = 0
    assets: int = 0
    missing: list[dict[str, str]] = field(default_factory=list)
    corrupt: list[dict[str, str]] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # partial uploads and temporary files interrupted writes left (repair removes them)
    leftovers_removed: list[str] = field(default_factory=list)
    # staging folders of crashed archive exports into the catalog's bag folder
    abandoned_exports: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every asset's object is there and intact."""
        return not self.missing and not self.corrupt

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def staged_keys(workdir_root: Path) -> set[str]:
    """Objects named by the staged entries of executions whose working folder is still
    here (an upload unfinished or interrupted): those their journal says were stored,
    and the bytes of every other staged file (hashed), which an interrupted upload may
    have stored before it could journal them. They stay referenced until the execution's
    upload records them and its folder is removed."""
    keys: set[str] = set()
    if not workdir_root.is_dir():
        return keys
    for folder in workdir_root.iterdir():
        if not folder.is_dir():
            continue
        work = WorkingDir(folder)
        stored = work.stored()
        keys.update(d.sha256 for d in stored.values())
        for item in work.staged():
            if item.staged_name in stored:
                continue
            try:
                keys.add(hash_file(item.path).sha256)
            except OSError:
                continue  # gone or unreadable: nothing of it to keep
    return keys


def check(
    store: ObjectStore,
    assets: list[tuple[str, str, str, str, int]],
    referenced: set[str],
    *,
    verify: bool = True,
    repair: bool = False,
    grace_seconds: float = DEFAULT_GRACE_SECONDS,
) -> FsckReport:
    """Compare ``store`` with the asset rows ``assets`` (table, RID, SHA256, MD5, Length)."""
    objects = {info.sha256: info for info in store.iter_objects()}
    report = FsckReport(objects=len(objects), assets=len(assets))
    # The true digests of each copy of an object (one per store that holds it), read once
    # per object; every row is compared with each (a row that shares a SHA-256 with a
    # genuine one but not its MD5 or length is not).
    found: dict[str, list[tuple[str, Digests | str]]] = {}
    for table, rid, sha256, md5, length in assets:
        if sha256 not in objects:
            report.missing.append({"table": table, "rid": rid, "sha256": sha256})
            continue
        if not verify:
            continue
        if sha256 not in found:
            found[sha256] = _true_digests(store, sha256, f"{table}/{rid}")
        for where, digests in found[sha256]:
            problem = _row_problem(digests, md5, int(length))
            if problem is not None:
                report.corrupt.append(
                    {"table": table, "rid": rid, "sha256": sha256, "found": problem,
                     "store": where}
                )  # fmt: skip
    keep = referenced | {sha for _, _, sha, _, _ in assets}
    report.unreferenced = sorted(set(objects) - keep)
    if repair:
        cutoff = time.time() - grace_seconds
        for key in report.unreferenced:
            modified = objects[key].modified
            if modified is not None and modified < cutoff:
                store.delete(key)
                report.removed.append(key)
    return report


def _true_digests(store: ObjectStore, sha256: str, name: str) -> list[tuple[str, Digests | str]]:
    """(store, the object's digests or what is wrong with it) of each copy: one per
    member of a catalog's several stores that holds it (two while it is moved), else
    the one in ``store``."""
    copies: list[tuple[str, ObjectStore]] = [(store.url, store)]
    if isinstance(store, StoreSet):
        held = [(n, member) for n, member in store.members() if member.stat(sha256) is not None]
        copies = held or copies
    return [(where, _digests_of_copy(copy, sha256, name)) for where, copy in copies]


def _digests_of_copy(store: ObjectStore, sha256: str, name: str) -> Digests | str:
    try:
        return store.verify(sha256, name=name)
    except ChecksumMismatch as err:
        return f"{err.algorithm} {err.found}"
    except NotFoundError:
        return "missing while reading"


def _row_problem(found: Digests | str, md5: str, length: int) -> str | None:
    """How a row's MD5 and length disagree with its object, or None."""
    if isinstance(found, str):
        return found
    if md5 != found.md5:
        return f"md5 {found.md5}"
    if length != found.length:
        return f"length {found.length}"
    return None
