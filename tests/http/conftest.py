"""The HTTP conformance suite's fixture: one app contract, served by every web adapter.

Each adapter builds, from one authority and one :class:`WebConfig`, an ASGI
app with the same routes: ``POST /login`` (JSON ``{"username", "password"}``),
the refresh and logout routes of the config, and ``GET``/``POST`` on
``/protected`` and ``/whoami`` answering ``{"sub", "sid"}``. A new framework
adapter is one more entry in :data:`ADAPTERS`; every case runs against it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from httpx import Client, Cookies, Response

from tests.http._store import BreakableStore
from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife.testing import FrozenClock
from tokenlife.web import CookieConfig, WebConfig

SECRET = "http-conformance-hs256-secret-0123456789abcdef"
START = 1_800_000_000.0
USERS = {"alice": "alice-pw", "bob": "bob-pw"}
AppFactory = Callable[[TokenAuthority, WebConfig, Mapping[str, str]], Any]


def _asgi(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> Any:
    from docs.examples.asgi_app import create_app

    return create_app(authority, config, users)


def _litestar(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> Any:
    from tests.http._litestar_app import create_app

    return create_app(authority, config, users)


def _fastapi(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> Any:
    from tests.http._fastapi_app import create_app

    return create_app(authority, config, users)


#: adapter name -> (module it needs, app factory)
ADAPTERS: dict[str, tuple[str, AppFactory]] = {
    "asgi": ("tokenlife", _asgi),
    "fastapi": ("tokenlife_fastapi", _fastapi),
    "litestar": ("tokenlife_litestar", _litestar),
}


def _test_client(adapter: str, app: Any) -> Client:
    """An in-process httpx client that runs the app's lifespan: Starlette's or Litestar's."""
    if adapter != "fastapi" and importlib.util.find_spec("litestar") is not None:
        from litestar.testing import TestClient

        return TestClient(app)
    from starlette.testclient import TestClient as StarletteClient

    return StarletteClient(app)


@dataclass
class Served:
    """One app under test, its client, and everything a case pokes at."""

    adapter: str
    client: Client
    authority: TokenAuthority
    store: BreakableStore
    clock: FrozenClock
    config: WebConfig

    @property
    def names(self) -> tuple[str, str, str]:
        """The access, refresh and CSRF cookie names."""
        cookies = self.config.cookies
        assert cookies is not None
        return cookies.access_cookie, cookies.refresh_cookie, cookies.csrf_cookie

    def login(self, user: str = "alice") -> dict[str, Any]:
        response = self.client.post("/login", json={"username": user, "password": USERS[user]})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def csrf(self) -> dict[str, str]:
        """The double-submit header a page of the app would send."""
        return {"X-CSRF-Token": self.client.cookies[self.names[2]]}

    def cookie_jar(self) -> Cookies:
        """A copy of the client's cookies (domains and paths kept)."""
        return Cookies(self.client.cookies)

    def set_jar(self, cookies: Cookies) -> None:
        self.client.cookies = Cookies(cookies)


ServeFactory = Callable[..., Served]


@pytest.fixture(params=sorted(ADAPTERS))
def serve(request: pytest.FixtureRequest) -> Iterator[ServeFactory]:
    """``serve(cookies=..., policy=..., **web_config)``: an app of this adapter, running."""
    name: str = request.param
    needs, factory = ADAPTERS[name]
    if importlib.util.find_spec(needs) is None:
        pytest.skip(f"{needs} is not installed in this environment")
    opened: list[Client] = []

    def build(
        *,
        cookies: CookieConfig | None = None,
        policy: Policy | None = None,
        **config: Any,
    ) -> Served:
        clock = FrozenClock(START)
        store = BreakableStore()
        authority = TokenAuthority(
            store,
            keys=KeySet.from_secret(SECRET),
            policy=policy or Policy(access_ttl=300, grace=10),
            clock=clock,
        )
        web = WebConfig(cookies=cookies, **config)
        client = _test_client(name, factory(authority, web, USERS))
        client.__enter__()
        opened.append(client)
        return Served(name, client, authority, store, clock, web)

    yield build
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def bearer_app(serve: ServeFactory) -> Served:
    return serve()


@pytest.fixture
def cookie_app(serve: ServeFactory) -> Served:
    return serve(cookies=CookieConfig(secure=False, implicit_refresh_window=30))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def set_cookies(response: Response) -> dict[str, str]:
    """The response's Set-Cookie headers by cookie name."""
    return {v.partition("=")[0]: v for v in response.headers.get_list("set-cookie")}


def cleared(response: Response) -> bool:
    """Does the response clear cookies (and set none)?"""
    values = set_cookies(response).values()
    return bool(values) and all("max-age=0" in v.lower() for v in values)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.http import test_lifecycle
    from tokenlife.testing.lifecycle import HTTP_EXAMPLES

    if not test_lifecycle.CAUGHT:
        return
    budget = HTTP_EXAMPLES
    terminalreporter.section(f"broken apps: examples to catch over HTTP (budget {budget})")
    for name, (first, seconds) in sorted(test_lifecycle.CAUGHT.items()):
        terminalreporter.write_line(f"{name:<30} {first:>4} examples  {seconds:6.1f} s")
