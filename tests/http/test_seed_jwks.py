"""The seed apps with asymmetric keys (``TOKENLIFE_KEY_FILE``), verified by PyJWT's ``PyJWKClient``.

``PyJWKClient`` fetches with urllib, so each seed runs under uvicorn on
127.0.0.1. RFC 7517 §5 (a JWK Set), RFC 7515 §4.1.4 (``kid`` picks the key),
RFC 8414 §2 (``jwks_uri`` in the metadata).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from tests.http.test_browser import Server
from tests.http.test_seed_apps import EXAMPLES, SEEDS


def _private_jwk(kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())))
    return {**jwk, "kid": kid, "alg": "ES256", "use": "sig"}


def _serve(name: str, monkeypatch: pytest.MonkeyPatch, key_file: Path, db: Path) -> Server:
    monkeypatch.setenv("TOKENLIFE_KEY_FILE", str(key_file))
    monkeypatch.setenv("TOKENLIFE_SECRET", "ignored-when-a-key-file-is-set-0123456789")
    monkeypatch.setenv("TOKENLIFE_DB", str(db))
    monkeypatch.setenv("TOKENLIFE_SECURE_COOKIES", "0")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop(name, None)
    return Server(importlib.import_module(name).app)


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_rfc7517_pyjwkclient_verifies_by_kid_across_rotation(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """RFC 7517 §5 / RFC 7515 §4.1.4: a standard JWKS client verifies by kid, old and new key."""
    pytest.importorskip(f"tokenlife_{SEEDS[name]}")
    pytest.importorskip("uvicorn")
    old, new = _private_jwk("k1"), _private_jwk("k2")
    key_file = tmp_path / "private.jwks.json"
    db = tmp_path / "seed.sqlite3"
    tokens: list[str] = []
    for keys in ([old], [new, old]):  # rotation: the new key signs, the old one still verifies
        key_file.write_text(json.dumps({"keys": keys}))
        with _serve(name, monkeypatch, key_file, db) as server:
            login = httpx.post(server.url + "/login", json={"username": "test", "password": "test"})
            tokens.append(login.json()["access_token"])
            meta = httpx.get(server.url + "/.well-known/oauth-authorization-server").json()
            assert meta["jwks_uri"].endswith("/.well-known/jwks.json")
            published = httpx.get(server.url + "/.well-known/jwks.json")
            assert "max-age" in published.headers["cache-control"]
            assert all("d" not in k for k in published.json()["keys"])  # public halves only
            client = jwt.PyJWKClient(server.url + "/.well-known/jwks.json")
            for token in tokens:
                key = client.get_signing_key_from_jwt(token)
                claims = jwt.decode(
                    token, key.key, algorithms=["ES256"], options={"verify_aud": False}
                )
                assert claims["sub"] == "test"
    assert [jwt.get_unverified_header(t)["kid"] for t in tokens] == ["k1", "k2"]
    sys.modules.pop(name, None)
