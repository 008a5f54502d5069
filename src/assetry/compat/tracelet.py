"""Tracelet's artifact vocabulary (API §12): ``ArtifactType``, the ``TraceletArtifact``
builder, and a minimal ``Experiment`` that carries a catalog.

The catalog itself speaks Tracelet: ``cat.create_artifact``, ``cat.log_artifact``,
``cat.get_artifact``, ``cat.list_artifacts``. Code written for ``exp.create_artifact(...)``
runs with ``exp = Experiment("name", catalog=cat)`` (or with ``cat`` in place of ``exp``).
Tracelet's routing between MLflow, W&B, ClearML and AIM has no counterpart: there is one
catalog, and ``log_artifact`` answers ``{"assetry": ArtifactVersion}``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assetry.artifacts.tracelet import (
    ArtifactFile,
    ArtifactObject,
    ArtifactType,
    TraceletArtifact,
)
from assetry.catalog import Catalog
from assetry.errors import ValidationError

if TYPE_CHECKING:
    from assetry.records.artifacts import ArtifactVersion

__all__ = ["ArtifactFile", "ArtifactObject", "ArtifactType", "Experiment", "TraceletArtifact"]


class Experiment:
    """Tracelet's experiment, reduced to what its artifact methods need: a catalog (the
    default one, ``Catalog()``, when none is given) and, optionally, an assetry execution
    that generates every artifact it logs.

    Tracelet's other settings (``config``, ``backend``, ``tags``, ``automagic``) are
    accepted and unused: one catalog holds everything. Automatic artifact capture
    (``automagic_artifacts``, watched folders) is not done by this adapter: it warns.
    """

    def __init__(
        self,
        name: str | None = None,
        config: Any = None,
        backend: str | Sequence[str] | None = None,
        tags: Sequence[str] | None = None,
        automagic: bool = False,
        automagic_config: Any = None,
        artifacts: bool = True,
        automagic_artifacts: bool = False,
        *,
        catalog: Catalog | None = None,
        execution: Any = None,
    ) -> None:
        if catalog is not None and not isinstance(catalog, Catalog):
            raise ValidationError(f"catalog must be an assetry Catalog, got {catalog!r}")
        watching = getattr(config, "watch_filesystem", False)
        if automagic_artifacts or getattr(config, "automagic_artifacts", False) or watching:
            warnings.warn(
                "automatic artifact capture is not done by assetry's Tracelet adapter; "
                "log artifacts with exp.log_artifact(...)",
                UserWarning,
                stacklevel=2,
            )
        self.name = name
        self.backend = backend
        self.tags = list(tags or [])
        self.catalog = catalog if catalog is not None else Catalog()
        self.execution = execution
        self.started = False

    def start(self) -> Experiment:
        self.started = True
        return self

    def stop(self) -> None:
        self.started = False

    def create_artifact(
        self, name: str, artifact_type: ArtifactType | str, description: str | None = None
    ) -> TraceletArtifact:
        """A new artifact builder (nothing is recorded before ``log_artifact``)."""
        return self.catalog.create_artifact(name, artifact_type, description)

    def log_artifact(self, artifact: TraceletArtifact) -> dict[str, ArtifactVersion]:
        """Register the builder as a new version: ``{"assetry": ArtifactVersion}``."""
        return self.catalog.log_artifact(artifact, execution=self.execution)

    def get_artifact(self, name: str, version: int | str = "latest") -> ArtifactVersion:
        """The latest version of ``name``, a version number, or an alias."""
        return self.catalog.get_artifact(name, version)

    def list_artifacts(
        self, type_filter: ArtifactType | str | None = None
    ) -> list[ArtifactVersion]:
        """Every version, newest first, optionally of one type."""
        return self.catalog.list_artifacts(type_filter)
