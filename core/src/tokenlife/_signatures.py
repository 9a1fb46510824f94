"""Signature checks straight on ``cryptography``, with padding and hash objects built once.

pyjwt's algorithm objects build them again on every call (and ES256 converts
its signature through Python helpers); on the verify path of a resource
server that is most of what separates a verify from the bare ``cryptography``
call. Same primitives, same answers: the differential tests hold us to pyjwt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

_HASHES: Final[dict[str, Callable[[], hashes.HashAlgorithm]]] = {
    "256": hashes.SHA256,
    "384": hashes.SHA384,
    "512": hashes.SHA512,
}

Verify = Callable[[bytes, bytes], bool]


def direct_verify(algorithm: str, public: Any) -> Verify | None:
    """A ``verify(message, signature)`` for ``public``, or ``None`` to keep pyjwt's."""
    family, bits = algorithm[:2], algorithm[2:]
    if family == "RS" and bits in _HASHES:
        return _padded(public, padding.PKCS1v15(), _HASHES[bits]())
    if family == "PS" and bits in _HASHES:
        digest = _HASHES[bits]()
        pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
        return _padded(public, pss, digest)
    if family == "ES" and bits in _HASHES and isinstance(public, ec.EllipticCurvePublicKey):
        return _ecdsa(public, ec.ECDSA(_HASHES[bits]()))
    if algorithm == "EdDSA":
        return _eddsa(public)
    return None


def _padded(public: Any, pad: padding.AsymmetricPadding, digest: hashes.HashAlgorithm) -> Verify:
    check = public.verify

    def verify(message: bytes, signature: bytes) -> bool:
        try:
            check(signature, message, pad, digest)
        except InvalidSignature:
            return False
        return True

    return verify


def _ecdsa(public: ec.EllipticCurvePublicKey, scheme: ec.ECDSA) -> Verify:
    size = (public.curve.key_size + 7) // 8
    check = public.verify
    from_bytes = int.from_bytes

    def verify(message: bytes, signature: bytes) -> bool:
        if len(signature) != 2 * size:  # RFC 7518 §3.4: R and S, each exactly this long
            return False
        der = encode_dss_signature(
            from_bytes(signature[:size], "big"), from_bytes(signature[size:], "big")
        )
        try:
            check(der, message, scheme)
        except InvalidSignature:
            return False
        return True

    return verify


def _eddsa(public: Any) -> Verify:
    check = public.verify

    def verify(message: bytes, signature: bytes) -> bool:
        try:
            check(signature, message)
        except InvalidSignature:
            return False
        return True

    return verify


__all__ = ("direct_verify",)
