"""Keys for ``inspect``: a PEM or JWK/JWKS file, or an HMAC secret from the environment.

The algorithm is bound to the key by the person running the command (``--alg``)
or by the key itself (a JWK's ``alg``, a PEM key's type) — never by the
token's own ``alg``, which is exactly what ``inspect`` must be able to catch
lying. A PEM key or a secret carries no ``kid``: it takes ``--kid``, else the
token's ``kid``, so a one-key check does not fail on a label.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from tokenlife import HMAC_ALGORITHMS, Key, KeyConfigError, KeySet

from ._errors import CliError, UsageError

#: Which algorithm a PEM key gets when ``--alg`` does not say (RSA is ambiguous:
#: RS256 is the common choice, ``--alg PS256`` et al. override it).
_CURVE_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


@dataclass(frozen=True)
class LoadedKeys:
    """The key set to verify with, and where it came from (for the report)."""

    keys: KeySet
    source: str
    #: Why the single key has the kid it has, when the file did not say.
    kid_note: str | None = None


@dataclass(frozen=True)
class KeyOptions:
    key_file: Path | None
    secret_env: str | None
    encoding: str
    algorithm: str | None
    kid: str | None


def load(options: KeyOptions, token_kid: object) -> LoadedKeys | None:
    """The keys the options name, or ``None`` when none were given."""
    if options.key_file is not None and options.secret_env is not None:
        raise UsageError("give either --key or --secret-env, not both")
    if options.key_file is not None:
        return _from_file(options, token_kid)
    if options.secret_env is not None:
        return _from_secret(options, token_kid)
    if options.algorithm is not None or options.kid is not None:
        raise UsageError("--alg and --kid need --key or --secret-env")
    return None


def _label(kid: str | None, token_kid: object) -> tuple[str | None, str | None]:
    if kid is not None:
        return kid, None
    if isinstance(token_kid, str) and token_kid:
        return token_kid, "kid taken from the token (a PEM key or a secret carries none; see --kid)"
    return None, None


def _from_secret(options: KeyOptions, token_kid: object) -> LoadedKeys:
    name = options.secret_env or ""
    raw = os.environ.get(name)
    if not raw:
        raise CliError(f"--secret-env {name}: the environment variable is not set or empty")
    if options.encoding == "base64url":
        text = raw.strip()
        try:
            padded = text + "=" * (-len(text) % 4)
            secret = base64.b64decode(padded, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise CliError(f"--secret-env {name}: the value is not valid base64url") from None
    else:
        secret = raw.encode("utf-8")
    algorithm = options.algorithm or "HS256"
    if algorithm not in HMAC_ALGORITHMS:
        raise UsageError(
            f"--alg {algorithm} cannot use a secret; use one of {', '.join(HMAC_ALGORITHMS)}"
        )
    kid, note = _label(options.kid, token_kid)
    try:
        key = Key.from_secret(secret, algorithm, kid=kid)
    except KeyConfigError as exc:
        raise CliError(f"--secret-env {name}: {exc.message}") from None
    return LoadedKeys(KeySet(key), f"{algorithm} secret from ${name}", note)


def _from_file(options: KeyOptions, token_kid: object) -> LoadedKeys:
    path = options.key_file
    assert path is not None
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"--key {path}: no such file") from None
    except OSError as exc:
        raise CliError(f"--key {path}: cannot read it ({exc.strerror or exc})") from None
    stripped = data.strip()
    try:
        if b"-----BEGIN" in stripped:
            return _from_pem(stripped, path, options, token_kid)
        if stripped[:1] == b"{":
            return _from_json(stripped, path, options)
    except KeyConfigError as exc:
        raise CliError(f"--key {path}: {exc.message}") from None
    raise CliError(f"--key {path}: neither a PEM key nor a JWK/JWKS JSON document")


def _from_pem(pem: bytes, path: Path, options: KeyOptions, token_kid: object) -> LoadedKeys:
    algorithm = options.algorithm or _pem_algorithm(pem, path)
    kid, note = _label(options.kid, token_kid)
    if algorithm in HMAC_ALGORITHMS:
        raise UsageError(f"--alg {algorithm} is an HMAC algorithm; a PEM file holds a key pair")
    keys = KeySet.from_pem(pem, algorithm, kid=kid)
    return LoadedKeys(keys, f"{algorithm} key from {path}", note)


def _pem_algorithm(pem: bytes, path: Path) -> str:
    """The algorithm a PEM key implies; RSA defaults to RS256."""
    loaded: Any = None
    try:
        loaded = serialization.load_pem_public_key(pem)
    except ValueError:
        try:
            loaded = serialization.load_pem_private_key(pem, password=None)
        except TypeError:
            raise CliError(
                f"--key {path}: the private key is encrypted; decrypt it first "
                "(openssl pkey -in KEY -out PLAIN)"
            ) from None
        except ValueError:
            raise CliError(f"--key {path}: not a PEM public or private key") from None
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm and friends
        raise CliError(f"--key {path}: unsupported key ({exc})") from None
    if isinstance(loaded, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RS256"
    if isinstance(loaded, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "EdDSA"
    if isinstance(loaded, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        algorithm = _CURVE_ALGORITHMS.get(loaded.curve.name)
        if algorithm is not None:
            return algorithm
        raise CliError(f"--key {path}: curve {loaded.curve.name} is not supported for JWS")
    raise CliError(f"--key {path}: unsupported key type {type(loaded).__name__}")


def _from_json(document: bytes, path: Path, options: KeyOptions) -> LoadedKeys:
    try:
        value = json.loads(document)
    except ValueError:
        raise CliError(f"--key {path}: not valid JSON") from None
    if not isinstance(value, dict):
        raise CliError(f"--key {path}: a JWK or JWKS must be a JSON object")
    if options.kid is not None:
        raise UsageError("--kid applies to PEM keys and secrets; a JWK names its own kid")
    if "keys" in value:
        members = value["keys"]
        if isinstance(members, list) and options.algorithm is not None:
            members = [_with_alg(jwk, options.algorithm) for jwk in members]
        keys = KeySet.from_jwks({"keys": members})
        count = len(keys.keys)
        return LoadedKeys(keys, f"JWKS from {path} ({count} key{'s' if count != 1 else ''})")
    if "kty" not in value:
        raise CliError(f"--key {path}: a JSON key file needs 'kty' (a JWK) or 'keys' (a JWKS)")
    key = Key.from_jwk(_with_alg(value, options.algorithm))
    keys = KeySet(key) if key.can_sign else KeySet(None, key)
    return LoadedKeys(keys, f"JWK from {path}")


def _with_alg(jwk: Any, algorithm: str | None) -> Any:
    """A JWK without ``alg`` takes ``--alg``; one with ``alg`` keeps it (and may clash)."""
    if algorithm is None or not isinstance(jwk, dict) or "alg" in jwk:
        return jwk
    return {**jwk, "alg": algorithm}


__all__ = ("KeyOptions", "LoadedKeys", "load")
