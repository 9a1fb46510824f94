"""Known JWT vulnerability classes, one test each, against the real codec.

Every hostile token here is built by hand (raw JSON bytes) and, where the
attack needs it, properly signed with the real key: only the check under test
can reject it.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import get_default_algorithms

from tests.security import _forge
from tests.security._forge import AUD, ISS, NOW, b64, claims, header_for, raw_json, sign_raw
from tokenlife import (
    ACCESS_TYP,
    REFRESH_TYP,
    AlgorithmError,
    ClaimError,
    Codec,
    Key,
    KeyConfigError,
    KeySet,
    MalformedTokenError,
    SignatureError,
    TokenError,
    TokenTooLargeError,
    TokenTypeError,
    UnknownKeyError,
    UnsupportedHeaderError,
)

WHITESPACE = (b"", b" ", b"\n", b"\t \r\n  ")


def codec_for(material: _forge.Material, **options: Any) -> Codec:
    return Codec(material.keys, issuer=ISS, audience=AUD, **options)


def reject(codec: Codec, token: str | bytes, **options: Any) -> TokenError:
    """Decode, expecting a TokenError and nothing else (no other exception passes)."""
    with pytest.raises(TokenError) as caught:
        codec.decode(token, now=NOW, **options)
    return caught.value


# -- alg: none ---------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "none ", ""])
@pytest.mark.parametrize("signature", ["", "AAAA", "signature"], ids=["empty", "zeros", "text"])
@pytest.mark.parametrize("with_kid", [True, False], ids=["kid", "no-kid"])
@pytest.mark.parametrize("material", ["hs", "ed", "rs"])
def test_alg_none(
    alg: str, signature: str, with_kid: bool, material: str, request: pytest.FixtureRequest
) -> None:
    mat: _forge.Material = request.getfixturevalue(material)
    header: dict[str, Any] = {"alg": alg, "typ": ACCESS_TYP}
    if with_kid:
        header["kid"] = mat.key.kid
    unsigned = f"{b64(raw_json(header))}.{b64(raw_json(claims()))}"
    error = reject(codec_for(mat), f"{unsigned}.{signature}")
    if signature == "":
        assert isinstance(error, MalformedTokenError)  # three non-empty segments, always
    else:
        assert isinstance(error, AlgorithmError)
    # The two-segment form ("h.p", the signature dropped entirely) too.
    assert isinstance(reject(codec_for(mat), unsigned), MalformedTokenError)


# -- HMAC keyed with a public key (algorithm confusion, CVE-2015-9235 / CVE-2022-29217) ----


def _certificate(private: Any, public: Any) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tokenlife test")])
    start = datetime.datetime.fromtimestamp(NOW, tz=datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=1))
    )
    algorithm = None if isinstance(private, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(private, algorithm)


def _public_forms(algorithm: str, private: Any) -> dict[str, bytes]:
    """The public half in every form someone might paste where a secret goes."""
    public = private.public_key()
    encoding, formats = serialization.Encoding, serialization.PublicFormat
    jwk = get_default_algorithms()[algorithm].to_jwk(public, as_dict=True)
    certificate = _certificate(private, public)
    forms = {
        "spki-pem": public.public_bytes(encoding.PEM, formats.SubjectPublicKeyInfo),
        "spki-der": public.public_bytes(encoding.DER, formats.SubjectPublicKeyInfo),
        "ssh": public.public_bytes(encoding.OpenSSH, formats.OpenSSH),
        "jwk": json.dumps(jwk).encode(),
        "jwk-pretty": json.dumps({**jwk, "alg": algorithm}, indent=2).encode(),
        "jwks": json.dumps({"keys": [jwk]}).encode(),
        "cert-pem": certificate.public_bytes(encoding.PEM),
        "cert-der": certificate.public_bytes(encoding.DER),
    }
    if isinstance(public, rsa.RSAPublicKey):
        forms["pkcs1-pem"] = public.public_bytes(encoding.PEM, formats.PKCS1)
        forms["pkcs1-der"] = public.public_bytes(encoding.DER, formats.PKCS1)
    return forms


_KEY_TYPES: dict[str, Callable[[], Any]] = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}


@pytest.fixture(scope="module", params=sorted(_KEY_TYPES))
def confusion(request: pytest.FixtureRequest) -> tuple[KeySet, dict[str, bytes]]:
    """A real asymmetric key set, and its public half in every form."""
    algorithm: str = request.param
    private = _KEY_TYPES[algorithm]()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return KeySet.from_pem(pem, algorithm), _public_forms(algorithm, private)


@pytest.mark.parametrize("space", WHITESPACE, ids=["bare", "space", "newline", "mixed"])
@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_public_key_as_hmac_secret_is_refused(
    confusion: tuple[KeySet, dict[str, bytes]], space: bytes, algorithm: str
) -> None:
    _, forms = confusion
    for form, public in forms.items():
        for secret in (space + public, public + space, space + public + space):
            with pytest.raises(KeyConfigError):
                KeySet.from_secret(secret, algorithm)
            with pytest.raises(KeyConfigError):
                KeySet.from_jwks({"keys": [{"kty": "oct", "k": b64(secret), "alg": algorithm}]})
            if form != "spki-der" and form != "pkcs1-der" and form != "cert-der":
                with pytest.raises(KeyConfigError):
                    Key.from_secret(secret.decode("ascii"), algorithm)


@pytest.mark.parametrize("space", WHITESPACE, ids=["bare", "space", "newline", "mixed"])
def test_hs256_forged_with_the_public_key_is_rejected(
    confusion: tuple[KeySet, dict[str, bytes]], space: bytes
) -> None:
    keys, forms = confusion
    codec = Codec(keys, issuer=ISS, audience=AUD)
    real = keys.active
    assert codec.decode(codec.encode(claims()), now=NOW).subject == "alice"
    for public in forms.values():
        for header in (
            {"alg": "HS256", "kid": real.kid, "typ": ACCESS_TYP},
            {"alg": "HS256", "typ": ACCESS_TYP},
            {"alg": "HS512", "kid": real.kid, "typ": ACCESS_TYP},
        ):
            forged = _forge.hs_sign_raw(space + public, header, claims(sub="mallory"))
            assert isinstance(reject(codec, forged), AlgorithmError)
        # Even a forger who copies the real header cannot make HMAC pass as the real alg.
        real_header = header_for(real)
        signing_input = f"{b64(raw_json(real_header))}.{b64(raw_json(claims(sub='mallory')))}"
        mac = hmac.new(space + public, signing_input.encode(), hashlib.sha256).digest()
        forged = f"{signing_input}.{b64(mac)}"
        assert isinstance(reject(codec, forged), (SignatureError, MalformedTokenError))


# -- empty HMAC key ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512"])
def test_empty_hmac_key(algorithm: str, hs: _forge.Material) -> None:
    for empty in (b"", ""):
        with pytest.raises(KeyConfigError):
            KeySet.from_secret(empty, algorithm)
    with pytest.raises(KeyConfigError):
        KeySet.from_jwks({"keys": [{"kty": "oct", "k": "", "alg": algorithm}]})
    # A token "signed" with an empty key does not verify against the real one.
    header = header_for(hs.key)
    signing_input = f"{b64(raw_json(header))}.{b64(raw_json(claims()))}"
    mac = hmac.new(b"", signing_input.encode(), hashlib.sha256).digest()
    assert isinstance(reject(codec_for(hs), f"{signing_input}.{b64(mac)}"), SignatureError)


# -- crit ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "crit",
    [["exp"], ["b64"], ["x-unknown"], [], "exp", None, [1], ["alg"]],
)
def test_unknown_crit_is_refused(crit: Any, hs: _forge.Material, ed: _forge.Material) -> None:
    for mat in (hs, ed):
        header = header_for(mat.key, crit=crit)
        if crit == ["b64"]:
            header["b64"] = True
        token = sign_raw(mat.key, header, claims())
        assert isinstance(reject(codec_for(mat), token), UnsupportedHeaderError)


# -- keys from the token itself (jku / x5u / jwk / x5c, CVE-2018-0114) -----------------------


def test_keys_named_by_the_token_are_refused(hs: _forge.Material, ed: _forge.Material) -> None:
    attacker = _forge.eddsa()
    jwk = attacker.key.public_jwk
    for header_member, value in (
        ("jwk", jwk),
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("x5c", ["MIIBszCCAVmgAwIBAgIBATAK"]),
    ):
        header = {"alg": "EdDSA", "typ": ACCESS_TYP, "kid": attacker.key.kid, header_member: value}
        forged = sign_raw(attacker.key, header, claims())
        for mat in (hs, ed):
            assert isinstance(reject(codec_for(mat), forged), UnsupportedHeaderError)
        # Under our own kid, the embedded key is still never used.
        forged = sign_raw(attacker.key, {**header, "kid": ed.key.kid}, claims())
        assert isinstance(reject(codec_for(ed), forged), UnsupportedHeaderError)


def test_kid_is_a_dictionary_lookup_only(ed: _forge.Material) -> None:
    for kid in ("../../../../dev/null", "' OR '1'='1", "file:///etc/passwd", ed.key.kid + "\x00"):
        token = sign_raw(ed.key, header_for(ed.key, kid=kid), claims())
        assert isinstance(reject(codec_for(ed), token), UnknownKeyError)


def test_kid_of_one_key_signature_of_another(ed: _forge.Material, es: _forge.Material) -> None:
    """A retired or sibling key's kid does not lend its trust to another signature."""
    other = _forge.eddsa()
    codec = Codec(KeySet(ed.key, es.key), issuer=ISS, audience=AUD)
    token = sign_raw(other.key, header_for(ed.key), claims())
    assert isinstance(reject(codec, token), SignatureError)
    token = sign_raw(ed.key, header_for(es.key, alg="EdDSA"), claims())  # ES kid, EdDSA alg
    assert isinstance(reject(codec, token), AlgorithmError)


# -- issuer: partial matches and arrays (CVE-2024-53861) -----------------------------------------


@pytest.mark.parametrize(
    "iss",
    [
        "https://api.example.evil",
        "https://api.exampl",
        "https://api.example/",
        "https://api.example ",
        " https://api.example",
        "https://api.example\x00",
        "HTTPS://API.EXAMPLE",
        "https://api",
        "api.example",
        "",
        "_https://api.example_",
        [ISS],
        [ISS, "https://other"],
        {"iss": ISS},
        None,
        1,
    ],
)
def test_issuer_is_never_a_partial_or_container_match(iss: Any, hs: _forge.Material) -> None:
    token = sign_raw(hs.key, header_for(hs.key), claims(iss=iss))
    assert isinstance(reject(codec_for(hs), token), ClaimError)


# -- NumericDate confusion: strings, booleans, null, NaN, overflow --------------------------------

HOSTILE_DATES = [
    '"9999999999"',
    '"1e10"',
    '""',
    "true",
    "false",
    "null",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e400",
    str(10**30),
    str(2**64),
    str(-(2**63) - 1),
    "9" * 400,
    "[9999999999]",
    '{"$date":9999999999}',
    "0x7fffffff",
    "1_000",
    "+9999999999",
]


@pytest.mark.parametrize("value", HOSTILE_DATES)
@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
def test_hostile_numeric_dates(claim: str, value: str, hs: _forge.Material) -> None:
    valid = claims()
    valid.pop(claim, None)
    body = raw_json(valid)[:-1] + f',"{claim}":{value}}}'.encode()
    token = sign_raw(hs.key, header_for(hs.key), body)
    control = sign_raw(hs.key, header_for(hs.key), claims())
    assert codec_for(hs).decode(control, now=NOW).subject == "alice"
    error = reject(codec_for(hs), token)
    assert isinstance(error, (ClaimError, MalformedTokenError)), type(error)


# -- JSON-serialized JWS passed as a compact token ---------------------------------------------


def test_json_serialized_jws_is_not_a_token(hs: _forge.Material) -> None:
    codec = codec_for(hs)
    header, payload, signature = _forge.split(codec.encode(claims()))
    _, forged_payload, _ = _forge.split(codec.encode(claims(sub="mallory")))
    flattened = {"protected": header, "payload": payload, "signature": signature}
    general = {"payload": payload, "signatures": [{"protected": header, "signature": signature}]}
    # CVE-2022-39227 (python-jwt): a compact token smuggled inside JSON.
    polyglot = (
        f'{{"  {header}.{forged_payload}.":"",'
        f'"protected":"{header}","payload":"{payload}","signature":"{signature}"}}'
    )
    for hostile in (
        json.dumps(flattened),
        json.dumps(general),
        json.dumps(flattened, indent=2),
        polyglot,
        b64(json.dumps(flattened).encode()),
        f"{header}.{payload}.{signature}" + json.dumps(flattened),
        json.dumps(f"{header}.{payload}.{signature}"),
    ):
        assert isinstance(reject(codec, hostile), MalformedTokenError), hostile
        assert isinstance(reject(codec, hostile.encode()), MalformedTokenError)


# -- size and depth -------------------------------------------------------------------------------


def _nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


@pytest.mark.parametrize(
    "structure",
    [
        _nested(10_000),
        _nested(10_000, '{"a":', "}"),
        '{"a":' * 5_000 + "[" * 5_000 + "]" * 5_000 + "}" * 5_000,
    ],
    ids=["arrays", "objects", "mixed"],
)
def test_deeply_nested_claims(structure: str, hs: _forge.Material) -> None:
    body = raw_json(claims())[:-1] + f',"deep":{structure}}}'.encode()
    token = sign_raw(hs.key, header_for(hs.key), body)
    # Beyond the default cap: refused before any decoding.
    assert isinstance(reject(codec_for(hs), token), TokenTooLargeError)
    # Within a cap raised to fit it: parsed, and refused as malformed, not a RecursionError.
    roomy = codec_for(hs, max_token_bytes=1 << 20)
    assert len(token) < 1 << 20
    assert isinstance(reject(roomy, token), MalformedTokenError)
    with pytest.raises(MalformedTokenError):
        roomy.peek_claims(token)


def test_deeply_nested_header(hs: _forge.Material) -> None:
    roomy = codec_for(hs, max_token_bytes=1 << 20)
    for depth in (1_000, 10_000, 50_000):
        header = raw_json(header_for(hs.key))[:-1] + f',"x":{_nested(depth)}}}'.encode()
        token = sign_raw(hs.key, header, claims())
        assert isinstance(reject(roomy, token), MalformedTokenError)
        with pytest.raises(MalformedTokenError):
            roomy.peek_header(token)


def test_deep_nesting_that_fits_the_default_cap(hs: _forge.Material) -> None:
    codec = codec_for(hs)
    for depth in (100, 900, 1_500, 2_900):
        body = raw_json(claims())[:-1] + f',"deep":{_nested(depth)}}}'.encode()
        token = sign_raw(hs.key, header_for(hs.key), body)
        assert len(token) <= 8192
        try:
            decoded = codec.decode(token, now=NOW)
        except TokenError:
            continue  # refusing is fine; any other exception is not
        assert decoded.subject == "alice"


@pytest.mark.parametrize("size", [8193, 65_536, 10_000_000])
def test_oversized_tokens(size: int, hs: _forge.Material) -> None:
    codec = codec_for(hs)
    valid = codec.encode(claims())
    header, payload, signature = _forge.split(valid)
    padded = f"{header}.{payload}{'A' * (size - len(valid))}.{signature}"
    assert len(padded) == size
    for form in (padded, padded.encode(), "é" * size):
        assert isinstance(reject(codec, form), TokenTooLargeError)
    grown = codec.encode(claims(pad="x" * size))
    assert isinstance(reject(codec, grown), TokenTooLargeError)


# -- token type confusion -------------------------------------------------------------------------


def test_refresh_token_is_not_an_access_token(ed: _forge.Material) -> None:
    codec = codec_for(ed)
    refresh = codec.encode(claims(), typ=REFRESH_TYP)
    access = codec.encode(claims())
    assert isinstance(reject(codec, refresh, typ=ACCESS_TYP), TokenTypeError)
    assert isinstance(reject(codec, access, typ=REFRESH_TYP), TokenTypeError)
    # Re-typing a refresh token breaks its signature.
    _, payload, signature = _forge.split(refresh)
    retyped = f"{b64(raw_json(header_for(ed.key)))}.{payload}.{signature}"
    assert isinstance(reject(codec, retyped), SignatureError)


# -- duplicate header members (parser differentials) ---------------------------------------------


def test_duplicate_alg_cannot_smuggle_a_second_algorithm(hs: _forge.Material) -> None:
    kid = hs.key.kid
    for raw in (
        f'{{"alg":"HS256","kid":"{kid}","typ":"at+jwt","alg":"none"}}',
        f'{{"alg":"none","kid":"{kid}","typ":"at+jwt","alg":"HS256"}}',
        f'{{"alg":"HS256","kid":"nope","typ":"at+jwt","kid":"{kid}"}}',
        f'{{"alg":"HS256","kid":"{kid}","typ":"refresh+jwt","typ":"at+jwt"}}',
    ):
        token = sign_raw(hs.key, raw.encode(), claims())
        assert isinstance(reject(codec_for(hs), token), MalformedTokenError)


# -- signature malleability ----------------------------------------------------------------------


@pytest.mark.parametrize("material", ["es", "ed", "rs", "hs"])
def test_signature_has_one_encoding(material: str, request: pytest.FixtureRequest) -> None:
    mat: _forge.Material = request.getfixturevalue(material)
    codec = codec_for(mat)
    header, payload, signature = _forge.split(codec.encode(claims()))
    twisted = _forge.non_canonical(signature)
    if twisted is None:
        pytest.skip(f"a {mat.algorithm} signature has no spare bits in base64url")
    assert mat.verify(f"{header}.{payload}".encode(), _forge.unb64(twisted))  # same bytes
    assert isinstance(reject(codec, f"{header}.{payload}.{twisted}"), TokenError)


def test_ecdsa_psychic_signature_is_rejected(es: _forge.Material) -> None:
    """CVE-2022-21449: r = s = 0 must never verify."""
    header, payload, _ = _forge.split(codec_for(es).encode(claims()))
    for zero in (bytes(64), bytes(32) + (1).to_bytes(32, "big"), bytes(72)):
        assert isinstance(reject(codec_for(es), f"{header}.{payload}.{b64(zero)}"), SignatureError)


@pytest.mark.parametrize("material", ["hs", "ed", "es", "rs"])
def test_signatures_of_any_length_or_value(material: str, request: pytest.FixtureRequest) -> None:
    """Wrong-sized, zero, all-ones and over-modulus signatures: a SignatureError, nothing else."""
    mat: _forge.Material = request.getfixturevalue(material)
    header, payload, _ = _forge.split(codec_for(mat).encode(claims()))
    for size in (1, 31, 32, 63, 64, 65, 96, 255, 256, 257, 512):
        for fill in (b"\x00", b"\xff", b"\x01"):
            forged = f"{header}.{payload}.{b64(fill * size)}"
            assert isinstance(reject(codec_for(mat), forged), SignatureError)
