"""Hypothesis: no input, however malformed, gets anything but a TokenError out of decode.

And any mutated token that *is* accepted must be one our key really signed,
checked without tokenlife (stdlib ``hmac`` / ``cryptography``), with a header
and claims that pass every rule. Default example counts keep the suite fast;
the ``slow`` variants run thousands of examples (``pytest -m slow``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security import _forge
from tests.security._forge import AUD, ISS, NOW, b64, unb64
from tests.security._mutations import ALPHABET, World, mutate
from tokenlife import ACCESS_TYP, REFRESH_TYP, Claims, Codec, TokenError

LEEWAY = 5
REFUSED_HEADERS = {"crit", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "zip", "b64"}

FAST = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SLOW = settings(FAST, max_examples=5_000)


@pytest.fixture(scope="module")
def codec(hs: _forge.Material) -> Codec:
    """For arbitrary input: nothing key-specific happens before the header is parsed."""
    return Codec(hs.keys, issuer=ISS, audience=AUD, leeway=LEEWAY)


@pytest.fixture(scope="module", params=["hs", "ed", "es", "rs"])
def world(request: pytest.FixtureRequest) -> World:
    material: _forge.Material = request.getfixturevalue(request.param)
    impostor = {"hs": _forge.hs256, "ed": _forge.eddsa, "es": _forge.es256, "rs": _forge.rs256}[
        request.param
    ]
    return World(
        material=material,
        impostor=impostor(kid=material.key.kid),
        codec=Codec(material.keys, issuer=ISS, audience=AUD, leeway=LEEWAY),
    )


# -- arbitrary input ----------------------------------------------------------------------

TOKENISH_BYTES = st.text(alphabet=ALPHABET + ".", max_size=300).map(str.encode)
JWS_LIKE = st.tuples(
    st.binary(max_size=120)
    | st.dictionaries(st.text(max_size=5), st.text(max_size=8)).map(
        lambda header: json.dumps(header).encode()
    ),
    st.binary(max_size=200),
    st.binary(max_size=80),
).map(lambda parts: ".".join(b64(part) for part in parts))


def _never_accepted(codec: Codec, token: Any, typ: str) -> None:
    with pytest.raises(TokenError):
        codec.decode(token, typ=typ, now=NOW)


@FAST
@given(
    token=st.binary(max_size=400) | TOKENISH_BYTES, typ=st.sampled_from([ACCESS_TYP, REFRESH_TYP])
)
def test_arbitrary_bytes(codec: Codec, token: bytes, typ: str) -> None:
    _never_accepted(codec, token, typ)


@FAST
@given(token=st.text(max_size=400) | st.text(alphabet=ALPHABET + ".", max_size=400) | JWS_LIKE)
def test_arbitrary_text(codec: Codec, token: str) -> None:
    _never_accepted(codec, token, ACCESS_TYP)


@FAST
@given(
    token=st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.complex_numbers(),
        st.lists(st.text(max_size=20), max_size=3),
        st.tuples(st.binary(max_size=20)),
        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
        st.binary(max_size=40).map(bytearray),
        st.builds(object),
    )
)
def test_arbitrary_objects(codec: Codec, token: object) -> None:
    _never_accepted(codec, token, ACCESS_TYP)


# -- structured mutations of valid tokens -----------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    assert len(result) == len(pairs), "accepted a header with duplicate members"
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_accepted(world: World, token: str, decoded: Claims) -> None:
    """What must hold of any token decode accepts; independent of tokenlife's own code."""
    header_segment, payload_segment, signature_segment = token.split(".")
    for segment in (header_segment, payload_segment, signature_segment):
        assert b64(unb64(segment)) == segment, "accepted a non-canonical encoding"
    signing_input = f"{header_segment}.{payload_segment}".encode()
    assert world.material.verify(signing_input, unb64(signature_segment)), "not signed by us"
    header = json.loads(unb64(header_segment).decode("utf-8"), object_pairs_hook=_no_duplicates)
    assert header["alg"] == world.key.algorithm
    assert header["typ"] == ACCESS_TYP
    assert header.get("kid", world.key.kid) == world.key.kid
    assert REFUSED_HEADERS.isdisjoint(header)
    payload = json.loads(unb64(payload_segment).decode("utf-8"))  # last duplicate wins
    assert _is_number(payload["exp"])
    assert payload["exp"] > NOW - LEEWAY
    for claim in ("nbf", "iat"):
        if claim in payload:
            assert _is_number(payload[claim])
            assert payload[claim] <= NOW + LEEWAY
    assert payload["iss"] == ISS
    aud = payload["aud"]
    assert aud == AUD or (isinstance(aud, list) and AUD in aud)
    assert decoded.exp == payload["exp"]
    assert decoded.get("sub") == payload.get("sub")
    assert decoded.get("jti") == payload.get("jti")


def _mutation_round(world: World, data: st.DataObject) -> str:
    kind, token = mutate(data, world)
    try:
        decoded = world.codec.decode(token, now=NOW)
    except TokenError as error:
        code = error.code
    else:
        check_accepted(world, token, decoded)
        return kind
    assert isinstance(code, str)
    assert code
    return kind


@FAST
@given(data=st.data())
def test_mutated_tokens(world: World, data: st.DataObject) -> None:
    _mutation_round(world, data)


def test_mutations_reach_acceptance_and_rejection(world: World) -> None:
    """The property above cannot pass vacuously: both outcomes occur."""
    outcomes: set[bool] = set()

    @settings(FAST, max_examples=30, database=None)
    @given(data=st.data())
    def probe(data: st.DataObject) -> None:
        _, token = mutate(data, world)
        try:
            world.codec.decode(token, now=NOW)
        except TokenError:
            outcomes.add(False)
        else:
            outcomes.add(True)

    probe()
    assert outcomes == {True, False}


@pytest.mark.slow
@SLOW
@given(data=st.data())
def test_mutated_tokens_long(world: World, data: st.DataObject) -> None:
    _mutation_round(world, data)


@pytest.mark.slow
@SLOW
@given(token=st.binary(max_size=2000) | TOKENISH_BYTES | JWS_LIKE.map(str.encode))
def test_arbitrary_input_long(codec: Codec, token: bytes) -> None:
    _never_accepted(codec, token, ACCESS_TYP)
