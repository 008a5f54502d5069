"""Google Cloud Storage through gcsfs: ``gs://BUCKET/prefix``.

Options in the URL's query: ``endpoint_url`` (another endpoint, such as an emulator;
else ``$STORAGE_EMULATOR_HOST`` or Google's), ``project`` and ``token``. Without
``token``, credentials come from Google's usual settings (``GOOGLE_APPLICATION_CREDENTIALS``,
the gcloud login, the metadata server on Google Cloud); ``token=anon`` sends none (an
emulator, a public bucket); any other value names a service-account JSON file. Large
objects travel as resumable uploads of ``part_size`` bytes each. ``signing_key`` names
a service-account JSON file whose key signs URLs for direct transfers in server mode
(``store.gcs_direct``); without it, the store's own credentials sign when they are a
service account's.
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

# gcsfs.core's file system speaks GCS's JSON API only; the one ``gcsfs`` exports by
# default also asks a gRPC control plane for each bucket's layout first (hierarchical
# or zonal buckets), which an emulator does not serve and this store does not need.
from gcsfs.core import GCSFileSystem
from gcsfs.retry import retry_request

from assetry.errors import ConfigError
from assetry.store.fsspec_store import PART_SIZE, FsspecStore

if TYPE_CHECKING:
    from assetry.store.direct import DirectTransfers

_OPTIONS = {"endpoint_url", "project", "token", "signing_key"}
# gcsfs's own number of attempts per request (with a back-off of up to 32 s between).
DEFAULT_ATTEMPTS = 6


@functools.cache
def _filesystem_class(attempts: int) -> type[GCSFileSystem]:
    """gcsfs's file system, making ``attempts`` attempts per request (gcsfs fixes the
    number in a decorator of its request method: a subclass re-applies it)."""
    if attempts == DEFAULT_ATTEMPTS:
        default: type[GCSFileSystem] = GCSFileSystem
        return default
    wrapped = GCSFileSystem._request.__wrapped__

    class _GCSFileSystem(GCSFileSystem):  # type: ignore[misc]
        _request = retry_request(retries=attempts)(wrapped)

    chosen: type[GCSFileSystem] = _GCSFileSystem
    return chosen


class GcsStore(FsspecStore):
    """Objects in a Google Cloud Storage bucket under a prefix."""

    scheme = "gs"
    _signing_key: str | None = None
    _endpoint: str | None = None
    _direct: DirectTransfers | None = None

    @classmethod
    def from_url(
        cls,
        url: str,
        part_size: int = PART_SIZE,
        *,
        attempts: int = DEFAULT_ATTEMPTS,
        timeout: float | None = None,
    ) -> GcsStore:
        parsed = urlparse(url)
        if not parsed.netloc:
            raise ConfigError(f"a GCS store URL needs a bucket: gs://BUCKET/prefix, got {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        unknown = set(query) - _OPTIONS
        if unknown:
            raise ConfigError(
                f"unknown GCS store options {sorted(unknown)} in {url!r}; known: "
                f"{', '.join(sorted(_OPTIONS))}"
            )
        kwargs: dict[str, Any] = {
            "token": query.get("token"),
            "endpoint_url": query.get("endpoint_url"),
            "use_listings_cache": False,
            "skip_instance_cache": True,
        }
        if "project" in query:
            kwargs["project"] = query["project"]
        if timeout is not None:
            # gcsfs bounds each HTTP request by requests_timeout; its timeout bounds only
            # a few whole calls (listing buckets).
            kwargs["timeout"] = timeout
            kwargs["requests_timeout"] = timeout
        try:
            fs = _filesystem_class(attempts)(**kwargs)
        except Exception as err:  # google-auth: no or unusable credentials
            raise ConfigError(f"the GCS store {url!r}: {err}") from None
        root = parsed.netloc + parsed.path.rstrip("/")
        store = cls(url, fs, root, part_size, protocol="gs")
        store._signing_key = query.get("signing_key")
        store._endpoint = query.get("endpoint_url") or getattr(fs, "_endpoint", None)
        return store

    def direct(self) -> DirectTransfers | None:
        """V4-signed transfers (``store.gcs_direct``) when a service account's key is at
        hand (``signing_key``, or the store's own credentials); else None."""
        if self._direct is None:
            credentials = self._signer()
            if credentials is None:
                return None
            from assetry.store.gcs_direct import GcsDirectTransfers

            self._direct = GcsDirectTransfers(self, credentials, self._endpoint)
        return self._direct

    def _signer(self) -> Any:
        if self._signing_key:
            from google.oauth2 import service_account

            try:
                return service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    self._signing_key
                )
            except (OSError, ValueError) as err:
                raise ConfigError(
                    f"the GCS store {self.url!r}: signing_key {self._signing_key!r}: {err}"
                ) from None
        own = getattr(getattr(self.fs, "credentials", None), "credentials", None)
        return own if hasattr(own, "sign_bytes") and hasattr(own, "signer_email") else None

    def abandon_upload(self, handle: Any) -> None:
        """Leave the resumable upload unfinished: GCS never shows an object whose upload
        was not finalized and drops the session after a week. (Cancelling it is one
        more request, retried with back-off, to a service that has often just failed.)"""

    def stored_md5(self, info: dict[str, Any]) -> str | None:
        """GCS reports ``md5Hash`` (base64) for every object but composite ones."""
        value = info.get("md5Hash")
        if not isinstance(value, str):
            return None
        try:
            return base64.b64decode(value, validate=True).hex()
        except binascii.Error:
            return None
