"""Bearer tokens, the Litestar side: request.user, dependencies, guards, WebSockets."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from tests.litestar.conftest import Harness, bearer, build

Client = Callable[[Harness], TestClient[Litestar]]


def _login(client: TestClient[Litestar], sub: str = "alice", *scopes: str) -> dict[str, str]:
    response = client.post("/login", json={"sub": sub, "scopes": list(scopes)})
    assert response.status_code == 200
    body: dict[str, str] = response.json()
    return body


def test_request_user_auth_and_dependencies(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    pair = _login(client, "bob", "read", "write")
    body = client.get("/me", headers=bearer(pair["access_token"])).json()
    assert body == {
        "user": "bob",
        "sub": "bob",
        "auth_is_claims": True,
        "scopes": ["read", "write"],
        "fresh": True,
    }


def _assert_invalid_token(response: object) -> None:
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # The reason (expired, revoked, ...) is never told to the client.
    assert response.json() == {"error": "invalid_token"}


def test_repeat_tokens_still_check_expiry_and_store(client_of: Client) -> None:
    harness = build()
    client = client_of(harness)
    tokens = [_login(client, f"u{i}")["access_token"] for i in range(3)]
    for token in tokens * 2:  # more tokens than the cache holds
        assert client.get("/protected", headers=bearer(token)).status_code == 200
    client.post("/auth/logout", headers=bearer(tokens[2]))
    _assert_invalid_token(client.get("/protected", headers=bearer(tokens[2])))
    harness.clock.advance(300)
    _assert_invalid_token(client.get("/protected", headers=bearer(tokens[1])))


def test_missing_scope_is_403_insufficient_scope(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    token = _login(client, "alice", "read")["access_token"]
    response = client.get("/admin", headers=bearer(token))
    assert response.status_code == 403
    assert (
        response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="admin"'
    )
    assert response.json() == {"error": "insufficient_scope"}
    admin = _login(client, "root", "admin")["access_token"]
    assert client.get("/admin", headers=bearer(admin)).status_code == 200


def test_fresh_only_straight_from_login(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    pair = _login(client)
    assert client.get("/fresh", headers=bearer(pair["access_token"])).status_code == 200
    refreshed = client.post("/auth/refresh", headers=bearer(pair["refresh_token"])).json()
    response = client.get("/fresh", headers=bearer(refreshed["access_token"]))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == 'Bearer error="insufficient_scope"'


def test_guard_on_an_excluded_route_is_401(client_of: Client) -> None:
    harness = build(exclude="/admin")
    response = client_of(harness).get("/admin")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_retrieve_user_handler(client_of: Client) -> None:
    async def load(claims: object, connection: object) -> dict[str, str]:
        from tokenlife import Claims

        assert isinstance(claims, Claims)
        return {"name": claims.subject.upper()}

    client = client_of(build(retrieve_user_handler=load))
    token = _login(client)["access_token"]
    assert client.get("/me", headers=bearer(token)).json()["user"] == {"name": "ALICE"}


def test_websocket_with_a_bearer_header(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    token = _login(client)["access_token"]
    with client.websocket_connect("/ws", headers=bearer(token)) as session:
        assert session.receive_text() == "alice"
