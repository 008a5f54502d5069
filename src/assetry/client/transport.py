"""HTTP transport of the remote client: one requests session with retries, bearer
token, timeouts, and errors rebuilt into ``assetry.errors``.

Connection failures are retried for every request (nothing was sent); read timeouts and
dropped connections only for requests that are safe to repeat (GET, HEAD, PUT of a
content-addressed object, DELETE, and the read-only operations). A request whose body
is a stream is repeated only if the stream can be rewound (``seek``/``tell``) to where
it started: a retried upload sends its bytes again, never an empty body under the
first attempt's ``Content-Length``. A request answered ``429`` (over the server's
per-token limit) waits the ``Retry-After`` it names and is sent again, a few times.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from assetry import errors
from assetry.protocol import wire

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 600.0
RETRIES = 5
RATE_LIMITED_ATTEMPTS = 8  # times a request answered 429 is sent again
MAX_RETRY_AFTER = 30.0

_BY_STATUS: dict[int, type[errors.AssetryError]] = {
    401: errors.AuthenticationError,
    403: errors.PermissionDenied,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    413: errors.ValidationError,
    422: errors.ValidationError,
    429: errors.ConflictError,
}


def _session(read_retries: int, pool_size: int) -> requests.Session:
    """A session retrying connections (``RETRIES``, read when called) and, for idempotent
    methods, ``read_retries`` failed reads."""
    session = requests.Session()
    retry = Retry(
        total=RETRIES,
        connect=RETRIES,
        read=read_retries,
        status=0,
        other=0,
        backoff_factor=0.2,
        allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class Transport:
    """Requests to one assetry server."""

    def __init__(self, url: str, token: str | None, pool_size: int = 16) -> None:
        self.url = url.rstrip("/")
        self.session = _session(read_retries=2, pool_size=pool_size)
        self.session.headers["User-Agent"] = "assetry-client"
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self._pool_size = pool_size
        self._once: requests.Session | None = None

    def _session_for(self, data: Any) -> requests.Session:
        """The session that may repeat this body: a stream that cannot be rewound goes
        through one that only retries connecting (nothing of the body sent yet)."""
        if not _is_stream(data) or _rewindable(data):
            return self.session
        if self._once is None:
            once = _session(read_retries=0, pool_size=self._pool_size)
            once.headers.update(self.session.headers)
            self._once = once
        return self._once

    def close(self) -> None:
        self.session.close()
        if self._once is not None:
            self._once.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        idempotent: bool = False,
        stream: bool = False,
        expect: tuple[int, ...] = (200, 201, 206),
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request; a non-``expect`` status raises the error the server sent."""
        if json_body is not None:
            kwargs["data"] = json.dumps(json_body, allow_nan=False).encode("utf-8")
            kwargs.setdefault("headers", {})["Content-Type"] = "application/json"
        data: Any = kwargs.get("data")
        start = _position(data)
        resendable = not _is_stream(data) or start is not None
        if not resendable:
            idempotent = False  # the body cannot be sent twice
        session = self._session_for(data)
        attempts = 3 if idempotent else 1
        for limited in range(RATE_LIMITED_ATTEMPTS + 1):
            for attempt in range(attempts):
                if (attempt or limited) and start is not None:
                    data.seek(start)  # the body again from where it started
                try:
                    with translated(self.url):
                        response = session.request(
                            method,
                            self.url + path,
                            timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                            stream=stream,
                            **kwargs,
                        )
                    break
                except errors.StoreError:
                    if attempt == attempts - 1:
                        raise
            # Over the server's request limit: nothing was done, so any request may be
            # sent again once the server says it may.
            if response.status_code != 429 or not resendable or limited == RATE_LIMITED_ATTEMPTS:
                break
            response.close()
            time.sleep(_retry_after(response))
        if response.status_code not in expect:
            raise error_of(response)
        return response

    def call(self, path: str, arguments: dict[str, Any], idempotent: bool) -> Any:
        """POST an operation's arguments; return its decoded result."""
        response = self.request(
            "POST", path, json_body=wire.encode(arguments), idempotent=idempotent
        )
        return wire.decode(_json(response)["result"])


@contextmanager
def translated(url: str) -> Iterator[None]:
    """requests' exceptions as assetry errors (none of theirs reaches a user)."""
    try:
        yield
    except requests.exceptions.InvalidURL as err:
        raise errors.ConfigError(f"bad server URL {url}: {err}") from None
    except requests.exceptions.RequestException as err:
        raise errors.StoreError(f"the catalog server at {url} cannot be reached: {err}") from None


def error_of(response: requests.Response) -> errors.AssetryError:
    """The assetry error a failed response describes."""
    fallback = f"{response.request.method} {response.url}: HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return wire.error_from_body(body, fallback)
    text = (response.text or "")[:200]
    cls = _BY_STATUS.get(response.status_code, errors.AssetryError)
    if response.status_code >= 500:
        cls = errors.StoreError
    return cls(f"{fallback} {text}".strip())


def _retry_after(response: requests.Response) -> float:
    """Seconds the server asks to wait (``Retry-After``, in seconds), within bounds."""
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.05), MAX_RETRY_AFTER)


def _is_stream(data: Any) -> bool:
    return hasattr(data, "read")


def _rewindable(data: Any) -> bool:
    return _position(data) is not None


def _position(data: Any) -> int | None:
    """Where a stream body starts (``None``: not a stream, or one that cannot seek)."""
    if not _is_stream(data) or not hasattr(data, "seek") or not hasattr(data, "tell"):
        return None
    try:
        position = data.tell()
    except (OSError, ValueError):
        return None
    return position if isinstance(position, int) else None


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise errors.StoreError(
            f"the server answered {response.url} with something that is not JSON"
        ) from None
