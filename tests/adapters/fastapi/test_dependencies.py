"""tokenlife_fastapi: dependencies, OpenAPI schemes, error handlers, lifespan, Starlette-only use.

No ``from __future__ import annotations``: FastAPI reads these handlers' annotations,
which name dependencies local to each app.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tokenlife import Claims, ConfigurationError, KeySet, Policy, TokenAuthority
from tokenlife.testing import FrozenClock
from tokenlife.web import CookieConfig
from tokenlife_fastapi import (
    TokenLife,
    TokenLifeMiddleware,
    claims_of,
    exception_handlers,
    store_lifespan,
)
from tokenlife_memory import MemoryStore

pytestmark = pytest.mark.anyio

SECRET = "fastapi-adapter-tests-hs256-secret-0123456789"
INVALID = 'Bearer error="invalid_token"'


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def authority(store: MemoryStore, clock: FrozenClock) -> TokenAuthority:
    return TokenAuthority(
        store, keys=KeySet.from_secret(SECRET), policy=Policy(grace=0), clock=clock
    )


def fastapi_app(tl: TokenLife) -> FastAPI:
    app = FastAPI(lifespan=tl.lifespan(), exception_handlers=tl.exception_handlers)
    Auth = Annotated[Claims, Depends(tl.access_token_required)]

    @app.get("/whoami")
    async def whoami(claims: Auth) -> dict[str, Any]:
        return {"sub": claims.subject, "scopes": list(claims.scopes), "fresh": claims.fresh}

    @app.get("/subject")
    async def subject(sub: Annotated[str, Depends(tl.subject_required)]) -> str:
        return sub

    @app.get("/admin", dependencies=[Depends(tl.scopes_required("admin", "write"))])
    async def admin() -> str:
        return "admin"

    @app.get("/fresh", dependencies=[Depends(tl.fresh_token_required)])
    async def fresh() -> str:
        return "fresh"

    @app.get("/open")
    async def open_route() -> str:
        return "open"

    return app


@asynccontextmanager
async def serve(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the app in-process, its lifespan running."""
    async with AsyncExitStack() as stack:
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        yield await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://api.test")
        )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refused(response: httpx.Response, status: int, error: str, challenge: str | None) -> None:
    assert response.status_code == status
    assert response.json() == {"error": error}
    assert response.headers.get("www-authenticate") == challenge
    assert response.headers["cache-control"] == "no-store"


async def test_claims_subject_scopes_fresh(authority: TokenAuthority) -> None:
    async with serve(fastapi_app(TokenLife(authority))) as client:
        pair = await authority.issue("alice", scopes=("read",))
        response = await client.get("/whoami", headers=bearer(pair.access_token))
        assert response.json() == {"sub": "alice", "scopes": ["read"], "fresh": True}
        assert (await client.get("/subject", headers=bearer(pair.access_token))).json() == "alice"
        assert (await client.get("/fresh", headers=bearer(pair.access_token))).status_code == 200
        refused(
            await client.get("/admin", headers=bearer(pair.access_token)),
            403,
            "insufficient_scope",
            'Bearer error="insufficient_scope", scope="admin write"',
        )
        admin = await authority.issue("root", scopes=("admin", "write"))
        assert (await client.get("/admin", headers=bearer(admin.access_token))).json() == "admin"
        # A refreshed token is not fresh.
        later = await authority.refresh(pair.refresh_token)
        refused(
            await client.get("/fresh", headers=bearer(later.access_token)),
            403,
            "insufficient_scope",
            'Bearer error="insufficient_scope"',
        )


async def test_refusals_follow_rfc_6750(authority: TokenAuthority) -> None:
    async with serve(fastapi_app(TokenLife(authority, realm="api"))) as client:
        pair = await authority.issue("alice")
        refused(await client.get("/whoami"), 401, "unauthorized", 'Bearer realm="api"')
        basic = {"Authorization": "Basic YWxpY2U6eA=="}
        refused(
            await client.get("/whoami", headers=basic), 401, "unauthorized", 'Bearer realm="api"'
        )
        for token in ("garbage", pair.refresh_token, pair.access_token + "x"):
            refused(
                await client.get("/whoami", headers=bearer(token)),
                401,
                "invalid_token",
                'Bearer realm="api", error="invalid_token"',
            )
        await authority.revoke(pair.access_token)
        response = await client.get("/whoami", headers=bearer(pair.access_token))
        assert response.status_code == 401
        assert (await client.get("/open")).status_code == 200


async def test_a_store_failure_is_a_503(authority: TokenAuthority, store: MemoryStore) -> None:
    async with serve(fastapi_app(TokenLife(authority))) as client:
        pair = await authority.issue("alice")
        await store.close()
        response = await client.get("/whoami", headers=bearer(pair.access_token))
        assert response.status_code == 503
        assert response.json() == {"error": "temporarily_unavailable"}
        assert response.headers["retry-after"] == "1"


async def test_the_lifespan_opens_and_closes_the_store_around_the_apps_own(
    authority: TokenAuthority, store: MemoryStore
) -> None:
    seen: list[str] = []

    @asynccontextmanager
    async def own(_: FastAPI) -> AsyncIterator[dict[str, str]]:
        # The store is already open: start-up code may use it.
        await authority.issue("startup")
        seen.append("start")
        yield {"greeting": "hi"}
        await authority.sessions("startup")
        seen.append("stop")

    lifespan = TokenLife(authority).lifespan(own)
    app = FastAPI(lifespan=lifespan)

    @app.get("/open")
    async def open_route() -> str:
        return "open"

    await store.close()
    async with lifespan(app) as state:
        assert state == {"greeting": "hi"}  # the app's own state passes through
        await authority.issue("inside")
    async with serve(app) as client:
        assert (await client.get("/open")).json() == "open"
    assert seen == ["start", "stop", "start", "stop"]
    with pytest.raises(Exception, match=r"(?i)closed"):
        await authority.issue("after")


async def test_openapi_shows_the_schemes_as_alternatives(authority: TokenAuthority) -> None:
    tl = TokenLife(authority, cookies=CookieConfig(secure=False))
    app = fastapi_app(tl)
    document = app.openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token (`typ: at+jwt`) in `Authorization: Bearer`.",
    }
    assert schemes["AccessCookie"]["type"] == "apiKey"
    assert schemes["AccessCookie"]["in"] == "cookie"
    assert schemes["AccessCookie"]["name"] == "tl_access"
    paths = document["paths"]
    for path in ("/whoami", "/subject", "/admin", "/fresh"):
        assert paths[path]["get"]["security"] == [{"BearerToken": []}, {"AccessCookie": []}]
    assert "security" not in paths["/open"]["get"]
    # Bearer only: one scheme.
    bare = fastapi_app(TokenLife(authority)).openapi()
    assert set(bare["components"]["securitySchemes"]) == {"BearerToken"}
    for path in ("/whoami", "/subject", "/admin", "/fresh"):
        assert bare["paths"][path]["get"]["security"] == [{"BearerToken": []}]
    assert bare["components"]["securitySchemes"]["BearerToken"] == schemes["BearerToken"]


async def test_the_middleware_hands_claims_to_plain_starlette_routes(
    authority: TokenAuthority, store: MemoryStore
) -> None:
    tl = TokenLife(authority)

    async def me(request: Request) -> Response:
        claims = claims_of(request)
        if claims is None:
            # What a route outside FastAPI's dependencies raises: tokenlife's own error.
            await authority.verify(request.headers.get("x-test-token", ""))
        assert claims is not None
        return JSONResponse({"sub": claims.subject})

    app = Starlette(
        routes=[Route("/me", me)],
        lifespan=store_lifespan(authority),
        exception_handlers=exception_handlers(tl.gate),
    )
    app.add_middleware(TokenLifeMiddleware, gate=tl.gate)
    await store.close()
    async with serve(app) as client:
        pair = await authority.issue("dave")
        response = await client.get("/me", headers=bearer(pair.access_token))
        assert response.json() == {"sub": "dave"}
        refused(await client.get("/me"), 401, "invalid_token", INVALID)


async def test_a_refusal_the_middleware_held_back_is_raised_by_the_dependency(
    authority: TokenAuthority,
) -> None:
    tl = TokenLife(authority)
    app = fastapi_app(tl)
    tl.install(app)
    async with serve(app) as client:
        pair = await authority.issue("erin")
        assert (await client.get("/whoami", headers=bearer(pair.access_token))).status_code == 200
        # A public route is never refused for a bad credential; a protected one is.
        assert (await client.get("/open", headers=bearer("garbage"))).status_code == 200
        refused(
            await client.get("/whoami", headers=bearer("garbage")), 401, "invalid_token", INVALID
        )
        twice = [("Authorization", f"Bearer {pair.access_token}")] * 2
        refused(await client.get("/whoami", headers=twice), 400, "invalid_request", None)
        # The routes the router adds are there, and answer whole.
        refresh = await client.post("/auth/refresh", headers=bearer(pair.refresh_token))
        assert refresh.status_code == 200
        assert set(refresh.json()) >= {"access_token", "refresh_token"}


async def test_the_jwks_route_publishes_public_keys_only(store: MemoryStore) -> None:
    keys = KeySet.generate("EdDSA")
    authority = TokenAuthority(store, keys=keys)
    tl = TokenLife(authority, jwks_path="/.well-known/jwks.json")
    app = fastapi_app(tl)
    tl.install(app)
    async with serve(app) as client:
        response = await client.get("/.well-known/jwks.json", headers=bearer("garbage"))
        assert response.status_code == 200  # excluded from authentication
        assert response.json() == keys.public_jwks()
        assert all("d" not in key for key in response.json()["keys"])
    with pytest.raises(ConfigurationError, match="asymmetric"):
        TokenLife(TokenAuthority(store, keys=KeySet.from_secret(SECRET)), jwks_path="/jwks")


def test_websocket_routes_take_the_same_dependency(authority: TokenAuthority) -> None:
    from fastapi import WebSocket
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    tl = TokenLife(authority)
    app = FastAPI(lifespan=tl.lifespan())
    tl.install(app)

    @app.websocket("/ws")
    async def ws(
        socket: WebSocket, claims: Annotated[Claims, Depends(tl.access_token_required)]
    ) -> None:
        await socket.accept()
        await socket.send_text(claims.subject)
        await socket.close()

    with TestClient(app) as client:
        assert client.portal is not None
        pair = client.portal.call(authority.issue, "wendy")
        with client.websocket_connect("/ws", headers=bearer(pair.access_token)) as socket:
            assert socket.receive_text() == "wendy"
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/ws") as socket:
            socket.receive_text()  # refused before the handshake is accepted
