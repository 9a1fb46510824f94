"""Store failures, exclusions, OpenAPI, lifespan, configuration and the public API."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from openapi_spec_validator import validate

import tokenlife_litestar
from tests.litestar.conftest import Harness, bearer, build
from tokenlife import ConfigurationError, StoreError
from tokenlife_litestar import CookieConfig, compile_exclude

Client = Callable[[Harness], TestClient[Litestar]]


# -- the store fails: 503, never a 200 ---------------------------------------------------


def _assert_unavailable(response: Any) -> None:
    assert response.status_code == 503
    assert response.json() == {"error": "temporarily_unavailable"}
    assert response.headers["retry-after"] == "1"
    assert "www-authenticate" not in response.headers


def test_store_error_fails_closed_everywhere(cookie_app: Harness, client_of: Client) -> None:
    client = client_of(cookie_app)
    pair = client.post("/login", json={"sub": "alice"}).json()
    cookie_app.store.broken = True
    _assert_unavailable(client.get("/protected", headers=bearer(pair["access_token"])))
    _assert_unavailable(client.get("/protected"))  # by cookie
    _assert_unavailable(client.post("/auth/refresh", headers=bearer(pair["refresh_token"])))
    _assert_unavailable(client.post("/auth/logout", headers=bearer(pair["access_token"])))
    _assert_unavailable(client.post("/login", json={"sub": "bob"}))
    client.cookies.delete("tl_access")
    response = client.get("/protected")  # implicit refresh cannot reach the store
    _assert_unavailable(response)
    assert "set-cookie" not in response.headers  # a store outage logs nobody out
    cookie_app.store.broken = False
    assert client.get("/protected").status_code == 200


def test_store_error_with_a_cached_token_still_fails_closed(client_of: Client) -> None:
    harness = build()
    client = client_of(harness)
    token = client.post("/login", json={"sub": "alice"}).json()["access_token"]
    assert client.get("/protected", headers=bearer(token)).status_code == 200
    harness.store.broken = True
    _assert_unavailable(client.get("/protected", headers=bearer(token)))


def test_token_errors_raised_by_app_code_map_to_401() -> None:
    from litestar import get

    from tokenlife import ExpiredTokenError

    harness = build()

    @get("/raises", exclude_from_auth=True)
    async def raises() -> None:
        raise ExpiredTokenError("boom")

    @get("/store", exclude_from_auth=True)
    async def store() -> None:
        raise StoreError("down")

    app = Litestar([raises, store], plugins=[harness.plugin])
    with TestClient(app) as client:
        response = client.get("/raises")
        assert response.status_code == 401
        assert response.json() == {"error": "invalid_token"}
        _assert_unavailable(client.get("/store"))


# -- exclusions ------------------------------------------------------------------------


def test_compile_exclude_is_anchored_at_segment_boundaries() -> None:
    pattern = compile_exclude(["/public", "/exact$", "/dir/"])
    assert pattern is not None
    for path in ("/public", "/public/", "/public/a/b", "/exact", "/dir/", "/dir/x"):
        assert pattern.match(path), path
    for path in ("/publicity", "/api/public", "/exact/x", "/exactly", "/dirt", "/dir"):
        assert not pattern.match(path), path
    assert compile_exclude(None) is None
    assert compile_exclude([]) is None


def test_exclude_patterns_in_an_app(client_of: Client) -> None:
    client = client_of(build(exclude=["/public"]))
    assert client.get("/public/anything").status_code == 200
    assert client.get("/publicity").status_code == 401
    assert client.get("/protected").status_code == 401


def test_exclude_opt_key_and_methods(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    assert client.get("/open").status_code == 200
    # OPTIONS (CORS preflight) is never authenticated; the route itself answers it.
    assert client.options("/protected").status_code == 204


def test_custom_exclude_opt_key(client_of: Client) -> None:
    client = client_of(build(exclude_opt_key="public_route"))
    assert client.get("/open").status_code == 401  # marked with the default key only


def test_openapi_document_is_not_behind_auth(bearer_app: Harness, client_of: Client) -> None:
    client = client_of(bearer_app)
    assert client.get("/schema/openapi.json").status_code == 200


# -- OpenAPI ---------------------------------------------------------------------------


def test_openapi_is_valid_and_declares_the_schemes(cookie_app: Harness, client_of: Client) -> None:
    document = client_of(cookie_app).get("/schema/openapi.json").json()
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert schemes["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["BearerToken"]["description"],
    }
    assert schemes["AccessCookie"]["type"] == "apiKey"
    assert schemes["AccessCookie"]["in"] == "cookie"
    assert schemes["AccessCookie"]["name"] == "tl_access"
    assert document["security"] == [{"BearerToken": []}, {"AccessCookie": []}]
    refresh = document["paths"]["/auth/refresh"]["post"]
    assert refresh["security"] == [{}]


def test_openapi_bearer_only(bearer_app: Harness, client_of: Client) -> None:
    document = client_of(bearer_app).get("/schema/openapi.json").json()
    validate(document)
    assert list(document["components"]["securitySchemes"]) == ["BearerToken"]


# -- lifespan ----------------------------------------------------------------------------


def test_lifespan_opens_and_closes_the_store() -> None:
    harness = build()
    with harness.client() as client:
        assert harness.store.opened == 1
        assert client.post("/login", json={"sub": "a"}).status_code == 200
    with pytest.raises(StoreError):
        anyio.run(harness.store.session, "nope")


def test_manage_store_off_leaves_the_store_alone() -> None:
    harness = build(manage_store=False)
    with harness.client():
        pass
    assert harness.store.opened == 0


# -- configuration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"token_locations": ("header", "body")}, "token_locations"),
        ({"token_locations": ()}, "token_locations"),
        ({"token_locations": ("header", "header")}, "token_locations"),
        ({"token_locations": ("cookie",)}, "CookieConfig"),
        ({"refresh_path": "auth/refresh"}, "refresh_path"),
        ({"cookies": CookieConfig(path="/api")}, "cover"),
    ],
)
def test_bad_configuration_is_refused_at_start(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        build(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"access_name": "x", "refresh_name": "x"},
        {"samesite": "none", "secure": False},
        {"samesite": "sideways"},
        {"path": "api"},
        {"implicit_refresh_window": -1},
    ],
)
def test_bad_cookie_configuration(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        CookieConfig(**kwargs)


def test_authority_must_be_a_token_authority() -> None:
    from tokenlife_litestar import TokenLifeConfig

    with pytest.raises(ConfigurationError):
        TokenLifeConfig(authority=object())  # type: ignore[arg-type]


def test_public_names_match_all() -> None:
    public = {n for n in dir(tokenlife_litestar) if not n.startswith("_")} - {"annotations"}
    assert set(tokenlife_litestar.__all__) - {"__version__"} == public
    assert isinstance(tokenlife_litestar.__all__, tuple)


@pytest.mark.parametrize("how", ["after_request", "response_headers", "cache_control"])
def test_what_the_app_adds_to_responses_reaches_the_plugins_routes(how: str) -> None:
    """The plugin's routes answer as any handler does when the app adds to every
    response (a hook, headers, Cache-Control); the reply's own headers still win.
    Without any of that, they send the web layer's reply as is."""
    from litestar import Response
    from litestar.datastructures import CacheControlHeader, ResponseHeader

    async def stamp(response: Response[Any]) -> Response[Any]:
        response.headers["X-Stamp"] = "yes"
        return response

    hooked = build()
    app = hooked.app  # set on the app layer, as Litestar(...) does
    if how == "after_request":
        app.after_request = stamp
    elif how == "response_headers":
        app.response_headers = (ResponseHeader(name="X-Stamp", value="yes"),)
    else:
        app.cache_control = CacheControlHeader(max_age=60)
        app.response_headers = (ResponseHeader(name="X-Stamp", value="yes"),)
    plain = build()
    for harness, stamped in ((hooked, True), (plain, False)):
        with harness.client() as client:
            pair = client.post("/login", json={"sub": "alice"}).json()
            rotated = client.post("/auth/refresh", headers=bearer(pair["refresh_token"]))
            refused = client.post("/auth/refresh", headers=bearer("not-a-token"))
            logout = client.post("/auth/logout", headers=bearer(rotated.json()["access_token"]))
        assert (rotated.status_code, refused.status_code, logout.status_code) == (200, 401, 204)
        assert rotated.headers["cache-control"] == "no-store"
        for response in (rotated, logout):
            assert ("x-stamp" in response.headers) is stamped, (stamped, response.headers)
