"""docs/examples/oauth_clients.py against the Litestar seed under uvicorn (RFC 6749 §6, 7009 §2).

Authlib's ``AsyncOAuth2Client`` refreshes and revokes; PyJWT's ``PyJWKClient``
verifies the refreshed access token by ``kid`` (RFC 7515 §4.1.4).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from pathlib import Path

import httpx
import pytest

from tests.http.test_seed_apps import EXAMPLES
from tests.http.test_seed_jwks import _private_jwk


def test_oauth_clients_example_refreshes_revokes_and_verifies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """RFC 6749 §6 and RFC 7009 §2 with Authlib; RFC 7517 §5 with PyJWKClient."""
    pytest.importorskip("authlib")
    pytest.importorskip("tokenlife_litestar")
    pytest.importorskip("uvicorn")
    from tests.http.test_browser import Server

    key_file = tmp_path / "private.jwks.json"
    key_file.write_text(json.dumps({"keys": [_private_jwk("k1")]}))
    monkeypatch.setenv("TOKENLIFE_KEY_FILE", str(key_file))
    monkeypatch.setenv("TOKENLIFE_DB", str(tmp_path / "seed.sqlite3"))
    monkeypatch.setenv("TOKENLIFE_SECURE_COOKIES", "0")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    for name in ("seed_app", "oauth_clients"):
        sys.modules.pop(name, None)
    seed = importlib.import_module("seed_app")
    oauth_clients = importlib.import_module("oauth_clients")
    with Server(seed.app) as server:
        login = httpx.post(server.url + "/login", json={"username": "test", "password": "test"})
        token = asyncio.run(
            oauth_clients.refresh_then_revoke(login.json()["refresh_token"], server.url)
        )
        assert oauth_clients.verify_elsewhere(token["access_token"], server.url)["sub"] == "test"
        # Revoked: the session is over, so its access token is refused.
        who = httpx.get(
            server.url + "/whoami", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert who.status_code == 401
    sys.modules.pop("seed_app", None)
