"""The HTTP server: a thin FastAPI app over a ``SqlBackend``, with tokens and roles."""
