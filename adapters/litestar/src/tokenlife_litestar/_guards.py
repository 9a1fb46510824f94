"""Guards (scopes, freshness) and the dependencies that hand claims to route handlers.

Guards run after the middleware, so they only read ``scope["auth"]``; a
route excluded from authentication has no claims there, and a guard on it
answers 401 rather than letting the request through.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.types import Guard, Scope

from tokenlife import Claims
from tokenlife.web import check_fresh, check_scopes, unauthorized

#: ``claims: AuthClaims`` in a handler: the verified claims (dependency ``claims``).
AuthClaims: TypeAlias = NamedDependency[Claims]
#: ``subject: AuthSubject`` in a handler: the verified ``sub`` (dependency ``subject``).
AuthSubject: TypeAlias = NamedDependency[str]


def _claims(scope: Scope) -> Claims:
    claims = scope.get("auth")
    if not isinstance(claims, Claims):
        raise unauthorized("route_not_authenticated")
    return claims


def require_scopes(*scopes: str) -> Guard:
    """A guard: 403 ``insufficient_scope`` unless the token carries every one of ``scopes``."""
    needed = frozenset(scopes)

    def scopes_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        check_scopes(_claims(connection.scope), needed)

    return scopes_guard


def require_fresh(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: 403 unless the token comes straight from a login (not from a refresh).

    For the routes where a stolen, long-refreshed session should not be
    enough: changing a password, deleting an account.
    """
    check_fresh(_claims(connection.scope))


def provide_claims(scope: Scope) -> Claims:
    """Dependency: the verified claims of the request."""
    return _claims(scope)


def provide_subject(scope: Scope) -> str:
    """Dependency: the verified subject (``sub``) of the request."""
    return _claims(scope).subject


__all__ = (
    "AuthClaims",
    "AuthSubject",
    "provide_claims",
    "provide_subject",
    "require_fresh",
    "require_scopes",
)
