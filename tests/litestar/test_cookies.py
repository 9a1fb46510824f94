"""Cookie mode: attributes, double-submit CSRF, implicit refresh, logout that stays logged out."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient

from tests.litestar.conftest import PROTECTED, Harness, attributes, bearer, build, set_cookies
from tokenlife.store import RefreshState
from tokenlife_litestar import CookieConfig

Client = Callable[[Harness], TestClient[Litestar]]
NAMES = ("tl_access", "tl_refresh", "tl_csrf")


def _login(client: TestClient[Litestar], sub: str = "alice") -> Response:
    response = client.post("/login", json={"sub": sub})
    assert response.status_code == 200
    return response


def _csrf(client: TestClient[Litestar]) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies["tl_csrf"]}


def _drop_access(client: TestClient[Litestar]) -> None:
    """What the browser does once the access cookie's Max-Age has run out."""
    client.cookies.delete("tl_access")


# -- attributes -------------------------------------------------------------------


def test_login_sets_three_cookies_with_the_right_attributes(client_of: Client) -> None:
    harness = build(cookies=CookieConfig())  # Secure by default
    response = _login(client_of(harness))
    cookies = set_cookies(response)
    # Secure cookies carry the __Host- prefix: no sibling subdomain can plant them.
    names = tuple(f"__Host-{n}" for n in NAMES)
    assert set(cookies) == set(names)
    access, refresh, csrf = (attributes(cookies[n]) for n in names)
    for attrs in (access, refresh, csrf):
        assert "secure" in attrs
        assert attrs["samesite"].lower() == "lax"
        assert attrs["path"] == "/"
    assert "httponly" in access and "httponly" in refresh
    assert "httponly" not in csrf  # the page must read it for double submit
    assert access["max-age"] == "300"
    # The refresh cookie never outlives the session (30 days) nor the refresh token (14 days).
    assert 0 < int(refresh["max-age"]) <= 14 * 86400
    assert response.headers["cache-control"] == "no-store"


def test_refresh_cookie_age_is_capped_by_the_session(client_of: Client) -> None:
    from tokenlife import Policy

    harness = build(
        cookies=CookieConfig(secure=False),
        policy=Policy(access_ttl=60, refresh_ttl=3600, session_ttl=3600),
    )
    client = client_of(harness)
    _login(client)
    harness.clock.advance(3000)
    _drop_access(client)
    response = client.get("/protected")
    assert response.status_code == 200
    # 600 s of session left: the rotated refresh cookie may not live longer.
    assert int(attributes(set_cookies(response)["tl_refresh"])["max-age"]) <= 600


def test_without_implicit_refresh_the_refresh_cookie_is_scoped_to_the_refresh_route(
    client_of: Client,
) -> None:
    harness = build(cookies=CookieConfig(secure=False, implicit_refresh=False))
    cookies = set_cookies(_login(client_of(harness)))
    assert attributes(cookies["tl_refresh"])["path"] == "/auth/refresh"
    assert attributes(cookies["tl_access"])["path"] == "/"


def test_logout_clears_with_identical_attributes(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    issued = set_cookies(_login(client))
    response = client.post("/auth/logout", headers=_csrf(client))
    assert response.status_code == 204
    cleared = set_cookies(response)
    assert set(cleared) == set(NAMES)
    for name in NAMES:
        before, after = attributes(issued[name]), attributes(cleared[name])
        assert after.pop("max-age") == "0"
        before.pop("max-age")
        assert before == after
    assert not client.cookies
    assert client.get("/protected").status_code == 401


# -- cookie authentication and CSRF -----------------------------------------------


def test_cookie_authenticates_safe_methods(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    _login(client)
    response = client.get("/protected")
    assert response.status_code == 200
    assert response.text == PROTECTED
    assert "set-cookie" not in response.headers  # far from expiry: nothing refreshed


def test_unsafe_cookie_request_needs_the_csrf_header(
    cookie_app: Harness, client_of: Client
) -> None:
    client = client_of(cookie_app)
    _login(client)
    response = client.post("/protected")
    assert response.status_code == 403
    assert response.json() == {"error": "invalid_csrf_token"}
    assert client.post("/protected", headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post("/protected", headers=_csrf(client)).status_code == 200


def test_bearer_requests_need_no_csrf(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    token = _login(client).json()["access_token"]
    client.cookies.clear()
    assert client.post("/protected", headers=bearer(token)).status_code == 200


def test_header_wins_over_cookie(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    _login(client)
    response = client.get("/protected", headers=bearer("bad.token.here"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


# -- implicit refresh ---------------------------------------------------------------


def test_missing_access_cookie_is_refreshed_in_line(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    first = set_cookies(_login(client))
    _drop_access(client)
    response = client.get("/protected")
    assert response.status_code == 200
    renewed = set_cookies(response)
    assert set(renewed) == set(NAMES)
    assert renewed["tl_refresh"] != first["tl_refresh"]  # rotated
    assert client.get("/protected").status_code == 200


def test_expired_access_cookie_is_refreshed_in_line(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    _login(client)
    cookie_app.clock.advance(400)  # past the 300 s access lifetime; the cookie is still sent
    response = client.get("/me")
    assert response.status_code == 200
    assert response.json()["fresh"] is False
    assert "tl_access" in set_cookies(response)


def test_access_cookie_near_expiry_is_refreshed(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    _login(client)
    cookie_app.clock.advance(250)  # 50 s left, window is 30 s: nothing yet
    assert "set-cookie" not in client.get("/protected").headers
    cookie_app.clock.advance(25)  # 25 s left
    response = client.get("/protected")
    assert response.status_code == 200
    assert "tl_access" in set_cookies(response)


def test_unsafe_implicit_refresh_checks_csrf_before_rotating(
    cookie_app: Harness, client_of: Client
) -> None:
    client = client_of(cookie_app)
    refresh_token = _login(client).json()["refresh_token"]
    _drop_access(client)
    assert client.post("/protected").status_code == 403
    jti = cookie_app.authority.codec.peek_claims(refresh_token)["jti"]
    with client.portal() as portal:
        record = portal.call(cookie_app.store.refresh_record, jti)
    assert record is not None and record.state is RefreshState.ACTIVE  # nothing rotated
    response = client.post("/protected", headers=_csrf(client))
    assert response.status_code == 200
    assert "tl_refresh" in set_cookies(response)


def test_reuse_during_implicit_refresh_clears_cookies(
    cookie_app: Harness, client_of: Client
) -> None:
    client = client_of(cookie_app)
    stolen = _login(client).json()["refresh_token"]
    browser = dict(client.cookies)
    client.post("/auth/refresh", headers=bearer(stolen))  # the thief rotates first
    client.cookies.clear()
    for name, value in browser.items():
        client.cookies.set(name, value)
    cookie_app.clock.advance(20)  # past grace
    _drop_access(client)
    response = client.get("/protected")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert all(attributes(v)["max-age"] == "0" for v in set_cookies(response).values())
    assert set(set_cookies(response)) == set(NAMES)


def test_a_dead_access_cookie_without_refresh_cookie_is_invalid_token(
    cookie_app: Harness, client_of: Client
) -> None:
    client = client_of(cookie_app)
    _login(client)
    client.cookies.delete("tl_refresh")
    cookie_app.clock.advance(400)
    response = client.get("/protected")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_session_end_lets_the_last_access_token_run_out(client_of: Client) -> None:
    from tokenlife import Policy

    harness = build(
        cookies=CookieConfig(secure=False, implicit_refresh_window=60),
        policy=Policy(access_ttl=300, refresh_ttl=1000, session_ttl=1000),
    )
    client = client_of(harness)
    _login(client)
    harness.clock.advance(950)
    _drop_access(client)
    assert client.get("/protected").status_code == 200  # refreshed: access clipped to session end
    harness.clock.advance(10)  # 40 s left: near expiry, but the session cannot be refreshed
    response = client.get("/protected")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers


# -- logout never followed by cookies that log back in ----------------------------------


def test_app_logout_after_implicit_refresh_stays_logged_out(
    cookie_app: Harness, client_of: Client
) -> None:
    client = client_of(cookie_app)
    _login(client)
    _drop_access(client)  # this request will be refreshed in-line, then log out
    response = client.post("/app-logout", headers=_csrf(client))
    assert response.status_code == 200
    assert cookie_app.logged_out_by_app == ["alice"]
    cookies = set_cookies(response)
    assert set(cookies) == set(NAMES)
    assert all(attributes(v)["max-age"] == "0" for v in cookies.values())
    assert len(response.headers.get_list("set-cookie")) == 3  # only the clearing ones
    assert client.get("/protected").status_code == 401


def test_plugin_logout_with_only_a_refresh_cookie(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    refresh_token = _login(client).json()["refresh_token"]
    _drop_access(client)
    response = client.post("/auth/logout", headers=_csrf(client))
    assert response.status_code == 204
    assert all(attributes(v)["max-age"] == "0" for v in set_cookies(response).values())
    assert client.post("/auth/refresh", headers=bearer(refresh_token)).status_code == 401


def test_logout_by_cookie_needs_csrf(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    _login(client)
    response = client.post("/auth/logout")
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert client.get("/protected").status_code == 200  # still logged in


# -- parallel requests at expiry ------------------------------------------------------


@pytest.mark.anyio
async def test_parallel_requests_at_expiry_all_succeed(cookie_app: Harness) -> None:
    async with AsyncTestClient(cookie_app.app) as client:
        response = await client.post("/login", json={"sub": "alice"})
        assert response.status_code == 200
        cookie_app.clock.advance(301)
        # Every request leaves before any answer arrives: same (expired) cookies.
        sent = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        jar = dict(client.cookies)
        client.cookies.clear()
        results: list[Response] = []

        async def fetch() -> None:
            results.append(await client.get("/protected", headers={"cookie": sent}))

        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(fetch)
        assert [r.status_code for r in results] == [200] * 8
        refresh_cookies = {set_cookies(r)["tl_refresh"] for r in results}
        assert len(refresh_cookies) == 1  # one successor, handed to every request
        assert all(set(set_cookies(r)) == set(NAMES) for r in results)
        assert jar  # the browser now keeps what the responses set:
        for name, value in results[-1].cookies.items():
            client.cookies.set(name, value)
        cookie_app.clock.advance(5)
        assert (await client.get("/protected")).status_code == 200
        cookie_app.clock.advance(300)  # the session survives: later refreshes still work
        assert (await client.get("/protected")).status_code == 200


# -- WebSockets ---------------------------------------------------------------------------


def test_websocket_accepts_the_cookie_from_the_same_origin_only(
    cookie_app: Harness, client_of: Client
) -> None:
    from litestar.exceptions import WebSocketDisconnect

    client = client_of(cookie_app)
    _login(client)
    same = {"origin": "http://testserver.local"}
    with client.websocket_connect("/ws", headers=same) as session:
        assert session.receive_text() == "alice"
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/ws", headers={"origin": "https://evil.example"}) as session,
    ):
        session.receive_text()
