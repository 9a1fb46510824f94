"""OAuth 2.0 interoperability, on every framework adapter: each case cites its RFC section."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.http.conftest import Served, ServeFactory

CLIENTS = {"rs1": "resource-server-secret-0123456789"}
OAUTH: dict[str, Any] = {
    "revocation_path": "/oauth/revoke",
    "introspection_path": "/oauth/introspect",
    "metadata_path": "/.well-known/oauth-authorization-server",
    "introspection_clients": CLIENTS,
}
BASIC = {"Authorization": "Basic " + base64.b64encode(b"rs1:" + CLIENTS["rs1"].encode()).decode()}


@pytest.fixture
def app(serve: ServeFactory) -> Served:
    served = serve(**OAUTH)
    if served.adapter == "asgi":
        pytest.skip("the 60-line embedding example mounts refresh and logout only")
    return served


def _grant(app: Served, **form: str) -> Any:
    return app.client.post("/auth/refresh", data=form)


def _introspect(app: Served, token: str, **headers: str) -> Any:
    return app.client.post("/oauth/introspect", data={"token": token}, headers=headers or BASIC)


def test_rfc6749_s6_refresh_grant_form_answers_s5_1(app: Served) -> None:
    """RFC 6749 §6 request, §5.1 response: the pair, Bearer, expires_in, no-store."""
    pair = app.login()
    response = _grant(app, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"].lower() == "bearer" and body["expires_in"] > 0  # §7.1: any case
    assert body["refresh_token"] != pair["refresh_token"]
    assert response.headers["cache-control"] == "no-store"
    assert "scope" not in body  # identical to the (implicit) request: optional, left out
    who = app.client.get("/whoami", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert who.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "refresh_token": "x"}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "not-a-token"}, "invalid_grant"),
    ],
)
def test_rfc6749_s5_2_errors_are_400_with_error(
    app: Served, form: dict[str, str], error: str
) -> None:
    """RFC 6749 §5.2: 400 and the error code; the description never says why a token failed."""
    response = _grant(app, **form)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert "signature" not in response.text and "malformed" not in response.text


def test_rfc6749_s6_scope_may_only_narrow(app: Served) -> None:
    """RFC 6749 §6: a scope beyond the original grant is invalid_scope, and rotates nothing."""
    pair = app.login()
    response = _grant(
        app, grant_type="refresh_token", refresh_token=pair["refresh_token"], scope="admin"
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    again = _grant(app, grant_type="refresh_token", refresh_token=pair["refresh_token"])
    assert again.status_code == 200  # the refused request consumed nothing


def test_rfc7009_s2_2_revocation_ends_the_session(app: Served) -> None:
    """RFC 7009 §2.2: 200; the refresh token's session is over (its access token too)."""
    pair = app.login()
    response = app.client.post(
        "/oauth/revoke", data={"token": pair["refresh_token"], "token_type_hint": "refresh_token"}
    )
    assert response.status_code == 200
    who = app.client.get("/whoami", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert who.status_code == 401
    assert (
        _grant(app, grant_type="refresh_token", refresh_token=pair["refresh_token"]).json()["error"]
        == "invalid_grant"
    )


def test_rfc7009_s2_2_unknown_token_is_200(app: Served) -> None:
    """RFC 7009 §2.2: an invalid token is answered 200 (the client's goal holds)."""
    assert app.client.post("/oauth/revoke", data={"token": "garbage"}).status_code == 200


def test_rfc7009_s2_1_token_is_required(app: Served) -> None:
    """RFC 7009 §2.1 (``token`` REQUIRED), §2.2.1 errors per RFC 6749 §5.2: 400 invalid_request."""
    response = app.client.post("/oauth/revoke", data={"token_type_hint": "access_token"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_rfc7662_s2_2_active_access_token_members(app: Served) -> None:
    """RFC 7662 §2.2: active plus sub, exp, iat, jti, token_type, sid."""
    pair = app.login()
    body = _introspect(app, pair["access_token"]).json()
    assert body["active"] is True and body["sub"] == "alice" and body["token_type"] == "Bearer"
    assert {"exp", "iat", "jti", "sid"} <= set(body)
    refresh = _introspect(app, pair["refresh_token"]).json()
    assert refresh["active"] is True and "token_type" not in refresh


def test_rfc7662_s2_2_logout_seen_at_once(app: Served) -> None:
    """RFC 7662 §2.2: a revoked token is ``{"active": false}``, nothing more."""
    pair = app.login()
    app.client.post("/oauth/revoke", data={"token": pair["access_token"]})
    assert _introspect(app, pair["access_token"]).json() == {"active": False}
    assert _introspect(app, pair["refresh_token"]).json() == {"active": False}
    assert _introspect(app, "garbage").json() == {"active": False}


def test_rfc7662_s2_2_one_store_read(app: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """RFC 7662 §2.2 answered from the store: exactly one read per introspection."""
    pair = app.login()
    reads: list[str] = []
    for name in ("access_status", "session", "refresh_record", "sessions"):
        real = getattr(app.store, name)

        async def counted(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            reads.append(_name)
            return await _real(*args, **kw)

        monkeypatch.setattr(app.store, name, counted)
    assert _introspect(app, pair["access_token"]).json()["active"] is True
    assert reads == ["access_status"]
    assert _introspect(app, pair["refresh_token"]).json()["active"] is True
    assert reads == ["access_status", "session"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Basic " + base64.b64encode(b"rs1:wrong-secret-000000000").decode()},
        {"Authorization": "Bearer not-the-secret"},
    ],
)
def test_rfc7662_s2_1_needs_a_client_credential(app: Served, headers: dict[str, str]) -> None:
    """RFC 7662 §2.1 / RFC 6749 §5.2: no or a wrong credential is 401 invalid_client."""
    pair = app.login()
    response = app.client.post(
        "/oauth/introspect", data={"token": pair["access_token"]}, headers=headers
    )
    assert response.status_code == 401 and response.json() == {"error": "invalid_client"}
    assert response.headers["www-authenticate"].startswith("Basic")


def test_rfc6749_s2_3_1_basic_credentials_in_every_encoding(serve: ServeFactory) -> None:
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. A secret with
    reserved characters works encoded (as most clients send it), unencoded, or encoded
    another legal way (lower-case escapes, + for a space); a near miss never does."""
    secret = "s3cret: with+%/reserved-0123456789"
    app = serve(**{**OAUTH, "introspection_clients": {"rs 2": secret}})
    if app.adapter == "asgi":
        pytest.skip("the 60-line embedding example mounts refresh and logout only")
    token = app.login()["access_token"]

    def basic(pair: str) -> str:
        return "Basic " + base64.b64encode(pair.encode()).decode()

    accepted = [
        "rs%202:s3cret%3A%20with%2B%25%2Freserved-0123456789",  # quote(safe="") of each part
        "rs%202:s3cret%3A%20with%2B%25/reserved-0123456789",  # quote(), which keeps "/"
        "rs+2:s3cret%3a+with%2b%25%2freserved-0123456789",  # lower-case escapes, + for space
        "rs 2:" + secret,  # not encoded at all, as HTTP Basic clients without OAuth send it
    ]
    for pair in accepted:
        assert _introspect(app, token, Authorization=basic(pair)).json()["active"] is True, pair
    near = ("rs%202:s3cret%3A%20with%2B%25%2Freserved-012345678", "rs2:" + secret, "rs 2:s3cret")
    for pair in near:
        response = _introspect(app, token, Authorization=basic(pair))
        assert response.status_code == 401, pair


def test_rfc7662_s2_1_bearer_shared_secret(app: Served) -> None:
    """RFC 7662 §2.1 allows a bearer credential: the shared secret alone."""
    pair = app.login()
    body = _introspect(app, pair["access_token"], Authorization=f"Bearer {CLIENTS['rs1']}")
    assert body.json()["active"] is True


def test_rfc8414_s3_2_metadata(app: Served) -> None:
    """RFC 8414 §3.2: issuer, the endpoints, grant types and auth methods."""
    response = app.client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    doc = response.json()
    assert doc["issuer"].startswith("http")
    assert doc["token_endpoint"].endswith("/auth/refresh")
    assert doc["revocation_endpoint"].endswith("/oauth/revoke")
    assert doc["introspection_endpoint"].endswith("/oauth/introspect")
    assert doc["grant_types_supported"] == ["refresh_token"]


def test_rfc6749_s6_authlib_refresh_revoke_introspect(app: Served) -> None:
    """RFC 6749 §6, RFC 7009 §2.1, RFC 7662 §2.1 driven by Authlib's standard client."""
    httpx_client = pytest.importorskip("authlib.integrations.httpx_client")
    pair = app.login()
    transport = app.client._transport  # the in-process app, served through httpx
    base = str(app.client.base_url).rstrip("/")
    oauth = httpx_client.OAuth2Client(
        client_id="app", token_endpoint_auth_method="none", transport=transport
    )
    token = oauth.refresh_token(base + "/auth/refresh", refresh_token=pair["refresh_token"])
    assert (
        token["token_type"].lower() == "bearer" and token["refresh_token"] != pair["refresh_token"]
    )
    rs = httpx_client.OAuth2Client(
        client_id="rs1", client_secret=CLIENTS["rs1"], transport=transport
    )
    seen = rs.introspect_token(base + "/oauth/introspect", token=token["access_token"])
    assert seen.json()["active"] is True
    revoked = oauth.revoke_token(base + "/oauth/revoke", token=token["refresh_token"])
    assert revoked.status_code == 200
    seen = rs.introspect_token(base + "/oauth/introspect", token=token["access_token"])
    assert seen.json() == {"active": False}
