"""The public surface: what `assetry` exports, the error tree, DerivaML's older names."""

from __future__ import annotations

import importlib

import assetry
from assetry import errors


def test_all_is_sorted_and_importable() -> None:
    assert assetry.__all__ == sorted(assetry.__all__)
    for name in assetry.__all__:
        assert getattr(assetry, name) is not None


def test_every_error_class_is_re_exported() -> None:
    for name in errors.__all__:
        assert getattr(assetry, name) is getattr(errors, name)


def test_error_tree() -> None:
    e = errors
    for cls in (e.ConfigError, e.SchemaVersionError, e.NotFoundError, e.ValidationError,
                e.ConflictError, e.StateError, e.IntegrityError, e.StoreError, e.BagError,
                e.AuthError):  # fmt: skip
        assert issubclass(cls, e.AssetryError)
    for cls in (e.TableNotFound, e.RIDNotFound, e.TermNotFound):
        assert issubclass(cls, e.NotFoundError)
    assert issubclass(e.ChecksumMismatch, e.IntegrityError)
    assert issubclass(e.BagChecksumMismatch, e.BagError)
    assert issubclass(e.BagChecksumMismatch, e.ChecksumMismatch)
    assert issubclass(e.AuthenticationError, e.AuthError)
    assert issubclass(e.PermissionDenied, e.AuthError)


def test_error_fields() -> None:
    err = errors.BagChecksumMismatch("data/x", "sha256", "aa", "bb")
    assert (err.path, err.algorithm, err.expected, err.found) == ("data/x", "sha256", "aa", "bb")
    assert "data/x" in str(err)
    problems = errors.ValidationError(["one", "two"])
    assert problems.problems == ["one", "two"]
    assert "one" in str(problems) and "two" in str(problems)


def test_derivaml_aliases() -> None:
    assert assetry.ColumnDefinition is assetry.ColumnDef
    assert assetry.BuiltinTypes is assetry.BuiltinType
    assert assetry.BuiltinTypes.jsonb is assetry.BuiltinType.json


def test_implementation_modules_are_not_exported() -> None:
    public = set(assetry.__all__)
    assert "SqlBackend" not in public and "Session" not in public
    module = importlib.import_module("assetry")
    assert not [n for n in public if n.startswith("_")]
    assert module.__version__
