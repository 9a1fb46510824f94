"""The OAuth 2.0 routes the plugin adds when enabled: revocation, introspection, metadata.

Each is answered whole by the web layer (:meth:`Gate.revoke`,
:meth:`Gate.introspect`, :meth:`Gate.metadata`); this only hands it the facts.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.handlers import HTTPRouteHandler
from litestar.response.base import ASGIResponse

from tokenlife.web import Gate, HttpRequest, WebConfig

from ._errors import asgi_response


async def _facts(request: Request[Any, Any, Any]) -> HttpRequest:
    return HttpRequest.from_asgi(request.scope, await request.body())


def oauth_routes(gate: Gate, config: WebConfig, opt_key: str) -> list[HTTPRouteHandler]:
    """The handlers for every OAuth 2.0 path set in ``config``."""
    handlers: list[HTTPRouteHandler] = []
    if config.revocation_path is not None:

        async def revoke(request: Request[Any, Any, Any]) -> ASGIResponse:
            return asgi_response(request, await gate.revoke(await _facts(request)))

        handlers.append(
            post(
                config.revocation_path,
                status_code=200,
                opt={opt_key: True},
                security=[{}],
                summary="Revoke a token (RFC 7009)",
                description="Form `token` (and optional `token_type_hint`); 200 even for an "
                "unknown or invalid token. Ends the token's session.",
                tags=["oauth"],
            )(revoke)
        )
    if config.introspection_path is not None:

        async def introspect(request: Request[Any, Any, Any]) -> ASGIResponse:
            return asgi_response(request, await gate.introspect(await _facts(request)))

        handlers.append(
            post(
                config.introspection_path,
                status_code=200,
                opt={opt_key: True},
                security=[{}],
                summary="Introspect a token (RFC 7662)",
                description="For resource servers, with their client credential (HTTP Basic). "
                'Form `token`; `{"active": false}` for any token not alive.',
                tags=["oauth"],
            )(introspect)
        )
    if config.metadata_path is not None:

        async def metadata(request: Request[Any, Any, Any]) -> ASGIResponse:
            return asgi_response(request, gate.metadata(str(request.base_url)))

        handlers.append(
            get(
                config.metadata_path,
                opt={opt_key: True},
                security=[{}],
                summary="Authorization server metadata (RFC 8414)",
                tags=["oauth"],
            )(metadata)
        )
    return handlers


__all__ = ("oauth_routes",)
