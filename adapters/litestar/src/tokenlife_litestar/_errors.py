"""Refusals as Litestar responses; the plugin's HTTP error classes for application code.

The web layer decides every status, code and challenge
(:class:`tokenlife.web.Refusal`); this only turns its :class:`Reply` into a
Litestar ``Response`` and logs the precise reason to ``tokenlife.litestar``,
where an operator can see it and an attacker cannot.
"""

from __future__ import annotations

import logging
from typing import Any, Final, cast

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.response.base import ASGIResponse
from litestar.types import (
    ExceptionHandlersMap,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

from tokenlife import StoreError, TokenError
from tokenlife.web import (
    AuthenticationRequiredKind,
    CSRFFailedKind,
    Gate,
    HTTPErrorKind,
    InsufficientScopeKind,
    InvalidGrantKind,
    InvalidTokenKind,
    Refusal,
    Reply,
    SetCookie,
    invalid_token,
    unavailable,
)

logger: Final = logging.getLogger("tokenlife.litestar")


class TokenLifeHTTPError(HTTPErrorKind, HTTPException):
    """Base of the plugin's HTTP errors; the body is ``{"error": <code>}``.

    What each answers is the web layer's (:class:`tokenlife.web.HTTPErrorKind`);
    this gives it Litestar's exception base.
    """

    def __init__(self, reason: str = "", *, clear_cookies: bool = False, scope: str = "") -> None:
        super().__init__(detail=self.error)
        self._keep(reason, clear_cookies, scope)


class AuthenticationRequired(AuthenticationRequiredKind, TokenLifeHTTPError):
    """No credentials at all: a bare ``Bearer`` challenge, no error code (RFC 6750 §3.1)."""


class InvalidToken(InvalidTokenKind, TokenLifeHTTPError):
    """A bad, expired, revoked or reused access token."""


class InvalidGrant(InvalidGrantKind, TokenLifeHTTPError):
    """The refresh route refused the refresh token (RFC 6749 §5.2 ``invalid_grant``)."""


class InsufficientScope(InsufficientScopeKind, TokenLifeHTTPError):
    """A valid token without the scope, or the freshness, the route needs."""


class CSRFFailed(CSRFFailedKind, TokenLifeHTTPError):
    """A cookie-authenticated unsafe request without the matching ``X-CSRF-Token``."""


def cookie(value: SetCookie) -> Cookie:
    """A web-layer cookie as Litestar's."""
    return Cookie(
        key=value.name,
        value=value.value,
        max_age=value.max_age,
        path=value.path,
        domain=value.domain,
        secure=value.secure,
        httponly=value.httponly,
        samesite=value.samesite,
    )


def to_response(reply: Reply) -> Response[bytes]:
    """A web-layer reply as a Litestar response, byte for byte."""
    return Response(
        content=reply.body,
        status_code=reply.status,
        headers=dict(reply.headers),
        cookies=[cookie(c) for c in reply.set_cookies],
        media_type="application/json",
    )


class ReplyResponse(ASGIResponse):
    """A web-layer reply as the ASGI response a route handler returns, sent byte for byte.

    A handler annotated to return an ``ASGIResponse`` is sent as is:
    Litestar's response rendering (its header, cookie and media-type
    handling) would only redo, at a cost per request, what the reply holds.
    """

    __slots__ = ("reply",)

    def __init__(self, reply: Reply) -> None:
        # Not ASGIResponse.__init__: nothing of its state is used by __call__ below.
        self.reply = reply

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reply = self.reply
        # Cookies as Litestar renders them, so a cookie cleared here reads exactly
        # as the one the login's Response set.
        headers = reply.asgi_headers(_encoded_cookie)
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": reply.status,
            "headers": headers,
        }
        await send(start)
        body: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": b"" if scope.get("method") == "HEAD" else reply.body,
            "more_body": False,
        }
        await send(body)


def _encoded_cookie(value: SetCookie) -> tuple[bytes, bytes]:
    return cookie(value).to_encoded_header()


def _renders(layer: Any) -> bool:
    """Does this layer set anything Litestar adds to a response while rendering it?"""
    return bool(
        layer.after_request
        or layer.response_headers
        or layer.response_cookies
        or getattr(layer, "cache_control", None)
        or getattr(layer, "etag", None)
    )


def asgi_response(request: Request[Any, Any, Any], reply: Reply) -> ASGIResponse:
    """What a route handler annotated ``-> ASGIResponse`` returns for a web-layer reply.

    The reply as is, unless a layer above (the app, a router) sets something
    Litestar applies while rendering a ``Response``: an ``after_request``
    hook, response headers or cookies, ``cache_control`` or ``etag``. Then it
    goes through Litestar's ``Response``, as any handler of the app would.
    The reply's own headers still win (``Cache-Control: no-store`` on tokens).
    """
    if any(map(_renders, request.route_handler.ownership_layers)):
        # Litestar sends a Response returned here through its Response path.
        return cast("ASGIResponse", to_response(reply))
    return ReplyResponse(reply)


def exception_handlers(gate: Gate) -> ExceptionHandlersMap:
    """One handler for refusals, the plugin's errors, and tokenlife's own raised by app code."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
        if isinstance(exc, Refusal):
            refusal = exc
        elif isinstance(exc, TokenLifeHTTPError):
            refusal = exc.refusal()
        elif isinstance(exc, StoreError):
            logger.error("%s %s: the token store failed: %s", request.method, request.url, exc)
            refusal = unavailable()
        else:
            refusal = invalid_token(getattr(exc, "code", "invalid_token"))
        level = logging.DEBUG if refusal.error == "unauthorized" else logging.INFO
        logger.log(
            level, "%s %s: %s (%s)", request.method, request.url.path, refusal.error, refusal.reason
        )
        return to_response(gate.reply(refusal))

    return dict.fromkeys((Refusal, TokenLifeHTTPError, TokenError, StoreError), handle)


__all__ = (
    "AuthenticationRequired",
    "CSRFFailed",
    "InsufficientScope",
    "InvalidGrant",
    "InvalidToken",
    "ReplyResponse",
    "TokenLifeHTTPError",
    "asgi_response",
    "cookie",
    "exception_handlers",
    "logger",
    "to_response",
)
