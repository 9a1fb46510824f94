"""Protect a Litestar app with tokenlife: login, protected routes, refresh and logout.

Run it with ``TOKENLIFE_SECRET=... uvicorn docs.examples.litestar_quickstart:app``.
"""

from __future__ import annotations

import hmac
import os
import secrets
from typing import Any

import msgspec
from litestar import Litestar, Response, get, post
from litestar.params import JSONBody

from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife_litestar import (
    AuthClaims,
    AuthSubject,
    TokenLifeConfig,
    TokenLifePlugin,
    require_scopes,
)
from tokenlife_sqlite import SQLiteStore


# --8<-- [start:authority]
def make_authority(secret: str, database: str) -> TokenAuthority:
    return TokenAuthority(
        SQLiteStore(database),  # sessions and refresh tokens survive restarts
        keys=KeySet.from_secret(secret),  # HS256: at least 32 random bytes
        policy=Policy(issuer="https://api.example", audience="api"),
    )


# --8<-- [end:authority]

#: username -> (password, scopes). Check a password hash in a real application.
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alice": ("wonderland", ("read",)),
    "admin": ("admin", ("read", "admin")),
}


class Credentials(msgspec.Struct):
    username: str
    password: str


# --8<-- [start:app]
def create_app(authority: TokenAuthority) -> Litestar:
    # Adds the auth middleware, POST /auth/refresh and POST /auth/logout,
    # RFC 6750 error responses, and opens/closes the store with the app.
    plugin = TokenLifePlugin(TokenLifeConfig(authority=authority))

    @post("/login", exclude_from_auth=True)
    async def login(data: JSONBody[Credentials]) -> Response[Any]:
        password, scopes = USERS.get(data.username, ("", ()))
        if not password or not hmac.compare_digest(password.encode(), data.password.encode()):
            return Response({"error": "invalid_grant"}, status_code=401)
        # {"access_token", "refresh_token", "token_type": "bearer", "expires_in"}
        return await plugin.login(data.username, scopes=scopes)

    @get("/me")
    async def me(claims: AuthClaims) -> dict[str, Any]:  # the verified access token
        return {"subject": claims.subject, "scopes": list(claims.scopes)}

    @get("/admin", guards=[require_scopes("admin")])  # 403 without the scope
    async def admin(subject: AuthSubject) -> dict[str, str]:
        return {"message": f"hello {subject}, you are an admin"}

    return Litestar([login, me, admin], plugins=[plugin])


# --8<-- [end:app]

# Without TOKENLIFE_SECRET, a random secret: tokens die with the process.
app = create_app(
    make_authority(
        os.environ.get("TOKENLIFE_SECRET") or secrets.token_urlsafe(48),
        os.environ.get("TOKENLIFE_DB", "tokens.sqlite3"),
    )
)
