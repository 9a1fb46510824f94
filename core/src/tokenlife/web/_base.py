"""What every part of the web layer's driver shares: settings, verification, replies.

The pure checks a route or the middleware path needs more than once live
here, on the one object that knows the authority and the cookie jar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, Final, Literal

from tokenlife._authority import TokenAuthority
from tokenlife._claims import ACCESS_TYP, REFRESH_TYP, Claims, TokenPair
from tokenlife._errors import ConfigurationError, StoreError, TokenError

from ._config import WebConfig, compile_exclude
from ._cookies import CookieJar, SetCookie
from ._dpop import DPoPGuard
from ._facts import HttpRequest
from ._replies import (
    Refusal,
    Reply,
    json_reply,
    refusal_reply,
    unavailable,
)

logger: Final = logging.getLogger("tokenlife.web")

#: Where a request's credential came from.
Source = Literal["header", "cookie", "query", "body"]


class GateBase:
    """Settings and shared helpers of :class:`Gate` (see there)."""

    __slots__ = (
        "_basic_credentials",
        "_csrf_header",
        "_dpop",
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
        #: Introspection clients' usual Basic credentials, computed at the first call.
        self._basic_credentials: tuple[tuple[bytes, str], ...] | None = None
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
        self._dpop = DPoPGuard(config.dpop, authority, self.now) if config.dpop else None
        if self._dpop is None and authority.policy.require_dpop:
            raise ConfigurationError("Policy(require_dpop=True) needs WebConfig(dpop=DPoPConfig())")

    # -- what is protected --------------------------------------------------------

    def excluded(self, method: str, path: str) -> bool:
        """Is this request let through unauthenticated (an excluded path or method)?"""
        if method in self._methods:
            return True
        pattern = self._exclude
        return pattern is not None and pattern.match(path) is not None

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


__all__ = ("GateBase", "Source", "logger")
