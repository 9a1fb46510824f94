"""The ASGI authentication middleware: ``request.auth`` is the Claims, ``request.user`` the user.

It follows the conventions of Litestar's ``AbstractAuthenticationMiddleware``
(``exclude`` patterns, the ``exclude_from_auth`` opt key, excluded methods,
ASGI scope types, ``scope["user"]`` / ``scope["auth"]``) without its
per-request ``ASGIConnection``: on the hot path it reads raw headers and
allocates only what it must. Unlike Litestar's, ``exclude`` patterns are
anchored (see :func:`compile_exclude`), so ``"/login"`` cannot accidentally
open ``/admin/login-history``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from ._auth import Authenticator, RawCookies


def compile_exclude(exclude: str | Sequence[str] | None) -> re.Pattern[str] | None:
    """One pattern matching a path that *starts* with any of ``exclude``, at a segment boundary.

    ``"/public"`` matches ``/public`` and ``/public/x``, not ``/publicity``;
    a pattern ending in ``/`` or ``$`` keeps its own meaning.
    """
    if exclude is None:
        return None
    patterns = [exclude] if isinstance(exclude, str) else list(exclude)
    if not patterns:
        return None
    alternatives = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(f"(?:{alternatives})(?:(?<=/)|(?=/|$))")


class TokenLifeMiddleware:
    """Authenticates every request of the routes it wraps, or raises the mapped error."""

    __slots__ = (
        "_auth",
        "_exclude",
        "_handler",
        "_handler_excluded",
        "_methods",
        "_retrieve",
        "_scopes",
        "app",
    )

    def __init__(
        self, app: ASGIApp, authenticator: Authenticator, also_exclude: Sequence[str] = ()
    ) -> None:
        config = authenticator.config
        self.app = app
        self._auth = authenticator
        exclude = config.exclude
        patterns = [exclude] if isinstance(exclude, str) else list(exclude or ())
        self._exclude = compile_exclude([*patterns, *also_exclude])
        self._methods = frozenset(m.upper() for m in config.exclude_http_methods)
        self._scopes = frozenset(ScopeType(s) for s in config.scopes)
        self._retrieve = config.retrieve_user_handler
        # Litestar builds one middleware stack per route handler: remember its verdict.
        self._handler: object = None
        self._handler_excluded = False

    def _bypass(self, scope: Scope) -> bool:
        if scope["type"] not in self._scopes:
            return True
        handler = scope.get("route_handler")
        if handler is not self._handler:
            opt = getattr(handler, "opt", None) or {}
            self._handler_excluded = bool(opt.get(self._auth.config.exclude_opt_key))
            self._handler = handler
        if self._handler_excluded:
            return True
        if scope.get("method") in self._methods:
            return True
        pattern = self._exclude
        return pattern is not None and pattern.match(scope["path"]) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._bypass(scope):
            await self.app(scope, receive, send)
            return
        auth = self._auth
        claims, cookies = await auth.authenticate(scope)
        retrieve = self._retrieve
        scope["auth"] = claims
        scope["user"] = claims.sub if retrieve is None else await retrieve(claims, _conn(scope))
        if cookies is None:
            await self.app(scope, receive, send)
        else:
            await self.app(scope, receive, _with_cookies(send, cookies, auth))


def _conn(scope: Scope) -> ASGIConnection[Any, Any, Any, Any]:
    return ASGIConnection(scope)


def _with_cookies(send: Send, cookies: RawCookies, auth: Authenticator) -> Send:
    """``send`` that adds the refreshed cookies to the response.

    The refresh already happened, so the new cookies go out with whatever
    the route answers — otherwise the browser would keep a rotated token
    and trip reuse detection later. The one exception: a response that
    itself sets or clears our cookies (a logout, a new login) wins, so a
    logout is never followed by cookies that log back in.
    """
    jar = auth.jar
    assert jar is not None

    async def send_with_cookies(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            if not jar.touches_ours(headers):
                headers.extend(cookies)
                message["headers"] = headers
        await send(message)

    return send_with_cookies


__all__ = ("TokenLifeMiddleware", "compile_exclude")
