"""Resource identifiers (RIDs).

A RID is ``<prefix>-<sequence>``: an 8-character random prefix drawn once per catalog
and a per-catalog sequence number, both in Crockford base 32 (digits and upper-case
letters without I, L, O, U). RIDs are short, URL-safe and case-insensitive, unique within a
catalog by construction and across catalogs with overwhelming probability (40 random bits
of prefix), so rows imported from another catalog's bag keep their RIDs.
"""

from __future__ import annotations

import secrets
import string

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX_LENGTH = 8

_DECODE = {c: i for i, c in enumerate(ALPHABET)}
# Crockford's forgiving reads of easily confused letters.
_DECODE.update({"O": 0, "I": 1, "L": 1})

# A RID is ASCII: only ASCII letters are folded and only ASCII white space is trimmed.
# ``str.upper`` would also map look-alikes such as U+017F (long s) to 'S', so a string
# that is not a RID in any case would name a row.
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_ASCII_SPACE = " \t\n\r\x0b\x0c"


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
    """The canonical (upper-case) spelling of ``rid``; RIDs compare case-insensitively
    (ASCII case only: a string with any other character is never a RID)."""
    return rid.strip(_ASCII_SPACE).translate(_ASCII_UPPER)


def looks_like_rid(value: object) -> bool:
    """True if ``value`` has the shape of a RID (it may still not exist)."""
    if not isinstance(value, str):
        return False
    prefix, sep, seq = normalize(value).partition("-")
    return bool(sep and prefix and seq) and all(c in _DECODE for c in prefix + seq)
