"""Materializing a holey bag: fetching what fetch.txt lists, verified before it lands.

Each missing file is streamed from its URL (``file://``, ``http(s)://``, ``s3://``) into a
temporary file in a scratch folder at the bag's top (a tag folder, never in the payload),
hashed in the same pass with every algorithm the manifests use for it, checked against
the manifests and fetch.txt's length, then renamed into place (not fsynced: as with the
writer's files, a damaged one fails validation and can be fetched again). A file that does
not match never appears; files already fetched and verified stay when another one fails.
Files are fetched in parallel; an HTTP(S) or S3 failure that may pass (connection,
timeout, 5xx) is retried once.

S3 URLs (``s3://bucket/key``) use boto3's default credential chain; the endpoint comes
from ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` when set (as for moto or MinIO).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import ExitStack, closing
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import requests

from assetry import config
from assetry.bags.extract import FetchEntry, is_inside
from assetry.bags.validate import checksum_error, combine, load_structure
from assetry.errors import BagError

CHUNK_SIZE = 1 << 20
TIMEOUT = (10.0, 60.0)  # connect, read (seconds)
RETRY_DELAY = 0.5
PARALLEL_HASH_BYTES = 16 * CHUNK_SIZE  # from this size, one hashing thread per algorithm
USER_AGENT = "assetry-bag-fetch"


class _Transient(Exception):
    """A failure worth one more try (connection, timeout, 5xx, throttling)."""


def materialize(
    root: Path, workers: int = 8, wanted: Callable[[str], bool] | None = None
) -> list[Path]:
    """Fetch every fetch.txt entry of the bag at ``root`` that is not present yet (of
    those whose path ``wanted`` accepts, when given).

    Returns the paths fetched, in fetch.txt order. Raises ``BagChecksumMismatch`` when
    fetched bytes do not match the manifests (or fetch.txt's length), ``BagError`` for
    anything else (a 404, an unreachable host, a structurally invalid bag); the message
    names the URL and the bag path.
    """
    root = Path(root)
    bag = load_structure(root)
    if bag.problems:
        raise combine(f"cannot materialize the bag {root}", bag.problems)
    todo = [
        e
        for e in bag.fetch
        if not os.path.lexists(root / e.path) and (wanted is None or wanted(e.path))
    ]
    if not todo:
        return []
    scratch = _scratch_dir(root)
    fetcher = _Fetcher()
    done: dict[str, Path] = {}
    errors: dict[str, BagError] = {}
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, len(todo)))) as pool:
            futures: dict[Future[Path], FetchEntry] = {
                pool.submit(fetcher.fetch, root, scratch, e, bag.checksums(e.path)): e for e in todo
            }
            for future in as_completed(futures):
                entry = futures[future]
                try:
                    done[entry.path] = future.result()
                except BagError as err:
                    errors[entry.path] = err
                except Exception as err:  # anything else still reaches the user as a BagError
                    errors[entry.path] = BagError(f"fetching {entry.path} from {entry.url}: {err}")
                if errors:  # fail fast: do not start the rest
                    for other in futures:
                        other.cancel()
    finally:
        fetcher.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if errors:
        ordered = [errors[e.path] for e in todo if e.path in errors]
        raise combine(f"cannot materialize the bag {root}", ordered)
    return [done[e.path] for e in todo if e.path in done]


def _scratch_dir(root: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=".assetry-fetch-", dir=root))
    except OSError as err:
        raise BagError(f"cannot write into the bag {root}: {err.strerror}") from None


class _Fetcher:
    """Streams bytes from URLs; one requests session per thread, one shared S3 client."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._sessions: list[requests.Session] = []
        self._s3: Any = None

    def close(self) -> None:
        for session in self._sessions:
            session.close()

    def fetch(self, root: Path, scratch: Path, entry: FetchEntry, expected: dict[str, str]) -> Path:
        """Fetch one entry into place, verified; return its path."""
        target = root / entry.path
        if not is_inside(target.parent, root / "data"):
            raise BagError(f"fetch.txt path {entry.path} resolves outside data/")
        if not expected:
            raise BagError(f"{entry.path} is in fetch.txt but no manifest gives its checksum")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            for attempt in (1, 2):
                try:
                    return self._fetch_once(scratch, entry, expected, target)
                except _Transient as err:
                    if attempt == 2:
                        raise BagError(
                            f"cannot fetch {entry.path} from {entry.url}: {err} (tried twice)"
                        ) from None
                    time.sleep(RETRY_DELAY)
        except OSError as err:
            raise BagError(f"cannot write {entry.path} (from {entry.url}): {err}") from None
        raise AssertionError("unreachable")

    def _fetch_once(
        self, scratch: Path, entry: FetchEntry, expected: dict[str, str], target: Path
    ) -> Path:
        hashers = {a: hashlib.new(a, usedforsecurity=False) for a in expected}
        length = 0
        fd, name = tempfile.mkstemp(dir=scratch, suffix=".part")
        tmp = Path(name)
        # A big file is hashed on one thread per algorithm while this thread receives and
        # writes (hashlib releases the GIL): each chunk's hashing overlaps the next one's
        # arrival, and the algorithms each other.
        parallel = len(hashers) > 1 and (entry.length or 0) >= PARALLEL_HASH_BYTES
        try:
            with ExitStack() as stack:
                out = stack.enter_context(os.fdopen(fd, "wb"))
                chunks = stack.enter_context(closing(self._chunks(entry)))
                pool = None
                if parallel:
                    pool = stack.enter_context(
                        ThreadPoolExecutor(len(hashers), thread_name_prefix="assetry-hash")
                    )
                hashing: list[Future[None]] = []
                for chunk in chunks:
                    length += len(chunk)
                    if entry.length is not None and length > entry.length:
                        raise checksum_error(
                            entry.path, "length", str(entry.length), f"more than {entry.length}",
                            entry.url,
                        )  # fmt: skip
                    if pool is None:
                        for hasher in hashers.values():
                            hasher.update(chunk)
                    else:
                        for future in hashing:  # the previous chunk, in order
                            future.result()
                        hashing = [pool.submit(h.update, chunk) for h in hashers.values()]
                    out.write(chunk)
                for future in hashing:
                    future.result()
            if entry.length is not None and length != entry.length:
                raise checksum_error(
                    entry.path, "length", str(entry.length), str(length), entry.url
                )
            for algorithm, digest in sorted(expected.items()):
                found = hashers[algorithm].hexdigest()
                if found != digest:
                    raise checksum_error(entry.path, algorithm, digest, found, entry.url)
            os.replace(tmp, target)
            return target
        finally:
            tmp.unlink(missing_ok=True)

    def _chunks(self, entry: FetchEntry) -> Generator[bytes, None, None]:
        scheme = urlparse(entry.url).scheme.lower()
        if scheme == "file":
            return self._file(entry)
        if scheme in ("http", "https"):
            return self._http(entry)
        if scheme == "s3":
            return self._s3_object(entry)
        raise BagError(
            f"cannot fetch {entry.path} from {entry.url}: unsupported URL scheme {scheme!r} "
            "(file, http, https, s3)"
        )

    def _file(self, entry: FetchEntry) -> Generator[bytes, None, None]:
        parsed = urlparse(entry.url)
        if parsed.netloc not in ("", "localhost"):
            raise BagError(f"cannot fetch {entry.path}: {entry.url} names another host")
        try:
            source = open(url2pathname(parsed.path), "rb")  # noqa: SIM115 - closed below
        except OSError as err:
            raise BagError(f"cannot fetch {entry.path} from {entry.url}: {err.strerror}") from None
        with source:
            while chunk := source.read(CHUNK_SIZE):
                yield chunk

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _http(self, entry: FetchEntry) -> Generator[bytes, None, None]:
        try:
            token = config.token_for_url(entry.url)  # only for known catalog servers
            headers = {"Authorization": f"Bearer {token}"} if token else None
            response = self._session().get(entry.url, stream=True, timeout=TIMEOUT, headers=headers)
        except requests.RequestException as err:
            raise _Transient(str(err)) from None
        with response:
            status = response.status_code
            if status >= 500 or status == 429:
                raise _Transient(f"HTTP {status} {response.reason}")
            if status >= 400:
                raise BagError(
                    f"cannot fetch {entry.path} from {entry.url}: HTTP {status} {response.reason}"
                )
            try:
                yield from response.iter_content(CHUNK_SIZE)
            except requests.RequestException as err:
                raise _Transient(str(err)) from None

    def _s3_client(self) -> Any:
        with self._lock:
            if self._s3 is None:
                try:
                    import boto3
                    import botocore.config
                except ModuleNotFoundError as err:
                    raise BagError(
                        f"fetching s3:// URLs needs {err.name!r}: pip install 'assetry[s3]'"
                    ) from None
                endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get(
                    "AWS_ENDPOINT_URL"
                )
                config = botocore.config.Config(
                    connect_timeout=TIMEOUT[0],
                    read_timeout=TIMEOUT[1],
                    retries={"max_attempts": 2, "mode": "standard"},
                    s3={"addressing_style": "path"} if endpoint else {},
                )
                self._s3 = boto3.client("s3", endpoint_url=endpoint or None, config=config)
            return self._s3

    def _s3_object(self, entry: FetchEntry) -> Generator[bytes, None, None]:
        client = self._s3_client()
        import botocore.exceptions

        parsed = urlparse(entry.url)
        bucket, key = parsed.netloc, parsed.path.lstrip("/")
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"]
        except botocore.exceptions.ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", "?"))
            if code in ("500", "503", "SlowDown", "InternalError", "RequestTimeout"):
                raise _Transient(f"S3 answered {code}") from None
            raise BagError(
                f"cannot fetch {entry.path} from {entry.url}: S3 answered {code}"
            ) from None
        except botocore.exceptions.BotoCoreError as err:
            raise _Transient(str(err)) from None
        try:
            while chunk := body.read(CHUNK_SIZE):
                yield chunk
        except botocore.exceptions.BotoCoreError as err:
            raise _Transient(str(err)) from None
        finally:
            body.close()
