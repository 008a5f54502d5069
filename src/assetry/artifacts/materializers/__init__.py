"""Materializers: how a Python object becomes one file of an artifact version and back.

Each is a small class with ``handles``, ``save`` and ``load``; the registry picks the
first that handles an object (users' own first, then the built-in ones, most specific
first). The materializer's name, the framework and the object's Python type are recorded
with the version, so ``load`` uses the same one.
"""

from assetry.artifacts.materializers.base import Materializer, Registry, python_type

__all__ = ["Materializer", "Registry", "python_type"]
