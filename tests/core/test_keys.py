"""Keys bound to one algorithm, key sets with one signer, rotation and JWKS export."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from tests.security import _forge
from tests.security._forge import AUD, ISS, NOW, claims
from tokenlife import (
    HMAC_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
    Codec,
    Key,
    KeyConfigError,
    KeySet,
    SignatureError,
    UnknownKeyError,
)

ASYMMETRIC = ("RS256", "PS256", "ES256", "ES384", "EdDSA")
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: RFC 7638 §3.1: a public RSA key and its published thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc"
    "_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0"
    "_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWh"
    "AI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def _private_key(algorithm: str) -> Any:
    if algorithm[:2] in ("RS", "PS"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ES384":
        return ec.generate_private_key(ec.SECP384R1())
    return ed25519.Ed25519PrivateKey.generate()


def _private_pem(private: Any) -> bytes:
    pem: bytes = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem


def _public_pem(private: Any) -> bytes:
    pem: bytes = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638, computed independently of tokenlife."""
    required = {
        "RSA": ("e", "kty", "n"),
        "EC": ("crv", "kty", "x", "y"),
        "OKP": ("crv", "kty", "x"),
    }
    members = {name: jwk[name] for name in required[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def codec_for(keys: KeySet) -> Codec:
    return Codec(keys, issuer=ISS, audience=AUD)


@pytest.fixture(scope="module", params=ASYMMETRIC)
def private_key(request: pytest.FixtureRequest) -> tuple[str, Any]:
    algorithm: str = request.param
    return algorithm, _private_key(algorithm)


# -- HMAC -----------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "minimum"), [("HS256", 32), ("HS384", 48), ("HS512", 64)])
def test_hmac_secret_must_be_at_least_the_hash_output(algorithm: str, minimum: int) -> None:
    secret = os.urandom(minimum)
    key = Key.from_secret(secret, algorithm)
    assert key.algorithm == algorithm
    assert key.can_sign
    with pytest.raises(KeyConfigError, match=f"at least {minimum} bytes"):
        Key.from_secret(secret[:-1], algorithm)
    with pytest.raises(KeyConfigError):
        KeySet.from_secret(secret[:-1], algorithm)


@pytest.mark.parametrize("algorithm", sorted(HMAC_ALGORITHMS))
@pytest.mark.parametrize("secret", [b"", ""], ids=["bytes", "str"])
def test_empty_hmac_secret_is_refused(algorithm: str, secret: str | bytes) -> None:
    with pytest.raises(KeyConfigError, match="empty"):
        KeySet.from_secret(secret, algorithm)


def test_hmac_secret_may_be_text() -> None:
    text = "ü" * 16  # 16 characters, 32 UTF-8 bytes: long enough because bytes count
    assert Key.from_secret(text).kid == Key.from_secret(text.encode("utf-8")).kid
    with pytest.raises(KeyConfigError):
        Key.from_secret("u" * 16)


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA", "none", "hs256", ""])
def test_from_secret_refuses_non_hmac_algorithms(algorithm: str) -> None:
    with pytest.raises(KeyConfigError, match="not an HMAC algorithm"):
        Key.from_secret(os.urandom(64), algorithm)


@pytest.mark.parametrize("secret", [None, 12345, bytearray(32), ["x" * 32]])
def test_from_secret_refuses_other_types(secret: Any) -> None:
    with pytest.raises(KeyConfigError):
        Key.from_secret(secret)


def test_hmac_kid_is_stable_and_distinct() -> None:
    secret = os.urandom(32)
    assert Key.from_secret(secret).kid == Key.from_secret(secret).kid
    assert Key.from_secret(secret).kid != Key.from_secret(os.urandom(32)).kid
    # The kid is a digest, not the secret.
    assert base64.urlsafe_b64encode(secret).decode()[:16] != Key.from_secret(secret).kid
    assert Key.from_secret(secret, kid="k1").kid == "k1"


def test_hmac_sign_and_verify(hs: _forge.Material) -> None:
    key = hs.key
    signature = key.sign(b"message")
    assert hs.verify(b"message", signature)  # the stdlib agrees
    assert key.verify(b"message", signature)
    assert not key.verify(b"messagf", signature)
    assert not key.verify(b"message", signature[:-1])


def test_hmac_secret_is_never_exported(hs: _forge.Material) -> None:
    assert hs.key.public_jwk is None
    assert hs.keys.public_jwks() == {"keys": []}
    assert str(hs.pyjwt_key) not in repr(hs.keys)
    assert hs.pyjwt_key.hex() not in repr(hs.keys)


@pytest.mark.parametrize("kid", ["", 5, None])
def test_a_key_needs_a_string_kid(kid: Any) -> None:
    with pytest.raises(KeyConfigError, match="kid"):
        Key(kid=kid, algorithm="HS256", sign=None, verify=lambda m, s: False, public_jwk=None)


# -- asymmetric -----------------------------------------------------------------


def test_from_private_pem_signs_and_verifies(private_key: tuple[str, Any]) -> None:
    algorithm, private = private_key
    keys = KeySet.from_pem(_private_pem(private), algorithm)
    key = keys.active
    assert key.algorithm == algorithm
    assert key.can_sign
    assert keys.can_sign
    signature = key.sign(b"message")
    assert key.verify(b"message", signature)
    assert not key.verify(b"message!", signature)
    jwk = key.public_jwk
    assert jwk is not None
    assert key.kid == _thumbprint(jwk)
    assert jwk["kid"] == key.kid
    assert jwk["alg"] == algorithm
    assert jwk["use"] == "sig"


def test_from_public_pem_is_verify_only(private_key: tuple[str, Any]) -> None:
    algorithm, private = private_key
    signer = KeySet.from_pem(_private_pem(private), algorithm)
    verifier = KeySet.from_pem(_public_pem(private), algorithm)
    assert not verifier.can_sign
    assert [k.kid for k in verifier.keys] == [signer.active.kid]  # same thumbprint kid
    with pytest.raises(KeyConfigError, match="verify-only"):
        _ = verifier.active
    token = codec_for(signer).encode(claims())
    assert codec_for(verifier).decode(token, now=NOW).subject == "alice"
    with pytest.raises(KeyConfigError):
        codec_for(verifier).encode(claims())


def test_generated_keys(private_key: tuple[str, Any]) -> None:
    algorithm = private_key[0]
    first, second = KeySet.generate(algorithm), KeySet.generate(algorithm)
    assert first.active.algorithm == algorithm
    assert first.active.kid != second.active.kid
    token = codec_for(first).encode(claims())
    assert codec_for(first).decode(token, now=NOW).subject == "alice"
    with pytest.raises(SignatureError):
        codec_for(KeySet(None, second.active, kid_alias(first.active, second.active))).decode(
            token, now=NOW
        )


def kid_alias(original: Key, impostor: Key) -> Key:
    """``impostor``'s key material under ``original``'s kid."""
    return Key(
        kid=original.kid,
        algorithm=impostor.algorithm,
        sign=None,
        verify=impostor.verify,
        public_jwk=None,
    )


@pytest.mark.parametrize("algorithm", [*sorted(HMAC_ALGORITHMS), "RS384", "PS512", "ES512"])
def test_generate_every_other_algorithm(algorithm: str) -> None:
    keys = KeySet.generate(algorithm, kid="k")
    assert keys.active.kid == "k"
    assert keys.active.algorithm == algorithm
    token = codec_for(keys).encode(claims())
    assert codec_for(keys).decode(token, now=NOW).subject == "alice"


def test_generate_refuses_unknown_algorithms() -> None:
    with pytest.raises(KeyConfigError):
        KeySet.generate("none")
    with pytest.raises(KeyConfigError):
        KeySet.generate("ES256K")


def test_supported_algorithms() -> None:
    assert {"HS256", "HS384", "HS512", *ASYMMETRIC} <= SUPPORTED_ALGORITHMS
    assert "none" not in SUPPORTED_ALGORITHMS


@pytest.mark.parametrize(
    ("make", "algorithm"),
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "ES256"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "EdDSA"),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "ES256"),
        (lambda: ec.generate_private_key(ec.SECP256R1()), "ES384"),
        (lambda: ec.generate_private_key(ec.SECP256R1()), "RS256"),
        (ed25519.Ed25519PrivateKey.generate, "ES256"),
        (ed25519.Ed25519PrivateKey.generate, "PS256"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), "RS256"),  # noqa: S505
    ],
    ids=[
        "rsa-as-es256",
        "rsa-as-eddsa",
        "p384-as-es256",
        "p256-as-es384",
        "ec-as-rs256",
        "ed25519-as-es256",
        "ed25519-as-ps256",
        "rsa1024",
    ],
)
def test_pem_must_fit_its_algorithm(make: Any, algorithm: str) -> None:
    with pytest.raises(KeyConfigError):
        KeySet.from_pem(_private_pem(make()), algorithm)


@pytest.mark.parametrize("algorithm", ["HS256", "none", "RSA"])
def test_from_pem_needs_an_asymmetric_algorithm(algorithm: str) -> None:
    with pytest.raises(KeyConfigError):
        KeySet.from_pem(_private_pem(ed25519.Ed25519PrivateKey.generate()), algorithm)


@pytest.mark.parametrize("pem", [b"", b"not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n"])
def test_garbage_pem_is_refused(pem: str | bytes) -> None:
    with pytest.raises(KeyConfigError):
        KeySet.from_pem(pem, "ES256")


# -- JWK / JWKS -----------------------------------------------------------------


def test_rfc7638_thumbprint_is_the_default_kid() -> None:
    key = Key.from_jwk({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256"})
    assert key.kid == RFC7638_THUMBPRINT
    assert not key.can_sign


def test_private_jwk_round_trip(private_key: tuple[str, Any]) -> None:
    algorithm, private = private_key
    jwk = dict(get_default_algorithms()[algorithm].to_jwk(private, as_dict=True))
    signer = Key.from_jwk({**jwk, "alg": algorithm})
    assert signer.can_sign
    public = signer.public_jwk
    assert public is not None
    verifier = Key.from_jwk(public)
    assert not verifier.can_sign
    assert verifier.kid == signer.kid
    assert verifier.verify(b"m", signer.sign(b"m"))
    # ``algorithm=`` binds a JWK that does not say its alg, and must agree if it does.
    assert Key.from_jwk(jwk, algorithm=algorithm).algorithm == algorithm
    other = "ES256" if algorithm[:2] in ("RS", "PS") else "RS256"  # another key type
    with pytest.raises(KeyConfigError):
        Key.from_jwk({**jwk, "alg": algorithm}, algorithm=other)
    with pytest.raises(KeyConfigError):
        Key.from_jwk({**jwk, "alg": other})


def test_jwk_needs_a_supported_alg() -> None:
    jwk = Key.from_pem(_private_pem(ed25519.Ed25519PrivateKey.generate()), "EdDSA").public_jwk
    assert jwk is not None
    del jwk["alg"]
    with pytest.raises(KeyConfigError, match="alg"):
        Key.from_jwk(jwk)
    for alg in ("none", "HS1", 256, None):
        with pytest.raises(KeyConfigError):
            Key.from_jwk({**jwk, "alg": alg})


def test_jwk_with_a_curve_other_than_its_alg_is_refused() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    jwk = dict(get_default_algorithms()["ES384"].to_jwk(p384.public_key(), as_dict=True))
    assert Key.from_jwk({**jwk, "alg": "ES384"}).algorithm == "ES384"
    with pytest.raises(KeyConfigError, match="curve"):
        Key.from_jwk({**jwk, "alg": "ES256"})


@pytest.mark.parametrize(
    "jwk",
    [
        "not a mapping",
        ["kty", "oct"],
        {"kty": "RSA", "n": "AQAB", "e": "AQAB", "alg": "ES256"},
        {"kty": "RSA", "e": "AQAB", "alg": "RS256"},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "alg": "ES256"},
        {"kty": "oct", "alg": "HS256"},
        {"kty": "oct", "k": "", "alg": "HS256"},
        {"kty": "oct", "k": "c2hvcnQ", "alg": "HS256"},
        {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": 7},
        {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "HS256"},
    ],
)
def test_bad_jwks_are_refused(jwk: Any) -> None:
    with pytest.raises(KeyConfigError):
        Key.from_jwk(jwk)


def test_oct_jwk_is_an_hmac_key_and_stays_secret() -> None:
    secret = os.urandom(32)
    jwk = {"kty": "oct", "k": _forge.b64(secret), "alg": "HS256", "kid": "shared"}
    keys = KeySet.from_jwks({"keys": [jwk]})
    assert keys.active.kid == "shared"
    assert keys.active.algorithm == "HS256"
    assert keys.public_jwks() == {"keys": []}
    token = codec_for(keys).encode(claims())
    assert codec_for(KeySet.from_secret(secret, kid="shared")).decode(token, now=NOW).sub == "alice"


def test_jwks_document_forms(es: _forge.Material, ed: _forge.Material) -> None:
    both = KeySet(es.key, ed.key).public_jwks()
    for document in (both, json.dumps(both), json.dumps(both).encode()):
        keys = KeySet.from_jwks(document)
        assert not keys.can_sign
        assert {k.kid for k in keys.keys} == {es.key.kid, ed.key.kid}
        token = codec_for(KeySet(ed.key)).encode(claims())
        assert codec_for(keys).decode(token, now=NOW).subject == "alice"


def test_jwks_active_kid_chooses_the_signer() -> None:
    first, second = _private_key("EdDSA"), _private_key("EdDSA")
    jwks = {
        "keys": [
            {**get_default_algorithms()["EdDSA"].to_jwk(k, as_dict=True), "alg": "EdDSA", "kid": n}
            for k, n in ((first, "one"), (second, "two"))
        ]
    }
    assert KeySet.from_jwks(jwks).active.kid == "one"  # the first private key
    keys = KeySet.from_jwks(jwks, active_kid="two")
    assert keys.active.kid == "two"
    assert not keys.get("one").can_sign  # type: ignore[union-attr]
    with pytest.raises(KeyConfigError, match="three"):
        KeySet.from_jwks(jwks, active_kid="three")


@pytest.mark.parametrize("document", ["{", b"\xff", "[]", '{"keys": {}}', "{}", 5])
def test_bad_jwks_documents_are_refused(document: Any) -> None:
    with pytest.raises(KeyConfigError):
        KeySet.from_jwks(document)


def test_public_jwks_never_exports_private_members(
    hs: _forge.Material, es: _forge.Material, ed: _forge.Material, rs: _forge.Material
) -> None:
    keys = KeySet(rs.key, es.key, ed.key, hs.key)
    exported = keys.public_jwks()
    assert len(exported["keys"]) == 3  # the HMAC secret is not there
    for jwk in exported["keys"]:
        assert PRIVATE_JWK_MEMBERS.isdisjoint(jwk)
        assert jwk["use"] == "sig"
        assert jwk["kid"] in {rs.key.kid, es.key.kid, ed.key.kid}
    # Mutating an export changes nothing inside the set.
    exported["keys"][0]["kid"] = "tampered"
    assert keys.public_jwks()["keys"][0]["kid"] == rs.key.kid


# -- KeySet ---------------------------------------------------------------------


def test_keyset_needs_a_key() -> None:
    with pytest.raises(KeyConfigError):
        KeySet(None)


def test_active_key_must_sign(ed: _forge.Material) -> None:
    with pytest.raises(KeyConfigError, match="cannot sign"):
        KeySet(ed.key.verify_only())


def test_duplicate_kids_are_refused() -> None:
    with pytest.raises(KeyConfigError, match="duplicate"):
        KeySet(Key.from_secret(os.urandom(32), kid="k"), Key.from_secret(os.urandom(32), kid="k"))


def test_lookup_by_kid(hs: _forge.Material, ed: _forge.Material) -> None:
    lone = KeySet(hs.key)
    assert lone.get(None) is hs.key  # a token without kid matches a one-key set only
    assert lone.get(hs.key.kid) is hs.key
    assert lone.get("nope") is None
    pair = KeySet(hs.key, ed.key)
    assert pair.get(None) is None
    assert pair.get(ed.key.kid) is not None
    assert [k.kid for k in pair.keys] == [hs.key.kid, ed.key.kid]
    assert pair.active is hs.key


def test_verify_only_key_cannot_sign(ed: _forge.Material) -> None:
    retired = ed.key.verify_only()
    assert not retired.can_sign
    assert retired.kid == ed.key.kid
    assert retired.public_jwk == ed.key.public_jwk
    with pytest.raises(KeyConfigError, match="verify-only"):
        retired.sign(b"message")
    assert retired.verify(b"message", ed.key.sign(b"message"))
    assert "verify-only" in repr(retired)


def test_verify_only_set_cannot_encode(es: _forge.Material) -> None:
    keys = KeySet(None, es.key)
    assert not keys.can_sign
    assert not keys.keys[0].can_sign  # demoted, though the key given could sign
    codec = codec_for(keys)
    with pytest.raises(KeyConfigError):
        codec.encode(claims())
    token = codec_for(es.keys).encode(claims())
    assert codec.decode(token, now=NOW).subject == "alice"


@pytest.mark.parametrize("make_new", [_forge.hs256, _forge.eddsa, _forge.es256])
def test_rotation_keeps_retired_keys_verifying(make_new: Any) -> None:
    old = KeySet.generate("EdDSA")
    old_token = codec_for(old).encode(claims())
    new_key = make_new().key
    rotated = old.rotated(new_key)
    assert rotated.active is new_key
    retired = rotated.get(old.active.kid)
    assert retired is not None
    assert not retired.can_sign
    codec = codec_for(rotated)
    # A token signed by the retired key still verifies...
    assert codec.decode(old_token, now=NOW).subject == "alice"
    # ...new tokens are signed by the new key and carry its kid...
    new_token = codec.encode(claims(sub="bob"))
    assert codec.peek_header(new_token)["kid"] == new_key.kid
    assert codec.peek_header(new_token)["alg"] == new_key.algorithm
    assert codec.decode(new_token, now=NOW).subject == "bob"
    # ...which a codec that never saw the new key does not know.
    with pytest.raises(UnknownKeyError):
        codec_for(old).decode(new_token, now=NOW)
    # Rotating again keeps every key; the original still verifies.
    again = rotated.rotated(KeySet.generate("ES256").active)
    assert len(again.keys) == 3
    assert [k.can_sign for k in again.keys] == [True, False, False]
    assert codec_for(again).decode(old_token, now=NOW).subject == "alice"
    assert codec_for(again).decode(new_token, now=NOW).subject == "bob"


def test_rotation_to_an_existing_kid_is_refused(ed: _forge.Material) -> None:
    with pytest.raises(KeyConfigError, match="duplicate"):
        ed.keys.rotated(ed.key)


def test_rotation_exports_both_public_halves(es: _forge.Material, ed: _forge.Material) -> None:
    rotated = KeySet(es.key).rotated(ed.key)
    assert {jwk["kid"] for jwk in rotated.public_jwks()["keys"]} == {es.key.kid, ed.key.kid}


@pytest.mark.parametrize(
    "members",
    [{"use": "enc"}, {"key_ops": ["encrypt", "decrypt"]}, {"key_ops": "sign"}],
)
def test_jwk_published_for_encryption_is_refused(members: dict[str, object]) -> None:
    jwk = KeySet.generate("ES256").active.public_jwk
    assert jwk is not None
    with pytest.raises(KeyConfigError):
        Key.from_jwk({**jwk, **members})


def test_jwk_for_signatures_is_accepted() -> None:
    jwk = KeySet.generate("ES256").active.public_jwk
    assert jwk is not None
    for members in ({"use": "sig"}, {"key_ops": ["verify"]}):
        assert Key.from_jwk({**jwk, **members}).algorithm == "ES256"
