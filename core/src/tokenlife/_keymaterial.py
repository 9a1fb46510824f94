"""Recognise asymmetric key material handed over as an "HMAC secret".

HS256 keyed with a server's public key is the classic algorithm-confusion
attack (RFC 8725 §2.1). pyjwt's own checks vary by version and miss
whitespace-wrapped keys, so tokenlife looks for itself: PEM, SSH, DER
(public key, private key or certificate) and JWK/JWKS text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_der_private_key, load_der_public_key
from jwt.utils import is_pem_format

_SSH_PREFIXES: Final = (b"ssh-", b"ecdsa-sha2-", b"sk-ssh-", b"sk-ecdsa-")
_DER_LOADERS: Final[tuple[Callable[[bytes], object], ...]] = (
    load_der_public_key,
    partial(load_der_private_key, password=None),
    x509.load_der_x509_certificate,
)


def is_key_material(raw: bytes) -> bool:
    """Whether an "HMAC secret" is really a key in PEM, SSH, DER or JWK form.

    Checked here rather than left to pyjwt, whose checks vary by version and
    miss leading whitespace (RFC 8725 §2.1: algorithm confusion).
    """
    stripped = raw.strip()
    if b"-----BEGIN" in raw or is_pem_format(raw) or stripped.startswith(_SSH_PREFIXES):
        return True
    der = _der_sequence(raw.lstrip())
    if der is not None:
        for load in _DER_LOADERS:
            try:
                load(der)
            except (ValueError, TypeError, UnsupportedAlgorithm):
                continue
            return True
    # A JWK or a JWKS pasted as text.
    return stripped[:1] in (b"{", b"[") and b'"kty"' in stripped


def _der_sequence(data: bytes) -> bytes | None:
    """The DER SEQUENCE ``data`` starts with, if only whitespace follows it."""
    if len(data) < 2 or data[0] != 0x30:
        return None
    start, length = 2, data[1]
    if length & 0x80:
        start += length & 0x7F
        length = int.from_bytes(data[2:start], "big")
    end = start + length
    if end > len(data) or data[end:].strip():
        return None
    return data[:end]


__all__ = ("is_key_material",)
