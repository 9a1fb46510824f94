"""The classic FastAPI login / refresh / protected example, on tokenlife-fastapi.

Run it with ``uvicorn docs.examples.fastapi_app:app``. Routes:

- ``POST /login`` with ``{"username": "alice", "password": "wonderland"}``
  (or ``admin``/``admin``, who also has the ``admin`` scope): a token pair.
- ``POST /refresh`` with the refresh token in ``Authorization: Bearer`` or in
  ``{"refresh_token": ...}``: a new pair (rotation).
- ``GET /protected``, ``GET /admin`` (scope ``admin``): need an access token.
- ``POST /logout`` (the session of the token presented),
  ``POST /logout/everywhere`` (every session of the user).

``TokenLife`` brings the dependencies, the RFC 6750 error handlers (401 with
``WWW-Authenticate: Bearer``, 401 ``invalid_grant``, 403
``insufficient_scope``, 503 when the store cannot answer) and the lifespan
that opens the store. Bodies carry the error code only; the reason goes to
the ``tokenlife.fastapi`` logger.
"""

import hmac
import os
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from tokenlife import Claims, KeySet, Policy, TokenAuthority, TokenError
from tokenlife_fastapi import NO_STORE, InvalidGrant, TokenLife
from tokenlife_memory import MemoryStore

#: username -> (password, scopes). A real application checks a password hash.
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alice": ("wonderland", ("read",)),
    "admin": ("admin", ("read", "admin")),
}


# --8<-- [start:app]
def default_authority() -> TokenAuthority:
    secret = os.environ.get("TOKENLIFE_SECRET")
    # Without a configured secret, a random key: tokens die with the process.
    keys = KeySet.from_secret(secret) if secret else KeySet.generate("EdDSA")
    policy = Policy(issuer="https://api.example", audience="api")
    return TokenAuthority(MemoryStore(), keys=keys, policy=policy)


def create_app(authority: TokenAuthority) -> FastAPI:
    tl = TokenLife(authority)
    app = FastAPI(lifespan=tl.lifespan(), exception_handlers=tl.exception_handlers)
    app.state.tl = tl
    app.include_router(router(tl))
    return app


# --8<-- [end:app]


class Credentials(BaseModel):
    username: str
    password: str


class TokenBody(BaseModel):
    refresh_token: str | None = None


def router(tl: TokenLife) -> APIRouter:
    authority = tl.authority
    routes = APIRouter()
    CurrentClaims = Annotated[Claims, Depends(tl.access_token_required)]
    Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(tl.bearer)]

    # --8<-- [start:login]
    @routes.post("/login")
    async def login(credentials: Credentials) -> JSONResponse:
        password, scopes = USERS.get(credentials.username, ("", ()))
        if not password or not hmac.compare_digest(
            password.encode(), credentials.password.encode()
        ):
            raise InvalidGrant("bad_credentials")
        pair = await authority.issue(credentials.username, scopes=scopes)
        return JSONResponse(pair.to_response(), headers=NO_STORE)

    # --8<-- [end:login]

    # --8<-- [start:refresh]
    @routes.post("/refresh")
    async def refresh(credentials: Bearer, body: TokenBody | None = None) -> JSONResponse:
        """Rotate the refresh token from ``Authorization: Bearer`` or the JSON body."""
        token = credentials.credentials if credentials is not None else None
        if token is None and body is not None:
            token = body.refresh_token
        if not token:
            raise InvalidGrant("no_refresh_token")
        try:
            pair = await authority.refresh(token)
        except TokenError as exc:  # expired, unknown, revoked, reuse_detected, ...
            raise InvalidGrant(exc.code) from None
        return JSONResponse(pair.to_response(), headers=NO_STORE)

    # --8<-- [end:refresh]

    # --8<-- [start:routes]
    @routes.get("/protected")
    async def protected(claims: CurrentClaims) -> dict[str, object]:
        return {"subject": claims.subject, "scopes": list(claims.scopes)}

    @routes.get("/admin")
    async def admin(
        claims: Annotated[Claims, Depends(tl.scopes_required("admin"))],
    ) -> dict[str, str]:
        return {"message": f"hello {claims.subject}, you are an admin"}

    @routes.post("/logout", status_code=204)
    async def logout(credentials: Bearer, body: TokenBody | None = None) -> None:
        """Revoke the session of the token(s) presented. Invalid tokens are ignored (RFC 7009)."""
        for token in (
            credentials.credentials if credentials is not None else None,
            body.refresh_token if body is not None else None,
        ):
            if token:
                await authority.revoke(token)

    @routes.post("/logout/everywhere", status_code=204)
    async def logout_everywhere(claims: CurrentClaims) -> None:
        await authority.revoke_subject(claims.subject)

    # --8<-- [end:routes]
    return routes


app = create_app(default_authority())
