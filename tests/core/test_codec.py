"""The codec: strict compact JWS, bound algorithms, explicit typ, exact claims."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security import _forge
from tests.security._forge import AUD, DROP, ISS, NOW, b64, claims, header_for, sign_raw
from tokenlife import (
    ACCESS_TYP,
    DEFAULT_MAX_TOKEN_BYTES,
    MAX_LEEWAY,
    REFRESH_TYP,
    AlgorithmError,
    ClaimError,
    Codec,
    ConfigurationError,
    ExpiredTokenError,
    KeySet,
    MalformedTokenError,
    NotYetValidError,
    SignatureError,
    TokenError,
    TokenTooLargeError,
    TokenTypeError,
    UnknownKeyError,
    UnsupportedHeaderError,
)


@pytest.fixture(scope="module")
def codec(hs: _forge.Material) -> Codec:
    return Codec(hs.keys, issuer=ISS, audience=AUD)


def _reject(codec: Codec, token: str | bytes, **options: Any) -> TokenError:
    with pytest.raises(TokenError) as caught:
        codec.decode(token, now=NOW, **options)
    return caught.value


# -- round trip -------------------------------------------------------------------


def test_round_trip(codec: Codec) -> None:
    token = codec.encode(
        {"sub": "alice", "exp": NOW + 60, "iat": NOW, "scope": "read write", "role": "admin"}
    )
    decoded = codec.decode(token, now=NOW)
    assert decoded.subject == "alice"
    assert decoded.iss == ISS  # added by encode
    assert decoded.aud == AUD
    assert decoded.scopes == ("read", "write")
    assert decoded.get("role") == "admin"
    assert decoded.custom() == {"role": "admin"}
    header = codec.peek_header(token)
    assert header == {"alg": "HS256", "kid": codec.keys.active.kid, "typ": ACCESS_TYP}


def test_encode_keeps_explicit_iss_and_aud(codec: Codec) -> None:
    token = codec.encode({"exp": NOW + 60, "iss": "other", "aud": ["x", AUD]})
    assert codec.peek_claims(token)["iss"] == "other"
    assert codec.peek_claims(token)["aud"] == ["x", AUD]
    assert _reject(codec, token).code == "bad_issuer"


def test_encode_several_audiences(hs: _forge.Material) -> None:
    multi = Codec(hs.keys, audience=("a", "b"))
    token = multi.encode({"exp": NOW + 60})
    assert multi.peek_claims(token)["aud"] == ["a", "b"]
    assert multi.decode(token, now=NOW).aud == ("a", "b")  # immutable: claims are frozen
    assert Codec(hs.keys, audience="b").decode(token, now=NOW).aud == ("a", "b")
    assert _reject(Codec(hs.keys, audience="c"), token).code == "bad_audience"


def test_token_may_be_bytes(codec: Codec) -> None:
    token = codec.encode(claims())
    assert codec.decode(token.encode(), now=NOW).subject == "alice"


def test_encode_refuses_unserializable_claims(codec: Codec) -> None:
    with pytest.raises(ClaimError):
        codec.encode({"exp": NOW + 60, "when": object()})
    with pytest.raises(ConfigurationError):
        codec.encode(claims(), typ="")


# -- typ: access and refresh are mutually exclusive ---------------------------------


def test_typ_is_explicit_and_exclusive(codec: Codec) -> None:
    access = codec.encode(claims())
    refresh = codec.encode(claims(), typ=REFRESH_TYP)
    assert codec.decode_access(access, now=NOW).subject == "alice"
    assert codec.decode_refresh(refresh, now=NOW).subject == "alice"
    with pytest.raises(TokenTypeError) as caught:
        codec.decode_access(refresh, now=NOW)
    assert caught.value.code == "wrong_type"
    with pytest.raises(TokenTypeError):
        codec.decode_refresh(access, now=NOW)
    with pytest.raises(TokenTypeError):
        codec.decode(access, typ=REFRESH_TYP, now=NOW)


@pytest.mark.parametrize("typ", [DROP, None, "JWT", "AT+JWT", "application/at+jwt", "", 1])
def test_typ_must_match_exactly(codec: Codec, hs: _forge.Material, typ: Any) -> None:
    header = {"alg": "HS256", "kid": hs.key.kid}
    if typ is not DROP:
        header["typ"] = typ
    error = _reject(codec, sign_raw(hs.key, header, claims()))
    assert isinstance(error, TokenTypeError)


# -- shape and size ------------------------------------------------------------------


def test_size_cap_comes_before_any_decoding(hs: _forge.Material) -> None:
    limit = len(Codec(hs.keys, issuer=ISS, audience=AUD).encode(claims(pad="x" * 300)))
    codec = Codec(hs.keys, issuer=ISS, audience=AUD, max_token_bytes=limit)
    assert codec.decode(codec.encode(claims(pad="x" * 300)), now=NOW).subject == "alice"
    bigger = codec.encode(claims(pad="x" * 301))
    assert len(bigger) > limit
    assert _reject(codec, bigger).code == "too_large"
    assert _reject(codec, bigger.encode()).code == "too_large"
    # Garbage of any kind is "too large" if it is too large: nothing was parsed.
    for junk in ("!" * (limit + 1), "é" * (limit + 1), b"\xff" * (limit + 1), "a." * limit):
        assert isinstance(_reject(codec, junk), TokenTooLargeError)
    assert _reject(codec, "!" * limit).code == "malformed"


def test_default_size_cap(codec: Codec) -> None:
    token = codec.encode(claims(pad="x" * (DEFAULT_MAX_TOKEN_BYTES - 300)))
    assert len(token) > DEFAULT_MAX_TOKEN_BYTES
    assert isinstance(_reject(codec, token), TokenTooLargeError)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h, p, s: f"{h}.{p}",
        lambda h, p, s: f"{h}.{p}.{s}.{s}",
        lambda h, p, s: f"{h}.{p}.{s}.",
        lambda h, p, s: f"{h}.{p}.",
        lambda h, p, s: f".{p}.{s}",
        lambda h, p, s: f"{h}..{s}",
        lambda h, p, s: "",
        lambda h, p, s: "..",
        lambda h, p, s: f" {h}.{p}.{s}",
        lambda h, p, s: f"{h}.{p}.{s}\n",
        lambda h, p, s: f"{h}.{p}.{s}=",
        lambda h, p, s: f"{h}.{p}.{s}".replace("-", "+").replace("_", "/") + "+/",
        lambda h, p, s: f"{h}.{p}.{s[:-1]}é",
        lambda h, p, s: f"{h}.{p}.{s}\x00",
        lambda h, p, s: f"{h}.{p}.{s[:-1]}",  # length % 4 == 1 or a bad signature
        lambda h, p, s: f"Bearer {h}.{p}.{s}",
    ],
)
def test_only_three_base64url_segments(codec: Codec, mangle: Any) -> None:
    header, payload, signature = _forge.split(codec.encode(claims()))
    assert isinstance(_reject(codec, mangle(header, payload, signature)), TokenError)


@pytest.mark.parametrize("token", [None, 1, 1.5, ["a.b.c"], {"a": "b"}, object()])
def test_non_string_tokens(codec: Codec, token: Any) -> None:
    assert _reject(codec, token).code == "malformed"


def test_impossible_and_non_canonical_base64(codec: Codec, hs: _forge.Material) -> None:
    header, payload, _ = _forge.split(codec.encode(claims()))
    one_extra = header + "A" * ((1 - len(header)) % 4)
    assert len(one_extra) % 4 == 1
    assert _reject(codec, _forge.sign_segments(hs.key, one_extra, payload)).code == "malformed"
    for index, segment in enumerate((header, payload)):
        twisted = _forge.non_canonical(segment)
        if twisted is None:
            continue
        assert _forge.unb64(twisted) == _forge.unb64(segment)  # same bytes, other text
        parts = [header, payload]
        parts[index] = twisted
        # Properly signed over the twisted text: only the encoding check can refuse it.
        assert _reject(codec, _forge.sign_segments(hs.key, *parts)).code == "malformed"


# -- the JOSE header ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw_header",
    [
        b"",
        b"not json",
        b"[]",
        b'"a string"',
        b"null",
        b'{"alg":"HS256"',
        b'\xff{"alg":"HS256"}',
        b'{"alg":"HS256","typ":"at+jwt","x":NaN}',
        b'{"alg":"HS256","typ":"at+jwt","x":"\\ud800"}',
        b'\xef\xbb\xbf{"alg":"HS256","typ":"at+jwt"}',
        '{"alg":"HS256","typ":"at+jwt"}'.encode("utf-16"),
    ],
)
def test_header_must_be_a_utf8_json_object(
    codec: Codec, hs: _forge.Material, raw_header: bytes
) -> None:
    assert _reject(codec, sign_raw(hs.key, raw_header, claims())).code == "malformed"


@pytest.mark.parametrize(
    "raw_header",
    [
        b'{"alg":"HS256","typ":"at+jwt","alg":"HS256"}',
        b'{"alg":"none","typ":"at+jwt","alg":"HS256"}',
        b'{"alg":"HS256","typ":"refresh+jwt","typ":"at+jwt"}',
        b'{"alg":"HS256","typ":"at+jwt","x":{"a":1,"a":2}}',
    ],
)
def test_duplicate_header_members_are_refused(
    codec: Codec, hs: _forge.Material, raw_header: bytes
) -> None:
    error = _reject(codec, sign_raw(hs.key, raw_header, claims()))
    assert error.code == "malformed"
    assert "duplicate" in error.message


@pytest.mark.parametrize(
    ("alg", "error"),
    [
        ("none", AlgorithmError),
        ("HS384", AlgorithmError),
        ("RS256", AlgorithmError),
        ("hs256", AlgorithmError),
        (DROP, MalformedTokenError),
        (None, MalformedTokenError),
        (["HS256"], MalformedTokenError),
    ],
)
def test_alg_must_be_the_keys_own(
    codec: Codec, hs: _forge.Material, alg: Any, error: type[TokenError]
) -> None:
    header = header_for(hs.key, alg=alg)
    if alg is DROP:
        del header["alg"]
    assert isinstance(_reject(codec, sign_raw(hs.key, header, claims())), error)


def test_alg_error_code(codec: Codec, hs: _forge.Material) -> None:
    token = sign_raw(hs.key, header_for(hs.key, alg="HS512"), claims())
    assert _reject(codec, token).code == "bad_algorithm"


@pytest.mark.parametrize(
    ("kid", "code"),
    [("not-ours", "unknown_key"), (None, "malformed"), (7, "malformed"), (["k"], "malformed")],
)
def test_kid_must_name_a_configured_key(
    codec: Codec, hs: _forge.Material, kid: Any, code: str
) -> None:
    token = sign_raw(hs.key, header_for(hs.key, kid=kid), claims())
    assert _reject(codec, token).code == code


def test_no_kid_matches_only_a_one_key_set(hs: _forge.Material, ed: _forge.Material) -> None:
    header = {"alg": "HS256", "typ": ACCESS_TYP}
    token = sign_raw(hs.key, header, claims())
    assert Codec(hs.keys, issuer=ISS, audience=AUD).decode(token, now=NOW).subject == "alice"
    two = Codec(KeySet(hs.key, ed.key), issuer=ISS, audience=AUD)
    assert isinstance(_reject(two, token), UnknownKeyError)


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("crit", ["exp"]),
        ("crit", ["b64"]),
        ("crit", []),
        ("jku", "https://evil.example/jwks.json"),
        ("x5u", "https://evil.example/cert.pem"),
        ("x5c", ["MIIB"]),
        ("jwk", {"kty": "oct", "k": "AAAA"}),
        ("x5t", "AAAA"),
        ("x5t#S256", "AAAA"),
        ("zip", "DEF"),
        ("b64", True),
    ],
)
def test_refused_header_members(codec: Codec, hs: _forge.Material, member: str, value: Any) -> None:
    token = sign_raw(hs.key, header_for(hs.key, **{member: value}), claims())
    error = _reject(codec, token)
    assert isinstance(error, UnsupportedHeaderError)
    assert error.code == "bad_header"


def test_other_header_members_are_ignored(codec: Codec, hs: _forge.Material) -> None:
    token = sign_raw(hs.key, header_for(hs.key, cty="JWT", extra={"a": [1]}), claims())
    assert codec.decode(token, now=NOW).subject == "alice"


def test_header_failures_are_not_cached(codec: Codec, hs: _forge.Material) -> None:
    token = sign_raw(hs.key, header_for(hs.key, kid="unknown"), claims())
    for _ in range(3):
        assert _reject(codec, token).code == "unknown_key"
    good = codec.encode(claims())
    for _ in range(3):
        assert codec.decode(good, now=NOW).subject == "alice"
    assert _reject(codec, good, typ=REFRESH_TYP).code == "wrong_type"


# -- signature -------------------------------------------------------------------------


def test_bad_signature(codec: Codec, hs: _forge.Material) -> None:
    header, payload, signature = _forge.split(codec.encode(claims()))
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    error = _reject(codec, f"{header}.{payload}.{flipped}")
    assert isinstance(error, SignatureError)
    assert error.code == "bad_signature"
    other = _forge.hs256(kid=hs.key.kid)  # same kid, another secret
    assert isinstance(_reject(codec, Codec(other.keys).encode(claims())), SignatureError)
    # The payload is covered too.
    _, forged_payload, _ = _forge.split(codec.encode(claims(sub="mallory")))
    assert isinstance(_reject(codec, f"{header}.{forged_payload}.{signature}"), SignatureError)


@pytest.mark.parametrize("material", ["ed", "es", "rs"])
def test_asymmetric_signatures(material: str, request: pytest.FixtureRequest) -> None:
    mat: _forge.Material = request.getfixturevalue(material)
    codec = Codec(mat.keys, issuer=ISS, audience=AUD)
    token = codec.encode(claims())
    header, payload, signature = _forge.split(token)
    assert mat.verify(f"{header}.{payload}".encode(), _forge.unb64(signature))
    assert codec.decode(token, now=NOW).subject == "alice"
    raw = bytearray(_forge.unb64(signature))
    raw[len(raw) // 2] ^= 1
    assert isinstance(_reject(codec, f"{header}.{payload}.{b64(bytes(raw))}"), SignatureError)
    twisted = _forge.non_canonical(signature)
    if twisted is not None:  # same signature bytes, non-canonical text
        assert _reject(codec, f"{header}.{payload}.{twisted}").code == "malformed"


# -- the payload -------------------------------------------------------------------------


def test_payload_duplicates_resolve_to_the_last(codec: Codec, hs: _forge.Material) -> None:
    """RFC 7515 §5.2 lets a parser keep the lexically last member; tokenlife does.

    Only the header is parsed with a duplicate check: the payload goes straight
    into msgspec for speed, and it is covered by the signature anyway.
    """
    body = json.dumps(claims())[:-1]
    header = header_for(hs.key)
    later_sub = f'{body},"sub":"bob","role":"a","role":"b"}}'.encode()
    decoded = codec.decode(sign_raw(hs.key, header, later_sub), now=NOW)
    assert decoded.subject == "bob"
    assert decoded.get("role") == "b"
    expired_last = f'{body},"exp":{NOW - 1}}}'.encode()
    assert isinstance(_reject(codec, sign_raw(hs.key, header, expired_last)), ExpiredTokenError)
    valid_last = f'{{"exp":{NOW - 1},{body[1:]}}}'.encode()
    assert codec.decode(sign_raw(hs.key, header, valid_last), now=NOW).exp == NOW + 600


@pytest.mark.parametrize(
    "raw_payload",
    [b"", b"[]", b"null", b'"exp"', b"42", b"{", b'{"exp":1e999}', b"\xff\xfe", b'{"exp":NaN}'],
)
def test_payload_must_be_a_json_object(
    codec: Codec, hs: _forge.Material, raw_payload: bytes
) -> None:
    token = sign_raw(hs.key, header_for(hs.key), raw_payload)
    assert isinstance(_reject(codec, token), (MalformedTokenError, ClaimError))


# -- claims ------------------------------------------------------------------------------


def test_exp_is_always_required(codec: Codec, hs: _forge.Material) -> None:
    token = sign_raw(hs.key, header_for(hs.key), claims(exp=DROP))
    assert isinstance(_reject(codec, token), ClaimError)


@pytest.mark.parametrize(
    ("exp", "leeway", "valid"),
    [
        (NOW + 1, 0, True),
        (NOW + 0.001, 0, True),
        (NOW, 0, False),  # exp is the first instant the token is invalid
        (NOW - 1, 0, False),
        (NOW - 30, 60, True),
        (NOW - 60, 60, False),
        (NOW - 299, MAX_LEEWAY, True),
        (NOW - 300, MAX_LEEWAY, False),
    ],
)
def test_exp(hs: _forge.Material, exp: float, leeway: float, valid: bool) -> None:
    codec = Codec(hs.keys, issuer=ISS, audience=AUD, leeway=leeway)
    token = codec.encode(claims(exp=exp))
    if valid:
        assert codec.decode(token, now=NOW).exp == exp
    else:
        error = _reject(codec, token)
        assert isinstance(error, ExpiredTokenError)
        assert error.code == "expired"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
@pytest.mark.parametrize(
    ("offset", "leeway", "valid"),
    [
        (0, 0, True),
        (-100, 0, True),
        (1, 0, False),
        (0.5, 0, False),
        (30, 60, True),
        (61, 60, False),
    ],
)
def test_nbf_and_iat(
    hs: _forge.Material, claim: str, offset: float, leeway: float, valid: bool
) -> None:
    codec = Codec(hs.keys, issuer=ISS, audience=AUD, leeway=leeway)
    token = codec.encode(claims(**{claim: NOW + offset}))
    if valid:
        assert codec.decode(token, now=NOW).subject == "alice"
    else:
        error = _reject(codec, token)
        assert isinstance(error, NotYetValidError)
        assert error.code == "not_yet_valid"


@pytest.mark.parametrize("leeway", [-1, MAX_LEEWAY + 1, float("nan"), float("inf")])
def test_leeway_is_capped(hs: _forge.Material, leeway: float) -> None:
    with pytest.raises(ConfigurationError, match="leeway"):
        Codec(hs.keys, leeway=leeway)


@pytest.mark.parametrize(
    ("iss", "valid"),
    [
        (ISS, True),
        (ISS + "/", False),
        (ISS + ".evil", False),
        (ISS[:-1], False),
        (ISS.upper(), False),
        ("", False),
        (DROP, False),
        ([ISS], False),
        (None, False),
    ],
)
def test_issuer_is_exact(codec: Codec, hs: _forge.Material, iss: Any, valid: bool) -> None:
    token = sign_raw(hs.key, header_for(hs.key), claims(iss=iss))
    if valid:
        assert codec.decode(token, now=NOW).iss == ISS
    else:
        assert isinstance(_reject(codec, token), ClaimError)


def test_no_issuer_configured_accepts_any_issuer_string(hs: _forge.Material) -> None:
    codec = Codec(hs.keys, audience=AUD)
    assert codec.decode(codec.encode(claims(iss="anyone")), now=NOW).iss == "anyone"
    assert codec.decode(codec.encode(claims(iss=DROP)), now=NOW).subject == "alice"


@pytest.mark.parametrize(
    ("aud", "valid"),
    [
        (AUD, True),
        ([AUD], True),
        (["other", AUD], True),
        ("other", False),
        (["other"], False),
        ([], False),
        ("", False),
        (AUD.upper(), False),
        (DROP, False),
        (None, False),
        ([AUD, 1], False),
        ({"aud": AUD}, False),
    ],
)
def test_audience_contains_ours(codec: Codec, hs: _forge.Material, aud: Any, valid: bool) -> None:
    token = sign_raw(hs.key, header_for(hs.key), claims(aud=aud))
    if valid:
        assert codec.decode(token, now=NOW).subject == "alice"
    else:
        assert isinstance(_reject(codec, token), ClaimError)


@pytest.mark.parametrize("aud", [AUD, [AUD], [], ""])
def test_audience_present_but_none_configured(hs: _forge.Material, aud: Any) -> None:
    codec = Codec(hs.keys, issuer=ISS)
    token = sign_raw(hs.key, header_for(hs.key), claims(aud=aud))
    assert _reject(codec, token).code == "bad_audience"
    assert codec.decode(codec.encode(claims(aud=DROP)), now=NOW).subject == "alice"


def test_audience_error_code(codec: Codec) -> None:
    assert _reject(codec, codec.encode(claims(aud="other"))).code == "bad_audience"
    no_aud = sign_raw(codec.keys.active, header_for(codec.keys.active), claims(aud=DROP))
    assert _reject(codec, no_aud).code == "bad_audience"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", str(NOW + 60)),
        ("exp", True),
        ("exp", None),
        ("exp", [NOW + 60]),
        ("nbf", "0"),
        ("iat", False),
        ("sub", 1),
        ("sub", None),
        ("jti", 1),
        ("sid", ["s"]),
        ("scope", ["read"]),
        ("fresh", "true"),
        ("fresh", 1),
        ("csrf", 0),
        ("iss", 5),
    ],
)
def test_registered_claims_have_json_types(hs: _forge.Material, claim: str, value: Any) -> None:
    codec = Codec(hs.keys, audience=AUD)  # no issuer: iss is still typed
    token = sign_raw(hs.key, header_for(hs.key), claims(**{claim: value}))
    assert isinstance(_reject(codec, token), ClaimError)


@pytest.mark.parametrize(
    ("claim", "value"), [("exp", 10**30), ("exp", -(10**30)), ("nbf", 2**64), ("iat", 1e300)]
)
def test_numeric_dates_beyond_year_9999(hs: _forge.Material, claim: str, value: Any) -> None:
    token = sign_raw(hs.key, header_for(hs.key), claims(**{claim: value}))
    error = _reject(Codec(hs.keys, issuer=ISS, audience=AUD), token)
    assert error.code == "bad_claim_type"


def test_require(codec: Codec, hs: _forge.Material) -> None:
    token = codec.encode(claims(role="admin", fresh=False))
    decoded = codec.decode(token, now=NOW, require=("sub", "jti", "iat", "role", "fresh", "exp"))
    assert decoded.get("role") == "admin"
    assert decoded.fresh is False
    bare = codec.encode(claims(sub=DROP, role=None))
    for name in ("sub", "nbf", "role", "fresh", "scope", "never-there"):
        error = _reject(codec, bare, require=(name,))
        assert error.code == "missing_claim", name
    assert codec.decode(bare, now=NOW, require=iter(["jti"])).token_id == "jti-1"


def test_decode_defaults_to_the_system_clock(codec: Codec) -> None:
    expired = codec.encode(claims(exp=NOW))  # long past in real time
    with pytest.raises(ExpiredTokenError):
        codec.decode(expired)
    far = codec.encode(claims(exp=253402300799, iat=DROP))
    assert codec.decode(far).subject == "alice"


# -- configuration and errors ---------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {"issuer": ""},
        {"issuer": 5},
        {"audience": []},
        {"audience": [""]},
        {"audience": ["api", 5]},
        {"max_token_bytes": 100},
        {"max_token_bytes": 2 << 20},
    ],
)
def test_codec_configuration_is_checked(hs: _forge.Material, options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Codec(hs.keys, **options)


def test_codec_needs_a_keyset(hs: _forge.Material) -> None:
    with pytest.raises(ConfigurationError):
        Codec(hs.key)  # type: ignore[arg-type]


def test_codec_properties(hs: _forge.Material) -> None:
    codec = Codec(hs.keys, issuer=ISS, audience=AUD, leeway=5)
    assert (codec.keys, codec.issuer, codec.audience, codec.leeway) == (hs.keys, ISS, (AUD,), 5.0)


def test_peek_is_strict_but_unverified(codec: Codec, hs: _forge.Material) -> None:
    token = sign_raw(_forge.hs256().key, header_for(hs.key), claims(sub="mallory"))
    assert codec.peek_claims(token)["sub"] == "mallory"  # no verification: diagnostics only
    assert codec.peek_header(token)["kid"] == hs.key.kid
    with pytest.raises(MalformedTokenError):
        codec.peek_header("a.b")
    duplicated = sign_raw(hs.key, header_for(hs.key), b'{"exp":1,"exp":2}')
    with pytest.raises(MalformedTokenError):
        codec.peek_claims(duplicated)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (TokenError, "invalid_token"),
        (MalformedTokenError, "malformed"),
        (TokenTooLargeError, "too_large"),
        (UnsupportedHeaderError, "bad_header"),
        (AlgorithmError, "bad_algorithm"),
        (UnknownKeyError, "unknown_key"),
        (SignatureError, "bad_signature"),
        (TokenTypeError, "wrong_type"),
        (ClaimError, "bad_claim"),
        (ExpiredTokenError, "expired"),
        (NotYetValidError, "not_yet_valid"),
    ],
)
def test_error_codes_are_stable(error: type[TokenError], code: str) -> None:
    assert error.code == code
    assert error().code == code
    assert error("message", code="finer").code == "finer"
    assert error.code == code  # a finer code on one instance leaves the class alone


def test_custom_claim_with_a_huge_integer(codec: Codec, hs: _forge.Material) -> None:
    """Custom claims are decoded lazily: an undecodable one is a ClaimError on access."""
    body = json.dumps(claims())[:-1] + ',"big":' + "9" * 5000 + "}"
    token = sign_raw(hs.key, header_for(hs.key), body.encode())
    assert len(token) < DEFAULT_MAX_TOKEN_BYTES
    decoded = codec.decode(token, now=NOW)
    assert decoded.sub is not None
    with pytest.raises(ClaimError):
        decoded.get("big")
    with pytest.raises(ClaimError):
        decoded.custom()
