"""flowyml's artifact vocabulary (API §12) over ``cat.artifacts``: ``ArtifactCatalog``
and the typed assets ``Dataset``, ``Model``, ``Metrics`` and ``FeatureSet``.

An id is the RID of an artifact version; entries are dicts shaped as flowyml's. Unlike
flowyml, ``data`` is stored through its materializer (not only hashed), and a
registration whose content equals the latest version of the name returns that version's
id with a warning. An asset's ``create`` registers a version at once, in ``catalog=`` (a
``Catalog`` or an ``ArtifactCatalog``) or in the default catalog, ``Catalog()``.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from assetry.catalog import Catalog
from assetry.errors import NotFoundError, ValidationError
from assetry.records.artifacts import ArtifactVersion

SOURCE_KEYS = ("source_step", "source_run_id", "source_pipeline")
PAGE = 1000


class ArtifactCatalog:
    """flowyml's ArtifactCatalog on an assetry catalog: ``cat`` (a ``Catalog`` or its
    location), or the default catalog when none is given."""

    def __init__(self, catalog: Catalog | str | os.PathLike[str] | None = None) -> None:
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)

    def register(
        self,
        name: str,
        artifact_type: str,
        data: Any = None,
        source_step: str | None = None,
        source_run_id: str | None = None,
        source_pipeline: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_ids: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        """Register a new version of ``name``; return its id. The source step, run and
        pipeline and ``metadata`` become the version's properties, ``parent_ids`` the
        inputs of the registration."""
        source = dict(zip(SOURCE_KEYS, (source_step, source_run_id, source_pipeline), strict=True))
        properties = {**(metadata or {}), **{k: v for k, v in source.items() if v}}
        version = self.catalog.artifacts.register(
            name,
            artifact_type=artifact_type,
            data=data,
            properties=properties,
            tags=tags,
            parents=parent_ids,
        )
        return version.rid

    def get(self, artifact_id: str) -> dict[str, Any]:
        """An entry by id (a name gives its latest version); ``NotFoundError`` else."""
        return self._entry(self._version(artifact_id))

    def search(self, query: str, limit: int = 50) -> builtins.list[dict[str, Any]]:
        """Entries matching every word (name, type, description) and ``key:value`` tag
        of ``query``, newest first."""
        return [self._entry(v) for v in self.catalog.artifacts.search(query, limit=limit)]

    def list(
        self,
        artifact_type: str | None = None,
        limit: int | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> builtins.list[dict[str, Any]]:
        """Entries, newest first, optionally of one type and with some tags; all of
        them when ``limit`` is None."""
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise ValidationError(f"limit must be a number or None, got {limit!r}")
        found: builtins.list[ArtifactVersion] = []
        while limit is None or len(found) < limit:
            size = PAGE if limit is None else min(PAGE, limit - len(found))
            page = self.catalog.artifacts.list(
                artifact_type=artifact_type, tags=tags, limit=size, offset=len(found)
            )
            found += page
            if len(page) < size:
                break
        return [self._entry(v) for v in found]

    def tag(self, artifact_id: str, **tags: Any) -> None:
        """Add or change tags of a version."""
        self.catalog.artifacts.tag(self._version(artifact_id), **tags)

    def get_lineage(self, artifact_id: str) -> dict[str, Any]:
        """``{"artifact": entry, "parents": [ids], "children": [ids]}``: what the
        registration used, and what registrations used it (one hop)."""
        version = self._version(artifact_id)
        return {
            "artifact": self._entry(version),
            "parents": _ids(self.catalog.artifacts.parents(version)),
            "children": _ids(self.catalog.artifacts.children(version)),
        }

    def delete(self, artifact_id: str) -> None:
        """Hide a version from list, search and latest (history and lineage keep it)."""
        self.catalog.artifacts.delete(self._version(artifact_id))

    def _version(self, artifact_id: str) -> ArtifactVersion:
        if not isinstance(artifact_id, str) or not artifact_id:
            raise ValidationError(f"an artifact id is a non-empty string, got {artifact_id!r}")
        try:
            return self.catalog.artifacts.get(artifact_id)
        except NotFoundError:
            raise NotFoundError(
                f"no artifact with id {artifact_id!r} in {self.catalog.location}"
            ) from None

    def _entry(self, v: ArtifactVersion) -> dict[str, Any]:
        metadata = {k: x for k, x in v.properties.items() if k not in SOURCE_KEYS}
        return {
            "id": v.rid,
            "artifact_id": v.rid,
            "name": v.name,
            "artifact_type": v.artifact_type,
            "version": v.version,
            "content_hash": v.content,
            **{k: v.properties.get(k, "") for k in SOURCE_KEYS},
            "parent_ids": _ids(self.catalog.artifacts.parents(v)),
            "tags": dict(v.tags),
            "metadata": metadata,
            "created_at": v.created.isoformat() if v.created else "",
            "deleted": v.deleted,
        }


def _ids(nodes: Sequence[ArtifactVersion | dict[str, Any]]) -> builtins.list[str]:
    return [n.rid if isinstance(n, ArtifactVersion) else str(n["rid"]) for n in nodes]


# --- assets ----------------------------------------------------------------------------

CatalogLike = Catalog | ArtifactCatalog | None


def _catalog(catalog: object) -> Catalog:
    if catalog is None:
        return Catalog()
    if isinstance(catalog, ArtifactCatalog):
        return catalog.catalog
    if isinstance(catalog, Catalog):
        return catalog
    raise ValidationError(f"catalog must be a Catalog or an ArtifactCatalog, got {catalog!r}")


class Asset:
    """A registered artifact version with its data, as flowyml's assets: ``name``,
    ``version``, ``asset_id`` (the version's RID, also ``id``), ``tags``,
    ``properties``, ``data``, ``artifact`` (the ``ArtifactVersion``)."""

    artifact_type: ClassVar[str] = "Custom"
    default_name: ClassVar[str] = "asset"

    def __init__(self, artifact: ArtifactVersion, data: Any, catalog: Catalog) -> None:
        self.artifact, self.data, self.catalog = artifact, data, catalog
        self.name, self.version = artifact.name, artifact.version
        self.rid = self.id = self.asset_id = artifact.rid
        self.tags, self.properties = artifact.tags, artifact.properties

    @classmethod
    def create(
        cls,
        data: Any = None,
        name: str | None = None,
        parent: Asset | ArtifactVersion | str | None = None,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        catalog: CatalogLike = None,
        **kwargs: Any,
    ) -> Self:
        """Register ``data`` as a new version of ``name``; other keywords (``framework=``,
        ``parameters=``, ...) join ``properties``, as in flowyml."""
        cat = _catalog(catalog)
        parents = None if parent is None else [parent.rid if isinstance(parent, Asset) else parent]
        version = cat.artifacts.register(
            name or cls.default_name,
            artifact_type=cls.artifact_type,
            data=data,
            properties={**(properties or {}), **kwargs},
            tags=tags,
            parents=parents,
        )
        return cls(version, data, cat)

    def add_tag(self, key: str, value: Any) -> None:
        """Tag the version in the catalog."""
        self.artifact = self.catalog.artifacts.tag(self.artifact, **{key: value})
        self.tags = self.artifact.tags

    def get_lineage(self) -> dict[str, Any]:
        """``{"artifact": entry, "parents": [ids], "children": [ids]}`` (one hop)."""
        return ArtifactCatalog(self.catalog).get_lineage(self.rid)

    def to_dict(self) -> dict[str, Any]:
        return ArtifactCatalog(self.catalog).get(self.rid)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, version={self.version}, id={self.rid!r})"


class Dataset(Asset):
    """Data (DataFrames, arrays, ...)."""

    artifact_type = "Dataset"
    default_name = "dataset"


class Model(Asset):
    """A trained model; ``framework=`` and ``parameters=`` are recorded as properties."""

    artifact_type = "Model"
    default_name = "model"


class Metrics(Asset):
    """Evaluation results: ``Metrics.create(accuracy=0.95, loss=0.15)``; the values are
    both the version's properties and its stored object."""

    artifact_type = "Metrics"
    default_name = "metrics"

    @classmethod
    def create(  # type: ignore[override]
        cls,
        name: str | None = None,
        parent: Asset | ArtifactVersion | str | None = None,
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        catalog: CatalogLike = None,
        **kwargs: Any,
    ) -> Self:
        values = {**(metrics or {}), **kwargs}
        return super().create(values, name, parent, tags, {**(properties or {}), **values}, catalog)

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.data or {})


class FeatureSet(Asset):
    """Engineered features; feature names and counts are recorded as properties."""

    artifact_type = "FeatureSet"
    default_name = "features"

    @classmethod
    def create(  # type: ignore[override]
        cls,
        data: Any = None,
        name: str | None = None,
        feature_names: Sequence[str] | None = None,
        catalog: CatalogLike = None,
        **kwargs: Any,
    ) -> Self:
        columns = getattr(data, "columns", None)
        names = [str(c) for c in (feature_names or (columns if columns is not None else []))]
        shape = tuple(getattr(data, "shape", ()))  # DataFrames and arrays: (rows, columns)
        counted = len(names) or (int(shape[1]) if len(shape) > 1 else 0)
        return super().create(
            data,
            name,
            catalog=catalog,
            feature_names=names,
            num_features=counted,
            num_samples=int(shape[0]) if shape else 0,
            **kwargs,
        )

    @property
    def feature_names(self) -> list[str]:
        return list(self.properties.get("feature_names") or [])
