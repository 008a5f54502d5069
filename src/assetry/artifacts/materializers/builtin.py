"""The built-in materializers: pandas, numpy, JSON, YAML, frameworks, pickle/joblib."""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import pickle
from pathlib import Path
from typing import Any

from assetry.artifacts.materializers.base import Materializer, top_module
from assetry.errors import ConfigError, ValidationError


def _needs(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigError(f"{module} is not installed: pip install 'assetry[{extra}]'") from None


class PandasMaterializer(Materializer):
    """A DataFrame as Parquet (pyarrow), index and dtypes kept."""

    name = "pandas"
    extension = ".parquet"

    def handles(self, obj: object) -> bool:
        return top_module(obj) == "pandas" and type(obj).__name__ == "DataFrame"

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        _needs("pyarrow", "artifacts")
        obj.to_parquet(path, engine="pyarrow")
        return {"rows": int(len(obj)), "columns": [str(c) for c in obj.columns]}

    def load(self, path: Path, info: dict[str, Any]) -> Any:
        import pandas as pd

        _needs("pyarrow", "artifacts")
        return pd.read_parquet(path, engine="pyarrow")


class NumpyMaterializer(Materializer):
    """An ndarray as ``.npy`` (object arrays are refused: they would need pickle)."""

    name = "numpy"
    extension = ".npy"

    def handles(self, obj: object) -> bool:
        return top_module(obj) == "numpy" and type(obj).__name__ == "ndarray"

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        import numpy as np

        if obj.dtype == object:
            raise ValidationError("a numpy array of Python objects cannot be saved as .npy")
        with open(path, "wb") as f:
            np.save(f, obj, allow_pickle=False)
        return {"shape": list(obj.shape), "dtype": str(obj.dtype)}

    def load(self, path: Path, info: dict[str, Any]) -> Any:
        import numpy as np

        return np.load(path, allow_pickle=False)


def _plain(obj: object, depth: int = 0) -> bool:
    """True for JSON's own values: dicts with text keys, lists, text, finite numbers."""
    if depth > 100:
        return False
    if obj is None or isinstance(obj, bool | str | int):
        return True
    if isinstance(obj, float):
        return math.isfinite(obj)
    if isinstance(obj, list | tuple):
        return all(_plain(item, depth + 1) for item in obj)
    if isinstance(obj, dict):
        return all(isinstance(k, str) and _plain(v, depth + 1) for k, v in obj.items())
    return False


class JsonMaterializer(Materializer):
    """dicts, lists, text and numbers as JSON."""

    name = "json"
    extension = ".json"

    def handles(self, obj: object) -> bool:
        return _plain(obj)

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        path.write_text(json.dumps(obj, sort_keys=True, indent=1, allow_nan=False), "utf-8")
        return {"tuple": True} if isinstance(obj, tuple) else {}

    def load(self, path: Path, info: dict[str, Any]) -> Any:
        value = json.loads(path.read_text("utf-8"))
        return tuple(value) if info.get("tuple") else value


class YamlMaterializer(JsonMaterializer):
    """The same values as JSON, written as YAML (on request: ``serializer="yaml"``)."""

    name = "yaml"
    extension = ".yaml"

    def handles(self, obj: object) -> bool:
        return False  # never chosen by type; asked for by name

    def accepts(self, obj: object) -> bool:
        return _plain(obj)

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        yaml = _needs("yaml", "artifacts")
        path.write_text(yaml.safe_dump(obj, sort_keys=True), "utf-8")
        return {}

    def load(self, path: Path, info: dict[str, Any]) -> Any:
        yaml = _needs("yaml", "artifacts")
        return yaml.safe_load(path.read_text("utf-8"))


# Frameworks saved with their own function, detected by the class's top-level module
# (never imported to find out).
FRAMEWORKS = {
    "torch": ".pt",
    "tensorflow": ".keras",
    "keras": ".keras",
    "xgboost": ".ubj",
    "lightgbm": ".txt",
}


class FrameworkMaterializer(Materializer):
    """PyTorch modules and tensors (``torch.save``), Keras/TensorFlow models
    (``model.save``), XGBoost (``save_model``) and LightGBM boosters (``save_model``)."""

    name = "framework"
    extension = ".model"
    unsafe = True  # torch.load and keras may run code

    def handles(self, obj: object) -> bool:
        return top_module(obj) in FRAMEWORKS

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        framework = top_module(obj)
        _needs(framework, "artifacts")
        if framework == "torch":
            import torch  # type: ignore[import-not-found]

            torch.save(obj, path)
        elif framework in ("tensorflow", "keras"):
            obj.save(path)
        else:
            obj.save_model(str(path))
        return {"framework": framework}

    def load(self, path: Path, info: dict[str, Any]) -> Any:
        framework = info.get("framework") or ""
        module = _needs(framework, "artifacts")
        if framework == "torch":
            return module.load(path, weights_only=False)
        if framework in ("tensorflow", "keras"):
            keras = module if framework == "keras" else module.keras
            return keras.models.load_model(path)
        if framework == "xgboost":
            booster = module.Booster()
            booster.load_model(str(path))
            return booster
        return module.Booster(model_file=str(path))


class PickleMaterializer(Materializer):
    """Anything picklable (scikit-learn estimators and others), with joblib when it is
    installed. Loading runs code: ``load(v, trust=True)``."""

    name = "pickle"
    extension = ".pkl"
    unsafe = True

    def handles(self, obj: object) -> bool:
        try:
            pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return False
        return True

    def save(self, obj: Any, path: Path) -> dict[str, Any]:
        framework = top_module(obj)
        if importlib.util.find_spec("joblib") is not None:
            import joblib  # type: ignore[import-untyped]

            joblib.dump(obj, path)
            return {"framework": framework, "format": "joblib"}
        with open(path, "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        return {"framework": framework, "format": "pickle"}

    def load(self, path: Path, info: dict[str, Any]) -> Any:
        if info.get("format") == "joblib":
            joblib = _needs("joblib", "artifacts")
            return joblib.load(path)
        with open(path, "rb") as f:
            return pickle.load(f)


def builtin() -> list[Materializer]:
    """The built-in materializers, most specific first (pickle last: it takes most)."""
    return [
        PandasMaterializer(),
        NumpyMaterializer(),
        JsonMaterializer(),
        YamlMaterializer(),
        FrameworkMaterializer(),
        PickleMaterializer(),
    ]
