"""Keys bound to exactly one algorithm, and the set a codec signs and verifies with.

Binding the algorithm to the key (not trusting the token's ``alg``) is what makes
``alg: none`` and HMAC-keyed-with-a-public-key attacks impossible by
construction. Keys are prepared once here, never per token.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Final

import msgspec
from jwt import algorithms as _jwa
from jwt.exceptions import InvalidKeyError, PyJWKError

from ._b64 import b64url_decode, b64url_encode
from ._errors import KeyConfigError
from ._keymaterial import is_key_material
from ._signatures import direct_verify

HMAC_ALGORITHMS: Final = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {
        "RS256", "RS384", "RS512",
        "PS256", "PS384", "PS512",
        "ES256", "ES384", "ES512",
        "EdDSA",
    }
)  # fmt: skip
SUPPORTED_ALGORITHMS: Final = frozenset(HMAC_ALGORITHMS) | ASYMMETRIC_ALGORITHMS
MIN_RSA_BITS: Final = 2048

_ALGORITHMS: Final = _jwa.get_default_algorithms()
_EC_CURVES: Final = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
_PRIVATE_JWK_MEMBERS: Final = ("d", "k")


def _b64url(data: bytes) -> str:
    return b64url_encode(data).decode("ascii")


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint: the stable, standard ``kid`` of a key."""
    required = {
        "RSA": ("e", "kty", "n"),
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
        "oct": ("k", "kty"),
    }[str(jwk["kty"])]
    canonical = msgspec.json.encode({name: jwk[name] for name in required})
    return _b64url(hashlib.sha256(canonical).digest())


class Key:
    """One key, bound to one algorithm, with a ``kid``.

    ``sign`` exists only when the private half (or the secret) is present.
    """

    __slots__ = (
        "_public_jwk",
        "algorithm",
        "can_sign",
        "decodes_segment",
        "kid",
        "mac_after",
        "sign",
        "verify",
        "verify_segment",
    )

    kid: str
    algorithm: str
    can_sign: bool
    sign: Callable[[bytes], bytes]
    verify: Callable[[bytes, bytes], bool]
    #: Checks a base64url signature segment; HMAC compares encodings, so no decode.
    verify_segment: Callable[[bytes, bytes], bool]
    #: HMAC keys only: given a message prefix (a header segment and its dot),
    #: a check of ``(rest, signature segment)`` with the prefix hashed once.
    mac_after: Callable[[bytes], Callable[[bytes, bytes], bool]] | None
    #: True when ``verify_segment`` is ``verify`` of the decoded segment, so a
    #: caller that decoded the segment itself may call ``verify`` directly.
    decodes_segment: bool

    def __init__(
        self,
        *,
        kid: str,
        algorithm: str,
        sign: Callable[[bytes], bytes] | None,
        verify: Callable[[bytes, bytes], bool],
        public_jwk: Mapping[str, Any] | None,
        verify_segment: Callable[[bytes, bytes], bool] | None = None,
        mac_after: Callable[[bytes], Callable[[bytes, bytes], bool]] | None = None,
    ) -> None:
        if not kid or not isinstance(kid, str):
            raise KeyConfigError("a key id (kid) must be a non-empty string")
        self.kid = kid
        self.algorithm = algorithm
        self.can_sign = sign is not None
        self.sign = sign if sign is not None else _cannot_sign(kid)
        self.verify = verify
        self.verify_segment = verify_segment or partial(_verify_decoded, verify)
        self.decodes_segment = verify_segment is None
        self.mac_after = mac_after
        self._public_jwk = dict(public_jwk) if public_jwk is not None else None

    def __repr__(self) -> str:
        role = "sign+verify" if self.can_sign else "verify-only"
        return f"Key(kid={self.kid!r}, algorithm={self.algorithm!r}, {role})"

    @property
    def public_jwk(self) -> dict[str, Any] | None:
        """The public half as a JWK, or ``None`` for a shared secret."""
        return dict(self._public_jwk) if self._public_jwk is not None else None

    def verify_only(self) -> Key:
        """The same key without its signing half, for a retired key kept to verify."""
        return Key(
            kid=self.kid,
            algorithm=self.algorithm,
            sign=None,
            verify=self.verify,
            public_jwk=self._public_jwk,
            verify_segment=None if self.decodes_segment else self.verify_segment,
            mac_after=self.mac_after,
        )

    # -- constructors -------------------------------------------------------

    @classmethod
    def from_secret(
        cls, secret: str | bytes, algorithm: str = "HS256", *, kid: str | None = None
    ) -> Key:
        """An HMAC key. Refuses secrets shorter than the hash output (RFC 7518 §3.2)."""
        hash_name = HMAC_ALGORITHMS.get(algorithm)
        if hash_name is None:
            raise KeyConfigError(
                f"{algorithm!r} is not an HMAC algorithm; use one of {sorted(HMAC_ALGORITHMS)}"
            )
        if not isinstance(secret, (str, bytes)):
            raise KeyConfigError("an HMAC secret must be str or bytes")
        raw = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if not raw:
            raise KeyConfigError("an HMAC secret must not be empty")
        if is_key_material(raw):
            raise KeyConfigError(
                "this HMAC secret is an asymmetric key (PEM, SSH, DER or JWK); "
                "load it with from_pem/from_jwk instead"
            )
        minimum = hashlib.new(hash_name).digest_size
        if len(raw) < minimum:
            raise KeyConfigError(
                f"an {algorithm} secret must be at least {minimum} bytes, got {len(raw)}; "
                "generate one with KeySet.generate()"
            )
        try:
            raw = _ALGORITHMS[algorithm].prepare_key(raw)
        except InvalidKeyError as exc:
            raise KeyConfigError(f"unusable {algorithm} secret: {exc}") from None
        keyed = _Hmac(raw, hash_name)
        if kid is None:
            kid = _thumbprint({"kty": "oct", "k": _b64url(raw)})[:16]
        return cls(
            kid=kid,
            algorithm=algorithm,
            sign=keyed.digest,
            verify=keyed.verify,
            public_jwk=None,
            verify_segment=keyed.verify_segment,
            mac_after=keyed.verifier_after,
        )

    @classmethod
    def from_pem(cls, pem: str | bytes, algorithm: str, *, kid: str | None = None) -> Key:
        """An asymmetric key from PEM (private: sign+verify; public: verify only)."""
        _require_asymmetric(algorithm)
        try:
            prepared = _ALGORITHMS[algorithm].prepare_key(pem)
        except (InvalidKeyError, ValueError, TypeError) as exc:
            raise KeyConfigError(f"cannot load a {algorithm} key from PEM: {exc}") from None
        return cls._from_crypto(prepared, algorithm, kid)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any], *, algorithm: str | None = None) -> Key:
        """A key from a JWK. Its ``alg`` member, or ``algorithm``, binds it."""
        if not isinstance(jwk, Mapping):
            raise KeyConfigError("a JWK must be a JSON object")
        alg = jwk.get("alg", algorithm)
        if algorithm is not None and alg != algorithm:
            raise KeyConfigError(f"the JWK says alg={alg!r} but {algorithm!r} was asked for")
        if not isinstance(alg, str) or alg not in SUPPORTED_ALGORITHMS:
            raise KeyConfigError(
                f"a JWK needs an 'alg' among {sorted(SUPPORTED_ALGORITHMS)}, got {alg!r}"
            )
        kid = jwk.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise KeyConfigError("a JWK 'kid' must be a string")
        _require_signature_use(jwk)
        try:
            prepared = _ALGORITHMS[alg].from_jwk(dict(jwk))
        except (InvalidKeyError, PyJWKError, ValueError, TypeError, KeyError) as exc:
            raise KeyConfigError(f"cannot load a {alg} key from JWK: {exc}") from None
        if alg in HMAC_ALGORITHMS:
            return cls.from_secret(prepared, alg, kid=kid)
        return cls._from_crypto(prepared, alg, kid)

    @classmethod
    def _from_crypto(cls, prepared: Any, algorithm: str, kid: str | None) -> Key:
        jwa = _ALGORITHMS[algorithm]
        private = prepared if hasattr(prepared, "public_key") else None
        public = private.public_key() if private is not None else prepared
        key_size = getattr(public, "key_size", None)
        if algorithm[:2] in ("RS", "PS") and key_size is not None and key_size < MIN_RSA_BITS:
            raise KeyConfigError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
        curve = _EC_CURVES.get(algorithm)
        if curve is not None and getattr(getattr(public, "curve", None), "name", None) != curve:
            raise KeyConfigError(f"an {algorithm} key must be on the {curve} curve")
        public_jwk = dict(jwa.to_jwk(public, as_dict=True))
        if kid is None:
            kid = _thumbprint(public_jwk)
        public_jwk.update(kid=kid, alg=algorithm, use="sig")
        sign = partial(_asymmetric_sign, jwa.sign, private) if private is not None else None
        verify = direct_verify(algorithm, public) or partial(_asymmetric_verify, jwa.verify, public)
        return cls(kid=kid, algorithm=algorithm, sign=sign, verify=verify, public_jwk=public_jwk)


_IPAD: Final = bytes(x ^ 0x36 for x in range(256))
_OPAD: Final = bytes(x ^ 0x5C for x in range(256))
_TO_URL: Final = bytes.maketrans(b"+/", b"-_")


class _Hmac:
    """HMAC (RFC 2104) with both padded-key hash states computed once.

    The construction of the stdlib's ``hmac`` module, on ``hashlib`` states
    prepared here: each message then costs two state copies and the hashing
    itself, where a one-shot ``hmac.digest`` redoes the key schedule every
    time. A verifier can also start from a state that has already hashed the
    header segment (:meth:`verifier_after`), the same bytes of every token
    signed under that header.
    """

    __slots__ = ("_inner", "_outer", "_segment_size")

    def __init__(self, key: bytes, hash_name: str) -> None:
        new = getattr(hashlib, hash_name)
        block = new().block_size
        if len(key) > block:
            key = new(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = new(key.translate(_IPAD))
        self._outer = new(key.translate(_OPAD))
        self._segment_size = len(b64url_encode(bytes(new().digest_size)))

    def _finish(self, inner: Any) -> bytes:
        outer = self._outer.copy()
        outer.update(inner.digest())
        digest: bytes = outer.digest()
        return digest

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        return self._finish(inner)

    def verify(self, message: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.digest(message), signature)

    def verify_segment(self, message: bytes, segment: bytes) -> bool:
        # Comparing encodings also refuses non-canonical base64 of a right signature.
        return hmac.compare_digest(b64url_encode(self.digest(message)), segment)

    def verifier_after(self, prefix: bytes) -> Callable[[bytes, bytes], bool]:
        """``verify_segment(prefix + rest, segment)`` as ``check(rest, segment)``."""
        started = self._inner.copy()
        started.update(prefix)
        outer, size = self._outer, self._segment_size
        copy, compare, encode = started.copy, hmac.compare_digest, binascii.b2a_base64

        def check(rest: bytes, segment: bytes) -> bool:
            inner = copy()
            inner.update(rest)
            final = outer.copy()
            final.update(inner.digest())
            # b2a_base64 ends in a newline after any padding; the slice drops both.
            return compare(encode(final.digest())[:size].translate(_TO_URL), segment)

        return check


def _verify_decoded(verify: Callable[[bytes, bytes], bool], message: bytes, segment: bytes) -> bool:
    return verify(message, b64url_decode(segment))


def _asymmetric_sign(sign: Callable[[bytes, Any], bytes], key: Any, message: bytes) -> bytes:
    return sign(message, key)


def _asymmetric_verify(
    verify: Callable[[bytes, Any, bytes], bool], key: Any, message: bytes, signature: bytes
) -> bool:
    return bool(verify(message, key, signature))


def _cannot_sign(kid: str) -> Callable[[bytes], bytes]:
    def refuse(message: bytes) -> bytes:
        raise KeyConfigError(f"key {kid!r} is verify-only (no private half)")

    return refuse


def _require_signature_use(jwk: Mapping[str, Any]) -> None:
    """RFC 7517 §4.2-4.3: a key published for encryption must not sign or verify."""
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise KeyConfigError(f"the JWK is for use={use!r}, not 'sig'")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or not {"sign", "verify"}.intersection(ops)):
        raise KeyConfigError("the JWK's key_ops allow neither 'sign' nor 'verify'")


def _require_asymmetric(algorithm: str) -> None:
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise KeyConfigError(
            f"{algorithm!r} is not a supported asymmetric algorithm; "
            f"use one of {sorted(ASYMMETRIC_ALGORITHMS)}"
        )


class KeySet:
    """One active signing key plus verify-only keys, looked up by ``kid``.

    Rotate keys with :meth:`rotated`: the new key signs, the old one keeps
    verifying the tokens already out there until they expire.
    """

    __slots__ = ("_active", "_by_kid", "_lone")

    def __init__(self, active: Key | None, *verify_only: Key) -> None:
        keys = ([active] if active is not None else []) + [k.verify_only() for k in verify_only]
        if not keys:
            raise KeyConfigError("a KeySet needs at least one key")
        if active is not None and not active.can_sign:
            raise KeyConfigError(f"the active key {active.kid!r} cannot sign")
        by_kid: dict[str, Key] = {}
        for key in keys:
            if key.kid in by_kid:
                raise KeyConfigError(f"duplicate kid {key.kid!r} in one KeySet")
            by_kid[key.kid] = key
        self._active = active
        self._by_kid = by_kid
        self._lone = keys[0] if len(keys) == 1 else None

    def __repr__(self) -> str:
        return f"KeySet({', '.join(map(repr, self._by_kid.values()))})"

    @property
    def active(self) -> Key:
        """The signing key. Raises ``KeyConfigError`` for a verify-only set."""
        if self._active is None:
            raise KeyConfigError("this KeySet is verify-only: it has no signing key")
        return self._active

    @property
    def can_sign(self) -> bool:
        return self._active is not None

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(self._by_kid.values())

    def get(self, kid: str | None) -> Key | None:
        """The key for ``kid``; a token without ``kid`` matches only a one-key set."""
        if kid is None:
            return self._lone
        return self._by_kid.get(kid)

    def rotated(self, new_active: Key) -> KeySet:
        """A set where ``new_active`` signs and every current key only verifies."""
        return KeySet(new_active, *self._by_kid.values())

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public halves as a JWKS document; shared secrets are never exported."""
        return {
            "keys": [jwk for key in self._by_kid.values() if (jwk := key.public_jwk) is not None]
        }

    # -- constructors -------------------------------------------------------

    @classmethod
    def from_secret(
        cls, secret: str | bytes, algorithm: str = "HS256", *, kid: str | None = None
    ) -> KeySet:
        return cls(Key.from_secret(secret, algorithm, kid=kid))

    @classmethod
    def from_pem(cls, pem: str | bytes, algorithm: str, *, kid: str | None = None) -> KeySet:
        key = Key.from_pem(pem, algorithm, kid=kid)
        return cls(key) if key.can_sign else cls(None, key)

    @classmethod
    def from_jwks(
        cls, jwks: Mapping[str, Any] | str | bytes, *, active_kid: str | None = None
    ) -> KeySet:
        """Load a JWKS; the key named ``active_kid`` (or the first private key) signs."""
        if isinstance(jwks, (str, bytes)):
            try:
                jwks = msgspec.json.decode(jwks)
            except msgspec.DecodeError as exc:
                raise KeyConfigError(f"the JWKS is not valid JSON: {exc}") from None
        if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
            raise KeyConfigError('a JWKS must be an object with a "keys" array')
        keys = [Key.from_jwk(jwk) for jwk in jwks["keys"]]
        return cls._choose_active(keys, active_kid)

    @classmethod
    def _choose_active(cls, keys: Iterable[Key], active_kid: str | None) -> KeySet:
        keys = list(keys)
        signers = [k for k in keys if k.can_sign]
        if active_kid is not None:
            chosen = next((k for k in signers if k.kid == active_kid), None)
            if chosen is None:
                raise KeyConfigError(f"no private key with kid {active_kid!r}")
        else:
            chosen = signers[0] if signers else None
        return cls(chosen, *(k for k in keys if k is not chosen))

    @classmethod
    def generate(cls, algorithm: str = "EdDSA", *, kid: str | None = None) -> KeySet:
        """A fresh key from the operating system's randomness."""
        from ._keygen import generate_key

        return cls(generate_key(algorithm, kid=kid))


__all__ = ("HMAC_ALGORITHMS", "SUPPORTED_ALGORITHMS", "Key", "KeySet")
