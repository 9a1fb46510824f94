"""A resource server: verifies access tokens another service issued, with its public JWKS.

No store and no signing key here: the issuer's public keys come from
``TOKENLIFE_JWKS_URL`` (required), refetched on an unknown ``kid`` at most once
per ``TOKENLIFE_JWKS_MIN_INTERVAL`` seconds (default 60). ``TOKENLIFE_ISSUER``
(optional) is the ``iss`` tokens must carry, ``TOKENLIFE_AUDIENCE`` (optional)
the ``aud``. ``GET /protected`` answers the token's ``sub``. Run it with
``uvicorn docs.examples.resource_server:app``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from tokenlife import KeySetUnavailableError, RemoteKeyPolicy, TokenError
from tokenlife_jwks import RemoteKeySet, RemoteVerifier

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("resource_server")


# --8<-- [start:verifier]
def verifier_from_env(environ: MutableMapping[str, str] = os.environ) -> RemoteVerifier:
    url = environ.get("TOKENLIFE_JWKS_URL")
    if not url:
        raise RuntimeError("set TOKENLIFE_JWKS_URL to the issuer's /.well-known/jwks.json")
    policy = RemoteKeyPolicy(
        algorithms=("EdDSA", "ES256", "RS256"),  # the only ones accepted, never HMAC
        min_interval=float(environ.get("TOKENLIFE_JWKS_MIN_INTERVAL", "60")),
    )
    keys = RemoteKeySet(url, issuer=environ.get("TOKENLIFE_ISSUER") or None, policy=policy)
    return RemoteVerifier(keys, audience=environ.get("TOKENLIFE_AUDIENCE") or None)


# --8<-- [end:verifier]


# --8<-- [start:app]
def create_app(make_verifier: Callable[[], RemoteVerifier] = verifier_from_env) -> ASGIApp:
    verifier: RemoteVerifier | None = None

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal verifier
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                verifier = verifier or make_verifier()  # startup: fail early if misconfigured
                await send({"type": "lifespan.startup.complete"})
            if verifier is not None:
                await verifier.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        verifier = verifier or make_verifier()
        if scope["path"] != "/protected":
            await _reply(send, 404, {"error": "not_found"})
            return
        token = _bearer(scope)
        if token is None:
            await _reply(send, 401, {"error": "unauthorized"}, challenge="Bearer")
            return
        try:
            claims = await verifier.verify(token)
        except TokenError as exc:
            logger.info("token refused: %s", exc.code)  # the reason stays in the log
            challenge = 'Bearer error="invalid_token"'
            await _reply(send, 401, {"error": "invalid_token"}, challenge=challenge)
            return
        except KeySetUnavailableError:
            logger.exception("no usable keys from the issuer")  # fail closed
            await _reply(send, 503, {"error": "temporarily_unavailable"})
            return
        await _reply(send, 200, {"sub": claims.sub})

    return app


app = create_app()
# --8<-- [end:app]


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            header: bytes = value
            scheme, _, token = header.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


async def _reply(
    send: Send, status: int, body: dict[str, Any], *, challenge: str | None = None
) -> None:
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    if challenge is not None:
        headers.append((b"www-authenticate", challenge.encode("latin-1")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
