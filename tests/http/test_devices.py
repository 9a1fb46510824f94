"""The devices routes: list, end one, end the others, end all — the caller's own sessions only.

docs/devices.md. Every adapter serves them from the same web layer; each
answer says what really happened, and a refused request ends nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.http.conftest import Served, ServeFactory, bearer, cleared
from tokenlife.web import CookieConfig

ROUTES: dict[str, Any] = {
    "sessions_path": "/sessions",
    "logout_others_path": "/logout/others",
    "logout_all_path": "/logout/all",
}


@pytest.fixture
def app(serve: ServeFactory) -> Served:
    return serve(**ROUTES)


@pytest.fixture
def cookie_devices(serve: ServeFactory) -> Served:
    return serve(cookies=CookieConfig(secure=False), **ROUTES)


def _login(app: Served, user: str = "alice") -> dict[str, Any]:
    """A login's token response, plus its session id (from ``/whoami``)."""
    body = app.login(user)
    body["session_id"] = app.client.get("/whoami", headers=bearer(body["access_token"])).json()[
        "sid"
    ]
    return body


def _sessions(app: Served, token: str) -> list[dict[str, Any]]:
    response = app.client.get("/sessions", headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    found: list[dict[str, Any]] = response.json()["sessions"]
    return found


def _live(app: Served, token: str) -> int:
    return app.client.get("/whoami", headers=bearer(token)).status_code


def test_the_list_shows_only_the_callers_live_sessions_and_marks_the_current(app: Served) -> None:
    first = _login(app)
    app.clock.advance(5)
    second = _login(app)
    _login(app, "bob")
    listed = _sessions(app, second["access_token"])
    assert [s["id"] for s in listed] == [first["session_id"], second["session_id"]]
    assert [s["current"] for s in listed] == [False, True]
    assert listed[0]["created_at"] == listed[0]["refreshed_at"] < listed[1]["created_at"]
    assert all(s["expires_at"] > s["created_at"] for s in listed)
    assert all(isinstance(s["client"], str) and s["client"] for s in listed)
    assert not {"access_token", "refresh_token", "subject"} & set(listed[0])


def test_the_client_label_is_the_logins_user_agent_made_printable(app: Served) -> None:
    response = app.client.post(
        "/login",
        json={"username": "alice", "password": "alice-pw"},
        headers={"User-Agent": "Agent\x1b[31m/1.0 " + "x" * 500},
    )
    assert response.status_code == 200
    (listed,) = _sessions(app, response.json()["access_token"])
    assert listed["client"].startswith("Agent?[31m/1.0 x")
    assert len(listed["client"]) == 200


def test_ending_another_session_of_ones_own_is_204_and_it_is_over(app: Served) -> None:
    other, mine = _login(app), _login(app)
    response = app.client.delete(
        f"/sessions/{other['session_id']}", headers=bearer(mine["access_token"])
    )
    assert response.status_code == 204
    assert _live(app, other["access_token"]) == 401
    refresh = app.config.refresh_path
    assert refresh is not None
    refused = app.client.post(refresh, json={"refresh_token": other["refresh_token"]})
    assert refused.status_code == 401
    assert _live(app, mine["access_token"]) == 200
    assert [s["id"] for s in _sessions(app, mine["access_token"])] == [mine["session_id"]]
    # Already over: nothing ends, so not a 204.
    again = app.client.delete(
        f"/sessions/{other['session_id']}", headers=bearer(mine["access_token"])
    )
    assert again.status_code == 404


@pytest.mark.parametrize(
    "session_id", ["unknown-session", "x" * 129, "a%00b", "%E2%80%AE", "a b", "%2F"]
)
def test_an_unknown_or_hostile_id_is_404_and_ends_nothing(app: Served, session_id: str) -> None:
    mine = _login(app)
    response = app.client.delete(f"/sessions/{session_id}", headers=bearer(mine["access_token"]))
    # Ours (404), or the framework's for a path it cannot route; never a 500.
    assert response.status_code in (404, 405)
    assert _live(app, mine["access_token"]) == 200


def test_another_subjects_session_is_404_and_stays_live(app: Served) -> None:
    mine, theirs = _login(app), _login(app, "bob")
    response = app.client.delete(
        f"/sessions/{theirs['session_id']}", headers=bearer(mine["access_token"])
    )
    assert response.status_code == 404
    assert _live(app, theirs["access_token"]) == 200


def test_ending_the_current_session_logs_the_caller_out(app: Served) -> None:
    mine = _login(app)
    response = app.client.delete(
        f"/sessions/{mine['session_id']}", headers=bearer(mine["access_token"])
    )
    assert response.status_code == 204
    assert _live(app, mine["access_token"]) == 401


def test_logout_others_ends_every_other_session_and_keeps_this_one(app: Served) -> None:
    others = [_login(app) for _ in range(3)]
    mine, bobs = _login(app), _login(app, "bob")
    response = app.client.post("/logout/others", headers=bearer(mine["access_token"]))
    assert response.status_code == 200 and response.json() == {"ended": 3}
    assert all(_live(app, o["access_token"]) == 401 for o in others)
    assert _live(app, mine["access_token"]) == 200 and _live(app, bobs["access_token"]) == 200
    refresh = app.config.refresh_path
    assert refresh is not None
    rotated = app.client.post(refresh, json={"refresh_token": mine["refresh_token"]})
    assert rotated.status_code == 200
    assert _live(app, rotated.json()["access_token"]) == 200
    # Nothing left to end: the answer says so.
    again = app.client.post("/logout/others", headers=bearer(rotated.json()["access_token"]))
    assert again.json() == {"ended": 0}


def test_logout_all_ends_every_session_of_the_caller_only(app: Served) -> None:
    sessions = [_login(app) for _ in range(3)]
    bobs = _login(app, "bob")
    response = app.client.post("/logout/all", headers=bearer(sessions[0]["access_token"]))
    assert response.status_code == 200 and response.json() == {"ended": 3}
    assert all(_live(app, s["access_token"]) == 401 for s in sessions)
    assert _live(app, bobs["access_token"]) == 200


def test_every_devices_route_needs_an_access_token(app: Served) -> None:
    mine = _login(app)
    requests = [
        ("GET", "/sessions"),
        ("DELETE", f"/sessions/{mine['session_id']}"),
        ("POST", "/logout/others"),
        ("POST", "/logout/all"),
    ]
    for method, path in requests:
        assert app.client.request(method, path).status_code == 401
        refresh_as_access = bearer(mine["refresh_token"])
        assert app.client.request(method, path, headers=refresh_as_access).status_code == 401
    assert _live(app, mine["access_token"]) == 200


def test_a_store_outage_is_503_and_ends_nothing(app: Served) -> None:
    mine = _login(app)
    app.store.broken = True
    for method, path in [("GET", "/sessions"), ("POST", "/logout/others")]:
        response = app.client.request(method, path, headers=bearer(mine["access_token"]))
        assert response.status_code == 503
    app.store.broken = False
    assert _live(app, mine["access_token"]) == 200


def test_by_cookie_unsafe_devices_routes_need_the_csrf_header(cookie_devices: Served) -> None:
    app = cookie_devices
    other = _login(app)
    app.client.cookies.clear()
    _login(app)  # the cookies are this session's
    for method, path in [
        ("POST", "/logout/others"),
        ("POST", "/logout/all"),
        ("DELETE", f"/sessions/{other['session_id']}"),
    ]:
        assert app.client.request(method, path).status_code == 403
    assert _live(app, other["access_token"]) == 200
    assert len(app.client.get("/sessions").json()["sessions"]) == 2  # a safe method: no header
    response = app.client.post("/logout/others", headers=app.csrf())
    assert response.json() == {"ended": 1} and not cleared(response)
    assert _live(app, other["access_token"]) == 401


def test_by_cookie_logout_all_clears_the_cookies(cookie_devices: Served) -> None:
    app = cookie_devices
    _login(app)
    response = app.client.post("/logout/all", headers=app.csrf())
    assert response.status_code == 200 and response.json() == {"ended": 1}
    assert cleared(response)
    assert app.client.get("/whoami").status_code == 401
