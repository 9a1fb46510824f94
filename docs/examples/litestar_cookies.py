"""Browser sessions with Litestar: HttpOnly cookies, implicit refresh and double-submit CSRF.

Run it with ``TOKENLIFE_SECRET=... uvicorn docs.examples.litestar_cookies:app``.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import msgspec
from litestar import Litestar, Response, get, post
from litestar.params import JSONBody

from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife_litestar import (
    AuthSubject,
    CookieConfig,
    TokenLifeConfig,
    TokenLifePlugin,
    require_fresh,
)
from tokenlife_sqlite import SQLiteStore


class Login(msgspec.Struct):
    username: str
    password: str


class Note(msgspec.Struct):
    text: str


# --8<-- [start:plugin]
def make_plugin(authority: TokenAuthority, *, secure: bool = True) -> TokenLifePlugin:
    return TokenLifePlugin(
        TokenLifeConfig(
            authority=authority,
            cookies=CookieConfig(
                secure=secure,  # False only for plain-http local development
                samesite="lax",
                path="/",  # must cover the protected routes and the auth routes
                implicit_refresh=True,  # refresh in-line, no client code needed
                implicit_refresh_window=60,  # ... also when the access token is this close to exp
            ),
        )
    )


# --8<-- [end:plugin]


def create_app(authority: TokenAuthority, *, secure: bool = True) -> Litestar:
    plugin = make_plugin(authority, secure=secure)
    notes: dict[str, list[str]] = {}

    # --8<-- [start:routes]
    @post("/login", exclude_from_auth=True)
    async def login(data: JSONBody[Login]) -> Response[Any]:
        if not check_password(data.username, data.password):
            return Response({"error": "invalid_grant"}, status_code=401)
        # Sets tl_access and tl_refresh (HttpOnly) and tl_csrf (readable by scripts).
        return await plugin.login(data.username, content={"subject": data.username})

    @get("/notes")  # a safe method: the cookie alone authenticates it
    async def list_notes(subject: AuthSubject) -> list[str]:
        return notes.get(subject, [])

    @post("/notes")  # an unsafe method: also needs X-CSRF-Token equal to tl_csrf
    async def add_note(subject: AuthSubject, data: JSONBody[Note]) -> list[str]:
        notes.setdefault(subject, []).append(data.text)
        return notes[subject]

    @post("/account/delete", guards=[require_fresh], status_code=200)
    async def delete_account(subject: AuthSubject) -> dict[str, str]:
        # require_fresh: only an access token straight from a login, not from a refresh.
        return {"deleted": subject}

    # --8<-- [end:routes]

    return Litestar([login, list_notes, add_note, delete_account], plugins=[plugin])


def check_password(username: str, password: str) -> bool:
    """Stands in for your user store: every user's password is ``secret``."""
    return bool(username) and secrets.compare_digest(password.encode(), b"secret")


app = create_app(
    TokenAuthority(
        SQLiteStore(os.environ.get("TOKENLIFE_DB", "tokens.sqlite3")),
        keys=KeySet.from_secret(os.environ.get("TOKENLIFE_SECRET") or secrets.token_urlsafe(48)),
        policy=Policy(access_ttl=300),
    )
)
