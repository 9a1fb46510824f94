"""A Litestar API whose sessions are bound to their clients' keys (DPoP, RFC 9449).

Run it with ``TOKENLIFE_SECRET=... uvicorn docs.examples.dpop_server:app``.
"""

from __future__ import annotations

import hmac
import os
import secrets
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post

from tokenlife import KeySet, Policy, SecurityEvent, TokenAuthority
from tokenlife.web import DPoPConfig
from tokenlife_litestar import AuthClaims, TokenLifeConfig, TokenLifePlugin
from tokenlife_sqlite import SQLiteStore

USERS = {"alice": "wonderland"}  # check a password hash in a real application


class Credentials(msgspec.Struct):
    username: str
    password: str


# --8<-- [start:config]
def create_app(authority: TokenAuthority, *, origin: str | None = None) -> Litestar:
    plugin = TokenLifePlugin(
        TokenLifeConfig(
            authority=authority,
            refresh_path="/token/refresh",
            logout_path="/logout",
            # Proofs are checked against the URL the client called: behind a
            # proxy that terminates TLS, name the public origin.
            dpop=DPoPConfig(origin=origin, algorithms=("ES256", "EdDSA")),
        )
    )

    @post("/login", exclude_from_auth=True)
    async def login(request: Request[Any, Any, Any]) -> Response[Any]:
        data = msgspec.json.decode(await request.body(), type=Credentials)
        known = USERS.get(data.username, "")
        if not known or not hmac.compare_digest(known.encode(), data.password.encode()):
            return Response({"error": "invalid_grant"}, status_code=401)
        # With a DPoP header: {"token_type": "DPoP", ...}, the session bound to
        # the proof's key. Without one: a bearer session, unless the policy
        # requires DPoP (then 400 invalid_dpop_proof).
        return await plugin.login(data.username, request=request)

    @get("/me")
    async def me(claims: AuthClaims) -> dict[str, Any]:
        return {"subject": claims.subject, "bound_to": claims.jkt}

    return Litestar([login, me], plugins=[plugin])


def make_authority(secret: str, database: str, *, on_event: Any = None) -> TokenAuthority:
    return TokenAuthority(
        SQLiteStore(database),  # proof ids are claimed here, shared by every worker
        keys=KeySet.from_secret(secret),
        policy=Policy(require_dpop=True),  # no bearer sessions at all
        on_event=on_event,
    )


# --8<-- [end:config]


# --8<-- [start:events]
def alert(event: SecurityEvent) -> None:
    """A bound refresh token presented without its key: someone copied it."""
    if event.kind == "dpop_binding_refused":
        print(f"stolen refresh token? session {event.session_id}: {event.reason}")


# --8<-- [end:events]

app = create_app(
    make_authority(
        os.environ.get("TOKENLIFE_SECRET") or secrets.token_urlsafe(48),
        os.environ.get("TOKENLIFE_DB") or "tokenlife-dpop.sqlite3",
        on_event=alert,
    )
)
