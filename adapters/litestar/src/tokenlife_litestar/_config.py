"""What the plugin is told: the web layer's settings, plus Litestar's own.

Every framework-neutral setting (token locations, cookies, routes, excluded
paths) is a :class:`tokenlife.web.WebConfig`, checked there once; this adds
what only Litestar has (opt keys, dependency names, OpenAPI schemes, JWKS).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from litestar.connection import ASGIConnection

from tokenlife import Claims, ConfigurationError, TokenAuthority
from tokenlife.web import CookieConfig, DPoPConfig, SameSite, TokenLocation, WebConfig

RetrieveUser = Callable[[Claims, ASGIConnection[Any, Any, Any, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class TokenLifeConfig:
    """How the Litestar plugin authenticates requests with a :class:`TokenAuthority`."""

    authority: TokenAuthority
    #: Browser cookies; ``None`` for bearer tokens only.
    cookies: CookieConfig | None = None
    #: Where to look for the access token, in order (see ``WebConfig.token_locations``).
    token_locations: Sequence[TokenLocation] | None = None
    query_param: str = "access_token"
    #: Routes the plugin adds; ``None`` leaves one out.
    refresh_path: str | None = "/auth/refresh"
    logout_path: str | None = "/auth/logout"
    #: The devices routes (``None``: off; see ``WebConfig.sessions_path``).
    sessions_path: str | None = None
    logout_others_path: str | None = None
    logout_all_path: str | None = None
    #: Record each login's ``User-Agent`` as its session's client label.
    client_labels: bool = True
    #: Serves ``keys.public_jwks()`` (asymmetric keys only).
    jwks_path: str | None = None
    #: OAuth 2.0 routes (RFC 7009, RFC 7662, RFC 8414), off unless set; see ``WebConfig``.
    revocation_path: str | None = None
    introspection_path: str | None = None
    metadata_path: str | None = None
    introspection_clients: Mapping[str, str] | None = None
    #: Anchored path patterns (see ``tokenlife.web.compile_exclude``).
    exclude: str | Sequence[str] | None = None
    exclude_opt_key: str = "exclude_from_auth"
    exclude_http_methods: Sequence[str] = ("OPTIONS",)
    #: ASGI scope types authenticated. WebSocket handshakes accept cookies only
    #: from the same origin (a cross-site page could otherwise open one).
    scopes: Sequence[Literal["http", "websocket"]] = ("http", "websocket")
    #: Turns the verified claims into ``request.user``; default: the subject.
    retrieve_user_handler: RetrieveUser | None = None
    #: Open the store at start-up and close it at shutdown (``async with store``).
    manage_store: bool = True
    #: The clock for "near expiry"; ``None``: the authority's own.
    clock: Callable[[], float] | None = None
    realm: str | None = None
    #: DPoP proofs (RFC 9449) accepted as configured; ``None``: bearer tokens only.
    dpop: DPoPConfig | None = None
    claims_dependency_key: str = "claims"
    subject_dependency_key: str = "subject"
    security_scheme_name: str = "BearerToken"
    cookie_security_scheme_name: str = "AccessCookie"
    web: WebConfig = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.authority, TokenAuthority):
            raise ConfigurationError("authority must be a tokenlife.TokenAuthority")
        if self.jwks_path is not None and not self.jwks_path.startswith("/"):
            raise ConfigurationError("jwks_path must start with '/'")
        if self.jwks_path is not None and not self.authority.codec.keys.public_jwks()["keys"]:
            raise ConfigurationError("jwks_path needs asymmetric keys: secrets are never published")
        shared = (f.name for f in fields(WebConfig) if f.init and hasattr(self, f.name))
        web = WebConfig(**{name: getattr(self, name) for name in shared})
        object.__setattr__(self, "web", web)

    @property
    def now(self) -> Callable[[], float]:
        """The clock in use: ours if given, else the authority's."""
        return self.clock if self.clock is not None else self.authority.clock

    @property
    def locations(self) -> tuple[TokenLocation, ...]:
        """The token locations in the order they are tried."""
        return self.web.locations

    @property
    def refresh_cookie_path(self) -> str:
        """Where the browser sends the refresh cookie (docs/design/lifecycle.md#cookies)."""
        return self.web.refresh_cookie_path


__all__ = ("CookieConfig", "RetrieveUser", "SameSite", "TokenLifeConfig", "TokenLocation")
