"""Embed tokenlife in any framework: a plain ASGI app on ``tokenlife.web``, nothing else."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

import msgspec

from tokenlife import TokenAuthority
from tokenlife.web import Gate, HttpRequest, Refusal, Reply, WebConfig, json_body, json_reply


class Login(msgspec.Struct):
    username: str
    password: str


def create_app(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> Any:
    gate = Gate(authority, config)

    async def route(request: HttpRequest) -> Reply:
        if request.path == config.refresh_path:
            return await gate.refresh(request)
        if request.path == config.logout_path:
            return await gate.logout(request)
        if request.path == "/login":
            login = json_body(request, Login)  # JSON only: no cross-site form can send it
            known = users.get(login.username, "")
            if not known or not hmac.compare_digest(known.encode(), login.password.encode()):
                return json_reply({"error": "invalid_grant"}, status=401)
            return await gate.login(request, login.username)
        found = await gate.authenticate(request)  # a Refusal unless authenticated
        body = {"sub": found.claims.subject, "sid": found.claims.session_id}  # every other path
        return msgspec.structs.replace(json_reply(body), set_cookies=found.set_cookies)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":  # open the store at start-up, close it at shutdown
            while (await receive())["type"] != "lifespan.shutdown":
                await authority.store.__aenter__()
                await send({"type": "lifespan.startup.complete"})
            await authority.store.__aexit__(None, None, None)
            await send({"type": "lifespan.shutdown.complete"})
            return
        body, more = b"", True
        while more and len(body) <= config.max_body_bytes:  # bounded: the rest is refused
            event = await receive()
            body, more = body + event.get("body", b""), event.get("more_body", False)
        request = HttpRequest.from_asgi(scope, body)
        try:
            reply = await route(request)
        except Refusal as refusal:
            reply = gate.refused(request, refusal)
        await send(
            {"type": "http.response.start", "status": reply.status, "headers": reply.asgi_headers()}
        )
        await send({"type": "http.response.body", "body": reply.body})

    return app
