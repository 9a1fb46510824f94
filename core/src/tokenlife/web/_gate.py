"""The async driver of the web layer: authenticate, refresh, log in, log out.

Every check that can refuse — the body, the credential, CSRF, the session
binding of two tokens — runs before the store is called, so a refused
request consumes nothing (no rotation, no revocation, no cookie change).
The store is reached only through :class:`TokenAuthority`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Literal

import msgspec

from tokenlife._authority import TokenAuthority
from tokenlife._claims import ACCESS_TYP, REFRESH_TYP, Claims, TokenPair
from tokenlife._errors import ExpiredTokenError, RevokedTokenError, StoreError, TokenError

from ._body import is_json, token_body
from ._config import WebConfig, compile_exclude
from ._cookies import CookieJar, SetCookie
from ._facts import HttpRequest
from ._replies import (
    Refusal,
    Reply,
    csrf_failed,
    invalid_grant,
    invalid_request,
    invalid_token,
    json_reply,
    no_content,
    refusal_reply,
    unauthorized,
    unavailable,
)
from ._rules import SAFE_METHODS, bearer_token, csrf_holds, query_token, same_origin

logger: Final = logging.getLogger("tokenlife.web")

Source = Literal["header", "cookie", "query", "body"]


class Authenticated(msgspec.Struct, frozen=True):
    """A request's verified claims, where its token came from, and cookies a refresh set."""

    claims: Claims
    source: Source = "header"
    #: New auth cookies when the request was refreshed in-line; add them to its response.
    set_cookies: tuple[SetCookie, ...] = ()


class Gate:
    """The HTTP rules of LIFECYCLE.md over one :class:`TokenAuthority`, framework-free.

    :meth:`authenticate` raises :class:`Refusal`; the routes (:meth:`refresh`,
    :meth:`logout`, :meth:`login`) return a :class:`Reply` whatever happens,
    refusals and store outages (503) included.
    """

    __slots__ = (
        "_csrf_header",
        "_exclude",
        "_locations",
        "_methods",
        "_verify",
        "_window",
        "authority",
        "config",
        "jar",
        "now",
    )

    def __init__(
        self, authority: TokenAuthority, config: WebConfig, *, also_exclude: Iterable[str] = ()
    ) -> None:
        self.authority = authority
        self.config = config
        self.now: Callable[[], float] = config.clock or authority.clock
        self._locations = config.locations
        self._verify = authority.verify
        cookies = config.cookies
        self.jar = CookieJar(cookies, config.refresh_cookie_path) if cookies is not None else None
        # A window as long as the token itself would refresh on every request.
        window = cookies.implicit_refresh_window if cookies is not None else 0.0
        self._window = min(window, authority.policy.access_ttl / 2)
        self._csrf_header = cookies.csrf_header.lower().encode("latin-1") if cookies else b""
        exclude = config.exclude
        patterns = [exclude] if isinstance(exclude, str) else list(exclude or ())
        self._exclude = compile_exclude([*patterns, *also_exclude])
        self._methods = frozenset(m.upper() for m in config.exclude_http_methods)

    # -- what is protected --------------------------------------------------------

    def excluded(self, method: str, path: str) -> bool:
        """Is this request let through unauthenticated (an excluded path or method)?"""
        if method in self._methods:
            return True
        pattern = self._exclude
        return pattern is not None and pattern.match(path) is not None

    # -- authenticate --------------------------------------------------------------

    async def authenticate(self, request: HttpRequest) -> Authenticated:
        """The request's claims, from the first configured location that has a token.

        Raises :class:`Refusal`: 401 (no token, or a refused one), 403 (CSRF),
        400 (an unreadable header), 503 (the store failed).
        """
        try:
            for location in self._locations:
                if location == "header":
                    token = bearer_token(request)
                    if token is not None:
                        # The hot path: one coroutine, no helper (this runs on every request).
                        try:
                            return Authenticated(await self._verify(token))
                        except TokenError as exc:
                            raise invalid_token(exc.code) from None
                elif location == "cookie":
                    found = await self._from_cookies(request)
                    if found is not None:
                        return found
                else:
                    token = query_token(request, self.config.query_param)
                    if token is not None:
                        return Authenticated(await self._verified(token), "query")
        except StoreError as exc:
            raise self._outage(request, exc) from None
        raise unauthorized("no_token")

    async def _verified(self, token: str) -> Claims:
        try:
            return await self.authority.verify(token)
        except TokenError as exc:
            raise invalid_token(exc.code) from None

    def _authentic(self, token: str, typ: str, *, allow_expired: bool) -> Claims | None:
        """The claims of a token that passes every check but the store's (and maybe ``exp``)."""
        try:
            return self.authority.codec.decode(
                token,
                typ=typ,
                now=self.authority.now(),
                require=("sub", "sid", "jti"),
                allow_expired=allow_expired,
            )
        except TokenError:
            return None

    async def _from_cookies(self, request: HttpRequest) -> Authenticated | None:
        jar = self.jar
        assert jar is not None
        config = jar.config
        cookies = request.cookies
        access = cookies.get(config.access_cookie) or None
        if request.websocket:
            # No response to carry new cookies, and a cross-site page may open
            # a WebSocket with the victim's cookies unless the origin is checked.
            if access and same_origin(request):
                return Authenticated(await self._verified(access), "cookie")
            return None
        refresh = (cookies.get(config.refresh_cookie) or None) if config.implicit_refresh else None
        if access is None and refresh is None:
            return None
        unsafe = request.method not in SAFE_METHODS
        csrf = request.header(self._csrf_header) if unsafe else None
        expired: Claims | None = None
        reason = "no_access_cookie"
        if access is not None:
            try:
                claims = await self.authority.verify(access)
            except ExpiredTokenError:
                reason = "expired"
                expired = self._authentic(access, ACCESS_TYP, allow_expired=True)
            except TokenError as exc:
                reason = exc.code
            else:
                if unsafe and not csrf_holds(csrf, claims):
                    raise csrf_failed("csrf_mismatch")
                if refresh is None or claims.exp - self.now() > self._window:
                    return Authenticated(claims, "cookie")
                peer = self._authentic(refresh, REFRESH_TYP, allow_expired=False)
                # Only a longer-lived token of this very session is worth a rotation.
                if peer is None or peer.sid != claims.sid or peer.exp <= claims.exp:
                    return Authenticated(claims, "cookie")
                return await self._refresh_in_line(refresh, keep=claims)
        if refresh is None:
            raise invalid_token(reason)
        peer = self._authentic(refresh, REFRESH_TYP, allow_expired=False)
        if peer is None:
            raise invalid_token("refresh_refused", clear_cookies=True)
        if expired is not None and expired.sid != peer.sid:
            # Two sessions' cookies in one request: refuse rather than swap identity.
            raise invalid_token("session_mismatch")
        if unsafe and not csrf_holds(csrf, peer):
            raise csrf_failed("csrf_mismatch")
        return await self._refresh_in_line(refresh, keep=None)

    async def _refresh_in_line(self, refresh: str, keep: Claims | None) -> Authenticated:
        """LIFECYCLE.md rules 1-6 for this request; its response will carry the new pair."""
        jar = self.jar
        assert jar is not None
        try:
            pair = await self.authority.refresh(refresh)
        except ExpiredTokenError:
            if keep is not None:
                # The session ends before the access token does: use it to the end.
                return Authenticated(keep, "cookie")
            raise invalid_token("refresh_expired", clear_cookies=True) from None
        except TokenError as exc:
            raise invalid_token(f"refresh_{exc.code}", clear_cookies=True) from None
        claims = await self._verified(pair.access_token)
        return Authenticated(claims, "cookie", jar.issued(pair))

    def with_cookies(
        self, headers: list[tuple[bytes, bytes]], cookies: tuple[SetCookie, ...]
    ) -> list[tuple[bytes, bytes]]:
        """A response's ASGI headers plus an in-line refresh's cookies.

        The refresh already happened, so the new cookies go out with whatever
        the route answers — else the browser keeps a rotated token and trips
        reuse detection later. Except when the response itself sets or clears
        our cookies (a logout, a login): a response that logs out is never
        followed by cookies that log back in.
        """
        jar = self.jar
        if not cookies or jar is None or jar.touches_ours(headers):
            return headers
        return [*headers, *((b"set-cookie", c.render().encode("latin-1")) for c in cookies)]

    # -- the routes ------------------------------------------------------------------

    async def refresh(self, request: HttpRequest) -> Reply:
        """``POST /refresh``: rotate the refresh token of the header, the body, or the cookie.

        Cookies are set only when the token came from the cookie and the CSRF
        header matched its session: a cross-site form posting an attacker's
        token gets the token response, never the attacker's cookies.
        """
        jar = self.jar
        try:
            source: Source = "header"
            token = bearer_token(request)
            if token is None:
                source, token = (
                    "body",
                    token_body(request, max_bytes=self.config.max_body_bytes).presented,
                )
            if token is None and jar is not None:
                source, token = "cookie", request.cookies.get(jar.config.refresh_cookie) or None
            if token is None:
                raise invalid_request("no_refresh_token")
            from_cookie = source == "cookie"
            if from_cookie:
                claims = self._authentic(token, REFRESH_TYP, allow_expired=False)
                if claims is None:
                    raise invalid_grant("refresh_refused", clear_cookies=True)
                if not csrf_holds(request.header(self._csrf_header), claims):
                    raise csrf_failed("csrf_mismatch")
            try:
                pair = await self.authority.refresh(token)
            except TokenError as exc:
                dead = from_cookie or (
                    isinstance(exc, RevokedTokenError) and self._cookie_of(request, token)
                )
                raise invalid_grant(exc.code, clear_cookies=dead) from None
        except Refusal as refusal:
            return self.refused(request, refusal)
        except StoreError as exc:
            return self.refused(request, self._outage(request, exc))
        return self.pair_reply(pair, cookies=from_cookie)

    async def logout(self, request: HttpRequest) -> Reply:
        """``POST /logout``: end the session of the token presented; 204 only if one ended.

        The token comes from the ``Authorization`` header, the body (``token``
        or ``refresh_token``, JSON or form), or else the cookies — which need
        the CSRF header of their own session. An expired but authentic token
        may still end its own session. With no credential and no cookie at all
        there is nothing to end: 204, nothing cleared. Anything present but
        unreadable is 400, a token that is not ours 401; neither clears a
        cookie of a live session.
        """
        jar = self.jar
        try:
            token = (
                bearer_token(request)
                or token_body(request, max_bytes=self.config.max_body_bytes).presented
            )
            if token is not None:
                claims = self._any_authentic(token)
                if claims is None:
                    raise invalid_token("logout_token_refused")
                ended = await self._end(claims)
                clear = ended and jar is not None and self._cookie_of(request, token)
                return no_content(jar.clearing() if clear and jar is not None else ())
            if jar is None:
                return no_content()
            cookies = request.cookies
            found = [
                value
                for name in (jar.config.access_cookie, jar.config.refresh_cookie)
                if (value := cookies.get(name))
            ]
            if not found:
                return no_content()
            authentic = [c for c in map(self._any_authentic, found) if c is not None]
            if not authentic:
                raise invalid_token("logout_cookies_refused", clear_cookies=True)
            csrf = request.header(self._csrf_header)
            proven = {c.sid: c for c in authentic if csrf_holds(csrf, c)}
            if not proven:
                raise csrf_failed("csrf_mismatch")
            ended = False
            for claims in proven.values():
                ended = await self._end(claims) or ended
            if not ended:
                raise invalid_token("logout_session_unknown", clear_cookies=True)
            return no_content(jar.clearing())
        except Refusal as refusal:
            return self.refused(request, refusal)
        except StoreError as exc:
            # The cookies stay, so the client can retry once the store is back.
            return self.refused(request, self._outage(request, exc))

    async def login(
        self,
        request: HttpRequest | None,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        metadata: Mapping[str, str] | None = None,
        content: Any = None,
        status: int = 200,
    ) -> Reply:
        """Start a session for an authenticated ``subject``; the token response, maybe cookies.

        In cookie mode the cookies are set only for a JSON login request
        (``request`` with a JSON media type, which a cross-site form cannot
        send), or when ``request`` is ``None`` (the application vouches for it).
        """
        try:
            pair = await self.issue(
                subject, scopes=scopes, claims=claims, fresh=fresh, metadata=metadata
            )
        except StoreError as exc:
            return refusal_reply(unavailable(f"store_error: {exc}"))
        cookies = request is None or is_json(request.content_type)
        return self.pair_reply(pair, cookies=cookies, content=content, status=status)

    async def issue(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        metadata: Mapping[str, str] | None = None,
    ) -> TokenPair:
        """A new session's pair, with a CSRF value in cookie mode."""
        return await self.authority.issue(
            subject,
            scopes=scopes,
            claims=claims,
            fresh=fresh,
            csrf=self.jar is not None,
            metadata=metadata,
        )

    # -- replies --------------------------------------------------------------------

    def pair_reply(
        self, pair: TokenPair, *, cookies: bool, content: Any = None, status: int = 200
    ) -> Reply:
        """The OAuth token response (or ``content``); the auth cookies if ``cookies``."""
        jar = self.jar
        return json_reply(
            pair.to_response() if content is None else content,
            status=status,
            set_cookies=jar.issued(pair) if cookies and jar is not None else (),
        )

    def cookies_for(self, pair: TokenPair) -> tuple[SetCookie, ...]:
        """The cookies carrying ``pair`` (none without cookie mode)."""
        return self.jar.issued(pair) if self.jar is not None else ()

    def clearing_cookies(self) -> tuple[SetCookie, ...]:
        """Cookies that delete ours, for an application's own logout response."""
        return self.jar.clearing() if self.jar is not None else ()

    def reply(self, refusal: Refusal) -> Reply:
        """The response for ``refusal`` (challenge with this realm, clearing cookies if asked)."""
        return refusal_reply(refusal, self.config.realm, self.clearing_cookies())

    def refused(self, request: HttpRequest, refusal: Refusal) -> Reply:
        """:meth:`reply`, logged with the precise reason (which the client never sees)."""
        level = logging.DEBUG if refusal.error == "unauthorized" else logging.INFO
        logger.log(level, "%r: %s (%s)", request, refusal.error, refusal.reason)
        return self.reply(refusal)

    # -- internals ------------------------------------------------------------------

    def _outage(self, request: HttpRequest, exc: StoreError) -> Refusal:
        # Fail closed: an unverifiable token is never a 200; the client may retry.
        logger.error("%r: the token store failed: %s", request, exc)
        return unavailable("store_error")

    def _any_authentic(self, token: str) -> Claims | None:
        """An access or refresh token of ours, expired or not (it may end its own session)."""
        return self._authentic(token, ACCESS_TYP, allow_expired=True) or self._authentic(
            token, REFRESH_TYP, allow_expired=True
        )

    async def _end(self, claims: Claims) -> bool:
        """Revoke the session of ``claims``; ``True`` if it exists (now ended, or before)."""
        sid = claims.sid
        assert isinstance(sid, str)  # required by _authentic
        return await self.authority.revoke_session(sid, reason="logout")

    def _cookie_of(self, request: HttpRequest, token: str) -> bool:
        """Do the request's auth cookies belong to the session of ``token``?

        Decides only whether a response that ends a session clears the cookies
        too; cookies of another session are left alone.
        """
        jar = self.jar
        if jar is None:
            return False
        claims = self._any_authentic(token)
        if claims is None:
            return False
        cookies = request.cookies
        for name in (jar.config.refresh_cookie, jar.config.access_cookie):
            value = cookies.get(name)
            if value:
                mine = self._any_authentic(value)
                if mine is not None and mine.sid == claims.sid:
                    return True
        return False


__all__ = ("Authenticated", "Gate", "Source")
