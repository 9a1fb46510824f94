"""``TokenLifePlugin``: one InitPlugin wiring tokenlife into a Litestar app.

On ``on_app_init`` it adds the authentication middleware, the exception
handlers (RFC 6750 challenges, 503 for a failing store), the ``claims`` and
``subject`` dependencies, the refresh/logout/JWKS routes, the OpenAPI
security schemes, and a lifespan that opens and closes the store.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from copy import copy
from typing import TYPE_CHECKING, Any

from litestar import Litestar, Request, Response
from litestar.config.app import AppConfig
from litestar.datastructures import Cookie
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme
from litestar.plugins import CLIPluginProtocol, InitPlugin

from tokenlife import Claims, TokenPair
from tokenlife.web import Gate, HttpRequest

if TYPE_CHECKING:
    from click import Group

from ._cli import register
from ._config import TokenLifeConfig
from ._errors import cookie, exception_handlers, to_response
from ._guards import provide_claims, provide_subject
from ._middleware import TokenLifeMiddleware
from ._oauth_routes import oauth_routes
from ._routes import devices_routes, jwks_route, logout_route, refresh_route


class TokenLifePlugin(InitPlugin, CLIPluginProtocol):
    """Bearer and cookie authentication for Litestar, backed by a :class:`TokenAuthority`.

    >>> plugin = TokenLifePlugin(TokenLifeConfig(authority=auth, cookies=CookieConfig()))
    >>> app = Litestar([...], plugins=[plugin])
    """

    __slots__ = ("_gate", "config")

    def __init__(self, config: TokenLifeConfig) -> None:
        self.config = config
        self._gate = Gate(config.authority, config.web)

    @property
    def gate(self) -> Gate:
        """The web layer this plugin translates (every rule it applies is there)."""
        return self._gate

    # -- wiring -----------------------------------------------------------------

    def on_cli_init(self, cli: Group) -> None:
        """Register ``litestar tokens sessions|revoke|purge`` on the app's store."""
        register(cli, lambda app: app.plugins.get(TokenLifePlugin).config.authority.store)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        config = self.config
        # The OpenAPI document and its UIs describe the API; they guard nothing.
        docs = [re.escape(path)] if (path := _docs_path(app_config)) else []
        gate = self._gate = Gate(config.authority, config.web, also_exclude=docs)
        app_config.middleware.insert(
            0, DefineMiddleware(TokenLifeMiddleware, gate=gate, config=config)
        )
        # The application's own handlers win over ours.
        app_config.exception_handlers = {
            **exception_handlers(gate),
            **app_config.exception_handlers,
        }
        app_config.dependencies.setdefault(
            config.claims_dependency_key, Provide(provide_claims, sync_to_thread=False)
        )
        app_config.dependencies.setdefault(
            config.subject_dependency_key, Provide(provide_subject, sync_to_thread=False)
        )
        app_config.signature_namespace.setdefault("Claims", Claims)
        key = config.exclude_opt_key
        if config.refresh_path is not None:
            app_config.route_handlers.append(refresh_route(gate, config.refresh_path, key))
        if config.logout_path is not None:
            app_config.route_handlers.append(logout_route(gate, config.logout_path, key))
        if config.jwks_path is not None:
            app_config.route_handlers.append(jwks_route(gate, config.jwks_path, key))
        app_config.route_handlers.extend(devices_routes(gate, config.web))
        app_config.route_handlers.extend(oauth_routes(gate, config.web, key))
        if config.manage_store:
            app_config.lifespan.append(self._lifespan)
        if app_config.openapi_config is not None:
            openapi = app_config.openapi_config = copy(app_config.openapi_config)
            components = openapi.components
            openapi.components = [
                self.openapi_components,
                *(components if isinstance(components, list) else [components]),
            ]
            openapi.security = [*(openapi.security or []), *self.security_requirements]
        return app_config

    @asynccontextmanager
    async def _lifespan(self, _: Litestar) -> AsyncIterator[None]:
        async with self.config.authority.store:
            yield

    @property
    def openapi_components(self) -> Components:
        """The bearer scheme, plus the access cookie in cookie mode."""
        schemes = {
            self.config.security_scheme_name: SecurityScheme(
                type="http",
                scheme="bearer",
                bearer_format="JWT",
                description="An access token (`typ: at+jwt`) in `Authorization: Bearer`.",
            )
        }
        cookies = self.config.cookies
        if cookies is not None:
            schemes[self.config.cookie_security_scheme_name] = SecurityScheme(
                type="apiKey",
                name=cookies.access_cookie,
                security_scheme_in="cookie",
                description=(
                    "The access cookie set by login or refresh. Unsafe methods also need "
                    f"the `{cookies.csrf_header}` header equal to the `{cookies.csrf_cookie}` "
                    "cookie."
                ),
            )
        return Components(security_schemes=dict(schemes))

    @property
    def security_requirements(self) -> list[SecurityRequirement]:
        """Alternatives: any one of the schemes authenticates a request."""
        names = [self.config.security_scheme_name]
        if self.config.cookies is not None:
            names.append(self.config.cookie_security_scheme_name)
        return [{name: []} for name in names]

    # -- helpers for the application's own routes ---------------------------------

    async def login(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        metadata: Mapping[str, str] | None = None,
        content: Any = None,
        status_code: int = 200,
        request: Request[Any, Any, Any] | None = None,
    ) -> Response[bytes]:
        """Start a session for an authenticated ``subject`` and answer with its tokens.

        The body is the OAuth token response (or ``content``). In cookie mode
        the response also sets the access, refresh and CSRF cookies — given
        ``request``, only if it is a JSON request (which no cross-site form can
        send); without it, the application vouches for the request.
        """
        facts = HttpRequest.from_asgi(request.scope) if request is not None else None
        reply = await self._gate.login(
            facts,
            subject,
            scopes=scopes,
            claims=claims,
            fresh=fresh,
            metadata=metadata,
            content=content,
            status=status_code,
        )
        return to_response(reply)

    async def issue(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        metadata: Mapping[str, str] | None = None,
    ) -> TokenPair:
        """Like :meth:`login` but returns the pair (with a CSRF value in cookie mode)."""
        return await self._gate.issue(
            subject, scopes=scopes, claims=claims, fresh=fresh, metadata=metadata
        )

    def cookies_for(self, pair: TokenPair) -> list[Cookie]:
        """The cookies carrying ``pair`` (empty without cookie mode)."""
        return [cookie(c) for c in self._gate.cookies_for(pair)]

    def clearing_cookies(self) -> list[Cookie]:
        """Cookies that delete ours, for an application's own logout response."""
        return [cookie(c) for c in self._gate.clearing_cookies()]


def _docs_path(app_config: AppConfig) -> str | None:
    """Where the app serves its OpenAPI document and UIs, if it does."""
    openapi = app_config.openapi_config
    if openapi is None:
        return None
    if openapi.openapi_router is not None:
        return openapi.openapi_router.path
    return openapi.path or "/schema"


__all__ = ("TokenLifePlugin",)
