"""Running the app: ``assetry serve`` (uvicorn, one or several workers) and a server in a
background thread for tests, benchmarks and notebooks.

Connections are bounded in time so that idle or slow clients cannot hold the server: a
request's headers must arrive within ``HEADER_TIMEOUT`` seconds of its first byte (or of
the connection opening), an idle kept-alive connection closes after ``KEEP_ALIVE``
seconds, headers are at most ``MAX_HEADER_BYTES``, and a request body that pauses for
``BODY_TIMEOUT`` seconds ends the request (``assetry.server.app``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import h11
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from assetry.errors import ConfigError, StoreError
from assetry.server import limits

HEADER_TIMEOUT = 30.0
KEEP_ALIVE = 5
MAX_HEADER_BYTES = 16 * 1024  # h11's default, stated here
ENV_HEADER_TIMEOUT = "ASSETRY_SERVE_HEADER_TIMEOUT"


class TimedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request's headers.

    uvicorn closes a kept-alive connection that stays silent, but not one that sends a
    few bytes of a request and stops, nor one opened and never written to.
    """

    header_timeout: float = HEADER_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        configured = getattr(self.config, "assetry_header_timeout", None)
        if configured is None:
            configured = float(os.environ.get(ENV_HEADER_TIMEOUT, HEADER_TIMEOUT))
        self.header_timeout = float(configured)
        self._header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        no_delay(transport)
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            # Waiting for (the rest of) a request's headers.
            if self._header_deadline is None and not self.transport.is_closing():
                self._arm_header_deadline()
        else:
            self._disarm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_deadline()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self._disarm_header_deadline()
        self._header_deadline = self.loop.call_later(self.header_timeout, self._header_late)

    def _disarm_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _header_late(self) -> None:
        self._header_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            busy = self.cycle is not None and not self.cycle.response_complete
            if not busy:
                self.transport.close()


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on a TCP connection (``TCP_NODELAY``).

    asyncio sets it only when the listening socket says ``IPPROTO_TCP``; the socket
    uvicorn binds for several workers leaves that 0, so Nagle's algorithm held each
    response's body back until the client's delayed ACK: about 40 ms per request on a
    kept-alive connection with ``--workers 2`` or more.
    """
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def uvicorn_options() -> dict[str, Any]:
    """The uvicorn settings of every assetry server."""
    return {
        "http": TimedH11Protocol,
        "timeout_keep_alive": KEEP_ALIVE,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
    }


def serve(
    catalog: str,
    store: str | None,
    host: str,
    port: int,
    workers: int = 1,
    upload_dir: str | None = None,
    log_level: str = "info",
    header_timeout: float | None = None,
    upload_expiry: float | None = None,
    rate_limit: float | None = None,
) -> None:
    """Serve a catalog until interrupted (``upload_expiry``: seconds an upload session
    lives, default a day; ``rate_limit``: requests per second per token, default
    ``limits.DEFAULT_RATE``, 0 for none)."""
    import uvicorn

    from assetry.server import app as server_app

    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    if header_timeout is not None:
        if header_timeout <= 0:
            raise ConfigError(f"the header timeout must be positive, got {header_timeout}")
        os.environ[ENV_HEADER_TIMEOUT] = str(header_timeout)  # read by every worker
    options = uvicorn_options()
    expiry = server_app.UPLOAD_EXPIRY_SECONDS if upload_expiry is None else upload_expiry
    if expiry <= 0:
        raise ConfigError(f"the upload expiry must be positive, got {expiry}")
    os.environ[server_app.ENV_UPLOAD_EXPIRY] = str(expiry)  # read by every worker
    rate = limits.DEFAULT_RATE if rate_limit is None else rate_limit
    if rate < 0:
        raise ConfigError(f"the rate limit must be 0 (none) or positive, got {rate}")
    os.environ[server_app.ENV_RATE_LIMIT] = str(rate)
    per_token = rate if rate > 0 else None
    if workers == 1:
        application = server_app.create_app(
            catalog, store, upload_dir, upload_expiry=expiry, rate_limit=per_token
        )
        uvicorn.run(application, host=host, port=port, log_level=log_level, **options)
        return
    # Workers are separate processes: each builds its app from the environment.
    # Fail here, not in every worker.
    server_app.create_app(catalog, store, upload_dir, upload_expiry=expiry, rate_limit=per_token)
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
        **options,
    )


@contextmanager
def background_server(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    header_timeout: float = HEADER_TIMEOUT,
) -> Iterator[str]:
    """Serve ``app`` from a thread of this process; yield its base URL."""
    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="off", **uvicorn_options()
    )
    config.assetry_header_timeout = header_timeout  # type: ignore[attr-defined]
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
