"""The seed examples' contract, on both frameworks (tests outside this repository rely on it).

``seed_app.py`` (Litestar) and ``seed_fastapi.py`` (FastAPI) must agree on the
environment, routes, bodies, status codes, cookies and CSRF header; every case
runs against each, and the demo walks each.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from httpx import Client

from tokenlife_memory import MemoryStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
PROTECTED = "You have access to this protected resource"
#: seed module -> the framework it needs
SEEDS = {"seed_app": "litestar", "seed_fastapi": "fastapi"}


def _client(module: str, app: Any, **kwargs: Any) -> Client:
    if SEEDS[module] == "litestar":
        from litestar.testing import TestClient

        return TestClient(app, **kwargs)
    from starlette.testclient import TestClient as StarletteClient

    return StarletteClient(app, **kwargs)


@pytest.fixture(params=sorted(SEEDS))
def seed(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ModuleType]:
    name: str = request.param
    pytest.importorskip(SEEDS[name])
    pytest.importorskip(f"tokenlife_{SEEDS[name]}")
    monkeypatch.setenv("TOKENLIFE_SECRET", "seed-contract-secret-0123456789abcdefghij")
    monkeypatch.setenv("TOKENLIFE_DB", str(tmp_path / "seed.sqlite3"))
    monkeypatch.setenv("TOKENLIFE_SECURE_COOKIES", "0")
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop(name, None)
    yield importlib.import_module(name)
    sys.modules.pop(name, None)


@pytest.fixture
def client(seed: ModuleType) -> Iterator[Client]:
    with _client(seed.__name__, seed.create_app(store=MemoryStore())) as opened:
        yield opened


def _login(client: Client, user: str, password: str) -> Any:
    return client.post("/login", json={"username": user, "password": password})


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_module_exposes_an_app(seed: ModuleType) -> None:
    assert callable(seed.app)
    assert (
        type(seed.app).__name__
        == {"seed_app": "Litestar", "seed_fastapi": "FastAPI"}[seed.__name__]
    )
    assert seed.PROTECTED_TEXT == PROTECTED


def test_login(client: Client) -> None:
    response = _login(client, "test", "test")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert {"tl_access", "tl_refresh", "tl_csrf"} <= set(client.cookies)
    for user, password in [("test", "nope"), ("nobody", "test"), ("admin", "test"), ("", "")]:
        assert _login(client, user, password).status_code == 401
    # JSON only: a body that is not (or is wrongly typed) is a bad request.
    assert client.post("/login", content=b"not json").status_code == 400
    assert client.post("/login", json={"username": "test"}).status_code == 400


def test_protected_whoami_admin_fresh(client: Client) -> None:
    assert client.get("/protected").status_code == 401
    client.cookies.clear()
    pair = _login(client, "test", "test").json()
    client.cookies.clear()
    access = _auth(pair["access_token"])
    response = client.get("/protected", headers=access)
    assert (response.status_code, response.text) == (200, PROTECTED)
    whoami = client.get("/whoami", headers=access).json()
    assert set(whoami) == {"sub", "sid", "scopes", "fresh"}
    assert whoami["sub"] == "test" and whoami["scopes"] == [] and whoami["fresh"] is True
    assert client.get("/admin", headers=access).status_code == 403
    assert client.get("/fresh", headers=access).status_code == 200
    admin = _login(client, "admin", "admin").json()
    client.cookies.clear()
    assert client.get("/admin", headers=_auth(admin["access_token"])).status_code == 200
    assert client.get("/whoami", headers=_auth(admin["access_token"])).json()["scopes"] == ["admin"]


def test_post_protected_by_cookie_needs_the_csrf_header(client: Client) -> None:
    pair = _login(client, "test", "test").json()
    assert client.post("/protected").status_code == 403
    assert client.post("/protected", headers={"X-CSRF-Token": "forged"}).status_code == 403
    response = client.post("/protected", headers={"X-CSRF-Token": client.cookies["tl_csrf"]})
    assert (response.status_code, response.text) == (200, PROTECTED)
    client.cookies.clear()
    by_bearer = client.post("/protected", headers=_auth(pair["access_token"]))
    assert (by_bearer.status_code, by_bearer.text) == (200, PROTECTED)
    assert client.post("/protected").status_code == 401


def test_refresh_three_ways_and_failures(client: Client) -> None:
    _login(client, "test", "test")
    by_cookie = client.post("/refresh", headers={"X-CSRF-Token": client.cookies["tl_csrf"]})
    assert by_cookie.status_code == 200
    by_header = client.post("/refresh", headers=_auth(by_cookie.json()["refresh_token"]))
    assert by_header.status_code == 200
    assert {"access_token", "refresh_token"} <= set(by_header.json())
    assert "set-cookie" not in by_header.headers  # cookies only for a refresh by cookie
    by_body = client.post("/refresh", json={"refresh_token": by_header.json()["refresh_token"]})
    assert by_body.status_code == 200
    fresh = client.get("/fresh", headers=_auth(by_body.json()["access_token"]))
    assert fresh.status_code == 403
    client.cookies.clear()
    assert client.post("/refresh").json()["error"] == "invalid_request"
    bad = client.post("/refresh", json={"refresh_token": "x"})
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_grant")


def test_logout_with_access_or_refresh_token(client: Client) -> None:
    for kind in ("access_token", "refresh_token"):
        pair = _login(client, "test", "test").json()
        client.cookies.clear()
        response = client.post("/logout", headers=_auth(pair[kind]))
        assert response.status_code in (200, 204)
        assert client.get("/protected", headers=_auth(pair["access_token"])).status_code == 401
        assert client.post("/refresh", headers=_auth(pair["refresh_token"])).status_code == 401


def test_logout_clears_cookies(client: Client) -> None:
    _login(client, "test", "test")
    response = client.post("/logout", headers={"X-CSRF-Token": client.cookies["tl_csrf"]})
    assert response.status_code in (200, 204)
    assert not client.cookies
    assert client.get("/protected").status_code == 401


def test_settings_from_the_environment(
    seed: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("TOKENLIFE_ACCESS_TTL", "60")
    monkeypatch.setenv("TOKENLIFE_SECURE_COOKIES", "1")
    monkeypatch.delenv("TOKENLIFE_SECRET")
    with caplog.at_level("WARNING"):
        app = seed.create_app(store=MemoryStore())
    assert any("TOKENLIFE_SECRET" in r.message for r in caplog.records)
    with _client(seed.__name__, app, base_url="https://testserver.local") as client:
        response = _login(client, "test", "test")
        assert response.json()["expires_in"] == 60
        assert all("Secure" in c for c in response.headers.get_list("set-cookie"))


def test_the_demo_walks_through(
    seed: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("TOKENLIFE_SECRET", "demo-test-secret-0123456789abcdefghijklmn")
    monkeypatch.delenv("TOKENLIFE_DB", raising=False)
    sys.modules.pop(seed.__name__, None)
    demo = importlib.import_module("demo")
    try:
        assert demo.main(["--app", SEEDS[seed.__name__]]) == 0
    finally:
        sys.modules.pop(seed.__name__, None)
        sys.modules.pop("demo", None)
    out = capsys.readouterr().out
    assert f"the {SEEDS[seed.__name__]} seed app" in out
    assert "reuse detected" in out
    assert "Every step answered as it should." in out


def test_devices_list_end_one_end_others_end_all(client: Client) -> None:
    """docs/devices.md, request by request, on both seed apps."""
    phone = _login(client, "test", "test").json()
    client.cookies.clear()
    laptop = _login(client, "test", "test").json()
    listed = client.get("/sessions", headers=_auth(laptop["access_token"]))
    assert listed.status_code == 200
    sessions = listed.json()["sessions"]
    assert [s["current"] for s in sessions] == [False, True]
    assert set(sessions[0]) == {
        "id",
        "created_at",
        "refreshed_at",
        "expires_at",
        "client",
        "current",
    }
    ended = client.delete(f"/sessions/{sessions[0]['id']}", headers=_auth(laptop["access_token"]))
    assert ended.status_code == 204
    assert client.get("/protected", headers=_auth(phone["access_token"])).status_code == 401
    missing = client.delete(f"/sessions/{sessions[0]['id']}", headers=_auth(laptop["access_token"]))
    assert missing.status_code == 404 and missing.json() == {"error": "not_found"}
    tablet = _login(client, "test", "test").json()
    others = client.post("/logout/others", headers=_auth(tablet["access_token"]))
    assert others.status_code == 200 and others.json() == {"ended": 1}
    assert client.get("/protected", headers=_auth(tablet["access_token"])).status_code == 200
    everything = client.post("/logout/all", headers=_auth(tablet["access_token"]))
    assert everything.status_code == 200 and everything.json() == {"ended": 1}
    assert client.get("/protected", headers=_auth(tablet["access_token"])).status_code == 401


def test_max_sessions_ends_the_oldest_login(
    seed: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``TOKENLIFE_MAX_SESSIONS=2``: a third login ends the first session."""
    monkeypatch.setenv("TOKENLIFE_MAX_SESSIONS", "2")
    with _client(seed.__name__, seed.create_app(store=MemoryStore())) as client:
        logins = [_login(client, "test", "test").json() for _ in range(3)]
        statuses = [
            client.get("/protected", headers=_auth(login["access_token"])).status_code
            for login in logins
        ]
        assert statuses == [401, 200, 200]
        listed = client.get("/sessions", headers=_auth(logins[2]["access_token"])).json()
        assert len(listed["sessions"]) == 2
