"""The classic FastAPI login / refresh / protected example, on the tokenlife core.

Run it with ``uvicorn docs.examples.fastapi_app:app``. Routes:

- ``POST /login`` with ``{"username": "alice", "password": "wonderland"}``
  (or ``admin``/``admin``, who also has the ``admin`` scope): a token pair.
- ``POST /refresh`` with the refresh token in ``Authorization: Bearer`` or in
  ``{"refresh_token": ...}``: a new pair (rotation).
- ``GET /protected``, ``GET /admin`` (scope ``admin``): need an access token.
- ``POST /logout`` (the session of the token presented),
  ``POST /logout/everywhere`` (every session of the user).

Failures follow RFC 6750: 401 with ``WWW-Authenticate: Bearer`` for a missing
or bad access token, 401 ``invalid_grant`` for a bad refresh token, 403
``insufficient_scope``, and 503 when the store cannot answer. The body carries
the error code only; the precise reason goes to the log.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from tokenlife import Claims, KeySet, Policy, StoreError, TokenAuthority, TokenError
from tokenlife_memory import MemoryStore

logger = logging.getLogger("fastapi_app.auth")

#: username -> (password, scopes). A real application checks a password hash.
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alice": ("wonderland", ("read",)),
    "admin": ("admin", ("read", "admin")),
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --8<-- [start:errors]
class AuthError(Exception):
    """A refused request: the client sees ``error``, the log sees ``reason``."""

    def __init__(self, status_code: int, error: str, reason: str, *, challenge: str | None) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.error = error
        self.reason = reason
        #: The ``WWW-Authenticate`` value, if this failure carries one.
        self.challenge = challenge


def no_credentials() -> AuthError:
    return AuthError(401, "unauthorized", "no_token", challenge="Bearer")


def invalid_token(reason: str) -> AuthError:
    return AuthError(401, "invalid_token", reason, challenge='Bearer error="invalid_token"')


def invalid_grant(reason: str) -> AuthError:
    return AuthError(401, "invalid_grant", reason, challenge=None)


def insufficient_scope(scope: str) -> AuthError:
    challenge = f'Bearer error="insufficient_scope", scope="{scope}"'
    return AuthError(403, "insufficient_scope", "missing_scope", challenge=challenge)


async def on_auth_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AuthError)
    logger.info("%s %s refused: %s", request.method, request.url.path, exc.reason)
    headers = dict(NO_STORE)
    if exc.challenge is not None:
        headers["WWW-Authenticate"] = exc.challenge
    return JSONResponse({"error": exc.error}, status_code=exc.status_code, headers=headers)


async def on_store_error(request: Request, exc: Exception) -> Response:
    # Fail closed: a token that cannot be checked is never accepted.
    logger.error("%s %s: the token store failed: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"error": "temporarily_unavailable"},
        status_code=503,
        headers={**NO_STORE, "Retry-After": "1"},
    )


# --8<-- [end:errors]


# --8<-- [start:dependencies]
def get_authority(request: Request) -> TokenAuthority:
    authority: TokenAuthority = request.app.state.authority
    return authority


Authority = Annotated[TokenAuthority, Depends(get_authority)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]


async def current_claims(authority: Authority, credentials: Bearer) -> Claims:
    """The verified claims of the request's access token, or a 401."""
    if credentials is None:
        raise no_credentials()
    try:
        return await authority.verify(credentials.credentials)
    except TokenError as exc:  # expired, revoked, bad signature, ...: exc.code says which
        raise invalid_token(exc.code) from None


CurrentClaims = Annotated[Claims, Depends(current_claims)]


def require_scopes(*scopes: str) -> Callable[[Claims], Coroutine[Any, Any, None]]:
    """A dependency: 403 unless the access token carries every one of ``scopes``."""
    needed = frozenset(scopes)

    async def check(claims: CurrentClaims) -> None:
        if not needed.issubset(claims.scopes):
            raise insufficient_scope(" ".join(sorted(needed)))

    return check


# --8<-- [end:dependencies]


class Credentials(BaseModel):
    username: str
    password: str


class TokenBody(BaseModel):
    refresh_token: str | None = None


router = APIRouter()


# --8<-- [start:login]
@router.post("/login")
async def login(credentials: Credentials, authority: Authority) -> JSONResponse:
    password, scopes = USERS.get(credentials.username, ("", ()))
    if not password or not hmac.compare_digest(password.encode(), credentials.password.encode()):
        raise invalid_grant("bad_credentials")
    pair = await authority.issue(credentials.username, scopes=scopes)
    return JSONResponse(pair.to_response(), headers=NO_STORE)


# --8<-- [end:login]


# --8<-- [start:refresh]
@router.post("/refresh")
async def refresh(
    authority: Authority, credentials: Bearer, body: TokenBody | None = None
) -> JSONResponse:
    """Rotate the refresh token from ``Authorization: Bearer`` or the JSON body."""
    token = credentials.credentials if credentials is not None else None
    if token is None and body is not None:
        token = body.refresh_token
    if not token:
        raise invalid_grant("no_refresh_token")
    try:
        pair = await authority.refresh(token)
    except TokenError as exc:  # expired, unknown, revoked, reuse_detected, ...
        raise invalid_grant(exc.code) from None
    return JSONResponse(pair.to_response(), headers=NO_STORE)


# --8<-- [end:refresh]


# --8<-- [start:routes]
@router.get("/protected")
async def protected(claims: CurrentClaims) -> dict[str, Any]:
    return {"subject": claims.subject, "scopes": list(claims.scopes)}


@router.get("/admin", dependencies=[Depends(require_scopes("admin"))])
async def admin(claims: CurrentClaims) -> dict[str, str]:
    return {"message": f"hello {claims.subject}, you are an admin"}


@router.post("/logout", status_code=204)
async def logout(authority: Authority, credentials: Bearer, body: TokenBody | None = None) -> None:
    """Revoke the session of the token(s) presented. Invalid tokens are ignored (RFC 7009)."""
    for token in (
        credentials.credentials if credentials is not None else None,
        body.refresh_token if body is not None else None,
    ):
        if token:
            await authority.revoke(token)


@router.post("/logout/everywhere", status_code=204)
async def logout_everywhere(authority: Authority, claims: CurrentClaims) -> None:
    await authority.revoke_subject(claims.subject)


# --8<-- [end:routes]


# --8<-- [start:app]
def create_app(authority: TokenAuthority) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with authority.store:  # opened at start-up, closed at shutdown
            yield

    app = FastAPI(
        lifespan=lifespan,
        exception_handlers={AuthError: on_auth_error, StoreError: on_store_error},
    )
    app.state.authority = authority
    app.include_router(router)
    return app


def default_authority() -> TokenAuthority:
    secret = os.environ.get("TOKENLIFE_SECRET")
    # Without a configured secret, a random key: tokens die with the process.
    keys = KeySet.from_secret(secret) if secret else KeySet.generate("EdDSA")
    policy = Policy(issuer="https://api.example", audience="api")
    return TokenAuthority(MemoryStore(), keys=keys, policy=policy)


app = create_app(default_authority())
# --8<-- [end:app]
