"""The web interface (API §14): server-rendered pages over the public ``Catalog`` API,
served by ``assetry ui`` and mounted at ``/ui`` by ``assetry serve``."""

from assetry.ui.app import create_ui

__all__ = ["create_ui"]
