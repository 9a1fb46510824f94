"""The refusals the dependencies raise, and the handlers that answer them.

The statuses, codes and challenges are LIFECYCLE.md "Errors and HTTP
mapping" (RFC 6750): a client learns *that* it was refused, never *why*;
the reason goes to the ``tokenlife.fastapi`` logger. The handlers use only
Starlette, so a plain Starlette app installs them the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenlife import StoreError, TokenError

logger: Final = logging.getLogger("tokenlife.fastapi")

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}

#: What ``FastAPI(exception_handlers=...)`` and Starlette's expect.
Handler = Callable[[Request, Any], Coroutine[Any, Any, Response]]


class TokenLifeHTTPError(Exception):
    """Base of the adapter's refusals; the body is ``{"error": <code>}``."""

    status_code: ClassVar[int] = 401
    #: The RFC error code the client sees.
    error: ClassVar[str] = "invalid_token"
    #: ``None``: no ``WWW-Authenticate``; ``""``: the bare challenge (no error code).
    challenge: ClassVar[str | None] = "invalid_token"

    def __init__(self, reason: str = "", *, scope: str = "") -> None:
        super().__init__(reason or self.error)
        #: The precise reason, for logs only.
        self.reason = reason or self.error
        #: For ``insufficient_scope``: the scopes the route needs.
        self.required_scope = scope


class AuthenticationRequired(TokenLifeHTTPError):
    """No credentials at all: a bare ``Bearer`` challenge (RFC 6750 §3.1)."""

    error = "unauthorized"
    challenge = ""


class InvalidToken(TokenLifeHTTPError):
    """A bad, expired, revoked or reused access token."""


class InvalidGrant(TokenLifeHTTPError):
    """A refresh token refused at a refresh route (RFC 6749 §5.2 ``invalid_grant``)."""

    error = "invalid_grant"
    challenge = None


class InsufficientScope(TokenLifeHTTPError):
    """A valid token without the scope, or the freshness, the route needs."""

    status_code = 403
    error = "insufficient_scope"
    challenge = "insufficient_scope"


def _challenge(realm: str | None, error: str, scope: str) -> str:
    params = [f'realm="{realm}"'] if realm else []
    if error:
        params.append(f'error="{error}"')
    if scope:
        params.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(params) if params else "Bearer"


def exception_handlers(realm: str | None = None) -> dict[int | type[Exception], Handler]:
    """For ``FastAPI(exception_handlers=...)`` or ``Starlette(exception_handlers=...)``.

    Covers the adapter's refusals and tokenlife's own errors raised by
    application code: a ``TokenError`` is a 401 ``invalid_token``, a
    ``StoreError`` a 503 (fail closed, the client may retry).
    """

    async def handle_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TokenLifeHTTPError)
        level = logging.DEBUG if isinstance(exc, AuthenticationRequired) else logging.INFO
        logger.log(level, "%s %s: %s (%s)", request.method, request.url.path, exc.error, exc.reason)
        headers = dict(NO_STORE)
        if exc.challenge is not None:
            headers["WWW-Authenticate"] = _challenge(realm, exc.challenge, exc.required_scope)
        return JSONResponse({"error": exc.error}, status_code=exc.status_code, headers=headers)

    async def handle_token_error(request: Request, exc: Exception) -> Response:
        return await handle_http(request, InvalidToken(getattr(exc, "code", "invalid_token")))

    async def handle_store_error(request: Request, exc: Exception) -> Response:
        logger.error("%s %s: the token store failed: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"error": "temporarily_unavailable"},
            status_code=503,
            headers={**NO_STORE, "Retry-After": "1"},
        )

    return {
        TokenLifeHTTPError: handle_http,
        TokenError: handle_token_error,
        StoreError: handle_store_error,
    }


__all__ = (
    "NO_STORE",
    "AuthenticationRequired",
    "Handler",
    "InsufficientScope",
    "InvalidGrant",
    "InvalidToken",
    "TokenLifeHTTPError",
    "exception_handlers",
    "logger",
)
