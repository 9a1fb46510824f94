"""The ASGI authentication middleware: ``request.auth`` is the Claims, ``request.user`` the user.

It follows the conventions of Litestar's ``AbstractAuthenticationMiddleware``
(``exclude`` patterns, the ``exclude_from_auth`` opt key, excluded methods,
ASGI scope types, ``scope["user"]`` / ``scope["auth"]``) without its
per-request ``ASGIConnection``; every decision is the web layer's
(:meth:`tokenlife.web.Gate.authenticate`), including the anchored excludes.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from tokenlife.web import Gate, HttpRequest, SetCookie, compile_exclude

from ._config import TokenLifeConfig


class TokenLifeMiddleware:
    """Authenticates every request of the routes it wraps, or raises the web layer's refusal."""

    __slots__ = (
        "_gate",
        "_handler",
        "_handler_excluded",
        "_opt_key",
        "_retrieve",
        "_scopes",
        "app",
    )

    def __init__(self, app: ASGIApp, gate: Gate, config: TokenLifeConfig) -> None:
        self.app = app
        self._gate = gate
        self._opt_key = config.exclude_opt_key
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
            self._handler_excluded = bool(opt.get(self._opt_key))
            self._handler = handler
        method: str = scope.get("method", "GET")  # type: ignore[assignment]  # "http" scopes have one
        return self._handler_excluded or self._gate.excluded(method, scope["path"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._bypass(scope):
            await self.app(scope, receive, send)
            return
        websocket = scope["type"] != ScopeType.HTTP
        request = HttpRequest(
            "GET" if websocket else scope["method"],  # type: ignore[typeddict-item]
            scope["path"],
            scope["headers"],
            query=scope.get("query_string", b""),
            websocket=websocket,
            scheme="https" if scope.get("scheme") in ("https", "wss") else "http",
        )
        found = await self._gate.authenticate(request)
        claims = scope["auth"] = found.claims
        retrieve = self._retrieve
        scope["user"] = claims.sub if retrieve is None else await retrieve(claims, _conn(scope))
        if found.set_cookies:
            send = _with_cookies(send, found.set_cookies, self._gate)
        await self.app(scope, receive, send)


def _conn(scope: Scope) -> ASGIConnection[Any, Any, Any, Any]:
    return ASGIConnection(scope)


def _with_cookies(send: Send, cookies: tuple[SetCookie, ...], gate: Gate) -> Send:
    """``send`` adding an in-line refresh's cookies, unless the response sets ours itself."""

    async def send_with_cookies(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = gate.with_cookies(list(message.get("headers", ())), cookies)
        await send(message)

    return send_with_cookies


__all__ = ("TokenLifeMiddleware", "compile_exclude")
