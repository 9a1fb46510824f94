"""The OAuth 2.0 routes, when enabled: revocation, introspection, metadata.

Each is answered whole by the web layer (:meth:`Gate.revoke`,
:meth:`Gate.introspect`, :meth:`Gate.metadata`); this only hands it the facts.
No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.
"""

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from tokenlife.web import Gate, HttpRequest, WebConfig

from ._errors import to_response


def oauth_paths(config: WebConfig) -> tuple[str, ...]:
    """The OAuth 2.0 paths set in ``config`` (the middleware leaves them to their routes)."""
    paths = (config.revocation_path, config.introspection_path, config.metadata_path)
    return tuple(p for p in paths if p is not None)


def add_oauth_routes(router: APIRouter, gate: Gate) -> None:
    """Mount every OAuth 2.0 route the gate's config enables."""
    config = gate.config
    if config.revocation_path is not None:

        async def revoke(request: Request) -> Response:
            """Revoke a token (RFC 7009): form `token`; 200 even for an unknown one."""
            facts = HttpRequest.from_asgi(request.scope, await request.body())
            return to_response(await gate.revoke(facts))

        router.add_api_route(config.revocation_path, revoke, methods=["POST"], tags=["oauth"])
    if config.introspection_path is not None:

        async def introspect(request: Request) -> Response:
            """Introspect a token (RFC 7662), with a resource server's credential."""
            facts = HttpRequest.from_asgi(request.scope, await request.body())
            return to_response(await gate.introspect(facts))

        router.add_api_route(
            config.introspection_path, introspect, methods=["POST"], tags=["oauth"]
        )
    if config.metadata_path is not None:

        async def metadata(request: Request) -> Response:
            """Authorization server metadata (RFC 8414)."""
            return to_response(gate.metadata(str(request.base_url)))

        router.add_api_route(config.metadata_path, metadata, methods=["GET"], tags=["oauth"])


__all__ = ("add_oauth_routes", "oauth_paths")
