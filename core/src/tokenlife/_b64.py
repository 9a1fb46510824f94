"""base64url without padding (RFC 7515 §2), strict about length and alphabet."""

from __future__ import annotations

import binascii
from typing import Final

from ._errors import MalformedTokenError

_TO_STD: Final = bytes.maketrans(b"-_", b"+/")
_TO_URL: Final = bytes.maketrans(b"+/", b"-_")
_PADDING: Final = (b"", b"", b"==", b"=")  # by len % 4; 1 is never valid
#: Allowed last characters by len % 4: the bits past the data must be zero, so
#: each byte string has exactly one encoding (no malleable signatures).
_CANONICAL_LAST: Final[tuple[frozenset[int], ...]] = (
    frozenset(),
    frozenset(),
    frozenset(b"AQgw"),
    frozenset(b"AEIMQUYcgkosw048"),
)


def b64url_encode(data: bytes) -> bytes:
    return binascii.b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=")


def b64url_decode(segment: bytes) -> bytes:
    """Decode one segment; callers have already refused non-alphabet bytes."""
    rem = len(segment) % 4
    if rem == 1:
        raise MalformedTokenError("a base64url segment has an impossible length")
    if rem and segment[-1] not in _CANONICAL_LAST[rem]:
        raise MalformedTokenError("a base64url segment is not canonically encoded")
    try:
        return binascii.a2b_base64(segment.translate(_TO_STD) + _PADDING[rem])
    except binascii.Error:
        raise MalformedTokenError("a segment is not valid base64url") from None


__all__ = ("b64url_decode", "b64url_encode")
