"""Hand-built tokens for hostile-input tests.

Payloads and headers are raw JSON bytes, signed with a real key, so a test can
put anything in a claim (a string ``exp``, ``NaN``, 10,000 nested arrays) and
know that only the claim check can reject it. Every key is generated at run
time; no key material lives in the repository.

Each :class:`Material` also carries a verifier that does not go through
tokenlife (stdlib ``hmac`` or ``cryptography`` directly), so fuzz tests can
check "accepted implies signed by our key" without trusting the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tokenlife import ACCESS_TYP, Key, KeySet

#: A fixed "now" for every test: tokens carry dates around it, decode gets now=NOW.
NOW: Final = 1_700_000_000
ISS: Final = "https://api.example"
AUD: Final = "api"

_ALPHABET: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(data: bytes) -> str:
    """Canonical base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(segment: str) -> bytes:
    """Lenient base64url decode (adds padding): for reading, never for verdicts."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def raw_json(value: Any) -> bytes:
    """Compact JSON, allowing the NaN/Infinity literals that are not JSON at all."""
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def split(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def non_canonical(segment: str) -> str | None:
    """The same bytes with non-zero trailing bits, or None if the length has none."""
    if len(segment) % 4 not in (2, 3):
        return None
    value = _ALPHABET.index(segment[-1])
    return segment[:-1] + _ALPHABET[value | 1]


def sign_segments(key: Key, header_segment: str, payload_segment: str) -> str:
    """Sign two already-encoded segments exactly as given."""
    signing_input = f"{header_segment}.{payload_segment}"
    return f"{signing_input}.{b64(key.sign(signing_input.encode('utf-8')))}"


def sign_raw(
    key: Key, header: Mapping[str, Any] | bytes, payload: Mapping[str, Any] | bytes
) -> str:
    """A compact JWS over raw bytes (or JSON-encoded mappings), signed by ``key``."""
    header_bytes = header if isinstance(header, bytes) else raw_json(dict(header))
    payload_bytes = payload if isinstance(payload, bytes) else raw_json(dict(payload))
    return sign_segments(key, b64(header_bytes), b64(payload_bytes))


def hs_sign_raw(secret: bytes, header: Mapping[str, Any], payload: Mapping[str, Any]) -> str:
    """HS256 over anything used as the secret (e.g. a public key): what an attacker forges."""
    signing_input = f"{b64(raw_json(dict(header)))}.{b64(raw_json(dict(payload)))}"
    mac = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def header_for(key: Key, typ: str = ACCESS_TYP, **extra: Any) -> dict[str, Any]:
    return {"alg": key.algorithm, "kid": key.kid, "typ": typ, **extra}


def claims(**changes: Any) -> dict[str, Any]:
    """Valid access-token claims at NOW, with ``changes`` applied (``DROP`` removes one)."""
    base: dict[str, Any] = {
        "iss": ISS,
        "sub": "alice",
        "aud": AUD,
        "iat": NOW - 10,
        "exp": NOW + 600,
        "jti": "jti-1",
        "sid": "sid-1",
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not DROP}


class _Drop:
    def __repr__(self) -> str:
        return "DROP"


DROP: Final = _Drop()


@dataclass(frozen=True)
class Material:
    """A key generated for one test session, seen three ways."""

    algorithm: str
    keys: KeySet
    #: (signing input, raw signature) -> bool, computed without tokenlife.
    verify: Callable[[bytes, bytes], bool]
    #: What ``jwt.decode`` takes as its key for this algorithm.
    pyjwt_key: Any

    @property
    def key(self) -> Key:
        return self.keys.active


def hs256(kid: str | None = None) -> Material:
    secret = os.urandom(32)

    def verify(message: bytes, signature: bytes) -> bool:
        expected = hmac.new(secret, message, hashlib.sha256).digest()
        return hmac.compare_digest(expected, signature)

    return Material("HS256", KeySet.from_secret(secret, "HS256", kid=kid), verify, secret)


def _pem(private: Any) -> bytes:
    pem: bytes = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def eddsa(kid: str | None = None) -> Material:
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key()

    def verify(message: bytes, signature: bytes) -> bool:
        try:
            public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    return Material("EdDSA", KeySet.from_pem(_pem(private), "EdDSA", kid=kid), verify, public)


def es256(kid: str | None = None) -> Material:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key()

    def verify(message: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:], "big")
        try:
            public.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return False
        return True

    return Material("ES256", KeySet.from_pem(_pem(private), "ES256", kid=kid), verify, public)


def rs256(kid: str | None = None) -> Material:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key()

    def verify(message: bytes, signature: bytes) -> bool:
        try:
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True

    return Material("RS256", KeySet.from_pem(_pem(private), "RS256", kid=kid), verify, public)


__all__ = (
    "AUD",
    "DROP",
    "ISS",
    "NOW",
    "Material",
    "b64",
    "claims",
    "eddsa",
    "es256",
    "header_for",
    "hs256",
    "hs_sign_raw",
    "non_canonical",
    "raw_json",
    "rs256",
    "sign_raw",
    "sign_segments",
    "split",
    "unb64",
)
