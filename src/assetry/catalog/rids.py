"""Resource identifiers (RIDs).

A RID is ``<prefix>-<sequence>``: an 8-character random prefix drawn once per catalog
and a per-catalog sequence number, both in Crockford base 32 (digits and upper-case
letters without I, L, O, U). RIDs are short, URL-safe and case-insensitive, unique within a
catalog by construction and across catalogs with overwhelming probability (40 random bits
of prefix), so rows imported from another catalog's bag keep their RIDs.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX_LENGTH = 8

_DECODE = {c: i for i, c in enumerate(ALPHABET)}
# Crockford's forgiving reads of easily confused letters.
_DECODE.update({"O": 0, "I": 1, "L": 1})


def new_prefix() -> str:
    """A fresh random catalog prefix."""
    return "".join(secrets.choice(ALPHABET) for _ in range(PREFIX_LENGTH))


def encode(number: int) -> str:
    """``number`` (>= 0) in Crockford base 32."""
    if number < 0:
        raise ValueError("RID sequence numbers are not negative")
    digits = []
    while True:
        number, rest = divmod(number, 32)
        digits.append(ALPHABET[rest])
        if number == 0:
            return "".join(reversed(digits))


def make_rid(prefix: str, number: int) -> str:
    """The RID of sequence ``number`` in the catalog with ``prefix``."""
    return f"{prefix}-{encode(number)}"


def normalize(rid: str) -> str:
    """The canonical (upper-case) spelling of ``rid``; RIDs compare case-insensitively."""
    return rid.strip().upper()


def looks_like_rid(value: object) -> bool:
    """True if ``value`` has the shape of a RID (it may still not exist)."""
    if not isinstance(value, str):
        return False
    prefix, sep, seq = normalize(value).partition("-")
    return bool(sep and prefix and seq) and all(c in _DECODE for c in prefix + seq)
