"""Per-token request limits: a token bucket for each bearer token (each client address,
for requests without one), refilled at ``rate`` requests per second up to ``burst``.
A request finding its bucket empty is answered ``429 Too Many Requests`` with
``Retry-After`` (whole seconds until a request is allowed again), before anything else
is done for it. ``/health`` is never limited.

Buckets live in each server process: with ``--workers N`` a token may make up to N
times ``rate`` requests per second in all. Tokens are keyed by a hash, never kept.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

DEFAULT_RATE = 1000.0
"""Requests per second per token, sustained (``assetry serve --rate-limit``)."""
BURST_SECONDS = 10.0
"""A bucket holds this many seconds' worth of requests: bursts up to ``10 × rate``."""
_MAX_BUCKETS = 100_000
_UNLIMITED = frozenset({"/health"})


class TokenBuckets:
    """One bucket per key, the least recently used forgotten first beyond a bound."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic):
        if rate <= 0 or burst < 1:
            raise ValueError(f"a rate limit needs rate > 0 and burst >= 1, got {rate}, {burst}")
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # level, when
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one request from ``key``'s bucket: 0 when allowed, else the seconds to
        wait until one is."""
        now = self.clock()
        with self._lock:
            level, when = self._buckets.pop(key, (self.burst, now))
            level = min(self.burst, level + (now - when) * self.rate)
            wait = 0.0
            if level >= 1:
                level -= 1
            else:
                wait = (1 - level) / self.rate
            self._buckets[key] = (level, now)
            while len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
        return wait


class RateLimit:
    """ASGI middleware answering 429 to callers over their limit."""

    def __init__(
        self, app: Callable[[Scope, Receive, Send], Awaitable[None]], buckets: TokenBuckets
    ) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in _UNLIMITED:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(_caller(scope))
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        body = json.dumps(
            {
                "error": {
                    "class": "ConflictError",  # what a client raises once it stops retrying
                    "message": f"too many requests with this token; retry in {retry_after} s",
                    "fields": {"retry_after": retry_after},
                }
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                    (b"connection", b"close"),  # the unread body must not look like a request
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _caller(scope: Scope) -> str:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            return "t:" + hashlib.sha256(value).hexdigest()
    client = scope.get("client") or ("?", 0)
    return f"a:{client[0]}"
