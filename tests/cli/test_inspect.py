"""``tokenlife inspect``: the token shown for people, and every rejection explained.

"now" is pinned to T0 + 5 min; the default token was issued at T0 and
expires at T0 + 15 min.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.cli import _tokens as tk
from tests.cli._cli import T0, Ran, tokenlife
from tokenlife import REFRESH_TYP, KeySet

ENV = {"JWT_SECRET": tk.SECRET}


def inspect_hs(token: str, *args: str) -> Ran:
    return tokenlife("inspect", token, "--secret-env", "JWT_SECRET", *args, env=ENV)


def rejected(ran: Ran, code: str) -> str:
    """The INVALID line, after checking exit code 3 and the reason code."""
    assert ran.code == 3, (ran.out, ran.err)
    assert ran.err == ""
    line = next(line for line in ran.out.splitlines() if line.startswith("INVALID: "))
    assert line.endswith(f"[{code}]"), line
    return line.removeprefix("INVALID: ").removesuffix(f"  [{code}]")


# -- what a token says ------------------------------------------------------------------


def test_without_a_key_shows_header_and_claims_with_human_times() -> None:
    ran = tokenlife("inspect", tk.mint())
    assert ran.code == 0, ran.err
    out = ran.out
    assert "Header (NOT verified):" in out and "Claims (NOT verified):" in out
    assert "typ  at+jwt  (access token)" in out
    assert "iat    1800000000  2027-01-15T08:00:00Z (5 min ago)" in out
    assert "exp    1800000900  2027-01-15T08:15:00Z (in 10 min)" in out
    assert "fresh  true" in out
    assert out.rstrip().endswith(
        "Signature not checked: pass --key FILE or --secret-env VAR to verify."
    )


def test_valid_token_with_secret_issuer_and_audience() -> None:
    ran = inspect_hs(tk.mint(), "--issuer", tk.ISSUER, "--audience", tk.AUDIENCE)
    assert ran.code == 0, ran.err
    assert "Verification at 2027-01-15T08:05:00Z:" in ran.out
    assert "  issuer    checked" in ran.out and "  audience  checked" in ran.out
    assert ran.out.rstrip().endswith("VALID access token, expires in 10 min.")


def test_unchecked_issuer_and_audience_are_said_so() -> None:
    ran = inspect_hs(tk.mint())
    assert ran.code == 0, ran.err
    assert "issuer    not checked (no --issuer)" in ran.out
    assert "audience  not checked (no --audience)" in ran.out


def test_token_from_stdin_with_a_bearer_prefix_and_refresh_type() -> None:
    token = tk.mint(typ=REFRESH_TYP)
    ran = tokenlife(
        "inspect", "-", "--secret-env", "JWT_SECRET", stdin=f"Bearer {token}\n", env=ENV
    )
    assert ran.code == 0, ran.err
    assert "VALID refresh token" in ran.out


def test_json_document_has_stable_keys() -> None:
    ran = inspect_hs(tk.mint(exp=int(T0) + 120), "--json")
    assert ran.code == 3
    doc = ran.json()
    assert list(doc) == ["now", "header", "claims", "times", "verification"]
    assert doc["header"] == {"alg": "HS256", "kid": "k1", "typ": "at+jwt"}
    assert doc["claims"]["sub"] == "alice"
    assert doc["times"]["exp"] == {
        "epoch": T0 + 120,
        "iso": "2027-01-15T08:02:00Z",
        "seconds_from_now": -180.0,
        "relative": "3 min ago",
    }
    assert doc["verification"] == {
        "verified": True,
        "valid": False,
        "type": "access",
        "code": "expired",
        "explanation": "expired 3 min ago (exp 2027-01-15T08:02:00Z)",
        "key": "HS256 secret from $JWT_SECRET",
        "kid_note": "kid taken from the token (a PEM key or a secret carries none; see --kid)",
        "issuer_checked": False,
        "audience_checked": False,
    }


def test_base64url_secret_from_keygen() -> None:
    keygen = tokenlife("keygen", "--alg", "HS256", "--json").json()
    keys = KeySet.from_jwks(keygen["private_jwks"])
    env = {"S": keygen["secret_base64url"]}
    args = ("--secret-env", "S", "--secret-encoding", "base64url")
    ran = tokenlife("inspect", tk.mint(keys), *args, env=env)
    assert ran.code == 0 and "VALID access token" in ran.out, ran.out


# -- key files --------------------------------------------------------------------------


def test_pem_public_and_private_and_jwk_files(tmp_path: Path) -> None:
    private = tk.ec_private_pem()
    keys = KeySet.from_pem(private, "ES256", kid="ec-1")
    token = tk.mint(keys)
    jwk = keys.public_jwks()["keys"][0]
    for path in (
        tk.write(tmp_path / "public.pem", tk.public_pem(private)),
        tk.write(tmp_path / "private.pem", private),
        tk.write(tmp_path / "key.jwk.json", jwk),
        tk.write(tmp_path / "keys.jwks.json", keys.public_jwks()),
    ):
        ran = tokenlife("inspect", token, "--key", path)
        assert ran.code == 0, (path, ran.out, ran.err)
        assert "VALID access token" in ran.out


def test_rsa_pem_defaults_to_rs256_and_hints_at_alg(tmp_path: Path) -> None:
    private = tk.rsa_private_pem()
    token = tk.mint(KeySet.from_pem(private, "PS256", kid="r1"))
    key = tk.write(tmp_path / "rsa.pem", tk.public_pem(private))
    explanation = rejected(tokenlife("inspect", token, "--key", key), "bad_algorithm")
    assert explanation == (
        "algorithm not bound to key: the token says alg 'PS256', key 'r1' is bound to "
        "'RS256' (if this key really signs PS256, pass --alg PS256)"
    )
    ran = tokenlife("inspect", token, "--key", key, "--alg", "PS256")
    assert ran.code == 0 and "VALID" in ran.out, ran.out


# -- every rejection, explained ---------------------------------------------------------


def test_expired() -> None:
    ran = inspect_hs(tk.mint(exp=int(T0) + 120))
    assert rejected(ran, "expired") == "expired 3 min ago (exp 2027-01-15T08:02:00Z)"


def test_expired_beyond_leeway() -> None:
    ran = inspect_hs(tk.mint(exp=int(T0) + 120), "--leeway", "60")
    assert rejected(ran, "expired") == (
        "expired 3 min ago (exp 2027-01-15T08:02:00Z, beyond the 60 s leeway)"
    )
    assert inspect_hs(tk.mint(exp=int(T0) + 120), "--leeway", "5m").code == 0


def test_wrong_audience() -> None:
    ran = inspect_hs(tk.mint(), "--audience", "web")
    assert rejected(ran, "bad_audience") == "wrong audience (expected 'web', token says 'api')"


def test_missing_audience() -> None:
    ran = inspect_hs(tk.mint(aud=None), "--audience", "api")
    assert rejected(ran, "bad_audience") == "wrong audience (expected 'api', token has no 'aud')"


def test_wrong_issuer() -> None:
    ran = inspect_hs(tk.mint(), "--issuer", "https://other.example")
    assert rejected(ran, "bad_issuer") == (
        "wrong issuer (expected 'https://other.example', token says 'https://api.example')"
    )


def test_bad_signature() -> None:
    other = KeySet.from_secret("another-secret-that-is-32-bytes-long!", kid="k1")
    ran = inspect_hs(tk.mint(other))
    assert rejected(ran, "bad_signature") == (
        "bad signature: not signed by key 'k1' (HS256), or altered after signing"
    )


def test_tampered_claims_are_a_bad_signature() -> None:
    header, _, signature = tk.mint().split(".")
    evil = tk.mint(sub="admin").split(".")[1]
    ran = inspect_hs(f"{header}.{evil}.{signature}")
    assert rejected(ran, "bad_signature").startswith("bad signature")
    assert "Claims (NOT verified):" in ran.out and "sub    admin" in ran.out


def test_wrong_type() -> None:
    ran = inspect_hs(tk.mint(), "--type", "refresh")
    assert rejected(ran, "wrong_type") == (
        "wrong type: expected a refresh token (typ 'refresh+jwt'), "
        "got an access token (typ 'at+jwt')"
    )


def test_untyped_token() -> None:
    token = tk.forge({"alg": "HS256", "kid": "k1"}, tk.claims())
    assert rejected(inspect_hs(token), "wrong_type") == (
        "wrong type: expected an access token (typ 'at+jwt'), "
        "the token has no 'typ' header (tokens must be typed)"
    )


def test_unknown_kid(tmp_path: Path) -> None:
    jwks = KeySet.from_pem(tk.ec_private_pem(), "ES256", kid="other").public_jwks()
    key = tk.write(tmp_path / "jwks.json", jwks)
    ran = tokenlife("inspect", tk.mint(), "--key", key)
    assert rejected(ran, "unknown_key") == (
        "unknown kid: the token names kid 'k1', the keys have 'other'"
    )


def test_algorithm_not_bound_to_key(tmp_path: Path) -> None:
    # An HS256 token checked with an EC public key: the classic confusion attack.
    key = tk.write(tmp_path / "ec.pem", tk.public_pem(tk.ec_private_pem()))
    ran = tokenlife("inspect", tk.mint(), "--key", key)
    assert rejected(ran, "bad_algorithm") == (
        "algorithm not bound to key: the token says alg 'HS256', key 'k1' is bound to 'ES256'"
    )


def test_alg_none() -> None:
    token = tk.forge({"alg": "none", "kid": "k1", "typ": "at+jwt"}, tk.claims())
    assert rejected(inspect_hs(token), "bad_algorithm") == (
        "algorithm not bound to key: the token says alg 'none', key 'k1' is bound to "
        "'HS256' (an unsigned token is never accepted)"
    )


def test_refused_header() -> None:
    header = {"alg": "HS256", "kid": "k1", "typ": "at+jwt", "jku": "https://evil.example/k"}
    explanation = rejected(inspect_hs(tk.forge(header, tk.claims())), "bad_header")
    assert explanation.startswith("refused header: refused header member(s): ['jku']")


@pytest.mark.parametrize("with_key", [True, False])
def test_malformed(with_key: bool) -> None:
    ran = inspect_hs("not.a-token") if with_key else tokenlife("inspect", "not.a-token")
    assert rejected(ran, "malformed") == ("malformed: not a compact JWS (three base64url segments)")
    assert "Header (NOT verified): (cannot be decoded)" in ran.out


def test_issued_in_the_future() -> None:
    ran = inspect_hs(tk.mint(iat=int(T0) + 420))
    assert rejected(ran, "not_yet_valid") == (
        "issued in the future: iat is 2027-01-15T08:07:00Z (in 2 min); is the issuer's clock ahead?"
    )


def test_not_before() -> None:
    ran = inspect_hs(tk.mint(nbf=int(T0) + 900, exp=int(T0) + 1800))
    assert (
        rejected(ran, "not_yet_valid") == "not valid yet: nbf is 2027-01-15T08:15:00Z (in 10 min)"
    )


def test_missing_claim() -> None:
    ran = inspect_hs(tk.mint(sid=None))
    assert rejected(ran, "missing_claim") == "missing claim: 'sid' is required in an access token"


def test_claim_of_the_wrong_json_type() -> None:
    ran = inspect_hs(tk.mint(sub=42))
    explanation = rejected(ran, "bad_claim")
    assert explanation.startswith("invalid claims: ") and "$.sub" in explanation


def test_real_clock_when_now_is_not_pinned() -> None:
    token = tk.mint(iat=int(time.time()) - 60, exp=4_000_000_000)
    ran = tokenlife("inspect", token, "--secret-env", "JWT_SECRET", "--json", env=ENV, now=None)
    assert ran.code == 0, ran.err
    assert abs(ran.json()["now"]["epoch"] - time.time()) < 120


def test_duplicate_claim_names_show_the_verified_claims() -> None:
    """The codec keeps the last of duplicate claims (RFC 7519 §4); show that one."""
    token = tk.forge_raw(tk.claims_json(sub=["alice", "admin"]))
    ran = inspect_hs(token, "--json")
    assert ran.code == 0, ran.out
    assert ran.json()["claims"]["sub"] == "admin"


def test_duplicate_claim_names_without_a_key_are_shown_not_condemned() -> None:
    ran = tokenlife("inspect", tk.forge_raw(tk.claims_json(sub=["alice", "admin"])), "--json")
    assert ran.code == 0, ran.out
    assert ran.json()["claims"]["sub"] == "admin"
    assert ran.json()["verification"]["valid"] is None
