"""Cookie mode: attributes, session-bound CSRF, implicit refresh, logout that stays logged out."""

from __future__ import annotations

import anyio
from httpx import Response

from tests.http.conftest import Served, ServeFactory, bearer, cleared, set_cookies
from tokenlife import Policy
from tokenlife.store import RefreshState
from tokenlife.web import CookieConfig


def _attributes(set_cookie: str) -> dict[str, str]:
    """A Set-Cookie header's attributes (lower-case names), value excluded."""
    found: dict[str, str] = {}
    for part in set_cookie.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        found[name.lower()] = value
    return found


def _login(app: Served) -> Response:
    response = app.client.post("/login", json={"username": "alice", "password": "alice-pw"})
    assert response.status_code == 200
    return response


def test_login_sets_three_cookies_with_the_right_attributes(serve: ServeFactory) -> None:
    app = serve(cookies=CookieConfig())  # Secure by default
    cookies = set_cookies(_login(app))
    assert set(cookies) == set(app.names)
    access, refresh, csrf = (_attributes(cookies[n]) for n in app.names)
    for attrs in (access, refresh, csrf):
        assert "secure" in attrs and "domain" not in attrs
        assert attrs["samesite"].lower() == "lax"
        assert attrs["path"] == "/"
    assert "httponly" in access and "httponly" in refresh
    assert "httponly" not in csrf  # the page must read it for double submit
    assert access["max-age"] == "300"
    assert 0 < int(refresh["max-age"]) <= 14 * 86400


def test_logout_clears_with_identical_attributes(cookie_app: Served) -> None:
    issued = set_cookies(_login(cookie_app))
    response = cookie_app.client.post("/auth/logout", headers=cookie_app.csrf())
    assert response.status_code == 204 and cleared(response)
    gone = set_cookies(response)
    assert set(gone) == set(cookie_app.names)
    for name in cookie_app.names:
        before, after = _attributes(issued[name]), _attributes(gone[name])
        assert after.pop("max-age") == "0"
        before.pop("max-age")
        assert before == after
    assert cookie_app.client.get("/protected").status_code == 401


def test_cookies_authenticate_safe_methods_without_refreshing(cookie_app: Served) -> None:
    _login(cookie_app)
    response = cookie_app.client.get("/whoami")
    assert response.status_code == 200 and response.json()["sub"] == "alice"
    assert "set-cookie" not in response.headers  # far from expiry: nothing refreshed


def test_unsafe_cookie_requests_need_the_sessions_csrf_header(cookie_app: Served) -> None:
    _login(cookie_app)
    response = cookie_app.client.post("/protected")
    assert (response.status_code, response.json()) == (403, {"error": "invalid_csrf_token"})
    assert cookie_app.client.post("/protected", headers={"X-CSRF-Token": "x"}).status_code == 403
    assert cookie_app.client.post("/protected", headers=cookie_app.csrf()).status_code == 200


def test_bearer_requests_need_no_csrf_and_the_header_wins(cookie_app: Served) -> None:
    token = _login(cookie_app).json()["access_token"]
    refused = cookie_app.client.get("/protected", headers=bearer("bad.token.here"))
    assert refused.status_code == 401  # the header is tried first, even with good cookies
    cookie_app.client.cookies.clear()
    assert cookie_app.client.post("/protected", headers=bearer(token)).status_code == 200


def test_missing_or_expired_access_cookie_is_refreshed_in_line(cookie_app: Served) -> None:
    access, refresh, _ = cookie_app.names
    first = set_cookies(_login(cookie_app))
    cookie_app.client.cookies.delete(access)  # the browser dropped it at Max-Age
    response = cookie_app.client.get("/whoami")
    assert response.status_code == 200
    renewed = set_cookies(response)
    assert set(renewed) == set(cookie_app.names)
    assert renewed[refresh] != first[refresh]  # rotated
    cookie_app.clock.advance(400)  # past the access lifetime; the cookie is still sent
    again = cookie_app.client.get("/whoami")
    assert again.status_code == 200 and access in set_cookies(again)


def test_access_cookie_near_expiry_is_refreshed(cookie_app: Served) -> None:
    _login(cookie_app)
    cookie_app.clock.advance(250)  # 50 s left, the window is 30 s: nothing yet
    assert "set-cookie" not in cookie_app.client.get("/protected").headers
    cookie_app.clock.advance(25)
    response = cookie_app.client.get("/protected")
    assert response.status_code == 200 and cookie_app.names[0] in set_cookies(response)


def test_unsafe_implicit_refresh_checks_csrf_before_rotating(cookie_app: Served) -> None:
    refresh_token = _login(cookie_app).json()["refresh_token"]
    cookie_app.client.cookies.delete(cookie_app.names[0])
    assert cookie_app.client.post("/protected").status_code == 403
    jti = cookie_app.authority.codec.peek_claims(refresh_token)["jti"]
    record = anyio.run(cookie_app.store.refresh_record, jti)
    assert record is not None and record.state is RefreshState.ACTIVE  # nothing rotated
    response = cookie_app.client.post("/protected", headers=cookie_app.csrf())
    assert response.status_code == 200 and cookie_app.names[1] in set_cookies(response)


def test_reuse_during_implicit_refresh_clears_the_cookies(cookie_app: Served) -> None:
    stolen = _login(cookie_app).json()["refresh_token"]
    browser = cookie_app.cookie_jar()
    cookie_app.client.cookies.clear()
    cookie_app.client.post("/auth/refresh", headers=bearer(stolen))  # the thief rotates first
    cookie_app.set_jar(browser)
    cookie_app.clock.advance(20)  # past grace
    cookie_app.client.cookies.delete(cookie_app.names[0])
    response = cookie_app.client.get("/protected")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert cleared(response) and set(set_cookies(response)) == set(cookie_app.names)


def test_a_dead_access_cookie_without_a_refresh_cookie_is_invalid_token(cookie_app: Served) -> None:
    _login(cookie_app)
    cookie_app.client.cookies.delete(cookie_app.names[1])
    cookie_app.clock.advance(400)
    response = cookie_app.client.get("/protected")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_session_end_lets_the_last_access_token_run_out(serve: ServeFactory) -> None:
    app = serve(
        cookies=CookieConfig(secure=False, implicit_refresh_window=60),
        policy=Policy(access_ttl=300, refresh_ttl=1000, session_ttl=1000),
    )
    _login(app)
    app.clock.advance(950)
    app.client.cookies.delete(app.names[0])
    assert app.client.get("/protected").status_code == 200  # access clipped to the session end
    app.clock.advance(10)  # near expiry, but the session cannot be refreshed any more
    response = app.client.get("/protected")
    assert response.status_code == 200 and "set-cookie" not in response.headers


def test_refresh_by_cookie_needs_csrf_and_sets_the_cookies(cookie_app: Served) -> None:
    _login(cookie_app)
    before = cookie_app.client.cookies[cookie_app.names[1]]
    for headers in ({}, {"X-CSRF-Token": "nope"}):
        refused = cookie_app.client.post("/auth/refresh", headers=headers)
        assert refused.status_code == 403 and set_cookies(refused) == {}
    response = cookie_app.client.post("/auth/refresh", headers=cookie_app.csrf())
    assert response.status_code == 200
    assert set(set_cookies(response)) == set(cookie_app.names)
    assert cookie_app.client.cookies[cookie_app.names[1]] != before


def test_logout_with_only_a_refresh_cookie(cookie_app: Served) -> None:
    refresh_token = _login(cookie_app).json()["refresh_token"]
    cookie_app.client.cookies.delete(cookie_app.names[0])
    response = cookie_app.client.post("/auth/logout", headers=cookie_app.csrf())
    assert response.status_code == 204 and cleared(response)
    assert cookie_app.client.post("/auth/refresh", headers=bearer(refresh_token)).status_code == 401


def test_logout_by_cookie_needs_csrf_and_changes_nothing_without_it(cookie_app: Served) -> None:
    _login(cookie_app)
    response = cookie_app.client.post("/auth/logout")
    assert response.status_code == 403 and "set-cookie" not in response.headers
    assert cookie_app.client.get("/protected").status_code == 200  # still logged in
