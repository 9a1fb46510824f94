"""Refusals as Starlette responses; HTTP error classes for application code.

The web layer decides every status, code and challenge
(:class:`tokenlife.web.Refusal`); this only turns its :class:`Reply` into a
Starlette ``Response`` and logs the precise reason to ``tokenlife.fastapi``,
where an operator can see it and an attacker cannot. Only Starlette is
used, so a plain Starlette app installs the handlers the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, Final, cast

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.status import WS_1008_POLICY_VIOLATION
from starlette.websockets import WebSocket

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
    invalid_token,
    unavailable,
)

logger: Final = logging.getLogger("tokenlife.fastapi")

#: What ``FastAPI(exception_handlers=...)`` and Starlette's expect.
Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


class TokenLifeHTTPError(HTTPErrorKind, Exception):
    """Base of the adapter's HTTP errors, for application code; the body is ``{"error": code}``.

    What each answers is the web layer's (:class:`tokenlife.web.HTTPErrorKind`);
    this makes it an exception Starlette's handlers can catch.
    """

    def __init__(self, reason: str = "", *, clear_cookies: bool = False, scope: str = "") -> None:
        super().__init__(reason or self.error)
        self._keep(reason, clear_cookies, scope)


class AuthenticationRequired(AuthenticationRequiredKind, TokenLifeHTTPError):
    """No credentials at all: a bare ``Bearer`` challenge (RFC 6750 §3.1)."""


class InvalidToken(InvalidTokenKind, TokenLifeHTTPError):
    """A bad, expired, revoked or reused access token."""


class InvalidGrant(InvalidGrantKind, TokenLifeHTTPError):
    """A refresh token refused (RFC 6749 §5.2 ``invalid_grant``)."""


class InsufficientScope(InsufficientScopeKind, TokenLifeHTTPError):
    """A valid token without the scope, or the freshness, the route needs."""


class CSRFFailed(CSRFFailedKind, TokenLifeHTTPError):
    """A cookie-authenticated unsafe request without the matching CSRF header."""


def to_response(reply: Reply) -> Response:
    """A web-layer reply as a Starlette response, byte for byte (``Set-Cookie`` included)."""
    response = Response(status_code=reply.status)
    response.body = reply.body
    response.raw_headers = reply.asgi_headers()
    return response


def exception_handlers(gate: Gate) -> dict[Any, Handler]:
    """One handler for refusals, the adapter's errors, and tokenlife's own raised by app code.

    A ``TokenError`` is a 401 ``invalid_token``, a ``StoreError`` a 503 (fail
    closed, the client may retry).
    """

    async def handle(request: HTTPConnection, exc: Exception) -> Response | None:
        if isinstance(exc, Refusal):
            refusal = exc
        elif isinstance(exc, TokenLifeHTTPError):
            refusal = exc.refusal()
        elif isinstance(exc, StoreError):
            logger.error("%s: the token store failed: %s", request.url.path, exc)
            refusal = unavailable()
        else:
            refusal = invalid_token(getattr(exc, "code", "invalid_token"))
        level = logging.DEBUG if refusal.error == "unauthorized" else logging.INFO
        logger.log(level, "%s: %s (%s)", request.url.path, refusal.error, refusal.reason)
        if isinstance(request, WebSocket):
            # A handshake has no HTTP answer here: close it as a policy violation.
            await request.close(code=WS_1008_POLICY_VIOLATION)
            return None
        return to_response(gate.reply(refusal))

    # Typed as FastAPI expects; Starlette also calls it for WebSocket routes (then None).
    return dict.fromkeys(
        (Refusal, TokenLifeHTTPError, TokenError, StoreError), cast(Handler, handle)
    )


__all__ = (
    "AuthenticationRequired",
    "CSRFFailed",
    "Handler",
    "InsufficientScope",
    "InvalidGrant",
    "InvalidToken",
    "TokenLifeHTTPError",
    "exception_handlers",
    "logger",
    "to_response",
)
