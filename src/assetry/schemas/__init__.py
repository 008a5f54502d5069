"""JSON Schemas shipped with assetry."""
