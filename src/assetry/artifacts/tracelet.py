"""Tracelet's artifact vocabulary (API §12) over ``cat.artifacts``: ``ArtifactType``, the
``TraceletArtifact`` builder, and the four functions ``Catalog`` delegates to
(``cat.create_artifact``, ``cat.log_artifact``, ``cat.get_artifact``,
``cat.list_artifacts``).

A builder only collects; ``log_artifact`` registers it as one new version of its name:
files by their artifact paths, objects through the materializer its serializer names,
references where they are, ``metadata`` as the version's properties.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetry.errors import ValidationError
from assetry.records.artifacts import ArtifactVersion, Reference

if TYPE_CHECKING:
    from assetry.artifacts.namespace import Artifacts

SERIALIZERS = ("json", "yaml", "pickle")
BACKEND = "assetry"  # the one key of log_artifact's answer (Tracelet: one per backend)


class ArtifactType(StrEnum):
    """Tracelet's 13 artifact types; each value is a term of the ``Artifact_Type``
    vocabulary (which users may extend: any term's name works where a type is asked)."""

    MODEL = "Model"
    CHECKPOINT = "Checkpoint"
    WEIGHTS = "Weights"
    DATASET = "Dataset"
    SAMPLE = "Sample"
    IMAGE = "Image"
    AUDIO = "Audio"
    VIDEO = "Video"
    VISUALIZATION = "Visualization"
    REPORT = "Report"
    CONFIG = "Config"
    CODE = "Code"
    CUSTOM = "Custom"


_TYPES = {t.value.casefold(): t for t in ArtifactType}
MODEL_TYPES = (ArtifactType.MODEL, ArtifactType.CHECKPOINT, ArtifactType.WEIGHTS)
# Tracelet's framework names, by the top-level module of the model's class.
FRAMEWORKS = {
    "torch": "pytorch",
    "pytorch_lightning": "pytorch_lightning",
    "lightning": "pytorch_lightning",
    "sklearn": "sklearn",
    "tensorflow": "tensorflow",
    "keras": "tensorflow",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
}


@dataclass(frozen=True)
class ArtifactFile:
    """A local file of a builder and its path in the artifact."""

    local_path: str
    artifact_path: str
    description: str | None = None
    size_bytes: int = 0


@dataclass(frozen=True)
class ArtifactObject:
    """A Python object of a builder, saved at log time by its serializer."""

    obj: Any
    name: str
    serializer: str = "json"
    description: str | None = None


@dataclass
class TraceletArtifact:
    """What ``cat.create_artifact`` returns: collect files, objects, references and a
    model (each ``add_*`` returns the builder, so calls chain), then
    ``cat.log_artifact(builder)``."""

    name: str
    type: ArtifactType | str
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    files: list[ArtifactFile] = field(default_factory=list)
    objects: list[ArtifactObject] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    version: int | None = None  # set by log_artifact

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(f"an artifact needs a name, got {self.name!r}")
        if not isinstance(self.type, str) or not self.type:
            raise ValidationError(
                f"artifact {self.name!r}: artifact_type must be an ArtifactType or the name "
                f"of an Artifact_Type term, got {self.type!r}"
            )
        # Tracelet's own values were lower case ("model"); the vocabulary ignores case.
        self.type = _TYPES.get(self.type.casefold(), self.type)

    @property
    def size_bytes(self) -> int:
        """The bytes of its files plus the announced sizes of its references."""
        return sum(f.size_bytes for f in self.files) + sum(
            r.size_bytes or 0 for r in self.references
        )

    def add_file(
        self,
        local_path: str | os.PathLike[str],
        artifact_path: str | None = None,
        description: str | None = None,
    ) -> TraceletArtifact:
        """Add a local file, at ``artifact_path`` (default: its file name)."""
        path = Path(local_path)
        if not path.is_file():
            raise ValidationError(f"artifact {self.name!r}: {path} is not a file")
        target = artifact_path or path.name
        if any(f.artifact_path == target for f in self.files):
            raise ValidationError(f"artifact {self.name!r} already has a file at {target!r}")
        self.files.append(ArtifactFile(str(path), target, description, path.stat().st_size))
        return self

    def add_object(
        self, obj: Any, name: str, serializer: str = "json", description: str | None = None
    ) -> TraceletArtifact:
        """Add a Python object, saved as ``serializer`` (``json``, ``yaml`` or
        ``pickle``) when the artifact is logged."""
        if serializer not in SERIALIZERS:
            raise ValidationError(
                f"artifact {self.name!r}: unknown serializer {serializer!r} for object "
                f"{name!r}; use one of {', '.join(SERIALIZERS)}"
            )
        if any(o.name == name for o in self.objects):
            raise ValidationError(f"artifact {self.name!r} already has an object {name!r}")
        self.objects.append(ArtifactObject(obj, name, serializer, description))
        return self

    def add_reference(
        self, uri: str, size_bytes: int | None = None, description: str | None = None
    ) -> TraceletArtifact:
        """Add bytes that stay where they are (``s3://``, ``gs://``, ``http(s)://``,
        ``file://``)."""
        self.references.append(Reference(uri, size_bytes, description=description))
        return self

    def add_model(
        self,
        model: Any,
        framework: str | None = None,
        input_example: Any = None,
        description: str | None = None,
    ) -> TraceletArtifact:
        """Add the model object (saved by the materializer of its type: the framework's
        own function, or joblib/pickle) and, when given, an input example. Only for
        MODEL, CHECKPOINT and WEIGHTS artifacts."""
        if self.type not in MODEL_TYPES:
            raise ValidationError(
                f"artifact {self.name!r} is a {self.type}: add_model is for "
                f"{', '.join(t.name for t in MODEL_TYPES)} artifacts"
            )
        found = framework or FRAMEWORKS.get(type(model).__module__.split(".")[0], "unknown")
        self.objects = [o for o in self.objects if o.name not in ("model", "input_example")]
        self.objects.append(ArtifactObject(model, "model", ""))
        if input_example is not None:
            self.objects.append(ArtifactObject(input_example, "input_example", ""))
        self.metadata["model_info"] = {
            "framework": found,
            "description": description,
            "input_example": input_example is not None,
        }
        return self

    def to_dict(self) -> dict[str, Any]:
        """The builder as plain data (objects by name and serializer)."""
        return {
            "name": self.name,
            "type": str(self.type),
            "description": self.description,
            "metadata": self.metadata,
            "size_bytes": self.size_bytes,
            "version": self.version,
            "files": [
                {
                    "local_path": f.local_path,
                    "artifact_path": f.artifact_path,
                    "description": f.description,
                    "size_bytes": f.size_bytes,
                }
                for f in self.files
            ],
            "objects": [
                {"name": o.name, "serializer": o.serializer or None, "description": o.description}
                for o in self.objects
            ],
            "references": [r.to_dict() for r in self.references],
        }


def create_artifact(
    artifacts: Artifacts,
    name: str,
    artifact_type: ArtifactType | str,
    description: str | None = None,
) -> TraceletArtifact:
    """A new Tracelet artifact builder; nothing is recorded until ``log_artifact``."""
    return TraceletArtifact(name, artifact_type, description)


def log_artifact(
    artifacts: Artifacts, artifact: TraceletArtifact, execution: Any = None
) -> dict[str, ArtifactVersion]:
    """Register the builder as a new version of its name (generated by ``execution``
    when given); return ``{"assetry": the ArtifactVersion}``, as Tracelet returns one
    result per backend. Content equal to the latest version's returns that version."""
    if not isinstance(artifact, TraceletArtifact):
        raise ValidationError(
            f"log_artifact needs a builder from create_artifact, got {type(artifact).__name__}"
        )
    properties = dict(artifact.metadata)
    for key, described in (
        ("file_descriptions", {f.artifact_path: f.description for f in artifact.files}),
        ("object_descriptions", {o.name: o.description for o in artifact.objects}),
    ):
        if any(described.values()):
            properties[key] = {k: v for k, v in described.items() if v}
    version = artifacts.register(
        artifact.name,
        artifact_type=str(artifact.type),
        files={f.artifact_path: f.local_path for f in artifact.files},
        references=artifact.references,
        properties=properties,
        execution=execution,
        description=artifact.description,
        objects={o.name: o.obj for o in artifact.objects},
        serializers={o.name: o.serializer for o in artifact.objects if o.serializer},
    )
    artifact.version = version.version
    return {BACKEND: version}


def get_artifact(artifacts: Artifacts, name: str, version: int | str = "latest") -> ArtifactVersion:
    """A version of ``name``: the latest, a number, or an alias (``"production"``)."""
    return artifacts.get(name, version=version)


def list_artifacts(
    artifacts: Artifacts, type_filter: ArtifactType | str | None = None
) -> list[ArtifactVersion]:
    """Every version (not deleted), newest first; ``type_filter`` keeps one type."""
    found: list[ArtifactVersion] = []
    while True:
        page = artifacts.list(
            artifact_type=str(type_filter) if type_filter is not None else None,
            limit=1000,
            offset=len(found),
        )
        found += page
        if len(page) < 1000:
            return found
