"""``cat.stores``: a catalog's object stores and the rules routing new objects to them.

Thin calls into the Backend, which records the stores and rules and checks who may
change them (admins add, remove and choose stores and move objects; curators set rules).
"""

from __future__ import annotations

from assetry.api.context import Context
from assetry.errors import ValidationError
from assetry.records.stores import StoreEntry, StoreRule


class Stores:
    """The namespace behind ``cat.stores`` (and ``cat.add_store``, ``cat.set_store_rule``,
    ``cat.list_stores``)."""

    def __init__(self, context: Context) -> None:
        self._context = context

    def list_stores(self) -> list[StoreEntry]:
        """The catalog's stores: ``default`` (the one it was created with) first; the
        entry with ``default=True`` is where objects no rule routes go."""
        return self._context.backend.list_stores()

    def add_store(self, name: str, url: str) -> StoreEntry:
        """Add the store at ``url`` (a path, ``file://``, ``s3://``, ``gs://``,
        ``az://``) under ``name``; it must take writes (checked with a probe object)."""
        return self._context.backend.add_store(name, url)

    def remove_store(self, name: str) -> None:
        """Remove an empty store that no rule names and that is not the default."""
        self._context.backend.remove_store(name)

    def set_default_store(self, name: str) -> None:
        """Send new objects that no rule routes to store ``name``."""
        self._context.backend.set_default_store(name)

    def store_rules(self) -> list[StoreRule]:
        """The routing rules, in the order they are tried (the first match wins)."""
        return self._context.backend.store_rules()

    def set_store_rule(
        self,
        table: str | None = None,
        store: str | None = None,
        size_over: int | str | None = None,
    ) -> list[StoreRule]:
        """Send new objects of asset table ``table`` (any, when None) larger than
        ``size_over`` (bytes, or text such as ``"100MB"``; any size, when None) to
        ``store``; replaces the rule for the same table and size. Returns the rules."""
        if store is None:
            raise ValidationError("set_store_rule needs store=: the store the rule sends to")
        return self._context.backend.set_store_rule(store, table, size_over)

    def remove_store_rule(
        self, table: str | None = None, size_over: int | str | None = None
    ) -> list[StoreRule]:
        """Remove the rule for ``table`` and ``size_over``; returns the rules left."""
        return self._context.backend.remove_store_rule(table, size_over)

    def migrate_objects(
        self, to: str | None = None, source: str | None = None, table: str | None = None
    ) -> dict[str, int]:
        """Move objects between stores, each verified in its new store before it leaves
        its old one: from ``source`` (every other store when None; only those of asset
        table ``table``, when given) to ``to``; with no ``to``, every object an asset row
        names goes where the rules send it now. Returns ``moved``, ``bytes``,
        ``in_place``."""
        return self._context.backend.migrate_objects(to, source, table)
