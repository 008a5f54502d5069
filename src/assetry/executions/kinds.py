"""What kind of file a captured file is (API §13): checkpoint, model, image, audio, video,
config, code, report, metrics, dataset, or other; by its name, then by its first bytes.

A kind is recorded as the asset's type (the closest built-in ``Asset_Type`` term) and in
its description, so ``cat.list_assets(table, asset_type="Model_File")`` finds models and
checkpoints, and the description says which.
"""

from __future__ import annotations

import json
from pathlib import Path

KINDS = (
    "checkpoint",
    "model",
    "image",
    "audio",
    "video",
    "config",
    "code",
    "report",
    "metrics",
    "dataset",
    "other",
)

# The built-in Asset_Type term each kind is recorded with.
ASSET_TYPE = {
    "checkpoint": "Model_File",
    "model": "Model_File",
    "metrics": "Metrics_File",
    "config": "Execution_Config",
}
DEFAULT_ASSET_TYPE = "Output_File"

_BY_SUFFIX = {
    "checkpoint": {".ckpt"},
    "model": {
        ".pt", ".pth", ".bin", ".safetensors", ".h5", ".hdf5", ".keras", ".onnx", ".pkl",
        ".pickle", ".joblib", ".pb", ".tflite", ".ubj", ".model", ".mlmodel", ".gguf",
    },
    "image": {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".svg"},
    "audio": {".wav", ".mp3", ".flac", ".ogg", ".m4a", ".aac"},
    "video": {".mp4", ".avi", ".mov", ".mkv", ".webm"},
    "config": {".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf"},
    "code": {".py", ".ipynb", ".sh", ".r", ".jl", ".c", ".cc", ".cpp", ".js", ".ts", ".sql"},
    "report": {".html", ".htm", ".pdf", ".md", ".txt", ".log", ".tex", ".rst", ".docx"},
    "dataset": {
        ".csv", ".tsv", ".parquet", ".feather", ".arrow", ".npy", ".npz", ".jsonl",
        ".tfrecord", ".xlsx", ".nc", ".zarr", ".avro", ".orc",
    },
}  # fmt: skip

# Words in a file name that make a model file (or any file) a checkpoint, and a table or
# JSON file metrics or a configuration.
_CHECKPOINT_WORDS = ("checkpoint", "ckpt", "epoch=", "step=")
_METRICS_WORDS = ("metric", "score", "result", "eval")
_CONFIG_WORDS = ("config", "hparams", "hyperparam", "params", "settings")

# First bytes of common formats, for names that say nothing.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image"),
    (b"\xff\xd8\xff", 0, "image"),
    (b"GIF8", 0, "image"),
    (b"%PDF", 0, "report"),
    (b"PAR1", 0, "dataset"),
    (b"\x93NUMPY", 0, "dataset"),
    (b"ftyp", 4, "video"),
    (b"ID3", 0, "audio"),
    (b"fLaC", 0, "audio"),
    (b"OggS", 0, "audio"),
    (b"\x89HDF", 0, "model"),
    (b"PK\x03\x04", 0, "model"),  # torch.save's zip format (and other archives)
    (b"\x80", 0, "model"),  # a pickle
)


def kind_of(path: Path, hint: str | None = None) -> str:
    """The kind of the file at ``path``; ``hint`` (what saved it, e.g. ``model``) is used
    when the name and bytes say nothing more precise."""
    name = path.name.lower()
    suffix = path.suffix.lower()
    found = next((kind for kind, suffixes in _BY_SUFFIX.items() if suffix in suffixes), None)
    if any(word in name for word in _CHECKPOINT_WORDS) and found in (None, "model"):
        return "checkpoint"
    if suffix == ".json":
        return _json_kind(path, name)
    if found == "dataset" and suffix in (".csv", ".tsv") and _has(name, _METRICS_WORDS):
        return "metrics"
    if found is not None:
        return found
    sniffed = _sniff(path)
    if sniffed is not None:
        return sniffed
    return hint if hint in KINDS else "other"


def asset_type(kind: str) -> str:
    """The built-in ``Asset_Type`` term a file of ``kind`` is recorded with."""
    return ASSET_TYPE.get(kind, DEFAULT_ASSET_TYPE)


def _has(name: str, words: tuple[str, ...]) -> bool:
    return any(word in name for word in words)


def _json_kind(path: Path, name: str) -> str:
    if _has(name, _METRICS_WORDS):
        return "metrics"
    if _has(name, _CONFIG_WORDS):
        return "config"
    # A small object of numbers is metrics; any other object a configuration.
    try:
        if path.stat().st_size <= 1 << 20:
            value = json.loads(path.read_text(encoding="utf-8"))
        else:
            return "dataset"
    except (OSError, ValueError):
        return "other"
    if isinstance(value, dict) and value:
        numbers = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
        )
        return "metrics" if numbers else "config"
    return "dataset" if isinstance(value, list) else "other"


def _sniff(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError:
        return None
    for magic, offset, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None
