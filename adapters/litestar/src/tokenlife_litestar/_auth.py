"""Who is asking: find the access token in a request, verify it, refresh it in-line.

This is the one place that knows the order of token locations, the
double-submit CSRF rule and the implicit refresh of docs/design/lifecycle.md#cookies, so the
middleware, the refresh and logout routes and the login helper cannot
disagree about them. It reads raw ASGI headers and builds no Request
object: this runs on every authenticated request.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qsl

from litestar.enums import ScopeType
from litestar.types import Scope

from tokenlife import Claims, ExpiredTokenError, TokenError, TokenPair

from ._config import TokenLifeConfig
from ._cookies import CookieJar, parse_cookies
from ._errors import AuthenticationRequired, CSRFFailed, InvalidToken

#: Methods that change nothing (RFC 9110 §9.2.1): no CSRF proof needed.
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
#: ``Set-Cookie`` header pairs to add to the response.
RawCookies = list[tuple[bytes, bytes]]


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a (lower-case) request header; ASGI servers lower-case names."""
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def request_cookies(scope: Scope) -> Mapping[str, str]:
    """Every ``Cookie`` header of the request, parsed and merged."""
    raw = [value for key, value in scope["headers"] if key == b"cookie"]
    return parse_cookies(b"; ".join(raw)) if raw else {}


def bearer(value: bytes | None) -> str | None:
    """The token of an ``Authorization: Bearer`` value; ``None`` for other schemes."""
    if value is None:
        return None
    scheme, _, token = value.partition(b" ")
    if scheme.lower() != b"bearer":
        return None
    token = token.strip()
    if not token:
        raise InvalidToken("empty_bearer")
    return token.decode("latin-1")


def same_origin(scope: Scope) -> bool:
    """Is a WebSocket handshake from a page of this very host (no cross-site hijacking)?"""
    origin, host = header(scope, b"origin"), header(scope, b"host")
    if origin is None or host is None:
        return False
    return origin.partition(b"://")[2].rstrip(b"/").lower() == host.lower()


def constant_time_equal(given: str | None, expected: object) -> bool:
    if not given or not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


class Authenticator:
    """Turns a request scope into verified :class:`Claims` (and maybe fresh cookies)."""

    __slots__ = (
        "_csrf_header",
        "_locations",
        "_window",
        "authority",
        "config",
        "jar",
        "now",
        "verify",
    )

    def __init__(self, config: TokenLifeConfig) -> None:
        self.config = config
        self.authority = config.authority
        self.now = config.now
        self._locations = config.locations
        # TokenAuthority keeps a bounded cache of verified token strings itself
        # (``verify_cache``): exp and, in strict mode, the store are still
        # checked on every call, so the plugin adds none of its own.
        self.verify = config.authority.verify
        cookies = config.cookies
        self.jar = CookieJar(cookies, config.refresh_cookie_path) if cookies is not None else None
        # A window as long as the token itself would refresh on every request.
        window = cookies.implicit_refresh_window if cookies is not None else 0.0
        self._window = min(window, config.authority.policy.access_ttl / 2)
        self._csrf_header = (
            cookies.csrf_header.lower().encode("latin-1") if cookies is not None else b""
        )

    def csrf_header(self, scope: Scope) -> str | None:
        value = header(scope, self._csrf_header) if self._csrf_header else None
        return value.decode("latin-1") if value is not None else None

    async def authenticate(self, scope: Scope) -> tuple[Claims, RawCookies | None]:
        """The request's claims, plus cookies to set if it was refreshed in-line.

        Raises ``AuthenticationRequired`` (no token anywhere), ``InvalidToken``,
        ``CSRFFailed``, or lets ``StoreError`` through (the app answers 503).
        """
        for location in self._locations:
            if location == "header":
                # The hot path: no helper calls, one pass over the headers.
                for key, value in scope["headers"]:
                    if key == b"authorization":
                        token = bearer(value)
                        if token is not None:
                            try:
                                return await self.verify(token), None
                            except TokenError as exc:
                                raise InvalidToken(exc.code) from None
                        break
            elif location == "cookie":
                found = await self._from_cookies(scope)
                if found is not None:
                    return found
            else:
                token = self._from_query(scope)
                if token is not None:
                    return await self._verified(token), None
        raise AuthenticationRequired("no_token")

    async def _verified(self, token: str) -> Claims:
        try:
            return await self.verify(token)
        except TokenError as exc:
            raise InvalidToken(exc.code) from None

    def _from_query(self, scope: Scope) -> str | None:
        query: bytes = scope.get("query_string", b"")
        if not query:
            return None
        name = self.config.query_param
        for key, value in parse_qsl(query.decode("latin-1")):
            if key == name:
                if not value:
                    raise InvalidToken("empty_query_token")
                return value
        return None

    async def _from_cookies(self, scope: Scope) -> tuple[Claims, RawCookies | None] | None:
        jar = self.jar
        assert jar is not None
        config = jar.config
        cookies = request_cookies(scope)
        access = cookies.get(config.access_name)
        if scope["type"] != ScopeType.HTTP:
            # WebSockets: no response to carry new cookies, and a cross-site
            # page may open one with the victim's cookies unless we check.
            if access and same_origin(scope):
                return await self._verified(access), None
            return None
        refresh = cookies.get(config.refresh_name) if config.implicit_refresh else None
        if not access and not refresh:
            return None
        unsafe = scope["method"] not in SAFE_METHODS
        csrf = self.csrf_header(scope) if unsafe else None
        reason = "no_access_cookie"
        if access:
            try:
                claims = await self.verify(access)
            except TokenError as exc:
                reason = exc.code
            else:
                if unsafe and not constant_time_equal(csrf, claims.csrf):
                    raise CSRFFailed("csrf_mismatch")
                near = claims.exp - self.now() <= self._window
                if not (refresh and near and self._can_extend(refresh, claims)):
                    return claims, None
                return await self._refresh_in_line(refresh, csrf, unsafe, keep=claims)
        if not refresh:
            raise InvalidToken(reason)
        if unsafe and not constant_time_equal(csrf, cookies.get(config.csrf_name)):
            # Checked before the store is touched: a forged request rotates nothing.
            raise CSRFFailed("csrf_mismatch")
        return await self._refresh_in_line(refresh, csrf, unsafe, keep=None)

    def _can_extend(self, refresh: str, claims: Claims) -> bool:
        """Would a refresh give a longer-lived access token? Not at the session's end.

        Reads the refresh token's ``exp`` unverified: it only decides whether
        to try; the refresh itself verifies everything.
        """
        try:
            expires = self.authority.codec.peek_claims(refresh).get("exp")
        except TokenError:
            return True
        return not isinstance(expires, (int, float)) or expires > claims.exp

    async def _refresh_in_line(
        self, refresh: str, csrf: str | None, unsafe: bool, keep: Claims | None
    ) -> tuple[Claims, RawCookies | None]:
        """docs/design/lifecycle.md#refresh, rules 1-6, for this request.

        Its response will carry the new pair.
        """
        jar = self.jar
        assert jar is not None
        try:
            pair = await self.authority.refresh(refresh)
        except ExpiredTokenError:
            if keep is not None:
                # The session ends before the access token does: use it to the end.
                return keep, None
            raise InvalidToken("refresh_expired", clear_cookies=True) from None
        except TokenError as exc:
            raise InvalidToken(f"refresh_{exc.code}", clear_cookies=True) from None
        claims = await self._verified(pair.access_token)
        if unsafe and not constant_time_equal(csrf, claims.csrf):
            raise CSRFFailed("csrf_not_of_this_session")
        return claims, jar.raw(jar.issued(pair))

    def cookies_for(self, pair: TokenPair) -> RawCookies:
        jar = self.jar
        assert jar is not None
        return jar.raw(jar.issued(pair))


__all__ = (
    "SAFE_METHODS",
    "Authenticator",
    "RawCookies",
    "bearer",
    "constant_time_equal",
    "header",
    "request_cookies",
    "same_origin",
)
