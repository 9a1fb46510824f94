"""A DPoP client for the tests (RFC 9449), written with ``cryptography``: ES256 and EdDSA keys.

The private key never leaves the object; every proof is a fresh JWT signed
with it, naming the request's method and URL (and, at a resource, the hash
of the access token it accompanies).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_jtis = itertools.count(1)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def int_b64(value: int, size: int) -> str:
    return b64(value.to_bytes(size, "big"))


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638, computed here independently of the library under test."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("crv", "kty", "x")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64(hashlib.sha256(canonical.encode()).digest())


class DPoPClient:
    """A private key it never shares, and proofs signed with it."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        if alg == "ES256":
            self._ec = ec.generate_private_key(ec.SECP256R1())
            numbers = self._ec.public_key().public_numbers()
            self.jwk: dict[str, Any] = {
                "kty": "EC",
                "crv": "P-256",
                "x": int_b64(numbers.x, 32),
                "y": int_b64(numbers.y, 32),
            }
        elif alg == "EdDSA":
            self._ed = ed25519.Ed25519PrivateKey.generate()
            raw = self._ed.public_key().public_bytes_raw()
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(raw)}
        else:
            raise AssertionError(alg)
        self.jkt = thumbprint(self.jwk)

    def sign(self, message: bytes) -> bytes:
        if self.alg == "ES256":
            r, s = decode_dss_signature(self._ec.sign(message, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return self._ed.sign(message)

    def proof(
        self,
        method: str,
        url: str,
        *,
        iat: float,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        raw_header: bytes | None = None,
        raw_payload: bytes | None = None,
        access_token: str | None = None,
        **extra: Any,
    ) -> str:
        """A proof for ``method url`` at ``iat``; a new ``jti`` unless one is given."""
        head = (
            header if header is not None else {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk}
        )
        body = {"jti": jti or f"jti-{next(_jtis)}", "htm": method, "htu": url, "iat": iat, **extra}
        if access_token is not None:
            body["ath"] = b64(hashlib.sha256(access_token.encode("ascii")).digest())
        h = b64(raw_header if raw_header is not None else json.dumps(head).encode())
        p = b64(raw_payload if raw_payload is not None else json.dumps(body).encode())
        signature = self.sign(f"{h}.{p}".encode())
        return f"{h}.{p}.{b64(signature)}"


__all__ = ("DPoPClient", "b64", "int_b64", "thumbprint")
