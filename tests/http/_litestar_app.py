"""The conformance app on tokenlife-litestar: the plugin, a JSON login, two protected routes."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath

import tokenlife_litestar
from tokenlife import Claims, TokenAuthority
from tokenlife.web import HttpRequest, Refusal, WebConfig, json_body
from tokenlife_litestar import AuthClaims, TokenLifeConfig, TokenLifePlugin


class Login(msgspec.Struct):
    username: str
    password: str


def create_app(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> Litestar:
    plugin = TokenLifePlugin(
        TokenLifeConfig(
            authority=authority,
            cookies=config.cookies,
            token_locations=config.token_locations,
            refresh_path=config.refresh_path,
            logout_path=config.logout_path,
            sessions_path=config.sessions_path,
            logout_others_path=config.logout_others_path,
            logout_all_path=config.logout_all_path,
            client_labels=config.client_labels,
            revocation_path=config.revocation_path,
            introspection_path=config.introspection_path,
            metadata_path=config.metadata_path,
            introspection_clients=config.introspection_clients,
            exclude=config.exclude,
            realm=config.realm,
            clock=config.clock,
            dpop=config.dpop,
        )
    )

    @post("/login", status_code=200, exclude_from_auth=True)
    async def login(request: Request[Any, Any, Any]) -> Response[Any]:
        facts = HttpRequest.from_asgi(request.scope, await request.body())
        try:
            body = json_body(facts, Login)
        except Refusal as refusal:
            return Response({"error": refusal.error}, status_code=refusal.status)
        known = users.get(body.username, "")
        if not known or not hmac.compare_digest(known.encode(), body.password.encode()):
            return Response({"error": "invalid_grant"}, status_code=401)
        return await plugin.login(body.username, request=request)

    def who(claims: Claims) -> dict[str, Any]:
        return {"sub": claims.subject, "sid": claims.session_id}

    @get(["/protected", "/whoami"])
    async def read(claims: AuthClaims) -> dict[str, Any]:
        return who(claims)

    @post(["/protected", "/whoami"], status_code=200)
    async def write(claims: AuthClaims) -> dict[str, Any]:
        return who(claims)

    @get("/raise/{kind:str}", exclude_from_auth=True)
    async def raise_error(kind: FromPath[str]) -> None:
        # What application code raises: the adapter's HTTP error class of that name.
        raise getattr(tokenlife_litestar, kind)("raised by the app")

    return Litestar([login, read, write, raise_error], plugins=[plugin])
