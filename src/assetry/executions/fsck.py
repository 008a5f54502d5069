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
from assetry.store.hashing import Digests

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

    @property
    def ok(self) -> bool:
        """True when every asset's object is there and intact."""
        return not self.missing and not self.corrupt

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def staged_keys(workdir_root: Path) -> set[str]:
    """Objects that interrupted uploads moved into the store but have not recorded."""
    keys: set[str] = set()
    if workdir_root.is_dir():
        for folder in workdir_root.iterdir():
            if folder.is_dir():
                keys.update(d.sha256 for d in WorkingDir(folder).stored().values())
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
    verdicts: dict[str, str | None] = {}  # sha256 -> None (fine) or what was found
    for table, rid, sha256, md5, length in assets:
        if sha256 not in objects:
            report.missing.append({"table": table, "rid": rid, "sha256": sha256})
            continue
        if not verify:
            continue
        if sha256 not in verdicts:
            try:
                store.verify(sha256, Digests(md5, sha256, int(length)), name=f"{table}/{rid}")
                verdicts[sha256] = None
            except ChecksumMismatch as err:
                verdicts[sha256] = f"{err.algorithm} {err.found}"
            except NotFoundError:
                verdicts[sha256] = "missing while reading"
        if verdicts[sha256] is not None:
            report.corrupt.append(
                {"table": table, "rid": rid, "sha256": sha256, "found": str(verdicts[sha256])}
            )
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
