"""The cookie flow in a real browser: headless Chromium, each seed app under uvicorn.

What only a browser proves: that it stores the cookies with the attributes
we meant (HttpOnly, SameSite, Path), drops the access cookie when its
Max-Age runs out, hands the CSRF cookie to the page's scripts and nothing
else, sends parallel requests with the same expired cookies, and really
forgets the cookies on logout.

Skipped when Chromium (Debian's ``chromium``) or Playwright's Python package
is missing — but failed under ``TOKENLIFE_REQUIRE_SERVICES=1`` (CI). It runs
against both frameworks' seed apps (Litestar, FastAPI), whichever are installed.
"""

from __future__ import annotations

import importlib
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.http.test_seed_apps import EXAMPLES, PROTECTED, SEEDS
from tokenlife_memory import MemoryStore

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ACCESS_TTL = 3.0


def _unavailable() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        return (
            "the playwright package is not installed (dependency group adapter-litestar/-fastapi)"
        )
    try:
        importlib.import_module("uvicorn")
    except ImportError:
        return "uvicorn is not installed (dependency group adapter-litestar/-fastapi)"
    return None


@pytest.fixture(scope="module", autouse=True)
def _browser_available() -> None:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("TOKENLIFE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the browser test cannot run: {reason}")
        pytest.skip(reason)


class OffsetClock:
    """Real time plus a jump the test controls: grace windows stay real."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class Server:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture(params=sorted(SEEDS))
def seed_server(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[str, OffsetClock]]:
    name: str = request.param
    pytest.importorskip(f"tokenlife_{SEEDS[name]}")
    monkeypatch.setenv("TOKENLIFE_SECRET", "browser-test-secret-0123456789abcdefghij")
    monkeypatch.setenv("TOKENLIFE_DB", str(tmp_path / "seed.sqlite3"))
    monkeypatch.syspath_prepend(str(EXAMPLES))
    sys.modules.pop(name, None)
    seed = importlib.import_module(name)
    clock = OffsetClock()
    app = seed.create_app(
        store=MemoryStore(), access_ttl=ACCESS_TTL, grace=10, secure_cookies=False, clock=clock
    )
    with Server(app) as server:
        yield server.url, clock
    sys.modules.pop(name, None)


FETCH = """
async ([path, options]) => {
    const response = await fetch(path, {credentials: "same-origin", ...options});
    return {status: response.status, body: await response.text()};
}
"""
PARALLEL = """
async ([path, count]) => {
    const all = await Promise.all(
        Array.from({length: count}, () => fetch(path, {credentials: "same-origin"}))
    );
    return all.map((r) => r.status);
}
"""


def test_cookie_session_in_a_real_browser(seed_server: tuple[str, OffsetClock]) -> None:
    from playwright.sync_api import sync_playwright

    base, clock = seed_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(base_url=base)
            page = context.new_page()
            page.goto("/protected")  # a 401 page, but now scripts run on our origin

            def fetch(path: str, **options: Any) -> dict[str, Any]:
                result: dict[str, Any] = page.evaluate(FETCH, [path, options])
                return result

            def ours() -> dict[str, dict[str, Any]]:
                return {
                    c["name"]: dict(c) for c in context.cookies() if c["name"].startswith("tl_")
                }

            # Log in: three cookies, only the CSRF one visible to scripts.
            login = fetch(
                "/login",
                method="POST",
                headers={"content-type": "application/json"},
                body='{"username": "test", "password": "test"}',
            )
            assert login["status"] == 200
            cookies = ours()
            assert set(cookies) == {"tl_access", "tl_refresh", "tl_csrf"}
            assert cookies["tl_access"]["httpOnly"] and cookies["tl_refresh"]["httpOnly"]
            assert not cookies["tl_csrf"]["httpOnly"]
            assert {c["sameSite"] for c in cookies.values()} == {"Lax"}
            visible = page.evaluate("document.cookie")
            assert "tl_csrf=" in visible and "tl_access" not in visible
            assert "tl_refresh" not in visible
            assert fetch("/protected") == {"status": 200, "body": PROTECTED}

            # The access cookie's Max-Age runs out: the browser drops it, and the
            # next request is refreshed in-line from the refresh cookie.
            first_refresh = cookies["tl_refresh"]["value"]
            time.sleep(ACCESS_TTL + 0.5)
            assert "tl_access" not in ours()
            assert fetch("/protected") == {"status": 200, "body": PROTECTED}
            assert "tl_access" in ours()
            assert ours()["tl_refresh"]["value"] != first_refresh

            # The server's clock jumps past expiry while the browser still holds the
            # cookies: parallel requests all carry the same expired token and the
            # same refresh cookie; the grace window lets every one of them through.
            clock.offset += ACCESS_TTL + 1
            assert page.evaluate(PARALLEL, ["/whoami", 6]) == [200] * 6
            time.sleep(0.2)
            assert fetch("/whoami")["status"] == 200  # the session survived

            # Explicit refresh by cookie, with the double-submit header.
            csrf = ours()["tl_csrf"]["value"]
            assert (
                fetch("/refresh", method="POST")["status"] == 403
            )  # CSRF: refused, nothing rotated
            assert fetch("/refresh", method="POST", headers={"X-CSRF-Token": csrf})["status"] == 200

            # Logout: the cookies are gone from the browser, and it is logged out.
            assert fetch("/logout", method="POST", headers={"X-CSRF-Token": csrf})["status"] in (
                200,
                204,
            )
            assert ours() == {}
            assert fetch("/protected")["status"] == 401
        finally:
            browser.close()
