"""DPoP (RFC 9449) over HTTP, on every framework adapter: a client with its own key.

The client signs a fresh proof for every request with an ES256 or EdDSA key
(``cryptography``); a login with a proof binds the session to that key.
Everything a thief could try with a copied token or a captured proof is
refused: replays, proofs for another URL or method, stale or future proofs,
another key, the token used as a bearer token.
"""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response

from tests.dpop_client import DPoPClient
from tests.http.conftest import USERS, Served, ServeFactory, bearer
from tokenlife import KeySet, Policy, TokenAuthority, jwk_thumbprint
from tokenlife.web import DPoPConfig, Gate, WebConfig
from tokenlife_memory import MemoryStore

ALGS = 'algs="ES256 EdDSA PS256 RS256"'
NONCE_SECRET = b"dpop-nonce-secret-for-the-http-suite-0123"


@pytest.fixture(params=["ES256", "EdDSA"])
def key(request: pytest.FixtureRequest) -> DPoPClient:
    return DPoPClient(request.param)


@pytest.fixture
def app(serve: ServeFactory) -> Served:
    return serve(dpop=DPoPConfig())


def url(app: Served, path: str) -> str:
    return f"{app.client.base_url}".rstrip("/") + path


def proof(app: Served, key: DPoPClient, method: str, path: str, **kw: Any) -> str:
    kw.setdefault("iat", app.clock())
    return key.proof(method, url(app, path), **kw)


def login(app: Served, key: DPoPClient | None, user: str = "alice", **kw: Any) -> Response:
    headers = {} if key is None else {"DPoP": proof(app, key, "POST", "/login", **kw)}
    return app.client.post(
        "/login", json={"username": user, "password": USERS[user]}, headers=headers
    )


def bound_tokens(app: Served, key: DPoPClient) -> dict[str, Any]:
    response = login(app, key)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["token_type"] == "DPoP"
    return body


def dpop_get(
    app: Served, key: DPoPClient, token: str, path: str = "/protected", **kw: Any
) -> Response:
    kw.setdefault("access_token", token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof(app, key, "GET", path, **kw)}
    return app.client.get(path, headers=headers)


def refused_proof(response: Response, error: str = "invalid_dpop_proof") -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": error}
    assert response.headers["www-authenticate"] == f'DPoP error="{error}", {ALGS}'
    assert response.headers["cache-control"] == "no-store"


def refused_token(response: Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "invalid_token"}
    assert response.headers["www-authenticate"] == f'DPoP error="invalid_token", {ALGS}'


def test_a_bound_session_works_with_proofs_of_its_key(app: Served, key: DPoPClient) -> None:
    tokens = bound_tokens(app, key)
    claims = app.authority.codec.decode(tokens["access_token"], typ="at+jwt", now=app.clock())
    assert claims.jkt == key.jkt == jwk_thumbprint(key.jwk)
    for path in ("/protected", "/whoami"):
        response = dpop_get(app, key, tokens["access_token"], path)
        assert response.status_code == 200, response.text
        assert response.json()["sub"] == "alice"
    headers = {
        "Authorization": f"DPoP {tokens['access_token']}",
        "DPoP": proof(app, key, "POST", "/protected", access_token=tokens["access_token"]),
    }
    assert app.client.post("/protected", headers=headers).status_code == 200


def test_a_replayed_proof_is_refused(app: Served, key: DPoPClient) -> None:
    token = bound_tokens(app, key)["access_token"]
    once = proof(app, key, "GET", "/protected", access_token=token)
    headers = {"Authorization": f"DPoP {token}", "DPoP": once}
    assert app.client.get("/protected", headers=headers).status_code == 200
    app.clock.advance(1)
    refused_proof(app.client.get("/protected", headers=headers))


def test_a_proof_for_another_url_or_method_is_refused(app: Served, key: DPoPClient) -> None:
    token = bound_tokens(app, key)["access_token"]
    auth = {"Authorization": f"DPoP {token}"}
    elsewhere = proof(app, key, "GET", "/whoami", access_token=token)
    refused_proof(app.client.get("/protected", headers={**auth, "DPoP": elsewhere}))
    posted = proof(app, key, "POST", "/protected", access_token=token)
    refused_proof(app.client.get("/protected", headers={**auth, "DPoP": posted}))
    other_host = key.proof(
        "GET", "https://evil.example/protected", iat=app.clock(), access_token=token
    )
    refused_proof(app.client.get("/protected", headers={**auth, "DPoP": other_host}))


def test_stale_and_future_proofs_are_refused(app: Served, key: DPoPClient) -> None:
    token = bound_tokens(app, key)["access_token"]
    refused_proof(dpop_get(app, key, token, iat=app.clock() - 61))
    refused_proof(dpop_get(app, key, token, iat=app.clock() + 30))
    assert dpop_get(app, key, token, iat=app.clock() - 30).status_code == 200


def test_a_proof_must_carry_the_hash_of_its_access_token(app: Served, key: DPoPClient) -> None:
    token = bound_tokens(app, key)["access_token"]
    refused_proof(dpop_get(app, key, token, access_token=None))
    other = bound_tokens(app, key)["access_token"]
    refused_proof(dpop_get(app, key, token, access_token=other))


def test_a_missing_garbled_or_doubled_proof_is_refused(app: Served, key: DPoPClient) -> None:
    token = bound_tokens(app, key)["access_token"]
    auth = ("Authorization", f"DPoP {token}")
    refused_proof(app.client.get("/protected", headers=[auth]))
    refused_proof(app.client.get("/protected", headers=[auth, ("DPoP", "not.a.proof")]))
    two = [proof(app, key, "GET", "/protected", access_token=token) for _ in range(2)]
    refused_proof(app.client.get("/protected", headers=[auth, ("DPoP", two[0]), ("DPoP", two[1])]))


def test_another_key_after_login_is_refused(app: Served, key: DPoPClient) -> None:
    token = bound_tokens(app, key)["access_token"]
    thief = DPoPClient(key.alg)
    refused_token(dpop_get(app, thief, token))
    assert dpop_get(app, key, token).status_code == 200, "the owner is unaffected"


def test_a_bound_token_used_as_a_bearer_token_is_refused(app: Served, key: DPoPClient) -> None:
    token = bound_tokens(app, key)["access_token"]
    refused_token(app.client.get("/protected", headers=bearer(token)))


def test_bearer_and_dpop_clients_coexist(app: Served, key: DPoPClient) -> None:
    plain = login(app, None, "bob").json()
    assert plain["token_type"] == "bearer"
    assert (
        app.client.get("/protected", headers=bearer(plain["access_token"])).json()["sub"] == "bob"
    )
    # An unbound token under the DPoP scheme is refused: the scheme names the binding.
    refused_token(dpop_get(app, key, plain["access_token"]))
    bound = bound_tokens(app, key)
    assert dpop_get(app, key, bound["access_token"]).json()["sub"] == "alice"


def test_refresh_of_a_bound_session_needs_its_key(app: Served, key: DPoPClient) -> None:
    tokens = bound_tokens(app, key)
    path = app.config.refresh_path
    assert path is not None
    body = {"refresh_token": tokens["refresh_token"]}
    app.clock.advance(5)
    without = app.client.post(path, json=body)
    thief = DPoPClient(key.alg)
    other = app.client.post(path, json=body, headers={"DPoP": proof(app, thief, "POST", path)})
    for response in (without, other):
        assert (response.status_code, response.json()) == (400, {"error": "invalid_dpop_proof"})
        assert "www-authenticate" not in response.headers
    wrong_url = app.client.post(path, json=body, headers={"DPoP": proof(app, key, "POST", "/x")})
    assert (wrong_url.status_code, wrong_url.json()) == (400, {"error": "invalid_dpop_proof"})
    assert dpop_get(app, key, tokens["access_token"]).status_code == 200, "nothing was revoked"
    good = app.client.post(path, json=body, headers={"DPoP": proof(app, key, "POST", path)})
    assert good.status_code == 200, good.text
    fresh = good.json()
    assert fresh["token_type"] == "DPoP"
    assert dpop_get(app, key, fresh["access_token"]).status_code == 200
    app.clock.advance(60)
    again = {"refresh_token": fresh["refresh_token"]}
    once = proof(app, key, "POST", path)
    assert app.client.post(path, json=again, headers={"DPoP": once}).status_code == 200
    replayed = app.client.post(path, json=again, headers={"DPoP": once})
    assert (replayed.status_code, replayed.json()) == (400, {"error": "invalid_dpop_proof"})


def test_an_oauth_refresh_grant_of_a_bound_session_needs_its_key(
    app: Served, key: DPoPClient
) -> None:
    """RFC 9449 §5 at the RFC 6749 §6 token request: the form grant proves the key too."""
    tokens = bound_tokens(app, key)
    path = app.config.refresh_path
    assert path is not None
    form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    app.clock.advance(5)
    thief = DPoPClient(key.alg)
    without = app.client.post(path, data=form)
    other = app.client.post(path, data=form, headers={"DPoP": proof(app, thief, "POST", path)})
    for response in (without, other):
        assert (response.status_code, response.json()) == (400, {"error": "invalid_dpop_proof"})
    assert dpop_get(app, key, tokens["access_token"]).status_code == 200, "nothing was revoked"
    good = app.client.post(path, data=form, headers={"DPoP": proof(app, key, "POST", path)})
    assert good.status_code == 200, good.text
    fresh = good.json()
    assert fresh["token_type"] == "DPoP"
    assert "set-cookie" not in good.headers
    assert dpop_get(app, key, fresh["access_token"]).status_code == 200
    narrowed = {**form, "refresh_token": fresh["refresh_token"], "scope": "read"}
    app.clock.advance(60)
    garbled = app.client.post(path, data=narrowed, headers={"DPoP": "not-a-proof"})
    assert (garbled.status_code, garbled.json()) == (400, {"error": "invalid_dpop_proof"})
    del narrowed["scope"]
    proved = app.client.post(path, data=narrowed, headers={"DPoP": proof(app, key, "POST", path)})
    assert proved.status_code == 200, "the refused grant consumed nothing"


def test_a_bad_proof_at_login_is_refused_and_starts_nothing(app: Served, key: DPoPClient) -> None:
    response = login(app, key, iat=app.clock() - 3600)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_dpop_proof"})
    assert app.store._sessions == {}


def test_logout_with_a_bound_token_needs_its_key(app: Served, key: DPoPClient) -> None:
    tokens = bound_tokens(app, key)
    path = app.config.logout_path
    assert path is not None
    stolen = app.client.post(path, json={"token": tokens["refresh_token"]})
    assert stolen.status_code == 401
    assert dpop_get(app, key, tokens["access_token"]).status_code == 200
    proven = app.client.post(
        path,
        json={"token": tokens["refresh_token"]},
        headers={"DPoP": proof(app, key, "POST", path)},
    )
    assert proven.status_code == 204
    refused_token(dpop_get(app, key, tokens["access_token"]))


def test_a_policy_can_require_dpop(serve: ServeFactory, key: DPoPClient) -> None:
    app = serve(dpop=DPoPConfig(), policy=Policy(access_ttl=300, grace=10, require_dpop=True))
    response = login(app, None)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_dpop_proof"})
    assert dpop_get(app, key, bound_tokens(app, key)["access_token"]).status_code == 200


def test_server_nonces(serve: ServeFactory, key: DPoPClient) -> None:
    app = serve(dpop=DPoPConfig(nonce_secret=NONCE_SECRET, nonce_lifetime=60))
    first = login(app, key)
    assert (first.status_code, first.json()) == (400, {"error": "use_dpop_nonce"})
    nonce = first.headers["dpop-nonce"]
    response = login(app, key, nonce=nonce)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    app.clock.advance(150)  # two nonce steps later: the nonce is stale
    stale = dpop_get(app, key, token, nonce=nonce)
    refused_proof(stale, "use_dpop_nonce")
    assert dpop_get(app, key, token, nonce=stale.headers["dpop-nonce"]).status_code == 200


def test_an_origin_setting_names_the_url_proofs_must_carry(
    serve: ServeFactory, key: DPoPClient
) -> None:
    app = serve(dpop=DPoPConfig(origin="https://api.example"))
    refused = app.client.post(
        "/login", json={"username": "alice", "password": USERS["alice"]},
        headers={"DPoP": proof(app, key, "POST", "/login")},
    )  # fmt: skip
    assert refused.status_code == 400, "the request's own URL is not the configured origin"
    response = app.client.post(
        "/login", json={"username": "alice", "password": USERS["alice"]},
        headers={"DPoP": key.proof("POST", "https://api.example/login", iat=app.clock())},
    )  # fmt: skip
    assert response.status_code == 200, response.text


def test_the_config_is_checked_at_start_up() -> None:
    from tokenlife import ConfigurationError

    for origin in ("api.example", "https://api.example/path"):
        with pytest.raises(ConfigurationError):
            DPoPConfig(origin=origin)
    with pytest.raises(ConfigurationError):
        DPoPConfig(algorithms=("HS256",))
    authority = TokenAuthority(
        MemoryStore(), keys=KeySet.generate("EdDSA"), policy=Policy(require_dpop=True)
    )
    with pytest.raises(ConfigurationError, match="require_dpop"):
        Gate(authority, WebConfig())
