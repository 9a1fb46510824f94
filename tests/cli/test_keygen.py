"""``tokenlife keygen``: every output loads back into the core and signs/verifies."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from tests.cli._cli import tokenlife
from tokenlife import ACCESS_TYP, Codec, KeySet

PAIRS = ("RS256", "ES256", "EdDSA")
CLAIMS = {"sub": "alice", "exp": 4_000_000_000}


def _round_trip(signer: KeySet, verifier: KeySet) -> None:
    token = Codec(signer).encode(CLAIMS, typ=ACCESS_TYP)
    assert Codec(verifier).decode(token, typ=ACCESS_TYP, now=0).sub == "alice"


@pytest.mark.parametrize("alg", PAIRS)
def test_key_pair_round_trips_through_pem_and_jwks(alg: str) -> None:
    ran = tokenlife("keygen", "--alg", alg, "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert list(doc) == [
        "algorithm", "kid", "kind", "private_pem", "public_pem",
        "private_jwk", "public_jwk", "private_jwks", "public_jwks",
    ]  # fmt: skip
    assert (doc["algorithm"], doc["kind"]) == (alg, "key_pair")
    from_pem = KeySet.from_pem(doc["private_pem"], alg)
    public_pem = KeySet.from_pem(doc["public_pem"], alg)
    private_jwks = KeySet.from_jwks(doc["private_jwks"])
    public_jwks = KeySet.from_jwks(doc["public_jwks"])
    # The default kid is the core's own (RFC 7638 thumbprint), whatever the format.
    assert {from_pem.active.kid, private_jwks.active.kid, public_jwks.keys[0].kid} == {doc["kid"]}
    assert private_jwks.can_sign and not public_jwks.can_sign and not public_pem.can_sign
    assert "d" not in doc["public_jwk"] and "d" in doc["private_jwk"]
    _round_trip(from_pem, public_jwks)
    _round_trip(private_jwks, public_pem)
    assert public_jwks.public_jwks() == doc["public_jwks"]


def test_hmac_secret_round_trips_as_bytes_and_oct_jwk() -> None:
    ran = tokenlife("keygen", "--alg", "HS256", "--kid", "primary", "--json")
    assert ran.code == 0, ran.err
    doc = ran.json()
    assert (doc["kind"], doc["kid"], doc["public_jwks"]) == ("secret", "primary", {"keys": []})
    raw = base64.urlsafe_b64decode(doc["secret_base64url"] + "==")
    assert len(raw) == 32
    from_secret = KeySet.from_secret(raw, "HS256", kid="primary")
    from_jwks = KeySet.from_jwks(doc["private_jwks"])
    assert from_jwks.active.kid == "primary"
    assert doc["private_jwk"]["kty"] == "oct"
    _round_trip(from_secret, from_jwks)
    _round_trip(from_jwks, from_secret)


def test_explicit_kid_and_text_output() -> None:
    ran = tokenlife("keygen", "--alg", "EdDSA", "--kid", "2025-01")
    assert ran.code == 0, ran.err
    assert ran.out.startswith("EdDSA key pair, kid '2025-01'\n")
    for heading in ("private key, PKCS#8 PEM", "public key", "private JWKS", "public JWKS"):
        assert heading in ran.out
    # The private PEM is the section after its heading, up to the blank line.
    section = ran.out.split("== private key, PKCS#8 PEM (KeySet.from_pem) ==\n", 1)[1]
    pem = section.split("\n\n", 1)[0]
    assert KeySet.from_pem(pem, "EdDSA", kid="2025-01").can_sign


def test_two_runs_make_two_different_keys() -> None:
    first, second = (tokenlife("keygen", "--alg", "HS256", "--json").json() for _ in range(2))
    assert first["secret_base64url"] != second["secret_base64url"]


def test_out_writes_files_private_ones_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    ran = tokenlife("keygen", "--alg", "ES256", "--out", tmp_path)
    assert ran.code == 0, ran.err
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"private.pem", "public.pem", "private.jwks.json", "public.jwks.json"}
    for name in ("private.pem", "private.jwks.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    signer = KeySet.from_pem((tmp_path / "private.pem").read_bytes(), "ES256")
    _round_trip(signer, KeySet.from_jwks((tmp_path / "public.jwks.json").read_text()))
    before = (tmp_path / "private.pem").read_bytes()
    again = tokenlife("keygen", "--alg", "ES256", "--out", tmp_path)
    assert again.code == 1
    assert "refusing to overwrite" in again.one_line_error()
    assert (tmp_path / "private.pem").read_bytes() == before
    forced = tokenlife("keygen", "--alg", "ES256", "--out", tmp_path, "--force", "--json")
    assert forced.code == 0 and len(forced.json()["files"]) == 4
    assert (tmp_path / "private.pem").read_bytes() != before


def test_hmac_out_files(tmp_path: Path) -> None:
    ran = tokenlife("keygen", "--alg", "HS256", "--out", tmp_path)
    assert ran.code == 0, ran.err
    secret = (tmp_path / "secret.b64url").read_text().strip()
    raw = base64.urlsafe_b64decode(secret + "==")
    from_file = KeySet.from_jwks((tmp_path / "private.jwks.json").read_text())
    _round_trip(KeySet.from_secret(raw, kid=from_file.active.kid), from_file)
