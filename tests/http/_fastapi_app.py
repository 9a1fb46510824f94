"""The conformance app on tokenlife-fastapi: middleware, dependencies, a JSON login.

No ``from __future__ import annotations``: FastAPI reads the handlers' annotations.
"""

import hmac
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

import tokenlife_fastapi
from tokenlife import Claims, TokenAuthority
from tokenlife.web import HttpRequest, Refusal, WebConfig, json_body
from tokenlife_fastapi import TokenLife


class Login(msgspec.Struct):
    username: str
    password: str


def create_app(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> FastAPI:
    tl = TokenLife(
        authority,
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
    app = FastAPI(lifespan=tl.lifespan())
    tl.install(app)
    Auth = Annotated[Claims, Depends(tl.access_token_required)]

    @app.post("/login")
    async def login(request: Request) -> Response:
        facts = HttpRequest.from_asgi(request.scope, await request.body())
        try:
            body = json_body(facts, Login)
        except Refusal as refusal:
            return JSONResponse({"error": refusal.error}, status_code=refusal.status)
        known = users.get(body.username, "")
        if not known or not hmac.compare_digest(known.encode(), body.password.encode()):
            return JSONResponse({"error": "invalid_grant"}, status_code=401)
        return await tl.login(body.username, request=request)

    @app.api_route("/protected", methods=["GET", "POST"])
    @app.api_route("/whoami", methods=["GET", "POST"])
    async def who(claims: Auth) -> dict[str, Any]:
        return {"sub": claims.subject, "sid": claims.session_id}

    @app.get("/raise/{kind}")
    async def raise_error(kind: str) -> None:
        # What application code raises: the adapter's HTTP error class of that name.
        raise getattr(tokenlife_fastapi, kind)("raised by the app")

    return app
