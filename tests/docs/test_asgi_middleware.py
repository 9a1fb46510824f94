"""docs/examples/asgi_middleware.py: a framework-free bearer middleware and its lifespan."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from docs.examples import asgi_middleware
from tests.docs.conftest import make_authority
from tokenlife import StoreError, TokenAuthority
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore

pytestmark = pytest.mark.anyio


def _client(app: asgi_middleware.ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://asgi.test")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_valid_tokens_pass_and_reach_the_app(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = make_authority(store, clock)
        pair = await auth.issue("alice", scopes=["read", "write"])
        async with _client(asgi_middleware.create_app(auth)) as client:
            response = await client.get("/anything", headers=_bearer(pair.access_token))
            assert response.status_code == 200
            assert response.json() == {"subject": "alice", "scopes": ["read", "write"]}
            response = await client.get("/health")  # public: no token needed
            assert response.json() == {"status": "ok"}


async def test_failures_are_answered_by_the_middleware(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = make_authority(store, clock)
        pair = await auth.issue("alice")
        async with _client(asgi_middleware.create_app(auth)) as client:
            response = await client.get("/")
            assert response.status_code == 401
            assert response.json() == {"error": "unauthorized"}
            assert response.headers["www-authenticate"] == "Bearer"
            for token in ("garbage", pair.refresh_token):
                response = await client.get("/", headers=_bearer(token))
                assert response.status_code == 401
                assert response.json() == {"error": "invalid_token"}
                assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            await auth.revoke(pair.access_token)
            response = await client.get("/", headers=_bearer(pair.access_token))
            assert response.status_code == 401
            await store.close()  # every store call now raises StoreError
            response = await client.get("/", headers=_bearer(pair.access_token))
            assert response.status_code == 503
            assert response.json() == {"error": "temporarily_unavailable"}


async def test_the_lifespan_opens_and_closes_the_store(clock: FrozenClock) -> None:
    store = MemoryStore()
    auth: TokenAuthority = make_authority(store, clock)
    app = asgi_middleware.create_app(auth)
    to_app, from_server = anyio.create_memory_object_stream[dict[str, Any]](4)
    to_server, from_app = anyio.create_memory_object_stream[dict[str, Any]](4)

    async def receive() -> dict[str, Any]:
        return await from_server.receive()

    async def send(message: Any) -> None:
        await to_server.send(dict(message))

    async def run_lifespan() -> None:
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)

    async with to_app, from_server, to_server, from_app, anyio.create_task_group() as tasks:
        tasks.start_soon(run_lifespan)
        await to_app.send({"type": "lifespan.startup"})
        assert (await from_app.receive())["type"] == "lifespan.startup.complete"
        await auth.issue("alice")  # the store is open
        await to_app.send({"type": "lifespan.shutdown"})
        assert (await from_app.receive())["type"] == "lifespan.shutdown.complete"
    with pytest.raises(StoreError):
        await auth.issue("alice")  # and closed again


def test_the_module_level_app_is_an_asgi_callable() -> None:
    assert callable(asgi_middleware.app)
