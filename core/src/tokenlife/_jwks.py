"""A remote JWKS document, judged: what a resource server accepts from an issuer.

Pure: bytes and headers in, a verify-only :class:`KeySet` (or a typed
:class:`JWKSError`) out. The document arrives over the network from a party
we do not control, so everything is bounded and checked before a key is
built: size, JSON shape, member types, duplicate ``kid``s, private members.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

import msgspec

from ._errors import ConfigurationError, JWKSError, KeyConfigError
from ._keys import ASYMMETRIC_ALGORITHMS, Key, KeySet

logger: Final = logging.getLogger("tokenlife.remote")

#: Members that only a private (or symmetric) JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037).
PRIVATE_JWK_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: Which algorithms a key can serve, by key type (and curve), for keys without ``alg``.
_CANDIDATES: Final = {
    ("RSA", None): ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"),
    ("EC", "P-256"): ("ES256",),
    ("EC", "P-384"): ("ES384",),
    ("EC", "P-521"): ("ES512",),
    ("OKP", "Ed25519"): ("EdDSA",),
    ("OKP", "Ed448"): ("EdDSA",),
}

_decode_json = msgspec.json.Decoder().decode


def _seconds(value: object, name: str, *, minimum: float = 0.0) -> float:
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a finite number of seconds or a timedelta")
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum:g} seconds")
    return float(value)


class RemoteKeyPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How a resource server trusts, caches and refetches an issuer's JWKS.

    The floors (one second) are what keep a flood of tokens naming made-up
    ``kid``s from turning into a flood of fetches, whatever is configured.
    """

    #: The only algorithms accepted, e.g. ``("RS256",)``; asymmetric ones only.
    algorithms: tuple[str, ...]
    #: Least time between two fetches caused by a token naming an unknown ``kid``.
    min_interval: float = 60.0
    #: Least time before another attempt after a failed fetch.
    retry_interval: float = 10.0
    #: Freshness when the issuer sends no ``Cache-Control: max-age``.
    default_max_age: float = 300.0
    #: Bounds on the issuer's ``max-age`` (``no-cache`` counts as 0, so the floor).
    min_max_age: float = 60.0
    max_max_age: float = 86400.0
    #: How long past expiry the last good keys keep verifying while fetches fail.
    stale_window: float = 3600.0
    #: Larger documents are refused unread; so are documents with more keys.
    max_document_bytes: int = 256 * 1024
    max_keys: int = 64

    def __post_init__(self) -> None:
        algorithms: object = self.algorithms  # callers may pass any sequence, or a str
        if (
            isinstance(algorithms, str)
            or not isinstance(algorithms, (tuple, list))
            or not algorithms
        ):
            raise ConfigurationError("algorithms must be a non-empty sequence of names")
        algorithms = tuple(algorithms)
        refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if refused:
            raise ConfigurationError(
                f"a remote key set verifies with public keys only; {refused} "
                f"are not among {sorted(ASYMMETRIC_ALGORITHMS)}"
            )
        msgspec.structs.force_setattr(self, "algorithms", algorithms)
        for name in ("min_interval", "retry_interval", "min_max_age"):
            value = _seconds(getattr(self, name), name, minimum=1.0)
            msgspec.structs.force_setattr(self, name, value)
        for name in ("default_max_age", "max_max_age", "stale_window"):
            msgspec.structs.force_setattr(self, name, _seconds(getattr(self, name), name))
        if not self.min_max_age <= self.max_max_age:
            raise ConfigurationError("min_max_age must not exceed max_max_age")
        for name, low, high in (("max_document_bytes", 64, 16 << 20), ("max_keys", 1, 4096)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ConfigurationError(f"{name} must be an integer between {low} and {high}")

    def max_age(self, cache_control: str | None, age: str | None = None) -> float:
        """Seconds the document stays fresh: ``max-age`` minus ``Age``, within the bounds."""
        seconds = self.default_max_age
        for directive in (cache_control or "").split(","):
            name, _, value = directive.strip().lower().partition("=")
            if name in ("no-cache", "no-store"):
                seconds = 0.0
                break
            if name == "max-age" and value.strip().isdigit():
                seconds = float(value.strip())
        if age is not None and age.strip().isdigit():
            seconds -= float(age.strip())
        return min(max(seconds, self.min_max_age), self.max_max_age)


def _algorithm(jwk: Mapping[str, Any], allowed: tuple[str, ...], index: int) -> str | None:
    """The algorithm the key is bound to, or ``None`` when it is not for us."""
    alg = jwk.get("alg")
    if alg is not None:
        if not isinstance(alg, str):
            raise JWKSError(f"key {index}: 'alg' must be a string")
        if alg not in allowed:
            logger.warning("tokenlife JWKS key %d refused: alg %r is not allowed", index, alg)
            return None
        return alg
    kty, crv = jwk.get("kty"), jwk.get("crv")
    candidates = _CANDIDATES.get((kty, None if kty == "RSA" else crv), ())  # type: ignore[arg-type]
    fits = [a for a in candidates if a in allowed]
    if len(fits) != 1:
        logger.warning(
            "tokenlife JWKS key %d refused: no 'alg' and %d allowed algorithms fit it",
            index,
            len(fits),
        )
        return None
    return fits[0]


def parse_jwks(document: bytes, policy: RemoteKeyPolicy) -> KeySet:
    """A verify-only :class:`KeySet` from a fetched JWKS, or :class:`JWKSError`.

    Refused outright: oversized or non-JSON documents, wrong member types, any
    private member (an issuer leaking its signing key is not one to trust),
    duplicate ``kid``s, unloadable keys, and a document with no usable key.
    Keys for encryption or for algorithms outside the allow-list are skipped
    and logged: they can never verify a token here.
    """
    if not isinstance(document, (bytes, bytearray, memoryview)):
        raise JWKSError("a JWKS document must be bytes")
    if len(document) > policy.max_document_bytes:
        raise JWKSError(f"the JWKS is larger than {policy.max_document_bytes} bytes")
    try:
        parsed = _decode_json(document)
    except (msgspec.DecodeError, RecursionError):
        raise JWKSError("the JWKS is not valid UTF-8 JSON") from None
    if type(parsed) is not dict or type(parsed.get("keys")) is not list:
        raise JWKSError('a JWKS must be an object with a "keys" array')
    entries: list[Any] = parsed["keys"]
    if len(entries) > policy.max_keys:
        raise JWKSError(f"the JWKS holds {len(entries)} keys, more than {policy.max_keys}")
    keys: list[Key] = []
    seen: set[str] = set()  # every kid named, usable or not
    kids: set[str] = set()  # the kids of the keys kept (thumbprints when unnamed)
    for index, jwk in enumerate(entries):
        if type(jwk) is not dict:
            raise JWKSError(f"key {index} is not a JSON object")
        private = PRIVATE_JWK_MEMBERS.intersection(jwk)
        if private:
            raise JWKSError(f"key {index} carries private members {sorted(private)}")
        kid = jwk.get("kid")
        if kid is not None and (type(kid) is not str or not kid):
            raise JWKSError(f"key {index}: 'kid' must be a non-empty string")
        if not isinstance(jwk.get("kty"), str):
            raise JWKSError(f"key {index}: 'kty' must be a string")
        if kid is not None:
            if kid in seen:
                raise JWKSError(f"duplicate kid {kid!r}: which key is meant is ambiguous")
            seen.add(kid)
        use = jwk.get("use")
        if use is not None and use != "sig":
            continue  # published for encryption: not ours to verify with
        alg = _algorithm(jwk, policy.algorithms, index)
        if alg is None:
            continue
        try:
            key = Key.from_jwk(jwk, algorithm=alg)
        except KeyConfigError as exc:
            raise JWKSError(f"key {index} cannot be loaded: {exc.message}") from None
        if key.kid in kids:
            raise JWKSError(f"duplicate kid {key.kid!r}: which key is meant is ambiguous")
        kids.add(key.kid)
        keys.append(key)
    if not keys:
        raise JWKSError(f"the JWKS has no key for {list(policy.algorithms)}")
    return KeySet(None, *keys)


def same_keys(a: KeySet, b: KeySet) -> bool:
    """Whether two key sets hold the very same public keys under the same ``kid``s."""
    return {k.kid: (k.algorithm, k.public_jwk) for k in a.keys} == {
        k.kid: (k.algorithm, k.public_jwk) for k in b.keys
    }


__all__ = ("PRIVATE_JWK_MEMBERS", "RemoteKeyPolicy", "parse_jwks", "same_keys")
