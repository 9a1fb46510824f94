"""The refresh, logout and JWKS routes the plugin adds."""

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


def test_refresh_via_header(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    pair = _pair(client)
    response = client.post("/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["refresh_token"] != pair["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    assert client.get("/protected", headers=bearer(body["access_token"])).status_code == 200


def test_refresh_via_json_body(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    pair = _pair(client)
    response = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert response.status_code == 200


def _invalid_request(response: object) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})


def test_refresh_failures_are_invalid_grant(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    pair = _pair(client)
    _invalid_grant(client.post("/auth/refresh", json={"refresh_token": "junk"}))
    # A request that cannot be read is the client's bug, not a bad token.
    _invalid_request(client.post("/auth/refresh"))
    _invalid_request(client.post("/auth/refresh", content=b"{not json"))
    _invalid_request(client.post("/auth/refresh", json={"refresh_token": 42}))
    # An access token is not a refresh token.
    _invalid_grant(client.post("/auth/refresh", headers=bearer(pair["access_token"])))
    bearer_app.clock.advance(15 * 86400)
    _invalid_grant(client.post("/auth/refresh", headers=bearer(pair["refresh_token"])))


def test_replay_inside_grace_returns_the_same_successor(
    bearer_app: Harness, client_of: Client
) -> None:
    client = client_of(bearer_app)
    token = _pair(client)["refresh_token"]
    first = client.post("/auth/refresh", headers=bearer(token)).json()
    bearer_app.clock.advance(5)
    again = client.post("/auth/refresh", headers=bearer(token)).json()
    assert again["refresh_token"] == first["refresh_token"]


def test_reuse_kills_the_session(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    old = _pair(client)["refresh_token"]
    new = client.post("/auth/refresh", headers=bearer(old)).json()
    bearer_app.clock.advance(11)
    _invalid_grant(client.post("/auth/refresh", headers=bearer(old)))
    _invalid_grant(client.post("/auth/refresh", headers=bearer(new["refresh_token"])))
    assert client.get("/protected", headers=bearer(new["access_token"])).status_code == 401


def test_refresh_via_cookie_needs_csrf(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    _pair(client)
    for headers in ({}, {"X-CSRF-Token": "nope"}):
        refused = client.post("/auth/refresh", headers=headers)
        assert (refused.status_code, refused.json()) == (403, {"error": "invalid_csrf_token"})
        assert set_cookies(refused) == {}
    before = client.cookies["tl_refresh"]
    response = client.post("/auth/refresh", headers={"X-CSRF-Token": client.cookies["tl_csrf"]})
    assert response.status_code == 200
    assert set(set_cookies(response)) == {"tl_access", "tl_refresh", "tl_csrf"}
    assert client.cookies["tl_refresh"] != before


def test_refresh_with_a_planted_csrf_cookie_is_refused(
    cookie_app: Harness, client_of: Client
) -> None:
    client = client_of(cookie_app)
    _pair(client)
    client.cookies.set("tl_csrf", "planted")
    refused = client.post("/auth/refresh", headers={"X-CSRF-Token": "planted"})
    assert refused.status_code == 403 and set_cookies(refused) == {}


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


def test_logout_with_access_or_refresh_token(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    first = _pair(client)
    assert client.post("/auth/logout", headers=bearer(first["access_token"])).status_code == 204
    _invalid_grant(client.post("/auth/refresh", headers=bearer(first["refresh_token"])))
    second = _pair(client)
    response = client.post("/auth/logout", json={"refresh_token": second["refresh_token"]})
    assert response.status_code == 204
    assert client.get("/protected", headers=bearer(second["access_token"])).status_code == 401


def test_logout_is_idempotent_and_says_no_to_junk(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    pair = _pair(client)
    assert client.post("/auth/logout").status_code == 204  # nothing presented, nothing to end
    assert client.post("/auth/logout", headers=bearer("junk")).status_code == 401
    assert client.post("/auth/logout", headers=bearer(pair["access_token"])).status_code == 204
    assert client.post("/auth/logout", headers=bearer(pair["access_token"])).status_code == 204


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
