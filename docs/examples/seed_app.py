"""The seed example: a Litestar app whose whole login session is run by tokenlife.

Run it with ``uvicorn docs.examples.seed_app:app`` (or ``nox -s demo -- --serve``).

Settings come from the environment:

- ``TOKENLIFE_SECRET``: the HS256 secret (at least 32 bytes). Unset: a random
  one is generated at start, with a warning, so tokens die with the process.
- ``TOKENLIFE_KEY_FILE``: a private JWKS file as ``tokenlife keygen --out`` writes it
  (``private.jwks.json``): its first private key signs, ``TOKENLIFE_SECRET`` is then
  ignored, and the public keys are served at ``GET /.well-known/jwks.json``.
- ``TOKENLIFE_INTROSPECTION_SECRET``: enables RFC 7662 introspection at
  ``POST /oauth/introspect`` for client ``resource-server`` with this secret (HTTP
  Basic, or the secret as a bearer credential); unset: no introspection route.
- ``TOKENLIFE_DB``: the SQLite file (default ``tokenlife-demo.sqlite3``).
- ``TOKENLIFE_ACCESS_TTL``: access-token lifetime in seconds (default 900).
- ``TOKENLIFE_GRACE``: refresh grace window in seconds (default 10).
- ``TOKENLIFE_SECURE_COOKIES``: ``1`` (default) marks cookies ``Secure``;
  ``0`` for plain-http local use.
- ``TOKENLIFE_MAX_SESSIONS``: live sessions one user may hold; a login beyond
  it ends that user's oldest session. Unset: no limit.
- ``TOKENLIFE_METRICS``: ``1`` records the lifecycle as OpenTelemetry metrics
  and serves them at ``GET /metrics`` for Prometheus (needs
  ``tokenlife[prometheus]``); unset or ``0``: no metrics, no route.
- ``TOKENLIFE_DPOP``: ``1`` accepts DPoP proofs (RFC 9449): a login with a
  ``DPoP`` header binds its session to the client's key, and its tokens then
  work only as ``Authorization: DPoP`` with a fresh proof of that key (bearer
  clients keep working); ``required`` refuses logins without a proof.

Routes: ``POST /login`` (a JSON body; test/test, or admin/admin with scope ``admin``),
``POST /refresh``, ``POST /logout``, ``GET /protected``, ``POST /protected``
(by cookie, with the ``X-CSRF-Token`` header), ``GET /whoami``,
``GET /admin`` (scope ``admin``), ``GET /fresh`` (a token straight from login);
your devices: ``GET /sessions``, ``DELETE /sessions/{id}``, ``POST /logout/others``,
``POST /logout/all`` (by cookie, unsafe ones with ``X-CSRF-Token``).
OAuth 2.0: ``POST /refresh`` also takes ``grant_type=refresh_token`` forms,
``POST /oauth/revoke`` (RFC 7009), ``GET /.well-known/oauth-authorization-server``
(RFC 8414).
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.openapi import OpenAPIConfig

from tokenlife import KeySet, Policy, Store, TokenAuthority
from tokenlife.web import DPoPConfig, HttpRequest, Refusal, json_body
from tokenlife_litestar import (
    AuthClaims,
    AuthSubject,
    CookieConfig,
    TokenLifeConfig,
    TokenLifePlugin,
    require_fresh,
    require_scopes,
)

logger = logging.getLogger("tokenlife.seed_app")

#: username -> (password, scopes). A real app checks a password hash.
USERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "test": ("test", ()),
    "admin": ("admin", ("admin",)),
}
PROTECTED_TEXT = "You have access to this protected resource"


class Credentials(msgspec.Struct):
    username: str
    password: str


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _secret() -> str:
    secret = os.environ.get("TOKENLIFE_SECRET")
    if secret:
        return secret
    logger.warning(
        "TOKENLIFE_SECRET is not set: using a random secret; tokens die with this process"
    )
    return secrets.token_urlsafe(48)


def oauth_keys(secret: str | None) -> KeySet:
    """The private JWKS of ``TOKENLIFE_KEY_FILE`` if set (first private key signs), else HS256."""
    path = os.environ.get("TOKENLIFE_KEY_FILE")
    if path:
        with open(path, "rb") as file:
            return KeySet.from_jwks(file.read())
    return KeySet.from_secret(secret or _secret(), "HS256")


def oauth_settings(keys: KeySet) -> dict[str, Any]:
    """The OAuth 2.0 routes; introspection and the JWKS only when they can be served."""
    settings: dict[str, Any] = {
        "revocation_path": "/oauth/revoke",
        "metadata_path": "/.well-known/oauth-authorization-server",
    }
    if keys.public_jwks()["keys"]:
        settings["jwks_path"] = "/.well-known/jwks.json"
    introspection = os.environ.get("TOKENLIFE_INTROSPECTION_SECRET")
    if introspection:
        settings["introspection_path"] = "/oauth/introspect"
        settings["introspection_clients"] = {"resource-server": introspection}
    return settings


def _default_store(path: str) -> Store:
    try:
        from tokenlife_sqlite import SQLiteStore  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # the SQLite adapter is not installed here
        from tokenlife_memory import MemoryStore

        logger.warning("tokenlife-sqlite is not installed: sessions live in memory only")
        return MemoryStore()
    store: Store = SQLiteStore(path)
    return store


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
) -> Litestar:
    """The seed app; every argument left out comes from the environment."""
    dpop = dpop if dpop is not None else os.environ.get("TOKENLIFE_DPOP", "0")
    if metrics is None:
        metrics = os.environ.get("TOKENLIFE_METRICS", "0") == "1"
    if secure_cookies is None:
        secure_cookies = os.environ.get("TOKENLIFE_SECURE_COOKIES", "1") != "0"
    policy = Policy(
        access_ttl=access_ttl
        if access_ttl is not None
        else _env_float("TOKENLIFE_ACCESS_TTL", 900),
        grace=grace if grace is not None else _env_float("TOKENLIFE_GRACE", 10),
        require_dpop=dpop == "required",
        max_sessions=int(os.environ["TOKENLIFE_MAX_SESSIONS"])
        if os.environ.get("TOKENLIFE_MAX_SESSIONS")
        else None,
    )
    if store is None:
        store = _default_store(os.environ.get("TOKENLIFE_DB") or "tokenlife-demo.sqlite3")
    keys = oauth_keys(secret)
    extra: dict[str, Any] = {"clock": clock} if clock is not None else {}
    authority = TokenAuthority(store, keys=keys, policy=policy, **extra)
    plugin = TokenLifePlugin(
        # --8<-- [start:devices]
        TokenLifeConfig(
            authority=authority,
            cookies=CookieConfig(secure=secure_cookies),
            refresh_path="/refresh",
            logout_path="/logout",
            sessions_path="/sessions",
            logout_others_path="/logout/others",
            logout_all_path="/logout/all",
            dpop=DPoPConfig() if dpop in ("1", "required") else None,
            **oauth_settings(keys),
        )
        # --8<-- [end:devices]
    )

    @post("/login", status_code=200, exclude_from_auth=True, security=[{}])
    async def login(request: Request[Any, Any, Any]) -> Response[Any]:
        """Password login (a JSON body only): the OAuth token response, and the auth cookies."""
        facts = HttpRequest.from_asgi(request.scope, await request.body())
        try:
            credentials = json_body(facts, Credentials)
        except Refusal as refusal:  # not JSON, malformed, or wrongly typed: 400
            return Response({"error": refusal.error}, status_code=refusal.status)
        password, scopes = USERS.get(credentials.username, ("", ()))
        if not password or not hmac.compare_digest(
            password.encode(), credentials.password.encode()
        ):
            return Response({"error": "invalid_grant"}, status_code=401)
        return await plugin.login(credentials.username, scopes=scopes, request=request)

    @get("/protected", media_type=MediaType.TEXT)
    async def protected() -> str:
        return PROTECTED_TEXT

    @post("/protected", status_code=200, media_type=MediaType.TEXT)
    async def protected_post() -> str:
        """An unsafe method: by cookie, it needs the CSRF header too."""
        return PROTECTED_TEXT

    @get("/whoami")
    async def whoami(claims: AuthClaims) -> dict[str, Any]:
        return {
            "sub": claims.subject,
            "sid": claims.session_id,
            "scopes": list(claims.scopes),
            "fresh": claims.fresh,
        }

    @get("/admin", guards=[require_scopes("admin")])
    async def admin(subject: AuthSubject) -> dict[str, str]:
        return {"message": f"hello {subject}, you are an admin"}

    @get("/fresh", guards=[require_fresh])
    async def fresh(subject: AuthSubject) -> dict[str, str]:
        return {"message": f"hello {subject}, your token comes straight from a login"}

    routes: list[Any] = [login, protected, protected_post, whoami, admin, fresh]
    if metrics:
        routes.append(_metrics_route(authority))
    return Litestar(
        routes,
        plugins=[plugin],
        openapi_config=OpenAPIConfig(title="tokenlife seed app", version="0.1.0"),
    )


def _metrics_route(authority: TokenAuthority) -> Any:
    """``GET /metrics``: the lifecycle counters, in the format the scraper asks for."""
    from tokenlife.otel import prometheus

    installed = prometheus.install(authority)

    @get("/metrics", exclude_from_auth=True, security=[{}], include_in_schema=False)
    async def scrape(request: Request[Any, Any, Any]) -> Response[bytes]:
        page = installed.render(request.headers.get("accept"))
        return Response(page.body, media_type=page.content_type)

    return scrape


app = create_app()
