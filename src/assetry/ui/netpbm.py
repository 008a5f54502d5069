"""Binary netpbm images (PGM ``P5``, PPM ``P6``; 8 or 16 bits) as PNG, so a browser can
show them: science pipelines write these, browsers do not read them."""

from __future__ import annotations

import re
import struct
import zlib

from assetry.errors import ValidationError

MAX_PIXELS = 16_000_000
_HEADER = re.compile(rb"(P[56])\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s+"
                     rb"(?:#[^\n]*\n\s*)*(\d+)\s")  # fmt: skip


def is_netpbm(head: bytes) -> bool:
    return _HEADER.match(head) is not None


def to_png(data: bytes) -> bytes:
    """The PNG of a binary PGM or PPM file (``ValidationError`` if it is not one)."""
    match = _HEADER.match(data)
    if match is None:
        raise ValidationError("not a binary PGM or PPM image")
    magic, width, height, maxval = match.group(1), *map(int, match.groups()[1:])
    channels = 1 if magic == b"P5" else 3
    depth = 1 if maxval < 256 else 2
    if not (0 < width and 0 < height and width * height <= MAX_PIXELS and 0 < maxval < 65536):
        raise ValidationError(f"unsupported image size {width}x{height} (max value {maxval})")
    row_bytes = width * channels * depth
    pixels = data[match.end() : match.end() + row_bytes * height]
    if len(pixels) < row_bytes * height:
        raise ValidationError("the image's pixels are cut short")
    if maxval not in (255, 65535):  # scale to the full range PNG expects
        top = 255 if depth == 1 else 65535
        if depth == 1:
            pixels = bytes(min(top, v * top // maxval) for v in pixels)
        else:
            values = struct.unpack(f">{len(pixels) // 2}H", pixels)
            pixels = struct.pack(f">{len(values)}H", *(min(top, v * top // maxval) for v in values))
    raw = b"".join(b"\x00" + pixels[y * row_bytes : (y + 1) * row_bytes] for y in range(height))
    color = 0 if channels == 1 else 2
    header = struct.pack(">IIBBBBB", width, height, 8 * depth, color, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(raw, 6)),
            _chunk(b"IEND", b""),
        ]
    )


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
