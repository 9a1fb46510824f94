"""The pure rules: where a credential is, whether CSRF holds, whether scopes suffice.

Plain synchronous functions of request facts and verified claims, so each
rule is tested without an event loop and every adapter applies the same one.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl

from tokenlife._claims import Claims

from ._facts import HttpRequest
from ._replies import insufficient_scope, invalid_request, invalid_token

#: Methods that change nothing (RFC 9110 §9.2.1): no CSRF proof needed.
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def bearer_token(request: HttpRequest) -> str | None:
    """The token of the request's ``Authorization: Bearer`` header; ``None`` without one.

    Another scheme (``Basic``, ``DPoP``) is not ours: ``None``. Two
    ``Authorization`` headers are refused (400): which one a proxy or a
    framework would pick is anybody's guess. An empty or spaced bearer is
    a token that cannot be ours: 401 ``invalid_token``.
    """
    found: bytes | None = None
    for key, value in request.headers:
        if key == b"authorization":
            if found is not None:
                raise invalid_request("repeated_authorization")
            found = value
    if found is None:
        return None
    scheme, _, token = found.partition(b" ")
    if scheme != b"Bearer" and scheme.lower() != b"bearer":
        return None
    token = token.strip()
    if not token or b" " in token:
        raise invalid_token("malformed_bearer")
    return token.decode("latin-1")


def query_token(request: HttpRequest, name: str) -> str | None:
    """``?name=<token>`` (RFC 6750 §2.3), or ``None``; an empty value is refused."""
    if not request.query:
        return None
    for key, value in parse_qsl(request.query.decode("latin-1")):
        if key == name:
            if not value:
                raise invalid_token("empty_query_token")
            return value
    return None


def csrf_holds(given: bytes | None, claims: Claims) -> bool:
    """Does the double-submit header equal the session's ``csrf`` claim?

    Bound to a verified token of the session, never to the CSRF cookie
    alone: a cookie a sibling subdomain planted proves nothing.
    """
    expected = claims.csrf
    if not given or not isinstance(expected, str) or not expected:
        return False
    return hmac.compare_digest(given, expected.encode("latin-1"))


def same_origin(request: HttpRequest) -> bool:
    """Is a WebSocket handshake from a page of this very host (no cross-site hijacking)?"""
    origin, host = request.header(b"origin"), request.header(b"host")
    if origin is None or host is None:
        return False
    return origin.partition(b"://")[2].rstrip(b"/").lower() == host.lower()


def check_scopes(claims: Claims, needed: Iterable[str]) -> None:
    """Raise 403 ``insufficient_scope`` unless ``claims`` carry every scope ``needed``."""
    wanted = frozenset(needed)
    if not wanted.issubset(claims.scopes):
        raise insufficient_scope("missing_scope", " ".join(sorted(wanted)))


def check_fresh(claims: Claims) -> None:
    """Raise 403 unless the token comes straight from a login (not from a refresh)."""
    if not claims.fresh:
        raise insufficient_scope("not_fresh")


__all__ = (
    "SAFE_METHODS",
    "bearer_token",
    "check_fresh",
    "check_scopes",
    "csrf_holds",
    "query_token",
    "same_origin",
)
