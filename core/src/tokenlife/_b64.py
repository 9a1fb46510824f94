"""base64url without padding (RFC 7515 §2), strict about length and alphabet."""

from __future__ import annotations

import binascii
from typing import Final

import msgspec

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
_B64URL: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: base64url to standard base64; every other byte (``+ / =``, quotes, controls,
#: non-ASCII) becomes ``*``, which no base64 decoder accepts and JSON never escapes.
_TO_STD_STRICT: Final = bytes(
    (b if b in _B64URL[:-2] else {45: 43, 95: 47}.get(b, 42)) for b in range(256)
)
#: The closing quote, after the padding a segment of each length needs.
_QUOTED_PADDING: Final = (b'"', b'"', b'=="', b'="')
# msgspec's base64 is strict (alphabet, padding) and about twice binascii's speed.
_bytes_from_json = msgspec.json.Decoder(bytes).decode


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


def b64url_decode_checked(segment: bytes) -> bytes | None:
    """Decode one segment of any bytes, or ``None``: the verify path's decoder.

    Accepts exactly what the alphabet check followed by :func:`b64url_decode`
    accepts, with the same result, but checks the alphabet in the same pass
    and raises nothing, so a caller can fall back to the strict path for the
    precise error.
    """
    rem = len(segment) & 3
    if rem == 1 or (rem and segment[-1] not in _CANONICAL_LAST[rem]):
        return None
    try:
        return _bytes_from_json(b'"' + segment.translate(_TO_STD_STRICT) + _QUOTED_PADDING[rem])
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


__all__ = ("b64url_decode", "b64url_decode_checked", "b64url_encode")
