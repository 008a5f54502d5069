"""Direct transfers: object bytes moving between a client and a cloud store through
signed URLs, so that a catalog server grants each transfer and checks its result but
carries none of the bytes.

A store that can sign URLs returns a ``DirectTransfers`` from ``ObjectStore.direct()``.
An upload is planned as numbered parts (one part for a small object, a multipart upload
for a large one) written to a temporary key; each part is sent with a signed request.
``finish`` then assembles the parts, reads the temporary object once to check its
SHA-256, MD5 and length against what the client declared, and only then places it
under its content key: a content key never holds bytes that do not hash to it, whatever
a client sends. Downloads are a signed GET of the content key (``Range`` allowed).

The upload's ``state`` is plain JSON (keys, upload ids) so that any server worker can
continue, finish or abandon an upload another one began.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from assetry.errors import ChecksumMismatch, ValidationError
from assetry.store.hashing import Digests, copy_hashing

DEFAULT_EXPIRES_SECONDS = 3600
"""How long a signed URL stays valid."""


@dataclass(frozen=True)
class SignedRequest:
    """One HTTP request a client may make to the store without other credentials."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "url": self.url, "headers": dict(self.headers)}


@dataclass(frozen=True)
class PartPlan:
    """Bytes ``offset`` to ``offset + size`` of the object, sent as part ``number``."""

    number: int
    offset: int
    size: int

    def to_dict(self) -> dict[str, int]:
        return {"number": self.number, "offset": self.offset, "size": self.size}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> PartPlan:
        return cls(int(doc["number"]), int(doc["offset"]), int(doc["size"]))


@dataclass(frozen=True)
class UploadPlan:
    """A begun direct upload: the store's state (JSON) and the parts to send."""

    state: dict[str, Any]
    parts: list[PartPlan]


def plan_parts(length: int, part_size: int) -> list[PartPlan]:
    """Cut ``length`` bytes into parts of ``part_size`` (the last one shorter; one empty
    part for an empty object)."""
    if length == 0:
        return [PartPlan(1, 0, 0)]
    return [
        PartPlan(number, offset, min(part_size, length - offset))
        for number, offset in enumerate(range(0, length, part_size), start=1)
    ]


class DirectTransfers(abc.ABC):
    """What a store that signs URLs offers a server (see the module docstring)."""

    @abc.abstractmethod
    def sign_download(
        self, sha256: str, expires_in: int = DEFAULT_EXPIRES_SECONDS
    ) -> SignedRequest:
        """A signed GET of the stored object ``sha256``."""

    @abc.abstractmethod
    def begin_upload(self, digests: Digests) -> UploadPlan:
        """Start an upload of an object of ``digests.length`` bytes to a temporary key."""

    @abc.abstractmethod
    def sign_part(
        self,
        state: dict[str, Any],
        part: PartPlan,
        digests: Digests,
        expires_in: int = DEFAULT_EXPIRES_SECONDS,
    ) -> SignedRequest:
        """The signed request that sends ``part`` of the upload."""

    @abc.abstractmethod
    def received_parts(self, state: dict[str, Any]) -> dict[int, int]:
        """The parts the store holds so far: part number -> bytes."""

    @abc.abstractmethod
    def is_assembled(self, state: dict[str, Any]) -> bool:
        """Whether the temporary object is whole already (assembled by an earlier call)."""

    @abc.abstractmethod
    def assemble(self, state: dict[str, Any], parts: list[PartPlan]) -> None:
        """Join the received parts into the temporary object (``ValidationError`` naming
        the parts missing or of the wrong size)."""

    @abc.abstractmethod
    def open_temporary(self, state: dict[str, Any]) -> BinaryIO:
        """The assembled temporary object's bytes."""

    @abc.abstractmethod
    def place(self, state: dict[str, Any], digests: Digests) -> None:
        """Make the verified temporary object the content object ``digests.sha256`` (no
        change if that is stored already), remove the temporary one, and remember it."""

    @abc.abstractmethod
    def abandon(self, state: dict[str, Any]) -> None:
        """Drop whatever the upload left in the store (no error if nothing is left)."""

    # --- composite ---------------------------------------------------------------------
    def finish(self, state: dict[str, Any], parts: list[PartPlan], declared: Digests) -> Digests:
        """Assemble, verify against ``declared`` and place the upload; return its digests.

        Bytes that do not match are dropped (``ChecksumMismatch``): a content key is never
        written with them. Parts still missing are a ``ValidationError``, and the upload
        can go on."""
        if not self.is_assembled(state):
            received = self.received_parts(state)
            missing = [p.number for p in parts if received.get(p.number) != p.size]
            if missing:
                raise ValidationError(
                    f"the upload is incomplete: parts {_ranges(missing)} of {len(parts)} "
                    "are missing or of the wrong size"
                )
            self.assemble(state, parts)
        with self.open_temporary(state) as stream:
            found = copy_hashing(stream)
        for name, want, got in (
            ("sha256", declared.sha256, found.sha256),
            ("md5", declared.md5, found.md5),
            ("length", str(declared.length), str(found.length)),
        ):
            if want != got:
                self.abandon(state)
                raise ChecksumMismatch("direct upload", name, want, got)
        self.place(state, found)
        return found


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3, 7"``."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and spans[-1][1] == n - 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
