"""docs/examples/asgi_app.py: at most 60 lines, and a session's life through it.

The HTTP conformance suite (tests/http) runs every case against this app; this
keeps the page's promise of its size and walks it once here.
"""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from docs.examples import asgi_app
from tokenlife import KeySet, TokenAuthority
from tokenlife.web import CookieConfig, WebConfig
from tokenlife_memory import MemoryStore

EXAMPLE = Path(asgi_app.__file__)


def test_the_embedding_example_fits_in_60_lines() -> None:
    assert len(EXAMPLE.read_text(encoding="utf-8").splitlines()) <= 60


def test_login_whoami_refresh_and_logout_through_the_example() -> None:
    authority = TokenAuthority(MemoryStore(), keys=KeySet.from_secret("s" * 40))
    config = WebConfig(cookies=CookieConfig(secure=False))
    app = asgi_app.create_app(authority, config, {"alice": "pw"})
    with TestClient(app) as client:
        login = client.post("/login", json={"username": "alice", "password": "pw"})
        assert login.status_code == 200 and "tl_csrf" in client.cookies
        assert client.get("/whoami").json()["sub"] == "alice"
        csrf = {"X-CSRF-Token": client.cookies["tl_csrf"]}
        assert client.post("/auth/refresh", headers=csrf).status_code == 200
        assert client.post("/auth/logout", headers=csrf).status_code == 204
        assert client.get("/whoami").status_code == 401
