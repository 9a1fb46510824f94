"""``tokenlife keygen``: a new HMAC secret or key pair, as PEM and as JWK/JWKS.

Randomness and PEM encoding come from the core's key generator, so the command
line makes exactly the keys ``KeySet.generate`` would; the ``kid`` is the one
the core derives (an RFC 7638 thumbprint) unless ``--kid`` names one. Every
output loads back with ``KeySet.from_pem`` / ``KeySet.from_jwks`` (the tests
check it).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from jwt.algorithms import get_default_algorithms

from tokenlife import HMAC_ALGORITHMS, Key, KeyConfigError
from tokenlife.keygen import generate_private_pem, generate_secret

from ._errors import CliError, UsageError
from ._output import Result

_RULE = "=" * 2


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def generate(algorithm: str, kid: str | None) -> dict[str, Any]:
    """The key material as the ``--json`` document (see the README for its keys)."""
    try:
        if algorithm in HMAC_ALGORITHMS:
            return _secret(algorithm, kid)
        return _key_pair(algorithm, kid)
    except KeyConfigError as exc:
        raise UsageError(f"cannot make a {algorithm} key: {exc.message}") from None


def _secret(algorithm: str, kid: str | None) -> dict[str, Any]:
    secret = generate_secret(algorithm)
    key = Key.from_secret(secret, algorithm, kid=kid)
    jwk = {"kty": "oct", "k": _b64url(secret), "kid": key.kid, "alg": algorithm, "use": "sig"}
    return {
        "algorithm": algorithm,
        "kid": key.kid,
        "kind": "secret",
        "secret_base64url": _b64url(secret),
        "private_jwk": jwk,
        "private_jwks": {"keys": [jwk]},
        # A shared secret is never published: the public JWKS is empty by design.
        "public_jwks": {"keys": []},
    }


def _key_pair(algorithm: str, kid: str | None) -> dict[str, Any]:
    pem = generate_private_pem(algorithm)
    key = Key.from_pem(pem, algorithm, kid=kid)
    public_jwk = key.public_jwk
    assert public_jwk is not None  # an asymmetric key always has a public half
    private = serialization.load_pem_private_key(pem, password=None)
    private_jwk: dict[str, Any] = dict(
        get_default_algorithms()[algorithm].to_jwk(private, as_dict=True)
    )
    private_jwk.update(kid=key.kid, alg=algorithm, use="sig")
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "algorithm": algorithm,
        "kid": key.kid,
        "kind": "key_pair",
        "private_pem": pem.decode("ascii"),
        "public_pem": public_pem.decode("ascii"),
        "private_jwk": private_jwk,
        "public_jwk": public_jwk,
        "private_jwks": {"keys": [private_jwk]},
        "public_jwks": {"keys": [public_jwk]},
    }


def _dumps(value: object) -> str:
    return json.dumps(value, indent=2)


def render(material: dict[str, Any]) -> str:
    """The material for people: headed sections, secrets marked as such."""
    alg, kid = material["algorithm"], material["kid"]
    if material["kind"] == "secret":
        secret_bytes = len(material["secret_base64url"]) * 3 // 4
        return "\n".join(
            (
                f"{alg} secret, kid {kid!r}",
                "Keep it secret: whoever holds it can mint tokens. It is never published.",
                "",
                f"{_RULE} secret, base64url ({secret_bytes} bytes) {_RULE}",
                material["secret_base64url"],
                "",
                f"{_RULE} secret as a JWKS (oct JWK; KeySet.from_jwks) {_RULE}",
                _dumps(material["private_jwks"]),
            )
        )
    return "\n".join(
        (
            f"{alg} key pair, kid {kid!r}",
            "The private parts are secrets: store them like passwords, never commit them.",
            "",
            f"{_RULE} private key, PKCS#8 PEM (KeySet.from_pem) {_RULE}",
            material["private_pem"].rstrip("\n"),
            "",
            f"{_RULE} public key, SubjectPublicKeyInfo PEM {_RULE}",
            material["public_pem"].rstrip("\n"),
            "",
            f"{_RULE} private JWKS (signs and verifies; KeySet.from_jwks) {_RULE}",
            _dumps(material["private_jwks"]),
            "",
            f"{_RULE} public JWKS (serve it at /.well-known/jwks.json) {_RULE}",
            _dumps(material["public_jwks"]),
        )
    )


def _files(material: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(file name, content, private?) for ``--out``."""
    if material["kind"] == "secret":
        return [
            ("secret.b64url", material["secret_base64url"] + "\n", True),
            ("private.jwks.json", _dumps(material["private_jwks"]) + "\n", True),
        ]
    return [
        ("private.pem", material["private_pem"], True),
        ("public.pem", material["public_pem"], False),
        ("private.jwks.json", _dumps(material["private_jwks"]) + "\n", True),
        ("public.jwks.json", _dumps(material["public_jwks"]) + "\n", False),
    ]


def write_files(material: dict[str, Any], directory: Path, *, force: bool) -> list[Path]:
    """Write the material into ``directory``; private files are created mode 0600.

    Refuses to overwrite (unless ``force``) *before* writing anything, so a
    half-replaced key pair never happens.
    """
    if not directory.is_dir():
        raise CliError(f"--out {directory}: not an existing directory")
    planned = [(directory / name, content, private) for name, content, private in _files(material)]
    if not force:
        existing = [str(path) for path, _, _ in planned if path.exists()]
        if existing:
            raise CliError(f"refusing to overwrite {', '.join(existing)} (use --force)")
    written = []
    for path, content, private in planned:
        mode = 0o600 if private else 0o644
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(content)
            os.chmod(path, mode)  # O_CREAT's mode does not apply to an existing file
        except OSError as exc:
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
        written.append(path)
    return written


def run(algorithm: str, kid: str | None, out: Path | None, force: bool) -> Result:
    material = generate(algorithm, kid)
    if out is None:
        return Result(material, render(material))
    written = write_files(material, out, force=force)
    data = {**material, "files": [str(p) for p in written]}
    lines = [f"{algorithm} {material['kind'].replace('_', ' ')}, kid {material['kid']!r}, written:"]
    lines += [f"  {path}" for path in written]
    return Result(data, "\n".join(lines))


__all__ = ("generate", "render", "run", "write_files")
