"""DPoP proof checks (RFC 9449 §4.3), driven by a client written here with ``cryptography``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.dpop_client import DPoPClient
from tests.dpop_client import b64 as _b64
from tests.dpop_client import int_b64 as _int_b64
from tokenlife import (
    ConfigurationError,
    DPoPNonceError,
    DPoPNonces,
    DPoPProofError,
    DPoPVerifier,
    access_token_hash,
    jwk_thumbprint,
    normalize_htu,
)

NOW = 1_800_000_000.0
URL = "https://api.example/resource"

# RFC 9449 §4.2, Figure 4 (the proof) and §6.1 (its key's thumbprint).
RFC_PROOF = (
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgt"
    "MzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VO"
    "SmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRj"
    "IiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0Ijox"
    "NTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK7"
    "0nfbV37xRZT3Lg"
)
RFC_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


class Client(DPoPClient):
    """The shared test client, with this module's request as the default."""

    def proof(  # type: ignore[override]
        self, method: str = "GET", url: str = URL, *, iat: float = NOW, jti: str = "proof-1",
        **kw: Any,
    ) -> str:  # fmt: skip
        return super().proof(method, url, iat=iat, jti=jti, **kw)


@pytest.fixture(params=["ES256", "EdDSA"])
def client(request: pytest.FixtureRequest) -> Client:
    return Client(request.param)


def _refused(
    code: str, proof: str | bytes, verifier: DPoPVerifier | None = None, **kw: Any
) -> None:
    checks: dict[str, Any] = {"method": "GET", "url": URL, "now": NOW, **kw}
    with pytest.raises(DPoPProofError) as caught:
        (verifier or DPoPVerifier()).verify(proof, **checks)
    assert caught.value.code == code


def test_rfc9449_figure_4_proof_verifies_and_its_thumbprint_is_section_6_1s() -> None:
    proof = DPoPVerifier().verify(
        RFC_PROOF, method="POST", url="https://server.example.com/token", now=1562262616.5
    )
    assert proof.jkt == RFC_JKT
    assert proof.jti == "-BwC3ESc6acc2lTc"
    assert proof.replay_until == 1562262616 + 60


def test_rfc9449_section_7_1_ath_example() -> None:
    assert (
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU")
        == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    )


def test_a_fresh_proof_passes_and_names_its_keys_thumbprint(client: Client) -> None:
    proof = DPoPVerifier().verify(client.proof(), method="GET", url=URL, now=NOW + 1)
    assert proof.jkt == jwk_thumbprint(client.jwk)
    assert (proof.htm, proof.htu, proof.iat) == ("GET", URL, NOW)


def test_a_proof_for_another_method_is_refused(client: Client) -> None:
    _refused("dpop_bad_htm", client.proof("POST"))


def test_a_proof_for_another_uri_is_refused(client: Client) -> None:
    _refused("dpop_bad_htu", client.proof(url="https://api.example/other"))
    _refused("dpop_bad_htu", client.proof(url="https://evil.example/resource"))


def test_htu_is_compared_after_rfc3986_normalisation_without_query_or_fragment(
    client: Client,
) -> None:
    proof = client.proof(url="HTTPS://API.Example:443/%72esource?page=2#top")
    assert DPoPVerifier().verify(proof, method="get", url=URL + "?x=1", now=NOW).jkt


@pytest.mark.parametrize(
    ("given_url", "normal"),
    [
        ("https://A.example/", "https://a.example/"),
        ("https://a.example", "https://a.example/"),
        ("http://a.example:80/x", "http://a.example/x"),
        ("https://a.example:8443/x", "https://a.example:8443/x"),
        ("https://a.example/%7euser/%2f", "https://a.example/~user/%2F"),
        ("https://[::1]:443/x", "https://[::1]/x"),
    ],
)
def test_normalize_htu(given_url: str, normal: str) -> None:
    assert normalize_htu(given_url) == normal


@pytest.mark.parametrize("bad", ["/relative", "ftp://a.example/", "https://a.example:99999/", ""])
def test_normalize_htu_refuses_what_is_not_an_absolute_http_uri(bad: str) -> None:
    with pytest.raises(DPoPProofError):
        normalize_htu(bad)


def test_a_stale_proof_is_refused(client: Client) -> None:
    _refused("dpop_iat_stale", client.proof(iat=NOW - 61))


def test_a_proof_from_the_future_is_refused_even_when_the_clock_stepped_back(
    client: Client,
) -> None:
    _refused("dpop_iat_future", client.proof(iat=NOW + 6))
    # Inside the leeway either side is fine.
    DPoPVerifier().verify(client.proof(iat=NOW + 5), method="GET", url=URL, now=NOW)
    DPoPVerifier().verify(client.proof(iat=NOW - 60), method="GET", url=URL, now=NOW)


def test_a_resource_request_needs_the_ath_of_its_access_token(client: Client) -> None:
    token = "eyJhbGciOiJFUzI1NiJ9.e30.sig"
    ok = client.proof(ath=access_token_hash(token))
    assert DPoPVerifier().verify(ok, method="GET", url=URL, now=NOW, access_token=token).jti
    _refused("dpop_bad_ath", client.proof(), access_token=token)
    _refused("dpop_bad_ath", client.proof(ath=access_token_hash("another")), access_token=token)


def test_a_proof_with_another_keys_signature_is_refused(client: Client) -> None:
    thief = Client(client.alg)
    forged = thief.proof(header={"typ": "dpop+jwt", "alg": client.alg, "jwk": client.jwk})
    _refused("dpop_bad_signature", forged)


@pytest.mark.parametrize(
    ("header_change", "code"),
    [
        ({"typ": "JWT"}, "dpop_bad_typ"),
        ({"typ": None}, "dpop_bad_typ"),
        ({"alg": "none"}, "dpop_bad_alg"),
        ({"alg": "HS256"}, "dpop_bad_alg"),
        ({"alg": "ES512"}, "dpop_bad_alg"),
        ({"jwk": None}, "dpop_bad_key"),
        ({"jwk": "a string"}, "dpop_bad_key"),
        ({"jwk": {"kty": "oct", "k": "c2VjcmV0"}}, "dpop_bad_key"),
        ({"crit": ["exp"]}, "dpop_bad_header"),
    ],
)
def test_hostile_headers_are_refused(
    client: Client, header_change: dict[str, Any], code: str
) -> None:
    header = {"typ": "dpop+jwt", "alg": client.alg, "jwk": client.jwk}
    header.update(header_change)
    header = {k: v for k, v in header.items() if v is not None}
    _refused(code, client.proof(header=header))


def test_a_jwk_with_private_members_is_refused(client: Client) -> None:
    leaked = {**client.jwk, "d": _b64(b"\x01" * 32)}
    _refused(
        "dpop_bad_key", client.proof(header={"typ": "dpop+jwt", "alg": client.alg, "jwk": leaked})
    )


def test_a_jwk_of_another_kind_than_the_alg_is_refused() -> None:
    es, ed = Client("ES256"), Client("EdDSA")
    _refused("dpop_bad_key", es.proof(header={"typ": "dpop+jwt", "alg": "ES256", "jwk": ed.jwk}))


def test_a_huge_rsa_key_is_refused_before_it_is_parsed() -> None:
    n = _b64(b"\xff" * 1024)  # 8192 bits
    header = {"typ": "dpop+jwt", "alg": "RS256", "jwk": {"kty": "RSA", "n": n, "e": "AQAB"}}
    _refused("dpop_bad_key", Client().proof(header=header))
    huge_e = {"kty": "RSA", "n": _b64(b"\xff" * 256), "e": _b64(b"\xff" * 64)}
    _refused("dpop_bad_key", Client().proof(header={**header, "jwk": huge_e}))


def test_an_rsa_proof_within_bounds_verifies() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = private.public_key().public_numbers()
    jwk = {"kty": "RSA", "n": _int_b64(numbers.n, 256), "e": _int_b64(numbers.e, 3)}
    h = _b64(json.dumps({"typ": "dpop+jwt", "alg": "PS256", "jwk": jwk}).encode())
    p = _b64(json.dumps({"jti": "r", "htm": "GET", "htu": URL, "iat": NOW}).encode())
    from cryptography.hazmat.primitives.asymmetric import padding

    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=hashes.SHA256.digest_size)
    signature = private.sign(f"{h}.{p}".encode(), pss, hashes.SHA256())
    proof = f"{h}.{p}.{_b64(signature)}"
    assert DPoPVerifier().verify(proof, method="GET", url=URL, now=NOW).jkt == jwk_thumbprint(jwk)


def test_duplicate_members_are_refused(client: Client) -> None:
    jwk = json.dumps(client.jwk)
    dup_header = f'{{"typ":"dpop+jwt","alg":"{client.alg}","jwk":{jwk},"typ":"dpop+jwt"}}'
    _refused("dpop_malformed", client.proof(raw_header=dup_header.encode()))
    dup_payload = f'{{"jti":"a","jti":"b","htm":"GET","htu":"{URL}","iat":{NOW}}}'
    _refused("dpop_bad_claims", client.proof(raw_payload=dup_payload.encode()))


@pytest.mark.parametrize(
    "payload",
    [
        b'{"htm":"GET","htu":"https://api.example/resource","iat":1800000000}',
        b'{"jti":"","htm":"GET","htu":"https://api.example/resource","iat":1800000000}',
        b'{"jti":"a","htm":"GET","htu":"https://api.example/resource","iat":"1800000000"}',
        b'{"jti":"a","htm":"GET","htu":"https://api.example/resource","iat":true}',
        b'{"jti":"a","htm":"GET","htu":"https://api.example/resource","iat":NaN}',
        b'{"jti":"a","htm":"GET","htu":"https://api.example/resource","iat":1e400}',
        b'{"jti":["a"],"htm":"GET","htu":"https://api.example/resource","iat":1800000000}',
        b"[1, 2]",
        b"not json",
    ],
)
def test_payloads_without_the_required_claims_are_refused(client: Client, payload: bytes) -> None:
    _refused("dpop_bad_claims", client.proof(raw_payload=payload))


def test_oversized_and_non_ascii_proofs_are_refused_before_decoding() -> None:
    _refused("dpop_too_large", "a" * 5000)
    _refused("dpop_too_large", b"a" * 5000)
    _refused("dpop_malformed", "é.é.é")
    _refused("dpop_malformed", "only.two")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600) | st.text(max_size=600))
def test_any_bytes_give_a_dpop_error_and_nothing_else(garbage: bytes | str) -> None:
    with pytest.raises(DPoPProofError):
        DPoPVerifier().verify(garbage, method="GET", url=URL, now=NOW)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["typ", "alg", "jwk", "kid", "crit", "x5u"]),
        st.none()
        | st.integers()
        | st.text(max_size=8)
        | st.dictionaries(st.text(max_size=3), st.text(max_size=8)),
    )
)
def test_any_header_object_gives_a_dpop_error_and_nothing_else(header: dict[str, Any]) -> None:
    with pytest.raises(DPoPProofError):
        DPoPVerifier().verify(Client().proof(header=header), method="GET", url=URL, now=NOW)


def test_a_nonce_is_required_when_configured_and_rotates_by_step(client: Client) -> None:
    nonces = DPoPNonces(b"n" * 32, lifetime=300)
    verifier = DPoPVerifier(nonces=nonces)
    with pytest.raises(DPoPNonceError) as caught:
        verifier.verify(client.proof(), method="GET", url=URL, now=NOW)
    assert caught.value.code == "use_dpop_nonce"
    current = nonces.current(NOW)
    assert verifier.verify(client.proof(nonce=current), method="GET", url=URL, now=NOW).nonce
    # Still good one step later (handed out just before a boundary), not two.
    later = client.proof(nonce=current, iat=NOW + 300)
    assert verifier.verify(later, method="GET", url=URL, now=NOW + 300).nonce == current
    with pytest.raises(DPoPNonceError):
        verifier.verify(
            client.proof(nonce=current, iat=NOW + 600), method="GET", url=URL, now=NOW + 600
        )
    with pytest.raises(DPoPNonceError):
        verifier.verify(client.proof(nonce="forged"), method="GET", url=URL, now=NOW)
    other = DPoPNonces(b"m" * 32).current(NOW)
    with pytest.raises(DPoPNonceError):
        verifier.verify(client.proof(nonce=other), method="GET", url=URL, now=NOW)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithms": ["HS256"]},
        {"algorithms": []},
        {"algorithms": ["none"]},
        {"max_age": 0},
        {"leeway": -1},
        {"max_proof_bytes": 10},
    ],
)
def test_unsafe_verifier_settings_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        DPoPVerifier(**kwargs)


def test_short_nonce_secrets_are_refused() -> None:
    with pytest.raises(ConfigurationError):
        DPoPNonces(b"short")


@pytest.mark.parametrize(
    "payload",
    [
        b'{"jti":"a","htm":"GET","htu":"https://api.example/resource","iat":1800000000,"jti":"b"}',
        b'{"a":"x,",":":1,":":2,"jti":"j","htm":"GET","htu":"https://api.example/r","iat":1}',
        b'{"jti":"j","htm":"GET","htu":"https://api.example/r","iat":1,"x":{"y":1,"y":2}}',
        b'{"jti":"j","htm":"GET","htu":"https://api.example/r","iat":1,"\\u006ati":"k"}',
    ],
)
def test_duplicates_are_refused_however_they_are_spelled(client: Client, payload: bytes) -> None:
    _refused("dpop_bad_claims", client.proof(raw_payload=payload))


def test_a_name_repeated_at_another_depth_is_not_a_duplicate(client: Client) -> None:
    payload = b'{"jti":"j","htm":"GET","htu":"https://api.example/resource","iat":1800000000,"x":{"jti":1}}'
    proof = DPoPVerifier().verify(client.proof(raw_payload=payload), method="GET", url=URL, now=NOW)
    assert proof.jti == "j"
