"""The local cache of downloaded objects, keyed by SHA-256 and verified before reuse.

A training set is downloaded once; each execution then gets read-only hard links (or
copies, across file systems) of the cached files. Every reuse re-reads the cached file
and checks it, so a cached file that was altered is fetched again instead of used.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from assetry.errors import ChecksumMismatch
from assetry.store.base import ObjectStore
from assetry.store.hashing import Digests, hash_file


class ObjectCache:
    """Verified copies of stored objects under ``root/ab/cdef...``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def fetch(self, store: ObjectStore, expected: Digests, name: str) -> Path:
        """The cached, verified file of ``expected`` (downloaded if absent or altered)."""
        path = self.path_of(expected.sha256)
        if path.is_file():
            if hash_file(path) == expected:
                return path
            path.chmod(0o644)
            path.unlink()
        store.get_file(expected.sha256, path, expected=expected, name=name)
        path.chmod(0o444)
        return path

    def place(self, store: ObjectStore, expected: Digests, name: str, dest: Path) -> Path:
        """Put a read-only copy of the object at ``dest`` (a hard link to the cache when
        possible)."""
        cached = self.fetch(store, expected, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() or dest.is_symlink():
            dest.chmod(0o644)
            dest.unlink()
        try:
            os.link(cached, dest)
        except OSError:
            linked = False
        else:
            linked = True
        if not linked:
            shutil.copyfile(cached, dest)
            dest.chmod(0o444)
            if hash_file(dest) != expected:
                raise ChecksumMismatch(name, "sha256", expected.sha256, "changed while copying")
        return dest
