"""The routes the plugin adds: explicit refresh, logout, JWKS.

Each is excluded from the middleware and answered whole by the web layer
(:meth:`Gate.refresh`, :meth:`Gate.logout`): this only hands it the facts.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler

from tokenlife.web import Gate, HttpRequest

from ._errors import to_response


async def _facts(request: Request[Any, Any, Any]) -> HttpRequest:
    return HttpRequest.from_asgi(request.scope, await request.body())


def refresh_route(gate: Gate, path: str, opt_key: str) -> HTTPRouteHandler:
    """``POST path``: rotate a refresh token from the header, the body, or the cookie."""

    async def refresh(request: Request[Any, Any, Any]) -> Response[bytes]:
        return to_response(await gate.refresh(await _facts(request)))

    return post(
        path,
        status_code=200,
        opt={opt_key: True},
        security=[{}],
        summary="Rotate a refresh token",
        description=(
            "Takes the refresh token from `Authorization: Bearer`, a JSON or form body "
            "(`refresh_token`), or the refresh cookie (with the CSRF header; only then are "
            "cookies set). Returns a new access token and the successor refresh token; 401 "
            '`{"error": "invalid_grant"}` for a refused token, 400 `invalid_request` for an '
            "unreadable request."
        ),
        tags=["auth"],
    )(refresh)


def logout_route(gate: Gate, path: str, opt_key: str) -> HTTPRouteHandler:
    """``POST path``: revoke the session of the token presented and clear the cookies."""

    async def logout(request: Request[Any, Any, Any]) -> Response[bytes]:
        return to_response(await gate.logout(await _facts(request)))

    # 204 on success; the declared code must allow a body, since refusals carry one.
    return post(
        path,
        status_code=200,
        opt={opt_key: True},
        security=[{}],
        summary="Log out",
        description="Ends the session of the token presented (bearer, body field `token` or "
        "`refresh_token`, or the cookies with the CSRF header); 204 only once a session ended.",
        tags=["auth"],
    )(logout)


def jwks_route(gate: Gate, path: str, opt_key: str) -> HTTPRouteHandler:
    """``GET path``: the public keys, for services that verify our tokens themselves."""

    async def jwks() -> Response[dict[str, list[dict[str, Any]]]]:
        return Response(
            content=gate.authority.codec.keys.public_jwks(),
            headers={"Cache-Control": "public, max-age=300"},
            media_type="application/jwk-set+json",
        )

    return get(
        path, opt={opt_key: True}, security=[{}], summary="Public signing keys", tags=["auth"]
    )(jwks)


__all__ = ("jwks_route", "logout_route", "refresh_route")
