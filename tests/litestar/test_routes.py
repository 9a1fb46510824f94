"""The routes the plugin adds, the Litestar side: cookie clearing on reuse, custom paths, JWKS."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.litestar.conftest import Harness, attributes, bearer, build, set_cookies
from tokenlife import ConfigurationError, KeySet

Client = Callable[[Harness], TestClient[Litestar]]


def _pair(client: TestClient[Litestar], sub: str = "alice") -> dict[str, str]:
    body: dict[str, str] = client.post("/login", json={"sub": sub}).json()
    return body


def _invalid_grant(response: object) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_grant"}
    assert response.headers["cache-control"] == "no-store"


def test_reuse_by_cookie_clears_the_cookies(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    _pair(client)
    old = dict(client.cookies)
    client.post("/auth/refresh", headers={"X-CSRF-Token": client.cookies["tl_csrf"]})
    cookie_app.clock.advance(11)
    client.cookies.clear()
    for name, value in old.items():
        client.cookies.set(name, value)
    response = client.post("/auth/refresh", headers={"X-CSRF-Token": old["tl_csrf"]})
    _invalid_grant(response)
    assert all(attributes(v)["max-age"] == "0" for v in set_cookies(response).values())


def test_reuse_by_body_clears_cookies_of_that_session_only(
    cookie_app: Harness, client_of: Client
) -> None:
    client = client_of(cookie_app)
    old = _pair(client)["refresh_token"]
    client.post("/auth/refresh", json={"refresh_token": old})  # cookies now hold the successor
    cookie_app.clock.advance(11)
    response = client.post("/auth/refresh", json={"refresh_token": old})
    _invalid_grant(response)
    assert set(set_cookies(response)) == {"tl_access", "tl_refresh", "tl_csrf"}
    # Another session's cookies are left alone.
    other = _pair(client, "bob")["refresh_token"]
    client.post("/auth/refresh", json={"refresh_token": other})
    client.post("/login", json={"sub": "carol"})
    cookie_app.clock.advance(11)
    response = client.post("/auth/refresh", json={"refresh_token": other})
    _invalid_grant(response)
    assert "set-cookie" not in response.headers


def test_custom_paths_and_no_routes(client_of: Client) -> None:
    client = client_of(build(refresh_path="/token", logout_path=None))
    pair = _pair(client)
    assert client.post("/token", headers=bearer(pair["refresh_token"])).status_code == 200
    assert client.post("/auth/logout", headers=bearer(pair["access_token"])).status_code == 404


def test_jwks_route_serves_public_keys(client_of: Client) -> None:
    keys = KeySet.generate("EdDSA")
    client = client_of(build(keys=keys, jwks_path="/.well-known/jwks.json"))
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    document = response.json()
    assert document == keys.public_jwks()
    assert all("d" not in key for key in document["keys"])


def test_jwks_route_refuses_shared_secrets() -> None:
    with pytest.raises(ConfigurationError):
        build(jwks_path="/jwks")
