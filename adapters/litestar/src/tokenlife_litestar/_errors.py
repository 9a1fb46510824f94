"""The HTTP face of every failure: RFC 6750 / RFC 6749 codes, nothing more.

docs/design/lifecycle.md#errors-and-http-mapping: a client learns *that* its token
was refused (``invalid_token``) but never *why* (expired, reused, revoked,
bad signature) — that goes to the ``tokenlife.litestar`` logger, where an
operator can see it and an attacker cannot.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Final

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

from tokenlife import StoreError, TokenError

from ._cookies import CookieJar

logger: Final = logging.getLogger("tokenlife.litestar")

_NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenLifeHTTPError(HTTPException):
    """Base of the plugin's HTTP errors; the body is ``{"error": <code>}``."""

    status_code: int = 401
    #: The RFC error code the client sees.
    error: ClassVar[str] = "invalid_token"
    #: ``None``: no ``WWW-Authenticate``; ``""``: the bare challenge (no error code).
    challenge: ClassVar[str | None] = "invalid_token"

    def __init__(self, reason: str = "", *, clear_cookies: bool = False, scope: str = "") -> None:
        super().__init__(detail=self.error)
        #: The precise reason, for logs only.
        self.reason = reason or self.error
        #: Also clear the auth cookies (a dead session, a detected reuse).
        self.clear_cookies = clear_cookies
        #: For ``insufficient_scope``: the scopes the route needs.
        self.required_scope = scope


class AuthenticationRequired(TokenLifeHTTPError):
    """No credentials at all: a bare ``Bearer`` challenge, no error code (RFC 6750 §3.1)."""

    error = "unauthorized"
    challenge = ""


class InvalidToken(TokenLifeHTTPError):
    """A bad, expired, revoked or reused access token."""


class InvalidGrant(TokenLifeHTTPError):
    """The refresh route refused the refresh token (RFC 6749 §5.2 ``invalid_grant``)."""

    error = "invalid_grant"
    challenge = None


class InsufficientScope(TokenLifeHTTPError):
    """A valid token without the scope, or the freshness, the route needs."""

    status_code = 403
    error = "insufficient_scope"
    challenge = "insufficient_scope"


class CSRFFailed(TokenLifeHTTPError):
    """A cookie-authenticated unsafe request without the matching ``X-CSRF-Token``."""

    status_code = 403
    error = "invalid_csrf_token"
    challenge = None


def _challenge(realm: str | None, error: str, scope: str) -> str:
    params = [f'realm="{realm}"'] if realm else []
    if error:
        params.append(f'error="{error}"')
    if scope:
        params.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(params) if params else "Bearer"


def error_response(
    status_code: int,
    error: str,
    *,
    headers: dict[str, str] | None = None,
    jar: CookieJar | None = None,
) -> Response[Any]:
    """A JSON ``{"error": ...}`` response that no cache keeps; optionally clearing cookies."""
    return Response(
        content={"error": error},
        status_code=status_code,
        headers={**_NO_STORE, **(headers or {})},
        cookies=jar.clearing() if jar is not None else None,
    )


def exception_handlers(jar: CookieJar | None, realm: str | None) -> ExceptionHandlersMap:
    """Handlers for the plugin's errors and for tokenlife's own, raised by app code."""

    def handle_http(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        assert isinstance(exc, TokenLifeHTTPError)
        level = logging.DEBUG if isinstance(exc, AuthenticationRequired) else logging.INFO
        logger.log(level, "%s %s: %s (%s)", request.method, request.url.path, exc.error, exc.reason)
        headers = {}
        if exc.challenge is not None:
            headers["WWW-Authenticate"] = _challenge(realm, exc.challenge, exc.required_scope)
        return error_response(
            exc.status_code,
            exc.error,
            headers=headers,
            jar=jar if exc.clear_cookies else None,
        )

    def handle_token_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        code = getattr(exc, "code", "invalid_token")
        return handle_http(request, InvalidToken(code))

    def handle_store_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        # Fail closed: an unverifiable token is never a 200; the client may retry.
        logger.error("%s %s: the token store failed: %s", request.method, request.url.path, exc)
        return error_response(503, "temporarily_unavailable", headers={"Retry-After": "1"})

    return {
        TokenLifeHTTPError: handle_http,
        TokenError: handle_token_error,
        StoreError: handle_store_error,
    }


__all__ = (
    "AuthenticationRequired",
    "CSRFFailed",
    "InsufficientScope",
    "InvalidGrant",
    "InvalidToken",
    "TokenLifeHTTPError",
    "error_response",
    "exception_handlers",
    "logger",
)
