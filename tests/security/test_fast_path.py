"""The verify path's shortcuts answer exactly as the strict path does, for any input.

``Codec.decode`` takes a short path for tokens under a header it has already
parsed; ``Codec._decode_strict`` runs every check in order. For each mutated
token (and arbitrary bytes), both must accept with the same claims or refuse
with the same error class, code and message. The primitives under the short
path are held to the stdlib: HMAC to ``hmac.digest``, the one-pass base64url
decoder to the alphabet check followed by the strict decoder.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.security import _forge
from tests.security._forge import AUD, ISS, NOW
from tests.security._mutations import ALPHABET, World, mutate
from tests.security.test_fuzz import FAST, JWS_LIKE, LEEWAY, TOKENISH_BYTES
from tokenlife import (
    ACCESS_TYP,
    REFRESH_TYP,
    Codec,
    Key,
    KeyConfigError,
    MalformedTokenError,
    TokenError,
)
from tokenlife._b64 import b64url_decode, b64url_decode_checked

REQUIRES: tuple[tuple[str, ...], ...] = (
    (),
    ("sub", "jti", "iat"),
    ("iss", "aud", "exp", "iat", "sub", "jti"),
    ("sid",),
    ("role",),
    ("fresh", "sub"),
)


@pytest.fixture(scope="module", params=["hs", "ed", "es", "rs"])
def world(request: pytest.FixtureRequest) -> World:
    material: _forge.Material = request.getfixturevalue(request.param)
    impostor = {"hs": _forge.hs256, "ed": _forge.eddsa, "es": _forge.es256, "rs": _forge.rs256}[
        request.param
    ]
    codec = Codec(material.keys, issuer=ISS, audience=AUD, leeway=LEEWAY)
    world = World(material=material, impostor=impostor(kid=material.key.kid), codec=codec)
    codec.decode(world.valid(), now=NOW)  # the header is now known: the short path is taken
    return world


def _outcome(run: Any) -> tuple[Any, ...]:
    try:
        claims = run()
    except TokenError as error:
        return ("refused", type(error), error.code, str(error))
    return ("accepted", claims.to_dict())


def _agree(codec: Codec, token: Any, **options: Any) -> tuple[Any, ...]:
    typ = options.get("typ", ACCESS_TYP)
    require = options.get("require", ())
    allow_expired = options.get("allow_expired", False)
    fast = _outcome(lambda: codec.decode(token, now=NOW, **options))
    strict = _outcome(lambda: codec._decode_strict(token, typ, NOW, require, allow_expired))
    assert fast == strict, token
    return fast


@FAST
@given(
    data=st.data(),
    require=st.sampled_from(REQUIRES),
    typ=st.sampled_from([ACCESS_TYP, REFRESH_TYP]),
    allow_expired=st.booleans(),
    as_bytes=st.booleans(),
)
def test_mutated_tokens_agree(
    world: World,
    data: st.DataObject,
    require: tuple[str, ...],
    typ: str,
    allow_expired: bool,
    as_bytes: bool,
) -> None:
    _, token = mutate(data, world)
    _agree(
        world.codec,
        token.encode() if as_bytes else token,
        typ=typ,
        require=require,
        allow_expired=allow_expired,
    )


@FAST
@given(token=st.binary(max_size=400) | TOKENISH_BYTES | JWS_LIKE.map(str.encode))
def test_arbitrary_input_agrees(world: World, token: bytes) -> None:
    assert _agree(world.codec, token)[0] == "refused"


@FAST
@given(payload=JWS_LIKE.map(lambda token: token.split(".")[1]), signature=st.text(ALPHABET))
def test_known_header_with_any_payload_and_signature_agrees(
    world: World, payload: str, signature: str
) -> None:
    header = world.valid().split(".")[0]
    assert _agree(world.codec, f"{header}.{payload}.{signature}")[0] == "refused"


def test_the_short_path_accepts_and_refuses(world: World) -> None:
    """The agreement above is not vacuous: a known header, both outcomes."""
    valid = world.valid()
    assert _agree(world.codec, valid, require=REQUIRES[2])[0] == "accepted"
    header, payload, signature = valid.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert _agree(world.codec, f"{header}.{payload}.{flipped}")[0] == "refused"


def test_require_may_change_between_calls(world: World) -> None:
    """The remembered ``require`` tuple is matched by identity, never by a stale answer."""
    valid = world.valid()
    for require in (*REQUIRES, REQUIRES[1], ("nope",), REQUIRES[1]):
        _agree(world.codec, valid, require=require)
    listed = ["sub"]
    _agree(world.codec, valid, require=listed)
    listed.append("nope")
    assert _agree(world.codec, valid, require=listed)[2] == "missing_claim"


@FAST
@given(
    key=st.binary(min_size=1, max_size=300),
    message=st.binary(max_size=300),
    prefix=st.binary(max_size=100),
    algorithm=st.sampled_from(["HS256", "HS384", "HS512"]),
)
def test_hmac_is_the_stdlib_hmac(key: bytes, message: bytes, prefix: bytes, algorithm: str) -> None:
    name = "sha" + algorithm[2:]
    minimum = hashlib.new(name).digest_size
    secret = (key * (minimum // len(key) + 1))[: max(len(key), minimum)]
    try:
        ours = Key.from_secret(secret, algorithm, kid="k")
    except KeyConfigError:  # bytes that look like an asymmetric key are refused as secrets
        assume(False)
    expected = hmac.digest(secret, prefix + message, name)
    assert ours.sign(prefix + message) == expected
    assert ours.verify(prefix + message, expected)
    assert ours.mac_after is not None
    check = ours.mac_after(prefix)
    segment = _forge.b64(expected).encode()
    assert check(message, segment)
    assert not check(message + b"x", segment)
    assert not check(message, segment[:-1])


def _reference_decode(segment: bytes) -> bytes | None:
    if segment.translate(None, ALPHABET.encode()):
        return None
    try:
        return b64url_decode(segment)
    except MalformedTokenError:
        return None


@FAST
@given(
    segment=st.binary(max_size=120)
    | st.text(ALPHABET, max_size=120).map(str.encode)
    | st.binary(max_size=90).map(lambda raw: _forge.b64(raw).encode())
)
def test_checked_decode_is_alphabet_check_then_strict_decode(segment: bytes) -> None:
    assert b64url_decode_checked(segment) == _reference_decode(segment)
