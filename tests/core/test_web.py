"""The pure half of tokenlife.web: request facts, the body reader, rules, cookies, replies.

Plain functions, no event loop: the async Gate is certified over real HTTP
by tests/http.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from urllib.parse import parse_qsl

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenlife import Claims, ConfigurationError, TokenPair
from tokenlife.web import (
    CookieConfig,
    CookieJar,
    HttpRequest,
    Refusal,
    WebConfig,
    bearer_token,
    check_fresh,
    check_scopes,
    compile_exclude,
    csrf_holds,
    is_json,
    json_body,
    refusal_reply,
    token_body,
)
from tokenlife.web._body import _form_pairs


def _post(body: bytes, content_type: str | None = "application/json") -> HttpRequest:
    headers = [("Content-Type", content_type)] if content_type else []
    return HttpRequest.build("post", "/refresh", headers, body=body)


def _refused(call: object, *args: object, **kwargs: object) -> Refusal:
    with pytest.raises(Refusal) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    return caught.value


# -- facts ------------------------------------------------------------------------


def test_build_lower_cases_names_and_encodes_values() -> None:
    request = HttpRequest.build("get", "/x", [("X-CSRF-Token", "abc"), (b"Cookie", b"a=1; b=2")])
    assert request.method == "GET"
    assert request.header(b"x-csrf-token") == b"abc"
    assert request.cookies == {"a": "1", "b": "2"}


def test_cookies_first_occurrence_wins_across_headers() -> None:
    request = HttpRequest.build("GET", "/", [("cookie", "a=1"), ("cookie", "a=2; b=3")])
    assert request.cookies == {"a": "1", "b": "3"}


def test_content_type_drops_parameters_and_case() -> None:
    request = _post(b"{}", "Application/JSON; charset=utf-8")
    assert request.content_type == "application/json"
    assert _post(b"", None).content_type == ""


def test_repr_never_shows_headers() -> None:
    request = HttpRequest.build("GET", "/p", [("authorization", "Bearer secret")])
    assert "secret" not in repr(request)


def test_from_asgi_reads_a_websocket_scope() -> None:
    scope = {"type": "websocket", "path": "/ws", "headers": [(b"host", b"a")]}
    request = HttpRequest.from_asgi(scope)
    assert request.websocket and request.method == "GET"


# -- the body reader --------------------------------------------------------------


def test_json_and_form_bodies_give_the_token_under_either_name() -> None:
    assert token_body(_post(b'{"refresh_token": "r"}')).presented == "r"
    assert token_body(_post(b'{"token": "t", "x": [1]}')).presented == "t"
    form = "application/x-www-form-urlencoded"
    assert token_body(_post(b"token=t&token_type_hint=refresh_token", form)).presented == "t"
    assert token_body(_post(b"refresh_token=r%2B&grant_type=refresh_token", form)).presented == "r+"
    assert token_body(_post(b"", None)).presented is None


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"{not json", "application/json", "malformed_json"),
        (b"[1, 2]", "application/json", "wrong_json_type"),
        (b'{"refresh_token": 5}', "application/json", "wrong_json_type"),
        (b'{"refresh_token": "r"}', "text/plain", "unsupported_media_type"),
        (b"token=a&token=b", "application/x-www-form-urlencoded", "repeated_field"),
        (b"token=%ff", "application/x-www-form-urlencoded", "malformed_form"),
        (b"\xff=1", "application/x-www-form-urlencoded", "malformed_form"),
    ],
)
def test_unreadable_bodies_are_400_invalid_request(
    body: bytes, content_type: str, reason: str
) -> None:
    refusal = _refused(token_body, _post(body, content_type))
    assert (refusal.status, refusal.error, refusal.reason) == (400, "invalid_request", reason)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab=&%+-_.~2F ", max_size=16).filter(str.strip))
def test_a_form_body_reads_as_parse_qsl_reads_it(text: str) -> None:
    """The form fast path (no escapes to decode) answers as strict parse_qsl does.

    A blank body never reaches it (it reads as no fields before any parsing),
    and there parse_qsl itself differs between Python releases.
    """

    def read(parse: Callable[[str], list[tuple[str, str]]]) -> object:
        try:
            return parse(text)
        except ValueError:
            return "refused"

    strict = partial(
        parse_qsl, keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=64
    )
    assert read(_form_pairs) == read(strict)


@pytest.mark.parametrize("fields", [63, 64, 65])
def test_a_form_of_more_than_64_fields_is_refused(fields: int) -> None:
    body = "&".join(f"f{i}=v" for i in range(fields)).encode()
    request = _post(body, "application/x-www-form-urlencoded")
    if fields <= 64:
        assert token_body(request).presented is None
    else:
        assert _refused(token_body, request).reason == "malformed_form"


def test_deeply_nested_json_body_is_400_not_a_recursion_error() -> None:
    deep = b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for reader in (token_body, lambda r: json_body(r, dict)):
        refusal = _refused(reader, _post(deep))
        assert refusal.status == 400


def test_oversized_body_is_refused_before_parsing() -> None:
    big = json.dumps({"refresh_token": "r" * 70_000}).encode()
    assert _refused(token_body, _post(big)).reason == "body_too_large"
    assert token_body(_post(big), max_bytes=100_000).presented == "r" * 70_000


def test_text_plain_json_login_is_refused() -> None:
    class Login(msgspec.Struct):
        username: str

    request = _post(b'{"username": "a", "x": "="}', "text/plain")
    assert _refused(json_body, request, Login).reason == "not_json"
    assert json_body(_post(b'{"username": "a"}'), Login).username == "a"


def test_only_json_media_types_count_as_json() -> None:
    assert is_json("application/json") and is_json("application/merge-patch+json")
    assert not is_json("text/plain") and not is_json("application/x-www-form-urlencoded")


# -- rules ------------------------------------------------------------------------


def test_bearer_token_schemes_and_malformed_headers() -> None:
    def get(*values: str) -> str | None:
        return bearer_token(HttpRequest.build("GET", "/", [("authorization", v) for v in values]))

    assert get("Bearer abc") == "abc"
    assert get("bEaReR abc") == "abc"
    assert get("Basic dXNlcg==") is None
    assert get() is None
    for bad in (("Bearer ",), ("Bearer a b",)):
        assert _refused(get, *bad).error == "invalid_token"
    assert _refused(get, "Bearer a", "Bearer b").status == 400


def test_csrf_holds_only_against_the_sessions_claim() -> None:
    claims = Claims(exp=1, csrf="value-of-session")
    assert csrf_holds(b"value-of-session", claims)
    assert not csrf_holds(b"other", claims)
    assert not csrf_holds(None, claims)
    assert not csrf_holds(b"", Claims(exp=1))


def test_scope_and_freshness_checks() -> None:
    claims = Claims(exp=1, scope="read write", fresh=False)
    check_scopes(claims, ["read"])
    refusal = _refused(check_scopes, claims, ["admin", "read"])
    assert (refusal.status, refusal.error, refusal.scope) == (
        403,
        "insufficient_scope",
        "admin read",
    )
    assert _refused(check_fresh, claims).reason == "not_fresh"


def test_excludes_are_anchored_at_a_segment_boundary() -> None:
    pattern = compile_exclude(["/public", "/login$"])
    assert pattern is not None
    assert pattern.match("/public") and pattern.match("/public/x")
    assert not pattern.match("/publicity")
    assert not pattern.match("/admin/login-history")
    assert compile_exclude([]) is None


# -- cookies ----------------------------------------------------------------------


def test_secure_cookie_names_default_to_the_host_prefix() -> None:
    config = CookieConfig()
    assert (config.access_cookie, config.refresh_cookie, config.csrf_cookie) == (
        "__Host-tl_access",
        "__Host-tl_refresh",
        "__Host-tl_csrf",
    )


def test_cookies_needing_a_path_or_domain_get_the_secure_prefix() -> None:
    scoped = CookieConfig(implicit_refresh=False)
    assert scoped.access_cookie == "__Host-tl_access"
    assert scoped.refresh_cookie == "__Secure-tl_refresh"  # Path=/auth/refresh
    assert CookieConfig(domain="example.com").access_cookie == "__Secure-tl_access"


def test_plain_http_cookies_carry_no_prefix_and_names_stay_configurable() -> None:
    assert CookieConfig(secure=False).access_cookie == "tl_access"
    assert CookieConfig(access_name="sid").access_cookie == "sid"
    with pytest.raises(ConfigurationError):
        CookieConfig(access_name="__Host-a", domain="example.com")
    with pytest.raises(ConfigurationError):
        CookieConfig(secure=False, csrf_name="__Secure-c")
    with pytest.raises(ConfigurationError):
        CookieConfig(access_name="x", refresh_name="x")


def test_config_refuses_a_cookie_path_that_misses_the_logout_route() -> None:
    with pytest.raises(ConfigurationError):
        WebConfig(cookies=CookieConfig(path="/app"), logout_path="/auth/logout")
    with pytest.raises(ConfigurationError):
        WebConfig(token_locations=["cookie"])


def test_set_and_clear_carry_the_same_attributes() -> None:
    jar = CookieJar(CookieConfig(), "/")
    pair = TokenPair(
        access_token="a",
        refresh_token="r",
        session_id="s",
        access_expires_at=1300,
        refresh_expires_at=2000,
        expires_in=300,
        csrf_token="c",
    )
    issued, cleared = jar.issued(pair), jar.clearing()
    assert [c.name for c in issued] == [c.name for c in cleared]
    for one, other in zip(issued, cleared, strict=True):
        assert (one.path, one.domain, one.secure, one.samesite) == (
            other.path,
            other.domain,
            other.secure,
            other.samesite,
        )
    assert (
        issued[0].render()
        == "__Host-tl_access=a; Path=/; Max-Age=300; Secure; HttpOnly; SameSite=Lax"
    )
    assert "HttpOnly" not in issued[2].render()  # the page reads the CSRF value
    assert issued[1].max_age == 1000  # never beyond the refresh token
    assert jar.touches_ours([(b"set-cookie", b"__Host-tl_csrf=; Max-Age=0")])
    assert not jar.touches_ours([(b"set-cookie", b"theme=dark")])


# -- replies ----------------------------------------------------------------------


def test_refusal_replies_carry_the_rfc_code_and_no_reason() -> None:
    from tokenlife.web import invalid_token, unauthorized, unavailable

    reply = refusal_reply(invalid_token("bad_signature"), realm="api")
    headers = dict(reply.headers)
    assert reply.status == 401
    assert json.loads(reply.body) == {"error": "invalid_token"}
    assert headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert headers["cache-control"] == "no-store"
    assert b"bad_signature" not in reply.body
    assert dict(refusal_reply(unauthorized()).headers)["www-authenticate"] == "Bearer"
    outage = refusal_reply(unavailable())
    assert outage.status == 503 and dict(outage.headers)["retry-after"] == "1"
    assert (b"content-length", str(len(outage.body)).encode()) in outage.asgi_headers()
