"""docs/examples/fastapi_app.py: login, refresh (header or body), protected routes, logout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from docs.examples import fastapi_app
from tests.docs.conftest import make_authority
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def client(store: MemoryStore, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    app = fastapi_app.create_app(make_authority(store, clock, grace=10))
    async with _serve(app) as client:
        yield client


class _serve:
    """An httpx client talking to the app in-process, with its lifespan running."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.lifespan = app.router.lifespan_context(app)
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://api.test")

    async def __aenter__(self) -> httpx.AsyncClient:
        await self.lifespan.__aenter__()
        return await self.client.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self.client.__aexit__(None, None, None)
        await self.lifespan.__aexit__(None, None, None)


async def _login(client: httpx.AsyncClient, user: str = "alice") -> dict[str, str]:
    password = fastapi_app.USERS[user][0]
    response = await client.post("/login", json={"username": user, "password": password})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, str] = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _refused(response: httpx.Response, status: int, error: str, challenge: str | None) -> None:
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert response.headers.get("www-authenticate") == challenge


async def test_login_protected_refresh_logout(client: httpx.AsyncClient) -> None:
    tokens = await _login(client)
    response = await client.get("/protected", headers=_bearer(tokens["access_token"]))
    assert response.json() == {"subject": "alice", "scopes": ["read"]}

    # Refresh with the token in the Authorization header...
    response = await client.post("/refresh", headers=_bearer(tokens["refresh_token"]))
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != tokens["refresh_token"]
    # ...or in the JSON body.
    response = await client.post("/refresh", json={"refresh_token": second["refresh_token"]})
    assert response.status_code == 200
    third = response.json()

    response = await client.post("/logout", headers=_bearer(third["access_token"]))
    assert response.status_code == 204
    response = await client.get("/protected", headers=_bearer(third["access_token"]))
    _refused(response, 401, "invalid_token", 'Bearer error="invalid_token"')
    response = await client.post("/refresh", json={"refresh_token": third["refresh_token"]})
    _refused(response, 401, "invalid_grant", None)


async def test_logout_with_the_refresh_token_in_the_body(client: httpx.AsyncClient) -> None:
    tokens = await _login(client)
    response = await client.post("/logout", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    response = await client.get("/protected", headers=_bearer(tokens["access_token"]))
    _refused(response, 401, "invalid_token", 'Bearer error="invalid_token"')
    # Logging out again, or with garbage, still succeeds (RFC 7009).
    assert (await client.post("/logout", json={"refresh_token": "garbage"})).status_code == 204


async def test_scopes(client: httpx.AsyncClient) -> None:
    alice = await _login(client, "alice")
    response = await client.get("/admin", headers=_bearer(alice["access_token"]))
    _refused(
        response, 403, "insufficient_scope", 'Bearer error="insufficient_scope", scope="admin"'
    )
    admin = await _login(client, "admin")
    response = await client.get("/admin", headers=_bearer(admin["access_token"]))
    assert response.json() == {"message": "hello admin, you are an admin"}


async def test_failures_map_to_rfc_6750(client: httpx.AsyncClient) -> None:
    tokens = await _login(client)
    _refused(await client.get("/protected"), 401, "unauthorized", "Bearer")
    _refused(
        await client.get("/protected", headers={"Authorization": "Basic YWxpY2U6eA=="}),
        401,
        "unauthorized",
        "Bearer",
    )
    for token in ("garbage", tokens["refresh_token"], tokens["access_token"] + "x"):
        response = await client.get("/protected", headers=_bearer(token))
        _refused(response, 401, "invalid_token", 'Bearer error="invalid_token"')
    # An access token is not a refresh token.
    response = await client.post("/refresh", headers=_bearer(tokens["access_token"]))
    _refused(response, 401, "invalid_grant", None)
    _refused(await client.post("/refresh"), 401, "invalid_grant", None)
    response = await client.post("/login", json={"username": "alice", "password": "nope"})
    _refused(response, 401, "invalid_grant", None)
    response = await client.post("/login", json={"username": "nobody", "password": ""})
    _refused(response, 401, "invalid_grant", None)


async def test_grace_window_and_reuse_detection(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tokens = await _login(client)
    clock.advance(60)
    first = (await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    clock.advance(5)  # a retry inside the grace window: the same successor
    again = (await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    assert again["refresh_token"] == first["refresh_token"]
    clock.advance(10)  # past the grace window: reuse, the session dies
    response = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
    _refused(response, 401, "invalid_grant", None)
    response = await client.post("/refresh", json={"refresh_token": first["refresh_token"]})
    _refused(response, 401, "invalid_grant", None)
    response = await client.get("/protected", headers=_bearer(first["access_token"]))
    _refused(response, 401, "invalid_token", 'Bearer error="invalid_token"')


async def test_log_out_everywhere(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    phone, laptop = await _login(client), await _login(client)
    clock.advance(1)
    response = await client.post("/logout/everywhere", headers=_bearer(laptop["access_token"]))
    assert response.status_code == 204
    for tokens in (phone, laptop):
        response = await client.get("/protected", headers=_bearer(tokens["access_token"]))
        assert response.status_code == 401
        response = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
        assert response.status_code == 401


async def test_a_store_failure_is_a_503(client: httpx.AsyncClient, store: MemoryStore) -> None:
    tokens = await _login(client)
    await store.close()  # every store call now raises StoreError
    response = await client.get("/protected", headers=_bearer(tokens["access_token"]))
    assert response.status_code == 503
    assert response.json() == {"error": "temporarily_unavailable"}
    assert response.headers["retry-after"] == "1"
    response = await client.post("/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 503


async def test_the_module_level_app_serves() -> None:
    async with _serve(fastapi_app.app) as client:
        tokens = await _login(client)
        response = await client.get("/protected", headers=_bearer(tokens["access_token"]))
        assert response.status_code == 200
