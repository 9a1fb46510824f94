"""What the web layer is told: token locations, cookies, routes, excluded paths.

Everything is checked here, once, when an app is built: a setting that
cannot work (a refresh cookie that would never reach the refresh route, a
``__Host-`` cookie with a ``Domain``) is a ``ConfigurationError`` at start-up
rather than a confusing 401 in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from tokenlife._errors import ConfigurationError

from ._dpop_config import DPoPConfig
from ._oauth_config import check_oauth

TokenLocation = Literal["header", "cookie", "query"]
SameSite = Literal["lax", "strict", "none"]

_LOCATIONS: Final = frozenset({"header", "cookie", "query"})
_PATHS: Final = (
    "refresh_path",
    "logout_path",
    "sessions_path",
    "logout_others_path",
    "logout_all_path",
)
#: Bodies larger than this are refused (400) before any parsing: a token
#: request is a few kilobytes at most.
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024


@dataclass(frozen=True)
class CookieConfig:
    """Browser cookies, as docs/design/lifecycle.md#cookies prescribes.

    The access and refresh cookies are ``HttpOnly``; the CSRF cookie is
    readable by the page's scripts, which echo it in ``csrf_header`` on
    unsafe requests (double submit).

    Names left ``None`` get a prefix browsers enforce when cookies are
    ``Secure`` (RFC 6265bis §4.1.3): ``__Host-`` (no ``Domain``, ``Path=/``:
    a sibling subdomain cannot plant or overwrite them), else ``__Secure-``.
    The resolved names are :attr:`access_cookie`, :attr:`refresh_cookie`
    and :attr:`csrf_cookie`.
    """

    #: ``None``: ``tl_access``, prefixed ``__Host-``/``__Secure-`` when ``secure``.
    access_name: str | None = None
    #: ``None``: ``tl_refresh``, prefixed likewise.
    refresh_name: str | None = None
    #: ``None``: ``tl_csrf``, prefixed likewise.
    csrf_name: str | None = None
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
    #: The access cookie's name in use (resolved, not a setting).
    access_cookie: str = field(init=False, default="")
    #: The refresh cookie's name in use (resolved, not a setting).
    refresh_cookie: str = field(init=False, default="")
    #: The CSRF cookie's name in use (resolved, not a setting).
    csrf_cookie: str = field(init=False, default="")

    def __post_init__(self) -> None:
        if self.samesite not in ("lax", "strict", "none"):
            raise ConfigurationError('samesite must be "lax", "strict" or "none"')
        if self.samesite == "none" and not self.secure:
            raise ConfigurationError("browsers refuse SameSite=None cookies without Secure")
        if not self.path.startswith("/"):
            raise ConfigurationError("the cookie path must start with '/'")
        if self.implicit_refresh_window < 0:
            raise ConfigurationError("implicit_refresh_window must not be negative")
        host_ok = self.secure and self.domain is None and self.path == "/"
        names = (
            self._name(self.access_name, "tl_access", host_ok),
            self._name(self.refresh_name, "tl_refresh", host_ok and self.implicit_refresh),
            self._name(self.csrf_name, "tl_csrf", host_ok),
        )
        if len(set(names)) != 3 or not all(names):
            raise ConfigurationError("the three cookie names must be distinct and non-empty")
        for attr, name in zip(
            ("access_cookie", "refresh_cookie", "csrf_cookie"), names, strict=True
        ):
            object.__setattr__(self, attr, name)

    def _name(self, given: str | None, base: str, host_ok: bool) -> str:
        if given is None:
            if not self.secure:
                return base  # browsers refuse prefixed cookies without Secure
            return ("__Host-" if host_ok else "__Secure-") + base
        if given.startswith("__Host-") and not host_ok:
            raise ConfigurationError(
                f"{given}: a __Host- cookie needs Secure, no Domain and Path=/ "
                "(the refresh cookie also needs implicit refresh)"
            )
        if given.startswith("__Secure-") and not self.secure:
            raise ConfigurationError(f"{given}: a __Secure- cookie needs Secure")
        return given


@dataclass(frozen=True)
class WebConfig:
    """How requests are authenticated; the framework-neutral part of an adapter's settings."""

    #: Browser cookies; ``None`` for bearer tokens only.
    cookies: CookieConfig | None = None
    #: Where to look for the access token, in order; the first one present wins.
    #: Default: the ``Authorization`` header, then the access cookie (cookie mode).
    #: ``"query"`` (``?access_token=``) is off by default and unsafe: URLs end up in
    #: logs, browser history and ``Referer`` headers (RFC 6750 §2.3).
    token_locations: Sequence[TokenLocation] | None = None
    query_param: str = "access_token"
    #: The refresh and logout routes (``None``: the app has none).
    refresh_path: str | None = "/auth/refresh"
    logout_path: str | None = "/auth/logout"
    #: The devices routes (``None``: off): ``GET`` lists the caller's sessions,
    #: ``DELETE {sessions_path}/{id}`` ends one of them.
    sessions_path: str | None = None
    #: ``POST``: end every session of the caller but the current one.
    logout_others_path: str | None = None
    #: ``POST``: end every session of the caller, the current one included.
    logout_all_path: str | None = None
    #: Record each login's ``User-Agent`` (printable, capped) as its session's
    #: client label, shown by the devices list.
    client_labels: bool = True
    #: OAuth 2.0 routes, all off by default (see ``tokenlife.web._oauth``): RFC 7009
    #: revocation, RFC 7662 introspection (needs ``introspection_clients``), RFC 8414
    #: metadata, and where the adapter serves the public JWKS (``jwks_uri``).
    revocation_path: str | None = None
    introspection_path: str | None = None
    metadata_path: str | None = None
    jwks_path: str | None = None
    #: Resource servers allowed to introspect: client id -> shared secret
    #: (``client_secret_basic``, or the secret alone as a bearer credential).
    introspection_clients: Mapping[str, str] | None = None
    #: Regular expressions matched against the start of the path, ending at a
    #: segment boundary: ``"/public"`` skips ``/public`` and ``/public/x`` but
    #: not ``/publicity``. Use ``$`` for an exact path.
    exclude: str | Sequence[str] | None = None
    exclude_http_methods: Sequence[str] = ("OPTIONS",)
    realm: str | None = None
    #: The clock for "near expiry"; ``None``: the authority's own.
    clock: Callable[[], float] | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: DPoP proofs (RFC 9449) accepted, checked as configured; ``None``: bearer only.
    dpop: DPoPConfig | None = None
    locations: tuple[TokenLocation, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
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
        check_oauth(self)
        for name in _PATHS:
            path = getattr(self, name)
            if path is not None and not path.startswith("/"):
                raise ConfigurationError(f"{name} must start with '/'")
        if self.max_body_bytes < 1024:
            raise ConfigurationError("max_body_bytes must be at least 1024")
        cookies = self.cookies
        if cookies is not None:
            reached = [self.logout_path, *self.devices_paths]
            if cookies.implicit_refresh:
                reached.append(self.refresh_path)
            for path in reached:
                if path is not None and not covers(cookies.path, path):
                    raise ConfigurationError(f"the cookie path must cover {path}")
        object.__setattr__(self, "locations", locations)

    @property
    def devices_paths(self) -> tuple[str, ...]:
        """The devices routes configured (docs/devices.md)."""
        paths = (self.sessions_path, self.logout_others_path, self.logout_all_path)
        return tuple(p for p in paths if p is not None)

    @property
    def refresh_cookie_path(self) -> str:
        """Where the browser sends the refresh cookie (docs/design/lifecycle.md#cookies)."""
        cookies = self.cookies
        if cookies is None or cookies.implicit_refresh or self.refresh_path is None:
            return cookies.path if cookies is not None else "/"
        return self.refresh_path


def covers(prefix: str, path: str) -> bool:
    """Does a cookie with ``Path=prefix`` reach ``path`` (RFC 6265 §5.1.4)?"""
    return (
        path == prefix
        or (path.startswith(prefix) and prefix.endswith("/"))
        or path.startswith(prefix + "/")
    )


def compile_exclude(exclude: str | Sequence[str] | None) -> re.Pattern[str] | None:
    """One pattern matching a path that *starts* with any of ``exclude``, at a segment boundary.

    ``"/public"`` matches ``/public`` and ``/public/x``, not ``/publicity``;
    a pattern ending in ``/`` or ``$`` keeps its own meaning.
    """
    if exclude is None:
        return None
    patterns = [exclude] if isinstance(exclude, str) else list(exclude)
    if not patterns:
        return None
    alternatives = "|".join(f"(?:{p})" for p in patterns)
    return re.compile(f"(?:{alternatives})(?:(?<=/)|(?=/|$))")


__all__ = (
    "DEFAULT_MAX_BODY_BYTES",
    "CookieConfig",
    "SameSite",
    "TokenLocation",
    "WebConfig",
    "compile_exclude",
    "covers",
)
