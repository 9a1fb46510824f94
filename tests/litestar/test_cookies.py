"""Cookie mode, the Litestar side: cookie scoping, app logout, parallel requests, WebSockets."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient

from tests.litestar.conftest import Harness, attributes, build, set_cookies
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


# -- cookie authentication and CSRF -----------------------------------------------


# -- implicit refresh ---------------------------------------------------------------


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
