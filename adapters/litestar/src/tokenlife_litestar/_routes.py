"""The routes the plugin adds: explicit refresh, logout, JWKS, and the devices routes.

Refresh, logout and JWKS are excluded from the middleware and answered
whole by the web layer (:meth:`Gate.refresh`, :meth:`Gate.logout`). The
devices routes are protected like the app's own: the middleware
authenticates them (CSRF, in-line refresh), then the web layer answers.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, delete, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response.base import ASGIResponse

from tokenlife.web import Gate, HttpRequest, WebConfig

from ._errors import asgi_response
from ._guards import provide_claims


async def _facts(request: Request[Any, Any, Any]) -> HttpRequest:
    return HttpRequest.from_asgi(request.scope, await request.body())


def refresh_route(gate: Gate, path: str, opt_key: str) -> HTTPRouteHandler:
    """``POST path``: rotate a refresh token from the header, the body, or the cookie."""

    async def refresh(request: Request[Any, Any, Any]) -> ASGIResponse:
        return asgi_response(request, await gate.refresh(await _facts(request)))

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

    async def logout(request: Request[Any, Any, Any]) -> ASGIResponse:
        return asgi_response(request, await gate.logout(await _facts(request)))

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


def devices_routes(gate: Gate, config: WebConfig) -> list[HTTPRouteHandler]:
    """The caller's own sessions: list, end one, end the others, end all (those configured)."""
    handlers: list[HTTPRouteHandler] = []
    common: dict[str, Any] = {"tags": ["sessions"], "status_code": 200}
    if config.sessions_path is not None:

        async def list_sessions(request: Request[Any, Any, Any]) -> ASGIResponse:
            facts = await _facts(request)
            claims = provide_claims(request.scope)
            return asgi_response(request, await gate.list_sessions(facts, claims))

        async def end_session(
            request: Request[Any, Any, Any], session_id: FromPath[str]
        ) -> ASGIResponse:
            facts = await _facts(request)
            claims = provide_claims(request.scope)
            return asgi_response(request, await gate.end_session(facts, claims, session_id))

        handlers.append(
            get(config.sessions_path, summary="Your sessions (devices)", **common)(list_sessions)
        )
        handlers.append(
            delete(
                config.sessions_path.rstrip("/") + "/{session_id:str}",
                summary="End one of your sessions; 404 for any other id",
                **common,
            )(end_session)
        )
    if config.logout_others_path is not None:

        async def logout_others(request: Request[Any, Any, Any]) -> ASGIResponse:
            facts = await _facts(request)
            claims = provide_claims(request.scope)
            return asgi_response(request, await gate.end_other_sessions(facts, claims))

        handlers.append(
            post(config.logout_others_path, summary="End all your other sessions", **common)(
                logout_others
            )
        )
    if config.logout_all_path is not None:

        async def logout_all(request: Request[Any, Any, Any]) -> ASGIResponse:
            facts = await _facts(request)
            claims = provide_claims(request.scope)
            return asgi_response(request, await gate.end_all_sessions(facts, claims))

        handlers.append(
            post(config.logout_all_path, summary="End all your sessions", **common)(logout_all)
        )
    return handlers


__all__ = ("devices_routes", "jwks_route", "logout_route", "refresh_route")
