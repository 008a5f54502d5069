"""Named artifacts (API §12): the ``cat.artifacts`` namespace, materializers for Python
objects, and external references."""
