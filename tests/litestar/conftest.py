"""Apps built around the plugin, a frozen clock, and a store that can be broken on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar, MediaType, Request, Response, WebSocket, get, post, websocket
from litestar.openapi import OpenAPIConfig
from litestar.testing import TestClient

from tests.http._store import BreakableStore
from tokenlife import Claims, KeySet, Policy, TokenAuthority
from tokenlife.testing import FrozenClock
from tokenlife_litestar import (
    AuthClaims,
    AuthSubject,
    CookieConfig,
    TokenLifeConfig,
    TokenLifePlugin,
    require_fresh,
    require_scopes,
)
from tokenlife_memory import MemoryStore as MemoryStore

ROOT = Path(__file__).resolve().parents[2]

SECRET = "litestar-tests-hs256-secret-0123456789abcdef"
PROTECTED = "You have access to this protected resource"
START = 1_800_000_000.0


@dataclass
class Harness:
    """One app with everything a test pokes at."""

    app: Litestar
    plugin: TokenLifePlugin
    authority: TokenAuthority
    store: BreakableStore
    clock: FrozenClock
    logged_out_by_app: list[str] = field(default_factory=list)

    def client(self, **kwargs: Any) -> TestClient[Litestar]:
        return TestClient(self.app, **kwargs)


def build(
    *,
    cookies: CookieConfig | None = None,
    policy: Policy | None = None,
    keys: KeySet | None = None,
    openapi: bool = True,
    **config: Any,
) -> Harness:
    """An app with the routes the tests use, around a fresh store and a frozen clock."""
    clock = FrozenClock(START)
    store = BreakableStore()
    authority = TokenAuthority(
        store,
        keys=keys or KeySet.from_secret(SECRET),
        policy=policy or Policy(access_ttl=300, grace=10),
        clock=clock,
    )
    plugin = TokenLifePlugin(TokenLifeConfig(authority=authority, cookies=cookies, **config))
    harness_ref: list[Harness] = []

    @post("/login", status_code=200, exclude_from_auth=True)
    async def login(request: Request[Any, Any, Any]) -> Response[Any]:
        data = await request.json()
        return await plugin.login(data["sub"], scopes=data.get("scopes", ()))

    @get("/protected", media_type=MediaType.TEXT)
    async def protected() -> str:
        return PROTECTED

    @post("/protected", status_code=200, media_type=MediaType.TEXT)
    async def protected_post() -> str:
        return PROTECTED

    @get("/me")
    async def me(
        request: Request[Any, Claims, Any], claims: AuthClaims, subject: AuthSubject
    ) -> dict[str, Any]:
        return {
            "user": request.user,
            "sub": subject,
            "auth_is_claims": request.auth is claims,
            "scopes": list(claims.scopes),
            "fresh": claims.fresh,
        }

    @get("/admin", guards=[require_scopes("admin")])
    async def admin() -> str:
        return "admin"

    @get("/fresh", guards=[require_fresh])
    async def fresh() -> str:
        return "fresh"

    @get("/open", exclude_from_auth=True, media_type=MediaType.TEXT)
    async def open_route() -> str:
        return "open"

    @get("/public/{rest:path}", media_type=MediaType.TEXT)
    async def public() -> str:
        return "public"

    @get("/publicity", media_type=MediaType.TEXT)
    async def publicity() -> str:
        return "publicity"

    @post("/app-logout", status_code=200)
    async def app_logout(request: Request[Any, Claims, Any]) -> Response[str]:
        # An application's own logout: revokes, then clears the cookies itself.
        harness_ref[0].logged_out_by_app.append(request.auth.subject)
        await authority.revoke_session(request.auth.session_id or "")
        return Response("bye", cookies=plugin.clearing_cookies())

    @websocket("/ws")
    async def ws(socket: WebSocket[str, Claims, Any]) -> None:
        await socket.accept()
        await socket.send_text(socket.user)
        await socket.close()

    handlers = [login, protected, protected_post, me, admin, fresh, open_route, public, publicity]
    app = Litestar(
        [*handlers, app_logout, ws],
        plugins=[plugin],
        openapi_config=OpenAPIConfig(title="t", version="1") if openapi else None,
    )
    harness = Harness(app=app, plugin=plugin, authority=authority, store=store, clock=clock)
    harness_ref.append(harness)
    return harness


@pytest.fixture
def bearer_app() -> Harness:
    return build()


@pytest.fixture
def cookie_app() -> Harness:
    return build(cookies=CookieConfig(secure=False, implicit_refresh_window=30))


@pytest.fixture
def client_of() -> Iterator[Callable[[Harness], TestClient[Litestar]]]:
    """Open TestClients (lifespan included) and close them after the test."""
    opened: list[TestClient[Litestar]] = []

    def open_client(harness: Harness) -> TestClient[Litestar]:
        client = harness.client()
        client.__enter__()
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.__exit__(None, None, None)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_cookies(response: Any) -> dict[str, str]:
    """The response's Set-Cookie headers by cookie name."""
    found: dict[str, str] = {}
    for value in response.headers.get_list("set-cookie"):
        found[value.partition("=")[0]] = value
    return found


def attributes(set_cookie: str) -> dict[str, str]:
    """A Set-Cookie header's attributes (lower-case names), value excluded."""
    parts = [p.strip() for p in set_cookie.split(";")[1:]]
    result: dict[str, str] = {}
    for part in parts:
        name, _, value = part.partition("=")
        result[name.lower()] = value
    return result
