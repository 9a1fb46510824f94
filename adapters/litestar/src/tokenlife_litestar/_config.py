"""What the plugin is told: where tokens come from, which cookies it sets, its routes.

Everything is checked here, once, when the app is built: a setting that
cannot work (a refresh cookie that would never reach the refresh route, a
JWKS route with only a shared secret) is a ``ConfigurationError`` at start-up
rather than a confusing 401 in production.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from litestar.connection import ASGIConnection

from tokenlife import Claims, ConfigurationError, TokenAuthority

TokenLocation = Literal["header", "cookie", "query"]
SameSite = Literal["lax", "strict", "none"]
RetrieveUser = Callable[[Claims, ASGIConnection[Any, Any, Any, Any]], Awaitable[Any]]

_LOCATIONS = frozenset({"header", "cookie", "query"})


@dataclass(frozen=True)
class CookieConfig:
    """Browser cookies, as docs/design/lifecycle.md#cookies prescribes.

    The access and refresh cookies are ``HttpOnly``; the CSRF cookie is
    readable by the page's scripts, which echo it in ``csrf_header`` on
    unsafe requests (double submit).
    """

    access_name: str = "tl_access"
    refresh_name: str = "tl_refresh"
    csrf_name: str = "tl_csrf"
    csrf_header: str = "X-CSRF-Token"
    #: Off only for plain-http local development: the cookies then travel in clear.
    secure: bool = True
    samesite: SameSite = "lax"
    domain: str | None = None
    #: The path covering every protected route. With implicit refresh the
    #: refresh cookie is scoped to it too; without, to the refresh route only.
    path: str = "/"
    #: Refresh in-line when the access cookie is missing, expired, or this
    #: close to expiry (at most half the access-token lifetime) and a refresh
    #: cookie is present.
    implicit_refresh: bool = True
    implicit_refresh_window: float = 60.0

    def __post_init__(self) -> None:
        names = {self.access_name, self.refresh_name, self.csrf_name}
        if len(names) != 3 or not all(names):
            raise ConfigurationError("the three cookie names must be distinct and non-empty")
        if self.samesite not in ("lax", "strict", "none"):
            raise ConfigurationError('samesite must be "lax", "strict" or "none"')
        if self.samesite == "none" and not self.secure:
            raise ConfigurationError("browsers refuse SameSite=None cookies without Secure")
        if not self.path.startswith("/"):
            raise ConfigurationError("the cookie path must start with '/'")
        if self.implicit_refresh_window < 0:
            raise ConfigurationError("implicit_refresh_window must not be negative")


@dataclass(frozen=True)
class TokenLifeConfig:
    """How the Litestar plugin authenticates requests with a :class:`TokenAuthority`."""

    authority: TokenAuthority
    #: Browser cookies; ``None`` for bearer tokens only.
    cookies: CookieConfig | None = None
    #: Where to look for the access token, in order; the first one present wins.
    #: Default: the ``Authorization`` header, then the access cookie (cookie mode).
    #: ``"query"`` (``?access_token=``) is off by default and unsafe: URLs end up in
    #: logs, browser history and ``Referer`` headers (RFC 6750 §2.3).
    token_locations: Sequence[TokenLocation] | None = None
    query_param: str = "access_token"
    #: Routes the plugin adds; ``None`` leaves one out.
    refresh_path: str | None = "/auth/refresh"
    logout_path: str | None = "/auth/logout"
    #: Serves ``keys.public_jwks()`` (asymmetric keys only).
    jwks_path: str | None = None
    #: Regular expressions matched against the start of the path, ending at a
    #: segment boundary: ``"/public"`` skips ``/public`` and ``/public/x`` but
    #: not ``/publicity``. Use ``$`` for an exact path.
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
    #: The clock for "near expiry"; ``None``: the authority's own (so an
    #: injected test clock drives both).
    clock: Callable[[], float] | None = None
    realm: str | None = None
    claims_dependency_key: str = "claims"
    subject_dependency_key: str = "subject"
    security_scheme_name: str = "BearerToken"
    cookie_security_scheme_name: str = "AccessCookie"
    _locations: tuple[TokenLocation, ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        if not isinstance(self.authority, TokenAuthority):
            raise ConfigurationError("authority must be a tokenlife.TokenAuthority")
        locations = tuple(
            self.token_locations
            if self.token_locations is not None
            else (("header", "cookie") if self.cookies is not None else ("header",))
        )
        unknown = set(locations) - _LOCATIONS
        if unknown or not locations or len(set(locations)) != len(locations):
            raise ConfigurationError(
                f"token_locations must be distinct values of {sorted(_LOCATIONS)}"
            )
        if "cookie" in locations and self.cookies is None:
            raise ConfigurationError('token location "cookie" needs a CookieConfig')
        for name in ("refresh_path", "logout_path", "jwks_path"):
            path = getattr(self, name)
            if path is not None and not path.startswith("/"):
                raise ConfigurationError(f"{name} must start with '/'")
        if self.jwks_path is not None and not self.authority.codec.keys.public_jwks()["keys"]:
            raise ConfigurationError("jwks_path needs asymmetric keys: secrets are never published")
        cookies = self.cookies
        if cookies is not None:
            reached = [self.logout_path]
            if cookies.implicit_refresh:
                reached.append(self.refresh_path)
            for path in reached:
                if path is not None and not _covers(cookies.path, path):
                    raise ConfigurationError(f"the cookie path must cover {path}")
        object.__setattr__(self, "_locations", locations)

    @property
    def now(self) -> Callable[[], float]:
        """The clock in use: ours if given, else the authority's."""
        if self.clock is not None:
            return self.clock
        return self.authority.clock

    @property
    def locations(self) -> tuple[TokenLocation, ...]:
        """The token locations in the order they are tried."""
        return self._locations

    @property
    def refresh_cookie_path(self) -> str:
        """Where the browser sends the refresh cookie (docs/design/lifecycle.md#cookies)."""
        cookies = self.cookies
        assert cookies is not None
        if cookies.implicit_refresh or self.refresh_path is None:
            return cookies.path
        return self.refresh_path


def _covers(prefix: str, path: str) -> bool:
    """Does a cookie with ``Path=prefix`` reach ``path`` (RFC 6265 §5.1.4)?"""
    return (
        path == prefix
        or (path.startswith(prefix) and prefix.endswith("/"))
        or path.startswith(prefix + "/")
    )


__all__ = ("CookieConfig", "RetrieveUser", "SameSite", "TokenLifeConfig", "TokenLocation")
