"""The FastAPI example on its docs page: docs/examples/seed_fastapi.py serves a session.

Its whole contract is checked against both frameworks by tests/http/test_seed_apps.py.
"""

from __future__ import annotations

import pytest

from tests.docs.conftest import SECRET
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore

pytest.importorskip("fastapi")


def test_the_fastapi_seed_app_serves_a_session(clock: FrozenClock) -> None:
    from starlette.testclient import TestClient

    from docs.examples import seed_fastapi

    app = seed_fastapi.create_app(
        store=MemoryStore(), secret=SECRET, secure_cookies=False, clock=clock
    )
    with TestClient(app) as client:
        response = client.post("/login", json={"username": "test", "password": "test"})
        assert response.status_code == 200
        csrf = {"X-CSRF-Token": client.cookies["tl_csrf"]}
        assert client.post("/protected").status_code == 403  # by cookie, CSRF first
        assert client.post("/protected", headers=csrf).text == seed_fastapi.PROTECTED_TEXT
        token = response.json()["access_token"]
        client.cookies.clear()
        response = client.get("/protected", headers={"Authorization": f"Bearer {token}"})
        assert response.text == seed_fastapi.PROTECTED_TEXT
        assert client.get("/whoami").status_code == 401
