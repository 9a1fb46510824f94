"""The codec against its peers: verify and encode, per algorithm.

Contenders, each used through its documented API with the same claims:

- tokenlife: ``Codec.decode`` / ``Codec.encode``.
- PyJWT (the baseline): ``jwt.decode`` / ``jwt.encode`` with pre-loaded key
  objects (its fastest use) and the same checks: algorithms, issuer,
  audience, ``require``.
- Litestar: ``litestar.security.jwt.Token.decode`` / ``Token.encode``. Its
  API takes keys as ``str``, so asymmetric keys are PEM text it hands to
  PyJWT, which parses them on every call.
- AuthX: ``AuthX.verify_token`` / ``AuthX.create_access_token`` configured
  through ``AuthXConfig`` (keys are ``str`` there too). It has no EdDSA.

- oxyjwt (Rust bindings), through its fast API: ``oxyjwt._oxyjwt.decode``
  with a prepared ``DecodingKey`` and the same checks (when installed).
- The floors: what the signature alone costs, with no parsing at all —
  ``hmac.digest`` + ``compare_digest`` for HS256, ``cryptography``'s
  ``verify`` on the public key for the others (signature pre-decoded, and
  for ES256 pre-converted to DER).

Every verifier checks the very same token (minted by tokenlife, so its
header carries ``kid`` and ``typ``); Litestar and AuthX cannot be told to
require ``jti``/``iat``, so they check what they can: signature, ``exp``,
``iss``, ``aud``, ``sub``. Each setup hook first checks that every
contender really succeeds, so no row times an error path.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tokenlife import Codec, KeySet
from tokenlife._b64 import b64url_decode

from ._harness import Group, Op, Skip, Target

try:  # the peers come with the 'bench' dependency group only
    from authx import AuthX, AuthXConfig, RequestToken
    from litestar.security.jwt import (  # type: ignore[import-not-found,unused-ignore]
        Token as LitestarToken,
    )
except ImportError as exc:  # pragma: no cover
    raise Skip(f"a peer is missing ({exc}): install the 'bench' dependency group") from None
try:  # a compiled peer: optional, so its absence only drops its rows
    from oxyjwt import _oxyjwt
except ImportError:  # pragma: no cover
    _oxyjwt = None  # type: ignore[assignment]

ISSUER = "https://api.example"
AUDIENCE = "api"
SUBJECT = "alice"
JTI = "0b6d4f1e9c2a4e58a1c3f7d2e6b9a0c4"
SECRET = "bench-only-hs256-secret-0123456789abcdef"  # 40 bytes ≥ the 32 HS256 asks for
REQUIRED = ("iss", "aud", "exp", "iat", "sub", "jti")
ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")
#: Algorithms AuthX's configuration accepts, among ours.
AUTHX_ALGORITHMS = frozenset({"HS256", "RS256", "ES256"})
#: The minimum speed-up over PyJWT tokenlife promises, by (algorithm, operation).
TARGETS = {
    ("HS256", "verify"): 6.0,
    ("HS256", "encode"): 3.0,
    ("RS256", "verify"): 1.0,
    ("ES256", "verify"): 1.0,
    ("EdDSA", "verify"): 1.0,
}
#: Verify targets against the compiled peer and the floors: (contender-vs, at least).
PEER_TARGETS = {
    "HS256": (("oxyjwt (fast)", 0.8), ("floor", 0.5)),
    "RS256": (("floor", 1 / 1.15),),
    "ES256": (("floor", 1 / 1.15),),
}
PACKAGES = ("tokenlife", "pyjwt", "cryptography", "msgspec", "litestar", "authx", "oxyjwt")


@dataclass(frozen=True)
class Keys:
    """One algorithm's keys, as text (for str-keyed APIs) and as PyJWT-ready objects."""

    algorithm: str
    signing_text: str
    verifying_text: str
    signing: Any
    verifying: Any

    @classmethod
    def generate(cls, algorithm: str) -> Keys:
        if algorithm == "HS256":
            return cls(algorithm, SECRET, SECRET, SECRET.encode(), SECRET.encode())
        private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
        if algorithm == "RS256":
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif algorithm == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif algorithm == "EdDSA":
            private = ed25519.Ed25519PrivateKey.generate()
        else:
            raise ValueError(f"no key generator for {algorithm!r}")
        public = private.public_key()
        private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
        return cls(algorithm, private_pem, public_pem, private, public)

    def keyset(self) -> KeySet:
        if self.algorithm == "HS256":
            return KeySet.from_secret(self.signing_text, "HS256")
        return KeySet.from_pem(self.signing_text, self.algorithm)


def _authx(keys: Keys) -> AuthX[Any]:
    # AuthX types the algorithm as a Literal; ours is a plain str.
    settings: dict[str, Any] = {
        "JWT_ALGORITHM": keys.algorithm,
        "JWT_DECODE_ALGORITHMS": [keys.algorithm],
    }
    if keys.algorithm == "HS256":
        settings["JWT_SECRET_KEY"] = keys.signing_text
    else:
        settings["JWT_PRIVATE_KEY"] = keys.signing_text
        settings["JWT_PUBLIC_KEY"] = keys.verifying_text
    config = AuthXConfig(
        JWT_ENCODE_ISSUER=ISSUER,
        JWT_DECODE_ISSUER=ISSUER,
        JWT_ENCODE_AUDIENCE=AUDIENCE,
        JWT_DECODE_AUDIENCE=AUDIENCE,
        JWT_TOKEN_LOCATION=["headers"],
        **settings,
    )
    return AuthX(config=config)


def _require_subject(name: str, value: Any) -> None:
    if value != SUBJECT:
        raise AssertionError(f"{name} returned subject {value!r}, not {SUBJECT!r}")


def _check_verifiers(contenders: dict[str, Op]) -> None:
    """Each verifier returns the right subject (so none times an error path)."""
    for name, op in contenders.items():
        out: Any = op()
        _require_subject(name, out["sub"] if isinstance(out, dict) else out.sub)


def _check_encoders(contenders: dict[str, Op], keys: Keys) -> None:
    """Each encoder's token verifies with PyJWT and carries the shared claims."""
    for name, op in contenders.items():
        token = op()
        if not isinstance(token, str):
            raise AssertionError(f"{name} returned {type(token).__name__}, not str")
        claims = jwt.decode(
            token,
            keys.verifying,
            algorithms=[keys.algorithm],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": list(REQUIRED)},
        )
        _require_subject(name, claims["sub"])
        if claims["jti"] != JTI:
            raise AssertionError(f"{name} did not keep the jti")


def _oxy_key(keys: Keys) -> Any:
    assert _oxyjwt is not None
    if keys.algorithm == "HS256":
        return _oxyjwt.DecodingKey.from_secret(keys.verifying_text.encode())
    loader = {
        "RS256": _oxyjwt.DecodingKey.from_rsa_pem,
        "ES256": _oxyjwt.DecodingKey.from_ec_pem,
        "EdDSA": _oxyjwt.DecodingKey.from_ed_pem,
    }[keys.algorithm]
    return loader(keys.verifying_text.encode())


def _floor(keys: Keys, token: str) -> Op:
    """The signature check alone, on bytes prepared beforehand: the cost no parser can cut."""
    header, payload, signature = token.encode().split(b".")
    message, raw = header + b"." + payload, b64url_decode(signature)
    if keys.algorithm == "HS256":
        secret = keys.verifying_text.encode()

        def hs256() -> bool:
            return hmac.compare_digest(hmac.digest(secret, message, hashlib.sha256), raw)

        return hs256
    public = keys.verifying
    if keys.algorithm == "RS256":
        return partial(public.verify, raw, message, padding.PKCS1v15(), hashes.SHA256())
    if keys.algorithm == "ES256":
        half = len(raw) // 2
        der = encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )
        return partial(public.verify, der, message, ec.ECDSA(hashes.SHA256()))
    return partial(public.verify, raw, message)


def _groups_for(algorithm: str) -> list[Group]:
    keys = Keys.generate(algorithm)
    codec = Codec(keys.keyset(), issuer=ISSUER, audience=AUDIENCE)
    kid = codec.keys.active.kid
    iat = int(time.time())
    exp = iat + 24 * 3600  # the token stays valid for the whole run
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": SUBJECT, "iat": iat, "exp": exp, "jti": JTI}
    token = codec.encode(claims)
    headers = {"kid": kid, "typ": "at+jwt"}
    authx = _authx(keys) if algorithm in AUTHX_ALGORITHMS else None

    verifiers: dict[str, Op] = {
        "tokenlife": partial(codec.decode, token, require=REQUIRED),
        "PyJWT": partial(
            jwt.decode,
            token,
            keys.verifying,
            algorithms=[algorithm],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": list(REQUIRED)},
        ),
        "Litestar": partial(
            LitestarToken.decode,
            token,
            keys.verifying_text,
            algorithm,
            audience=AUDIENCE,
            issuer=ISSUER,
            require_claims=REQUIRED,
        ),
    }
    litestar_token = LitestarToken(
        exp=datetime.fromtimestamp(exp, timezone.utc),
        sub=SUBJECT,
        iat=datetime.fromtimestamp(iat, timezone.utc),
        iss=ISSUER,
        aud=AUDIENCE,
        jti=JTI,
    )
    encoders: dict[str, Op] = {
        "tokenlife": partial(codec.encode, claims),
        "PyJWT": partial(jwt.encode, claims, keys.signing, algorithm=algorithm, headers=headers),
        "Litestar": partial(litestar_token.encode, keys.signing_text, algorithm),
    }
    if authx is not None:
        request_token = RequestToken(token=token, location="headers", type="access")
        verifiers["AuthX"] = partial(authx.verify_token, request_token)
        encoders["AuthX"] = partial(
            authx.create_access_token,
            uid=SUBJECT,
            expiry=datetime.fromtimestamp(exp, timezone.utc),
            data={"jti": JTI, "iat": iat},
            headers=headers,
        )

    floor = _floor(keys, token)
    contenders: dict[str, Op] = dict(verifiers)
    if _oxyjwt is not None:
        contenders["oxyjwt (fast)"] = partial(
            _oxyjwt.decode,
            token,
            _oxy_key(keys),
            [algorithm],
            audience=AUDIENCE,
            issuer=ISSUER,
            require=list(REQUIRED),
        )
    contenders["floor"] = floor

    async def check_verifiers() -> None:
        _check_verifiers({k: v for k, v in contenders.items() if k != "floor"})
        if floor() is False:
            raise AssertionError("the floor's signature check failed")

    async def check_encoders() -> None:
        _check_encoders(encoders, keys)

    def targets(operation: str) -> tuple[Target, ...]:
        factor = TARGETS.get((algorithm, operation))
        found: tuple[Target, ...] = () if factor is None else (Target("tokenlife", factor),)
        if operation == "verify":
            found += tuple(
                Target("tokenlife", at_least, vs=vs)
                for vs, at_least in PEER_TARGETS.get(algorithm, ())
                if vs in contenders
            )
        return found

    return [
        Group(
            f"codec {algorithm} verify",
            baseline="PyJWT",
            contenders=contenders,
            targets=targets("verify"),
            setup=check_verifiers,
            packages=PACKAGES,
        ),
        Group(
            f"codec {algorithm} encode",
            baseline="PyJWT",
            contenders=encoders,
            targets=targets("encode"),
            setup=check_encoders,
            packages=PACKAGES,
        ),
    ]


def groups() -> list[Group]:
    return [group for algorithm in ALGORITHMS for group in _groups_for(algorithm)]
