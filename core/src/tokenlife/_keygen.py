"""Key generation: the one place outside the driver that draws randomness.

Kept apart from ``_keys`` so the pure layer stays free of ``secrets``.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ._errors import KeyConfigError
from ._keys import HMAC_ALGORITHMS, SUPPORTED_ALGORITHMS, Key

_CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}
_HMAC_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}


def generate_secret(algorithm: str = "HS256") -> bytes:
    """A random HMAC secret as long as the hash output."""
    if algorithm not in HMAC_ALGORITHMS:
        raise KeyConfigError(f"{algorithm!r} is not an HMAC algorithm")
    return secrets.token_bytes(_HMAC_SECRET_BYTES[algorithm])


def generate_private_pem(algorithm: str) -> bytes:
    """A new private key for an asymmetric algorithm, as unencrypted PKCS#8 PEM."""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    if algorithm[:2] in ("RS", "PS"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm in _CURVES:
        private = ec.generate_private_key(_CURVES[algorithm])
    elif algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        raise KeyConfigError(
            f"cannot generate a key for {algorithm!r}; use one of {sorted(SUPPORTED_ALGORITHMS)}"
        )
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def generate_key(algorithm: str, *, kid: str | None = None) -> Key:
    """A new signing :class:`Key` for ``algorithm`` (HMAC secret or key pair)."""
    if algorithm in HMAC_ALGORITHMS:
        return Key.from_secret(generate_secret(algorithm), algorithm, kid=kid)
    return Key.from_pem(generate_private_pem(algorithm), algorithm, kid=kid)


__all__ = ("generate_key", "generate_private_pem", "generate_secret")
