"""Running the app: ``assetry serve`` (uvicorn, one or several workers) and a server in a
background thread for tests, benchmarks and notebooks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from assetry.errors import ConfigError, StoreError


def serve(
    catalog: str,
    store: str | None,
    host: str,
    port: int,
    workers: int = 1,
    upload_dir: str | None = None,
    log_level: str = "info",
) -> None:
    """Serve a catalog until interrupted."""
    import uvicorn

    from assetry.server import app as server_app

    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if workers == 1:
        application = server_app.create_app(catalog, store, upload_dir)
        uvicorn.run(application, host=host, port=port, log_level=log_level)
        return
    # Workers are separate processes: each builds its app from the environment.
    server_app.create_app(catalog, store, upload_dir)  # fail here, not in every worker
    os.environ[server_app.ENV_CATALOG] = catalog
    if store:
        os.environ[server_app.ENV_STORE] = store
    if upload_dir:
        os.environ[server_app.ENV_UPLOADS] = str(Path(upload_dir).resolve())
    uvicorn.run(
        "assetry.server.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )


@contextmanager
def background_server(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` from a thread of this process; yield its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="assetry-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise StoreError(f"the test server on {host} did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()
    try:
        yield f"http://{bound[0]}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
