"""A framework-free ASGI middleware that protects every HTTP route with tokenlife.

It reads the access token from ``Authorization: Bearer``, verifies it with
``TokenAuthority.verify`` and puts the claims in ``scope["auth"]`` (the key
Starlette's authentication middleware uses too). It answers the failures
itself, as RFC 6750 describes, so the application behind it only ever sees
authenticated requests. Run it with ``uvicorn docs.examples.asgi_middleware:app``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AsyncExitStack
from typing import Any

from tokenlife import Claims, KeySet, Store, StoreError, TokenAuthority, TokenError
from tokenlife_memory import MemoryStore

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("asgi_middleware.auth")


# --8<-- [start:middleware]
class BearerAuthMiddleware:
    """Lets through only HTTP requests with a valid access token."""

    def __init__(
        self, app: ASGIApp, authority: TokenAuthority, *, public: frozenset[str] = frozenset()
    ) -> None:
        self.app = app
        self.authority = authority
        self.public = public  # exact paths that need no token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.public:
            await self.app(scope, receive, send)  # lifespan events, public routes
            return
        token = _bearer(scope)
        if token is None:
            await _refuse(send, 401, "unauthorized", challenge="Bearer")
            return
        try:
            claims = await self.authority.verify(token)
        except TokenError as exc:
            logger.info("%s refused: %s", scope["path"], exc.code)  # the reason stays here
            await _refuse(send, 401, "invalid_token", challenge='Bearer error="invalid_token"')
            return
        except StoreError:
            logger.exception("the token store failed")  # fail closed
            await _refuse(send, 503, "temporarily_unavailable", challenge=None)
            return
        scope["auth"] = claims
        await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            header: bytes = value
            scheme, _, token = header.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


async def _refuse(send: Send, status: int, error: str, *, challenge: str | None) -> None:
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    if challenge is not None:
        headers.append((b"www-authenticate", challenge.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps({"error": error}).encode()})


# --8<-- [end:middleware]


# --8<-- [start:app]
async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """A bare ASGI app: it answers with who is asking."""
    if scope["path"] == "/health":
        payload: dict[str, Any] = {"status": "ok"}
    else:
        claims: Claims = scope["auth"]  # set by the middleware
        payload = {"subject": claims.subject, "scopes": list(claims.scopes)}
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


def create_app(authority: TokenAuthority) -> ASGIApp:
    protected = BearerAuthMiddleware(hello, authority, public=frozenset({"/health"}))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, authority.store)
        else:
            await protected(scope, receive, send)

    return app


async def lifespan(receive: Receive, send: Send, store: Store) -> None:
    """Open the store at start-up, close it at shutdown."""
    async with AsyncExitStack() as stack:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await stack.enter_async_context(store)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def default_authority() -> TokenAuthority:
    secret = os.environ.get("TOKENLIFE_SECRET")
    # Without a configured secret, a random key: tokens die with the process.
    keys = KeySet.from_secret(secret) if secret else KeySet.generate("EdDSA")
    return TokenAuthority(MemoryStore(), keys=keys)


app = create_app(default_authority())
# --8<-- [end:app]
