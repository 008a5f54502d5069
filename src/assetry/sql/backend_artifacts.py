"""The named-artifact operations of ``SqlBackend`` (API §12; one transaction per call)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from assetry.sql import artifact_reads, artifacts
from assetry.sql.session import Session


class SqlArtifactsMixin:
    """Artifact operations, written once over ``session()``."""

    def session(self, write: bool = False, durable: bool = True) -> AbstractContextManager[Session]:
        raise NotImplementedError

    def prefetch_digests(self, keys: Iterable[object]) -> None:
        raise NotImplementedError

    def declare_artifact(
        self,
        name: str,
        artifact_type: str,
        partition_keys: Sequence[str] | None,
        time_partitioned: bool,
        description: str | None,
    ) -> dict[str, Any]:
        with self.session(write=True) as s:
            return artifacts.declare(
                s, name, artifact_type, partition_keys, time_partitioned, description
            )

    def register_artifact(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        files = spec.get("files") if isinstance(spec, Mapping) else None
        if isinstance(files, list):
            # Objects not stored by this process are read and verified before the write
            # transaction, so it is not held open while bytes are hashed.
            self.prefetch_digests(f.get("sha256") for f in files if isinstance(f, Mapping))
        with self.session(write=True) as s:
            result = artifacts.register(s, spec)
            # The version as find_artifacts shows it, read in the same transaction.
            [row] = artifact_reads.find(s, {"rid": result["rid"], "include_deleted": True})
            return {**result, "row": row}

    def find_artifacts(self, query: Mapping[str, Any]) -> list[dict[str, Any]]:
        with self.session() as s:
            return artifact_reads.find(s, query)

    def tag_artifact(
        self, rid: str, tags: Mapping[str, Any], remove: Sequence[str]
    ) -> dict[str, str]:
        with self.session(write=True) as s:
            return artifacts.tag(s, rid, tags, remove)

    def alias_artifact(self, rid: str, alias: str) -> dict[str, Any]:
        with self.session(write=True) as s:
            return artifacts.alias(s, rid, alias)

    def delete_artifact(self, rid: str) -> None:
        with self.session(write=True) as s:
            artifacts.delete(s, rid)

    def artifact_partition_values(self, name: str, key: str) -> list[str]:
        with self.session() as s:
            return artifact_reads.partition_values(s, name, key)

    def artifact_declaration(self, name: str) -> dict[str, Any]:
        with self.session() as s:
            return artifact_reads.artifact_names(s, name)

    def set_artifact_references(
        self, rid: str, references: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        with self.session(write=True) as s:
            return artifacts.set_references(s, rid, references)
