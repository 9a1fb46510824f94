"""The HTTP errors application code raises, decided once for every framework adapter.

An adapter gives each its framework's exception base (Litestar's
``HTTPException``, a plain ``Exception`` for Starlette) and nothing else:
what each error answers (status, RFC error code, ``WWW-Authenticate``
challenge) is this module's, so two adapters cannot drift apart.
"""

from __future__ import annotations

from typing import ClassVar

from ._replies import Refusal


class HTTPErrorKind:
    """What an adapter's HTTP error answers: its :class:`Refusal`.

    A mixin: the adapter's base class calls :meth:`_keep` from its
    ``__init__``, after its framework's own.
    """

    status_code: int = 401
    #: The RFC error code the client sees.
    error: ClassVar[str] = "invalid_token"
    #: ``None``: no ``WWW-Authenticate``; ``""``: the bare challenge (no error code).
    challenge: ClassVar[str | None] = "invalid_token"
    #: The precise reason, for logs only.
    reason: str
    clear_cookies: bool
    required_scope: str

    def _keep(self, reason: str, clear_cookies: bool, scope: str) -> None:
        self.reason = reason or self.error
        self.clear_cookies = clear_cookies
        self.required_scope = scope

    def refusal(self) -> Refusal:
        """The web layer's view of this error."""
        return Refusal(
            self.status_code,
            self.error,
            self.reason,
            challenge=self.challenge,
            clear_cookies=self.clear_cookies,
            scope=self.required_scope,
        )


class AuthenticationRequiredKind(HTTPErrorKind):
    """No credentials at all: a bare ``Bearer`` challenge, no error code (RFC 6750 §3.1)."""

    error = "unauthorized"
    challenge = ""


class InvalidTokenKind(HTTPErrorKind):
    """A bad, expired, revoked or reused access token (RFC 6750 §3.1 ``invalid_token``)."""


class InvalidGrantKind(HTTPErrorKind):
    """A refused refresh token (RFC 6749 §5.2 ``invalid_grant``), no challenge."""

    error = "invalid_grant"
    challenge = None


class InsufficientScopeKind(HTTPErrorKind):
    """A valid token without the scope, or the freshness, the route needs (403)."""

    status_code = 403
    error = "insufficient_scope"
    challenge = "insufficient_scope"


class CSRFFailedKind(HTTPErrorKind):
    """A cookie-authenticated unsafe request without the session's CSRF header (403)."""

    status_code = 403
    error = "invalid_csrf_token"
    challenge = None


__all__ = (
    "AuthenticationRequiredKind",
    "CSRFFailedKind",
    "HTTPErrorKind",
    "InsufficientScopeKind",
    "InvalidGrantKind",
    "InvalidTokenKind",
)
