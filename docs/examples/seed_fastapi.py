"""The seed example on FastAPI: the environment and HTTP contract of ``seed_app.py``.

Run it with ``uvicorn docs.examples.seed_fastapi:app`` (or ``nox -s demo -- --app fastapi``).
Settings: ``TOKENLIFE_SECRET`` (unset: a random one, with a warning), ``TOKENLIFE_DB``
(default ``tokenlife-demo.sqlite3``), ``TOKENLIFE_ACCESS_TTL`` (900), ``TOKENLIFE_GRACE``
(10), ``TOKENLIFE_SECURE_COOKIES`` (``1``; ``0`` for plain-http local use),
``TOKENLIFE_MAX_SESSIONS`` (live sessions per user; beyond it the oldest ends; unset: no
limit), ``TOKENLIFE_METRICS`` (``1``: OpenTelemetry metrics at ``GET /metrics``), ``TOKENLIFE_DPOP``
(``1``: a login with a ``DPoP`` proof binds its session to the client's key, whose tokens
then need ``Authorization: DPoP`` and a fresh proof; ``required``: no login without one),
``TOKENLIFE_KEY_FILE`` (a private JWKS as ``tokenlife keygen --out`` writes it: its first
private key signs, ``TOKENLIFE_SECRET`` is ignored, the public JWKS is served at
``GET /.well-known/jwks.json``), ``TOKENLIFE_INTROSPECTION_SECRET`` (RFC 7662 introspection
at ``POST /oauth/introspect`` for client ``resource-server``; unset: no such route). Routes:
``POST /login`` (JSON; test/test, or admin/admin with scope ``admin``), ``POST /refresh``,
``POST /logout``, ``GET``/``POST /protected`` (``POST`` by cookie needs ``X-CSRF-Token``),
``GET /whoami``, ``GET /admin`` (scope ``admin``), ``GET /fresh`` (straight from login);
your devices: ``GET /sessions``, ``DELETE /sessions/{id}``, ``POST /logout/others``,
``POST /logout/all``; OAuth 2.0: ``grant_type=refresh_token`` forms on ``/refresh``,
``POST /oauth/revoke`` (RFC 7009), ``GET /.well-known/oauth-authorization-server`` (RFC 8414).

No ``from __future__ import annotations``: FastAPI reads the routes' annotations.
"""

import hmac
import logging
import os
import secrets
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tokenlife import Claims, KeySet, Policy, Store, TokenAuthority
from tokenlife.web import CookieConfig, DPoPConfig, HttpRequest, Refusal, json_body
from tokenlife_fastapi import TokenLife
from tokenlife_sqlite import SQLiteStore

#: username -> (password, scopes). A real app checks a password hash.
USERS = {"test": ("test", ()), "admin": ("admin", ("admin",))}
PROTECTED_TEXT = "You have access to this protected resource"


class Credentials(msgspec.Struct):
    username: str
    password: str


def _env(name: str, default: str) -> str:
    return os.environ.get(f"TOKENLIFE_{name}") or default


def _secret() -> str:
    if not os.environ.get("TOKENLIFE_SECRET"):
        logging.getLogger(__name__).warning("TOKENLIFE_SECRET unset: tokens die with the process")
    return _env("SECRET", secrets.token_urlsafe(48))


def create_app(
    *,
    store: Store | None = None,
    secret: str | None = None,
    access_ttl: float | None = None,
    grace: float | None = None,
    secure_cookies: bool | None = None,
    clock: Callable[[], float] | None = None,
    metrics: bool | None = None,
    dpop: str | None = None,
) -> FastAPI:
    # Every argument left out comes from the environment.
    dpop = dpop if dpop is not None else _env("DPOP", "0")
    ttl = access_ttl if access_ttl is not None else float(_env("ACCESS_TTL", "900"))
    policy = Policy(
        access_ttl=ttl,
        grace=grace if grace is not None else float(_env("GRACE", "10")),
        require_dpop=dpop == "required",
        max_sessions=int(_env("MAX_SESSIONS", "0")) or None,
    )
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    store = store or SQLiteStore(_env("DB", "tokenlife-demo.sqlite3"))
    key_file = _env("KEY_FILE", "")
    if key_file:  # the first private key signs; TOKENLIFE_SECRET is ignored
        with open(key_file, "rb") as file:
            keys = KeySet.from_jwks(file.read())
    else:
        keys = KeySet.from_secret(secret or _secret())
    authority = TokenAuthority(store, keys=keys, policy=policy, **extra)
    secure = _env("SECURE_COOKIES", "1") != "0" if secure_cookies is None else secure_cookies
    cookies = CookieConfig(secure=secure)
    proofs = DPoPConfig() if dpop in ("1", "required") else None
    oauth: dict[str, Any] = {
        "revocation_path": "/oauth/revoke",
        "metadata_path": "/.well-known/oauth-authorization-server",
    }
    if keys.public_jwks()["keys"]:
        oauth["jwks_path"] = "/.well-known/jwks.json"
    if introspection := _env("INTROSPECTION_SECRET", ""):
        oauth["introspection_path"] = "/oauth/introspect"
        oauth["introspection_clients"] = {"resource-server": introspection}
    # --8<-- [start:devices]
    tl = TokenLife(
        authority,
        cookies=cookies,
        refresh_path="/refresh",
        logout_path="/logout",
        sessions_path="/sessions",
        logout_others_path="/logout/others",
        logout_all_path="/logout/all",
        dpop=proofs,
        **oauth,
    )
    # --8<-- [end:devices]
    app = FastAPI(title="tokenlife seed app", version="0.1.0", lifespan=tl.lifespan())
    tl.install(app)  # middleware (cookies, CSRF, implicit refresh), errors, auth and devices routes
    Auth = Annotated[Claims, Depends(tl.access_token_required)]
    Subject = Annotated[str, Depends(tl.subject_required)]

    @app.post("/login")
    async def login(request: Request) -> Response:
        """Password login (a JSON body only): the OAuth token response, and the auth cookies."""
        try:
            facts = HttpRequest.from_asgi(request.scope, await request.body())
            credentials = json_body(facts, Credentials)
        except Refusal as refusal:  # not JSON, malformed, or wrongly typed: 400
            return JSONResponse({"error": refusal.error}, status_code=refusal.status)
        password, scopes = USERS.get(credentials.username, ("", ()))
        if not password or not hmac.compare_digest(
            password.encode(), credentials.password.encode()
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=401)
        return await tl.login(credentials.username, scopes=scopes, request=request)

    # By cookie, POST needs the CSRF header too (the middleware checks it).
    @app.api_route("/protected", methods=["GET", "POST"], response_class=PlainTextResponse)
    async def protected(_: Auth) -> str:
        return PROTECTED_TEXT

    @app.get("/whoami")
    async def whoami(claims: Auth) -> dict[str, Any]:
        return {
            "sub": claims.subject,
            "sid": claims.session_id,
            "scopes": list(claims.scopes),
            "fresh": claims.fresh,
        }

    @app.get("/admin", dependencies=[Depends(tl.scopes_required("admin"))])
    async def admin(subject: Subject) -> dict[str, str]:
        return {"message": f"hello {subject}, you are an admin"}

    @app.get("/fresh", dependencies=[Depends(tl.fresh_token_required)])
    async def fresh(subject: Subject) -> dict[str, str]:
        return {"message": f"hello {subject}, your token comes straight from a login"}

    if metrics if metrics is not None else _env("METRICS", "0") == "1":
        from tokenlife.otel import prometheus

        installed = prometheus.install(authority)

        @app.get("/metrics", include_in_schema=False)
        async def scrape(request: Request) -> Response:
            page = installed.render(request.headers.get("accept"))
            return Response(page.body, media_type=page.content_type)

    return app


app = create_app()
