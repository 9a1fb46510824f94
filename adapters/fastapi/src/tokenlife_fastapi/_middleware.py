"""The pure-ASGI authentication middleware: every decision is the web layer's.

Starlette routes a request only after its middleware ran, so the middleware
cannot know whether the route needs a token. It authenticates every request
the :class:`Gate` does not exclude and leaves the outcome in the scope —
``scope["auth"]`` the claims, or the refusal held back — for the
dependencies to enforce: a public route (the login form) is never refused
for a stale cookie. Cookies an in-line refresh minted are added to whatever
response goes out, unless that response sets or clears ours itself
(:meth:`Gate.with_cookies`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from tokenlife.web import Authenticated, Gate, HttpRequest, Refusal, SetCookie

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Where the middleware leaves its verdict: an ``Authenticated`` or a ``Refusal``.
SCOPE_KEY: Final = "tokenlife"


class TokenLifeMiddleware:
    """``app.add_middleware(TokenLifeMiddleware, gate=tl.gate)``, or ``tl.install(app)``."""

    __slots__ = ("app", "gate")

    def __init__(self, app: ASGIApp, gate: Gate) -> None:
        self.app = app
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or self.gate.excluded(
            scope.get("method", "GET"), scope["path"]
        ):
            await self.app(scope, receive, send)
            return
        found: Authenticated | Refusal
        try:
            found = await self.gate.authenticate(HttpRequest.from_asgi(scope))
        except Refusal as refusal:
            found = refusal
        else:
            scope["auth"] = found.claims
            scope["user"] = found.claims.sub
            if found.set_cookies:
                send = _with_cookies(send, found.set_cookies, self.gate)
        scope[SCOPE_KEY] = found
        await self.app(scope, receive, send)


def _with_cookies(send: Send, cookies: tuple[SetCookie, ...], gate: Gate) -> Send:
    async def send_with_cookies(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = gate.with_cookies(list(message.get("headers", ())), cookies)
        await send(message)

    return send_with_cookies


__all__ = ("SCOPE_KEY", "ASGIApp", "TokenLifeMiddleware")
