"""Tokens for the inspect tests: minted with the real codec, or forged by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.cli._cli import T0
from tests.security import _forge
from tokenlife import ACCESS_TYP, Codec, KeySet

SECRET = "inspect-tests-secret-of-at-least-32-bytes"
ISSUER = "https://api.example"
AUDIENCE = "api"
HS = KeySet.from_secret(SECRET, kid="k1")


def claims(**changes: Any) -> dict[str, Any]:
    """A tokenlife access token's claims, issued at T0 for 15 minutes; ``None`` drops one."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "alice",
        "sid": "session-1",
        "jti": "token-1",
        "iat": int(T0),
        "exp": int(T0) + 900,
        "scope": "read write",
        "fresh": True,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def mint(keys: KeySet = HS, typ: str = ACCESS_TYP, **changes: Any) -> str:
    return Codec(keys).encode(claims(**changes), typ=typ)


def forge(header: dict[str, Any], payload: dict[str, Any], keys: KeySet = HS) -> str:
    """A token with any header at all, signed by ``keys``."""
    return _forge.sign_raw(keys.active, header, payload)


def claims_json(**repeated: list[Any]) -> bytes:
    """The default claims as JSON, with each ``repeated`` claim written once per value."""
    members = [(k, v) for k, v in claims().items() if k not in repeated]
    members += [(name, value) for name, values in repeated.items() for value in values]
    return ("{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in members) + "}").encode()


def forge_raw(payload: bytes, keys: KeySet = HS) -> str:
    """A well-typed access token around a payload given byte for byte."""
    return _forge.sign_raw(keys.active, _forge.header_for(keys.active), payload)


def ec_private_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def rsa_private_pem() -> bytes:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_pem(private_pem: bytes) -> bytes:
    private = serialization.load_pem_private_key(private_pem, password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def write(path: Path, content: bytes | str | dict[str, Any]) -> Path:
    if isinstance(content, dict):
        content = json.dumps(content)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


__all__ = (
    "AUDIENCE",
    "HS",
    "ISSUER",
    "SECRET",
    "claims",
    "claims_json",
    "ec_private_pem",
    "forge",
    "forge_raw",
    "mint",
    "public_pem",
    "rsa_private_pem",
    "write",
)
