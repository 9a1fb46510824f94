"""Deliberately broken apps: the plain ASGI conformance app with one realistic bug each.

Each wraps ``docs/examples/asgi_app.py`` and answers one route the way an app
author could plausibly get it wrong, over a correct authority and store: the
bug is in the web layer, so only a machine that drives the app over HTTP can
see it. The HTTP lifecycle machine must catch every one (tests/http/test_lifecycle.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import msgspec

from tokenlife import ACCESS_TYP, REFRESH_TYP, TokenAuthority, TokenError
from tokenlife.web import WebConfig

Send = Callable[[dict[str, Any]], Awaitable[None]]
Handler = Callable[[dict[str, Any], Any, Send], Awaitable[None]]


def _inner(authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]) -> Handler:
    from docs.examples.asgi_app import create_app

    app: Handler = create_app(authority, config, users)
    return app


async def _answer(
    send: Send, status: int, body: object = None, headers: tuple[tuple[str, str], ...] = ()
) -> None:
    content = b"" if body is None else msgspec.json.encode(body)
    fields = [(k.encode(), v.encode()) for k, v in headers]
    if body is not None:
        fields.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": content})


def _bearer(scope: dict[str, Any]) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization" and value.startswith(b"Bearer "):
            return str(value[7:].decode())
    return ""


def logout_forgets_the_session(
    authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]
) -> Handler:
    """Logout answers 204 at once ("the client drops its tokens") and never ends the
    session: the logged-out tokens keep working."""
    inner = _inner(authority, config, users)

    async def app(scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == config.logout_path:
            await _answer(send, 204)
            return
        await inner(scope, receive, send)

    return app


def refresh_by_login(
    authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]
) -> Handler:
    """The refresh route checks the refresh token's signature and expiry, then logs its
    subject in again (a stateless refresh): nothing rotates, a replayed token is never
    detected, and every refresh starts a new session."""
    inner = _inner(authority, config, users)

    async def app(scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != config.refresh_path:
            await inner(scope, receive, send)
            return
        try:
            claims = authority.codec.decode(_bearer(scope), typ=REFRESH_TYP, now=authority.now())
        except TokenError:
            await _answer(send, 401, {"error": "invalid_grant"}, (("cache-control", "no-store"),))
            return
        pair = await authority.issue(claims.subject)
        await _answer(send, 200, pair.to_response(), (("cache-control", "no-store"),))

    return app


def protected_by_signature(
    authority: TokenAuthority, config: WebConfig, users: Mapping[str, str]
) -> Handler:
    """The protected route checks the access token's signature and expiry only
    (stateless, "it is faster"): a token of a logged-out or reused session passes."""
    inner = _inner(authority, config, users)

    async def app(scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/protected":
            await inner(scope, receive, send)
            return
        try:
            claims = authority.codec.decode(_bearer(scope), typ=ACCESS_TYP, now=authority.now())
        except TokenError:
            challenge = (("www-authenticate", 'Bearer error="invalid_token"'),)
            await _answer(send, 401, {"error": "invalid_token"}, challenge)
            return
        await _answer(send, 200, {"sub": claims.subject, "sid": claims.session_id})

    return app


#: The broken apps the HTTP machine must catch.
MUTANT_APPS = (logout_forgets_the_session, refresh_by_login, protected_by_signature)

__all__ = (
    "MUTANT_APPS",
    "logout_forgets_the_session",
    "protected_by_signature",
    "refresh_by_login",
)
