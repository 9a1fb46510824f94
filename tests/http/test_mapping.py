"""Bearer tokens at a protected route and the routes' answers: every status of the HTTP mapping."""

from __future__ import annotations

from httpx import Response

from tests.http.conftest import Served, ServeFactory, bearer


def _invalid_token(response: Response) -> None:
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_token"}
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["cache-control"] == "no-store"


def _invalid_grant(response: Response) -> None:
    assert (response.status_code, response.json()) == (401, {"error": "invalid_grant"})
    assert response.headers["cache-control"] == "no-store"
    assert "www-authenticate" not in response.headers


def test_no_credentials_is_a_bare_bearer_challenge(bearer_app: Served) -> None:
    for headers in ({}, {"Authorization": "Basic eDp5"}):  # another scheme is not ours
        response = bearer_app.client.get("/protected", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {"error": "unauthorized"}
        assert response.headers["cache-control"] == "no-store"


def test_a_valid_token_passes_whatever_the_scheme_casing(bearer_app: Served) -> None:
    pair = bearer_app.login()
    for scheme in ("Bearer", "bearer", "BEARER"):
        headers = {"Authorization": f"{scheme} {pair['access_token']}"}
        response = bearer_app.client.get("/whoami", headers=headers)
        assert response.status_code == 200 and response.json()["sub"] == "alice"


def test_garbage_empty_forged_and_wrong_type_tokens_are_invalid_token(bearer_app: Served) -> None:
    pair = bearer_app.login()
    forged = pair["access_token"][:-4] + "AAAA"
    for token in ("garbage", forged, pair["refresh_token"]):
        _invalid_token(bearer_app.client.get("/protected", headers=bearer(token)))
    _invalid_token(bearer_app.client.get("/protected", headers={"Authorization": "Bearer "}))


def test_expired_and_revoked_tokens_are_invalid_token(bearer_app: Served) -> None:
    first, second = bearer_app.login(), bearer_app.login()
    assert (
        bearer_app.client.post("/auth/logout", headers=bearer(first["access_token"])).status_code
        == 204
    )
    _invalid_token(bearer_app.client.get("/protected", headers=bearer(first["access_token"])))
    bearer_app.clock.advance(301)
    _invalid_token(bearer_app.client.get("/protected", headers=bearer(second["access_token"])))


def test_realm_in_challenges(serve: ServeFactory) -> None:
    app = serve(realm="api")
    assert app.client.get("/protected").headers["www-authenticate"] == 'Bearer realm="api"'


def test_query_token_only_when_enabled(serve: ServeFactory) -> None:
    off, on = serve(), serve(token_locations=["header", "query"])
    for app, status in ((off, 401), (on, 200)):
        token = app.login()["access_token"]
        assert app.client.get(f"/protected?access_token={token}").status_code == status


def test_store_outage_is_503_everywhere_and_never_a_200(cookie_app: Served) -> None:
    pair = cookie_app.login()
    cookie_app.store.broken = True
    calls = [
        cookie_app.client.get("/protected", headers=bearer(pair["access_token"])),
        cookie_app.client.post("/auth/refresh", headers=bearer(pair["refresh_token"])),
        cookie_app.client.post("/auth/logout", headers=bearer(pair["access_token"])),
        cookie_app.client.post("/login", json={"username": "bob", "password": "bob-pw"}),
    ]
    for response in calls:
        assert response.status_code == 503, response.text
        assert response.json() == {"error": "temporarily_unavailable"}
        assert response.headers["cache-control"] == "no-store"
        assert "set-cookie" not in response.headers  # the cookies stay for a retry
    cookie_app.store.broken = False
    assert (
        cookie_app.client.get("/protected", headers=bearer(pair["access_token"])).status_code == 200
    )


# -- the refresh route ------------------------------------------------------------------


def test_refresh_by_header_and_by_json_or_form_body(bearer_app: Served) -> None:
    token = bearer_app.login()["refresh_token"]
    by_header = bearer_app.client.post("/auth/refresh", headers=bearer(token))
    assert by_header.status_code == 200
    body = by_header.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert by_header.headers["cache-control"] == "no-store"
    by_json = bearer_app.client.post("/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert by_json.status_code == 200
    form = {"grant_type": "refresh_token", "refresh_token": by_json.json()["refresh_token"]}
    assert bearer_app.client.post("/auth/refresh", data=form).status_code == 200


def test_refused_refresh_tokens_are_invalid_grant(bearer_app: Served) -> None:
    pair = bearer_app.login()
    _invalid_grant(bearer_app.client.post("/auth/refresh", json={"refresh_token": "junk"}))
    _invalid_grant(bearer_app.client.post("/auth/refresh", headers=bearer(pair["access_token"])))
    bearer_app.clock.advance(15 * 86400)
    _invalid_grant(bearer_app.client.post("/auth/refresh", headers=bearer(pair["refresh_token"])))


def test_no_refresh_token_at_all_is_invalid_request(bearer_app: Served) -> None:
    response = bearer_app.client.post("/auth/refresh")
    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})


def test_replay_inside_grace_returns_the_same_successor(bearer_app: Served) -> None:
    token = bearer_app.login()["refresh_token"]
    first = bearer_app.client.post("/auth/refresh", headers=bearer(token)).json()
    bearer_app.clock.advance(5)
    again = bearer_app.client.post("/auth/refresh", headers=bearer(token)).json()
    assert again["refresh_token"] == first["refresh_token"]


def test_reuse_after_grace_kills_the_session(bearer_app: Served) -> None:
    old = bearer_app.login()["refresh_token"]
    new = bearer_app.client.post("/auth/refresh", headers=bearer(old)).json()
    bearer_app.clock.advance(11)
    _invalid_grant(bearer_app.client.post("/auth/refresh", headers=bearer(old)))
    _invalid_grant(bearer_app.client.post("/auth/refresh", headers=bearer(new["refresh_token"])))
    assert (
        bearer_app.client.get("/protected", headers=bearer(new["access_token"])).status_code == 401
    )


# -- the logout route -------------------------------------------------------------------


def test_logout_with_access_or_refresh_token_ends_the_session(bearer_app: Served) -> None:
    for kind in ("access_token", "refresh_token"):
        pair = bearer_app.login()
        assert bearer_app.client.post("/auth/logout", headers=bearer(pair[kind])).status_code == 204
        _invalid_grant(
            bearer_app.client.post("/auth/refresh", headers=bearer(pair["refresh_token"]))
        )
    pair = bearer_app.login()
    response = bearer_app.client.post("/auth/logout", json={"token": pair["refresh_token"]})
    assert response.status_code == 204


def test_logout_is_idempotent_and_says_no_to_what_is_not_ours(bearer_app: Served) -> None:
    pair = bearer_app.login()
    assert bearer_app.client.post("/auth/logout").status_code == 204  # nothing to end
    assert bearer_app.client.post("/auth/logout", headers=bearer("junk")).status_code == 401
    for _ in range(2):
        response = bearer_app.client.post("/auth/logout", headers=bearer(pair["access_token"]))
        assert response.status_code == 204
