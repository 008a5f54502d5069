"""The vocabularies users bring from other tools, as thin adapters over ``cat.artifacts``
(API §12): ``assetry.compat.flowyml`` (ArtifactCatalog and the Dataset, Model, Metrics and
FeatureSet assets), ``assetry.compat.tracelet`` (ArtifactType, the artifact builder and a
minimal Experiment) and ``assetry.compat.flyte`` (``Artifact`` with partitions, also
exported as ``assetry.Artifact``)."""
