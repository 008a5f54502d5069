"""The remote client: a ``Backend`` and an object store over HTTP."""
