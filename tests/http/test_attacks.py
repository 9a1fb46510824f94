"""Attacks on the web layer, each named after what it tries; every adapter must hold.

For each: the attack does no harm, nothing the victim holds is consumed
(no rotation, no revocation, no cookie change), and no 5xx.
"""

from __future__ import annotations

import json

import pytest

from tests.http.conftest import Served, bearer, cleared, set_cookies

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EVIL = {"Origin": "https://evil.example"}


def _works(app: Served, pair: dict[str, str]) -> bool:
    """Do the pair's tokens still work (access verifies; refresh is unrevoked)?"""
    saved = app.cookie_jar()
    app.client.cookies.clear()
    access = app.client.get("/protected", headers=bearer(pair["access_token"])).status_code
    app.set_jar(saved)
    return access == 200


# -- 1. a logout that says yes and revokes nothing -----------------------------------


@pytest.mark.parametrize("field", ["token", "refresh_token"])
def test_logout_with_the_token_as_a_form_field_ends_the_session(
    bearer_app: Served, field: str
) -> None:
    pair = bearer_app.login()
    body = f"{field}={pair['refresh_token']}&token_type_hint=refresh_token"
    response = bearer_app.client.post("/auth/logout", content=body, headers=FORM)
    assert response.status_code == 204
    assert not _works(bearer_app, pair)
    again = bearer_app.client.post("/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert again.status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('["a", "b"]', "application/json"),
        ('{"token": 5}', "application/json"),
        ("<token>", "text/plain"),
        ('{"x":' + "[" * 1000 + "]" * 1000 + "}", "application/json"),
    ],
)
def test_logout_with_an_unreadable_body_is_400_and_revokes_nothing(
    bearer_app: Served, body: str, content_type: str
) -> None:
    pair = bearer_app.login()
    response = bearer_app.client.post(
        "/auth/logout", content=body, headers={"Content-Type": content_type}
    )
    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})
    assert _works(bearer_app, pair)


def test_logout_with_a_plain_text_token_is_400_not_204(bearer_app: Served) -> None:
    pair = bearer_app.login()
    response = bearer_app.client.post(
        "/auth/logout", content=pair["refresh_token"], headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert _works(bearer_app, pair)


def test_logout_with_an_expired_but_authentic_access_token_ends_its_session(
    cookie_app: Served,
) -> None:
    pair = cookie_app.login()
    cookie_app.clock.advance(301)  # the access token has expired; the session has not
    saved = cookie_app.cookie_jar()
    cookie_app.client.cookies.clear()
    response = cookie_app.client.post("/auth/logout", headers=bearer(pair["access_token"]))
    assert response.status_code == 204
    refresh = cookie_app.client.post("/auth/refresh", headers=bearer(pair["refresh_token"]))
    assert refresh.status_code == 401
    # And by cookie: the expired access cookie with its session's CSRF value.
    cookie_app.set_jar(saved)
    cookie_app.client.cookies.clear()
    second = cookie_app.login("bob")
    cookie_app.clock.advance(301)
    response = cookie_app.client.post("/auth/logout", headers=cookie_app.csrf())
    assert response.status_code == 204 and cleared(response)
    again = cookie_app.client.post("/auth/refresh", headers=bearer(second["refresh_token"]))
    assert again.status_code == 401


def test_logout_with_a_forged_token_is_refused(bearer_app: Served) -> None:
    pair = bearer_app.login()
    forged = pair["refresh_token"][:-4] + "AAAA"
    response = bearer_app.client.post("/auth/logout", json={"token": forged})
    assert response.status_code == 401
    assert _works(bearer_app, pair)


# -- 2. login CSRF through /refresh and /login ---------------------------------------


def test_cross_site_text_plain_form_posting_json_to_refresh_sets_no_cookies(
    cookie_app: Served,
) -> None:
    attacker = cookie_app.login("bob")
    cookie_app.client.cookies.clear()  # the victim's browser: no cookies of ours
    body = json.dumps({"refresh_token": attacker["refresh_token"], "a": "="})
    response = cookie_app.client.post(
        "/auth/refresh", content=body, headers={"Content-Type": "text/plain", **EVIL}
    )
    assert response.status_code == 400
    assert set_cookies(response) == {}
    # Even as a form (which a cross-site page can send), no cookies.
    form = cookie_app.client.post(
        "/auth/refresh",
        content=f"refresh_token={attacker['refresh_token']}",
        headers={**FORM, **EVIL},
    )
    assert form.status_code == 200 and set_cookies(form) == {}


def test_cross_site_text_plain_form_posting_json_to_login_sets_no_cookies(
    cookie_app: Served,
) -> None:
    body = json.dumps({"username": "bob", "password": "bob-pw", "a": "="})
    response = cookie_app.client.post(
        "/login", content=body, headers={"Content-Type": "text/plain", **EVIL}
    )
    assert response.status_code == 400
    assert set_cookies(response) == {}


# -- 3. a request refused for CSRF still rotates -------------------------------------


def test_refresh_with_a_planted_csrf_cookie_and_matching_header_rotates_nothing(
    cookie_app: Served,
) -> None:
    cookie_app.login()
    _, refresh, csrf = cookie_app.names
    victim_refresh = cookie_app.client.cookies[refresh]
    cookie_app.client.cookies.set(csrf, "planted")
    response = cookie_app.client.post("/auth/refresh", headers={"X-CSRF-Token": "planted"})
    assert response.status_code == 403 and set_cookies(response) == {}
    cookie_app.clock.advance(60)  # past grace: a rotation would now make the next use a reuse
    legit = cookie_app.client.post("/auth/refresh", headers=bearer(victim_refresh))
    assert legit.status_code == 200


def test_implicit_refresh_with_a_planted_csrf_value_rotates_nothing(cookie_app: Served) -> None:
    cookie_app.login()
    access, refresh, csrf = cookie_app.names
    victim_refresh = cookie_app.client.cookies[refresh]
    cookie_app.client.cookies.delete(access)  # expired in the browser: an in-line refresh is due
    cookie_app.client.cookies.set(csrf, "planted")
    response = cookie_app.client.post("/protected", headers={"X-CSRF-Token": "planted"})
    assert response.status_code == 403 and set_cookies(response) == {}
    cookie_app.clock.advance(60)
    assert (
        cookie_app.client.post("/auth/refresh", headers=bearer(victim_refresh)).status_code == 200
    )


# -- 4. cookie logout's CSRF check is bound to the session ---------------------------


def test_logout_with_a_planted_csrf_cookie_and_matching_header_logs_nobody_out(
    cookie_app: Served,
) -> None:
    pair = cookie_app.login()
    cookie_app.client.cookies.set(cookie_app.names[2], "planted")
    response = cookie_app.client.post("/auth/logout", headers={"X-CSRF-Token": "planted"})
    assert response.status_code == 403 and set_cookies(response) == {}
    assert _works(cookie_app, pair)


def test_logout_with_another_sessions_csrf_value_logs_nobody_out(cookie_app: Served) -> None:
    cookie_app.login("bob")
    other = cookie_app.csrf()
    pair = cookie_app.login("alice")
    response = cookie_app.client.post("/auth/logout", headers=other)
    assert response.status_code == 403
    assert _works(cookie_app, pair)


def test_cross_site_logout_without_cookies_clears_nothing(cookie_app: Served) -> None:
    response = cookie_app.client.post("/auth/logout", headers=EVIL)
    assert response.status_code == 204
    assert set_cookies(response) == {}


# -- 5. in-line refresh swaps identity -----------------------------------------------


def test_victim_access_cookie_with_a_foreign_refresh_cookie_keeps_the_victims_identity(
    cookie_app: Served,
) -> None:
    _, refresh, _ = cookie_app.names
    cookie_app.login("bob")
    foreign = cookie_app.client.cookies[refresh]
    cookie_app.login("alice")
    cookie_app.client.cookies.delete(refresh)
    cookie_app.client.cookies.set(refresh, foreign)
    cookie_app.clock.advance(290)  # inside the near-expiry window
    response = cookie_app.client.get("/whoami")
    assert response.status_code == 200 and response.json()["sub"] == "alice"
    assert set_cookies(response) == {}
    # Once the victim's access token has expired, the mismatch is refused, not swapped.
    cookie_app.clock.advance(20)
    refused = cookie_app.client.get("/whoami")
    assert refused.status_code == 401 and set_cookies(refused) == {}
    assert cookie_app.client.post("/auth/refresh", headers=bearer(foreign)).status_code == 200


def test_secure_cookie_names_carry_a_prefix_no_subdomain_can_plant(serve: object) -> None:
    from tokenlife.web import CookieConfig

    app = serve(cookies=CookieConfig())  # type: ignore[operator]
    response = app.client.post("/login", json={"username": "alice", "password": "alice-pw"})
    assert sorted(set_cookies(response)) == [
        "__Host-tl_access",
        "__Host-tl_csrf",
        "__Host-tl_refresh",
    ]


# -- 6. 500s and wrong errors --------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/auth/refresh", "/auth/logout"])
def test_deeply_nested_json_body_is_400_not_500(bearer_app: Served, path: str) -> None:
    body = '{"x":' + "[" * 1000 + "]" * 1000 + "}"
    response = bearer_app.client.post(
        path, content=body, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})


@pytest.mark.parametrize(
    "body", ["{not json", "[1]", '{"refresh_token": 1}', '{"refresh_token": ["a"]}']
)
def test_malformed_refresh_body_is_invalid_request_not_invalid_grant(
    bearer_app: Served, body: str
) -> None:
    response = bearer_app.client.post(
        "/auth/refresh", content=body, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()) == (400, {"error": "invalid_request"})


def test_oversized_refresh_body_is_400(bearer_app: Served) -> None:
    body = json.dumps({"refresh_token": "r" * 100_000})
    response = bearer_app.client.post(
        "/auth/refresh", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_duplicate_authorization_headers_are_refused(bearer_app: Served) -> None:
    pair = bearer_app.login()
    headers = [("Authorization", f"Bearer {pair['access_token']}"), ("Authorization", "Bearer x")]
    response = bearer_app.client.get("/protected", headers=headers)
    # 400 when the server passes both on, 401 when it joins them into one value.
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_request", "invalid_token")
