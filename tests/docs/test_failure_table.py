"""The table "What each failure returns" (refreshing.md) is what the Litestar plugin answers."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from docs.examples import litestar_cookies
from tests.docs.conftest import DOCS, make_authority
from tokenlife.testing import FrozenClock
from tokenlife_litestar import TokenLifeConfig, TokenLifePlugin, require_scopes
from tokenlife_memory import MemoryStore

Row = tuple[int, str, "str | None"]
T = TypeVar("T")


def _call(client: TestClient[Litestar], function: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run a coroutine function on the client's event loop (where the store lives)."""
    with client.portal() as portal:
        return portal.call(function, *args)


def documented_rows() -> set[Row]:
    """(status, error code, WWW-Authenticate) of every row of the page's table."""
    page = (DOCS / "refreshing.md").read_text(encoding="utf-8")
    section = page.split("## What each failure returns", 1)[1]
    rows: set[Row] = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[1].isdigit():
            continue
        body = json.loads(re.findall(r"`([^`]*)`", cells[2])[0])
        challenge = None if cells[3].startswith("none") else re.findall(r"`([^`]*)`", cells[3])[0]
        rows.add((int(cells[1]), body["error"], challenge))
    return rows


def _row(response: httpx.Response) -> Row:
    challenge = response.headers.get("www-authenticate")
    if challenge is not None:
        challenge = re.sub(r'scope="[^"]+"', 'scope="…"', challenge)
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()["error"], challenge


class Browser:
    def __init__(self, client: TestClient[Litestar], clock: FrozenClock, store: MemoryStore):
        self.client, self.clock, self.store = client, clock, store

    def login(self) -> dict[str, str]:
        """Log in; the tokens, read from the cookies the login set."""
        response = self.client.post("/login", json={"username": "alice", "password": "secret"})
        assert response.status_code == 200
        return {
            "access_token": self.client.cookies["__Host-tl_access"],
            "refresh_token": self.client.cookies["__Host-tl_refresh"],
        }


@pytest.fixture
def browser(clock: FrozenClock) -> Iterator[Browser]:
    store = MemoryStore()
    app = litestar_cookies.create_app(make_authority(store, clock, access_ttl=300))
    with TestClient(app, base_url="https://testserver.local") as client:
        yield Browser(client, clock, store)


def observed_rows(b: Browser) -> set[Row]:
    rows = set()
    client = b.client
    rows.add(_row(client.get("/notes")))  # no credentials
    rows.add(_row(client.get("/notes", headers={"Authorization": "Bearer nope"})))
    tokens = b.login()
    rows.add(_row(client.post("/notes", json={"text": "x"})))  # cookie, no CSRF header
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    b.clock.advance(60)
    fresh_rotated = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert fresh_rotated.status_code == 200
    rows.add(_row(client.post("/account/delete", headers={"Authorization": "Bearer x"})))
    not_fresh = {"Authorization": f"Bearer {fresh_rotated.json()['access_token']}"}
    rows.add(_row(client.post("/account/delete", headers=not_fresh)))  # not fresh
    b.clock.advance(60)  # past the grace window
    rows.add(_row(client.get("/notes", headers=bearer)))  # superseded access token
    replay = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    rows.add(_row(replay))  # reuse detected at the refresh route
    unreadable = client.post("/auth/refresh", content=b"{", headers={"Content-Type": "text/plain"})
    rows.add(_row(unreadable))  # a request that cannot be read: 400, not invalid_grant
    failed = client.get(
        "/notes", headers={"Cookie": f"__Host-tl_refresh={tokens['refresh_token']}"}
    )
    rows.add(_row(failed))  # implicit refresh failed
    assert {c.split("=")[0] for c in failed.headers.get_list("set-cookie")} == {
        "__Host-tl_access",
        "__Host-tl_refresh",
        "__Host-tl_csrf",
    }
    return rows


def test_every_documented_row_is_observed_and_nothing_else(browser: Browser) -> None:
    observed = observed_rows(browser)
    observed.add(insufficient_scope_row(browser))
    observed.add(store_down_row(browser))
    assert observed == documented_rows()


def insufficient_scope_row(b: Browser) -> Row:
    authority = make_authority(MemoryStore(), b.clock)
    plugin = TokenLifePlugin(TokenLifeConfig(authority=authority))

    @get("/admin", guards=[require_scopes("admin")])
    async def admin() -> str:
        return "admin"

    with TestClient(Litestar([admin], plugins=[plugin])) as client:
        token = _call(client, authority.issue, "alice")
        return _row(client.get("/admin", headers={"Authorization": f"Bearer {token.access_token}"}))


def store_down_row(b: Browser) -> Row:
    tokens = b.login()
    _call(b.client, b.store.close)
    response = b.client.get("/notes", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.headers["retry-after"] == "1"
    return _row(response)
