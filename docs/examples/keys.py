"""Keys: a shared secret, an asymmetric key pair with a published JWKS, and key rotation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenlife import Codec, Key, KeySet


# --8<-- [start:secret]
def keys_from_environment(environ: Mapping[str, str]) -> KeySet:
    # HS256: one secret signs and verifies; at least 32 random bytes.
    # Make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"
    return KeySet.from_secret(environ["TOKENLIFE_SECRET"], "HS256")


# --8<-- [end:secret]


# --8<-- [start:asymmetric]
def signing_keys() -> tuple[KeySet, dict[str, list[dict[str, Any]]]]:
    keys = KeySet.generate("EdDSA")  # or KeySet.from_pem(private_pem, "ES256")
    jwks = keys.public_jwks()  # publish this: the public halves only
    return keys, jwks


def verifier_elsewhere(jwks: Mapping[str, Any]) -> Codec:
    # Another service verifies our access tokens without being able to sign.
    verify_only = KeySet.from_jwks(jwks)
    return Codec(verify_only, issuer="https://api.example", audience="api")


# --8<-- [end:asymmetric]


# --8<-- [start:rotation]
def rotate(current: KeySet, new_secret: str) -> KeySet:
    # The new key signs from now on; the old ones only verify, so tokens
    # already out there keep working until they expire. Drop the old key
    # once refresh_ttl has passed: no token it signed can be alive by then.
    return current.rotated(Key.from_secret(new_secret, "HS256"))


# --8<-- [end:rotation]
