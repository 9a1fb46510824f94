"""docs/dpop.md: dpop_server.py binds a session to a key, and refuses everything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from docs.examples import dpop_server
from tests.docs.conftest import DOCS, SECRET
from tests.dpop_client import DPoPClient
from tokenlife import SecurityEvent


def test_the_page_is_in_the_nav_and_shows_the_browser_key_as_non_extractable() -> None:
    page = (DOCS / "dpop.md").read_text(encoding="utf-8")
    assert "dpop.md" in (DOCS.parent / "mkdocs.yml").read_text(encoding="utf-8")
    assert "generateKey" in page and "false" in page and '"sign"' in page


def test_dpop_server_binds_sessions_and_refuses_a_copied_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[SecurityEvent] = []

    def hook(event: SecurityEvent) -> None:
        events.append(event)
        dpop_server.alert(event)

    authority = dpop_server.make_authority(SECRET, str(tmp_path / "t.db"), on_event=hook)
    key = DPoPClient("ES256")
    with TestClient(dpop_server.create_app(authority)) as client:
        base = str(client.base_url).rstrip("/")
        now = authority.now()
        credentials = {"username": "alice", "password": "wonderland"}
        assert client.post("/login", json=credentials).status_code == 400, "DPoP is required"
        login = client.post(
            "/login",
            json=credentials,
            headers={"DPoP": key.proof("POST", base + "/login", iat=now)},
        )
        tokens = login.json()
        assert tokens["token_type"] == "DPoP"
        token = tokens["access_token"]
        me = client.get(
            "/me",
            headers={
                "Authorization": f"DPoP {token}",
                "DPoP": key.proof("GET", base + "/me", iat=now, access_token=token),
            },
        )
        assert me.json() == {"subject": "alice", "bound_to": key.jkt}
        assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        copied = client.post("/token/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert copied.status_code == 400
        assert [e.kind for e in events] == ["dpop_binding_refused"]
        assert "stolen refresh token?" in capsys.readouterr().out
        refreshed = client.post(
            "/token/refresh",
            json={"refresh_token": tokens["refresh_token"]},
            headers={"DPoP": key.proof("POST", base + "/token/refresh", iat=now)},
        )
        assert refreshed.json()["token_type"] == "DPoP"


def test_an_origin_names_the_public_url(tmp_path: Path) -> None:
    authority = dpop_server.make_authority(SECRET, str(tmp_path / "t.db"))
    key = DPoPClient("EdDSA")
    with TestClient(dpop_server.create_app(authority, origin="https://api.example")) as client:
        proof = key.proof("POST", "https://api.example/login", iat=authority.now())
        login = client.post(
            "/login", json={"username": "alice", "password": "wonderland"}, headers={"DPoP": proof}
        )
        assert login.json()["token_type"] == "DPoP"
