"""The seed apps with ``TOKENLIFE_DPOP=1``: a DPoP client and a bearer client side by side."""

from __future__ import annotations

from types import ModuleType

import pytest

from tests.dpop_client import DPoPClient
from tests.http.test_seed_apps import _client, _login
from tests.http.test_seed_apps import seed as seed  # the fixture: both seed apps
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_a_dpop_client_on_the_seed_app(
    seed: ModuleType, monkeypatch: pytest.MonkeyPatch, alg: str
) -> None:
    monkeypatch.setenv("TOKENLIFE_DPOP", "1")
    clock = FrozenClock()
    key = DPoPClient(alg)
    with _client(seed.__name__, seed.create_app(store=MemoryStore(), clock=clock)) as client:
        base = str(client.base_url).rstrip("/")

        def proof(method: str, path: str, token: str | None = None) -> str:
            return key.proof(method, base + path, iat=clock(), access_token=token)

        response = client.post(
            "/login",
            json={"username": "test", "password": "test"},
            headers={"DPoP": proof("POST", "/login")},
        )
        assert response.status_code == 200, response.text
        assert not response.headers.get_list("set-cookie"), "a bound session sets no cookies"
        tokens = response.json()
        assert tokens["token_type"] == "DPoP"
        token = tokens["access_token"]
        auth = {"Authorization": f"DPoP {token}"}
        who = client.get("/whoami", headers={**auth, "DPoP": proof("GET", "/whoami", token)})
        assert (who.status_code, who.json()["sub"]) == (200, "test")
        stolen = client.get("/whoami", headers={"Authorization": f"Bearer {token}"})
        assert stolen.status_code == 401
        assert stolen.headers["www-authenticate"].startswith('DPoP error="invalid_token"')
        replay = client.get("/whoami", headers={**auth, "DPoP": who.request.headers["DPoP"]})
        assert replay.status_code == 401
        assert 'error="invalid_dpop_proof"' in replay.headers["www-authenticate"]
        body = {"refresh_token": tokens["refresh_token"]}
        assert client.post("/refresh", json=body).status_code == 400
        refreshed = client.post("/refresh", json=body, headers={"DPoP": proof("POST", "/refresh")})
        assert (refreshed.status_code, refreshed.json()["token_type"]) == (200, "DPoP")
        bearer = _login(client, "admin", "admin").json()
        assert bearer["token_type"] == "bearer"
        admin = client.get("/admin", headers={"Authorization": f"Bearer {bearer['access_token']}"})
        assert admin.status_code == 200


def test_dpop_required_refuses_a_login_without_a_proof(
    seed: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKENLIFE_DPOP", "required")
    with _client(seed.__name__, seed.create_app(store=MemoryStore())) as client:
        response = _login(client, "test", "test")
        assert (response.status_code, response.json()) == (400, {"error": "invalid_dpop_proof"})
