"""``TokenLife``: tokenlife.web for one FastAPI app, in FastAPI's own shapes.

Dependencies (``Depends(tl.access_token_required)`` and friends, the shapes
AuthX users know) that are FastAPI security schemes, so ``/docs`` shows
them; a router with the refresh and logout routes; a login helper; the
exception handlers; the store's lifespan. Every rule is the
:class:`tokenlife.web.Gate`'s: this only translates Starlette's types.

No ``from __future__ import annotations`` here: FastAPI reads the dependencies'
annotations at run time.
"""

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import APIKeyCookie, HTTPBearer
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response

from tokenlife import Claims, ConfigurationError, TokenAuthority, TokenPair
from tokenlife.web import (
    DEFAULT_MAX_BODY_BYTES,
    CookieConfig,
    DPoPConfig,
    Gate,
    HttpRequest,
    Refusal,
    SetCookie,
    TokenLocation,
    WebConfig,
    check_fresh,
    check_scopes,
    unauthorized,
)

from ._errors import Handler, exception_handlers, to_response
from ._lifespan import Lifespan, store_lifespan
from ._middleware import SCOPE_KEY, TokenLifeMiddleware
from ._oauth import add_oauth_routes, oauth_paths

ClaimsDependency = Callable[..., Awaitable[Claims]]
#: The OpenAPI document and its UIs describe the API; they guard nothing.
DOCS_PATHS = ("/docs", "/redoc", "/openapi.json")


def claims_of(request: HTTPConnection) -> Claims | None:
    """The claims the middleware verified for this request, if any."""
    claims = request.scope.get("auth")
    return claims if isinstance(claims, Claims) else None


class TokenLife:
    """Bearer and cookie authentication for FastAPI over one :class:`TokenAuthority`.

    The settings are those of :class:`tokenlife.web.WebConfig`.

    >>> tl = TokenLife(authority, cookies=CookieConfig())
    >>> app = FastAPI(lifespan=tl.lifespan())
    >>> tl.install(app)  # middleware, exception handlers, refresh and logout routes
    >>> @app.get("/me")
    ... async def me(claims: Claims = Depends(tl.access_token_required)) -> dict: ...
    """

    def __init__(
        self,
        authority: TokenAuthority,
        *,
        cookies: CookieConfig | None = None,
        token_locations: Sequence[TokenLocation] | None = None,
        query_param: str = "access_token",
        refresh_path: str | None = "/auth/refresh",
        logout_path: str | None = "/auth/logout",
        jwks_path: str | None = None,
        sessions_path: str | None = None,
        logout_others_path: str | None = None,
        logout_all_path: str | None = None,
        client_labels: bool = True,
        revocation_path: str | None = None,
        introspection_path: str | None = None,
        metadata_path: str | None = None,
        introspection_clients: Mapping[str, str] | None = None,
        exclude: str | Sequence[str] | None = None,
        exclude_http_methods: Sequence[str] = ("OPTIONS",),
        realm: str | None = None,
        clock: Callable[[], float] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        dpop: DPoPConfig | None = None,
        bearer_scheme_name: str = "BearerToken",
        cookie_scheme_name: str = "AccessCookie",
    ) -> None:
        if jwks_path is not None and not authority.codec.keys.public_jwks()["keys"]:
            raise ConfigurationError("jwks_path needs asymmetric keys: secrets are never published")
        self.authority = authority
        #: Serves ``keys.public_jwks()``, for services that verify our tokens themselves.
        self.jwks_path = jwks_path
        self.config = WebConfig(
            cookies=cookies,
            token_locations=token_locations,
            query_param=query_param,
            refresh_path=refresh_path,
            logout_path=logout_path,
            sessions_path=sessions_path,
            logout_others_path=logout_others_path,
            logout_all_path=logout_all_path,
            client_labels=client_labels,
            jwks_path=jwks_path,
            revocation_path=revocation_path,
            introspection_path=introspection_path,
            metadata_path=metadata_path,
            introspection_clients=introspection_clients,
            exclude=exclude,
            exclude_http_methods=exclude_http_methods,
            realm=realm,
            clock=clock,
            max_body_bytes=max_body_bytes,
            dpop=dpop,
        )
        # The routes answer whole: the middleware must not refresh in-line before them.
        routes = (refresh_path, logout_path, jwks_path, *oauth_paths(self.config))
        own = [f"{re.escape(p)}$" for p in routes if p is not None]
        #: The web layer this adapter translates (every rule it applies is there).
        self.gate = Gate(authority, self.config, also_exclude=[*own, *map(re.escape, DOCS_PATHS)])
        self.access_token_required: ClaimsDependency = _access_dependency(
            self.gate, bearer_scheme_name, cookie_scheme_name
        )
        need = self.access_token_required

        async def fresh_token_required(claims: Annotated[Claims, Depends(need)]) -> Claims:
            """The claims of a token straight from a login (not from a refresh), or 403."""
            check_fresh(claims)
            return claims

        async def subject_required(claims: Annotated[Claims, Depends(need)]) -> str:
            """The verified subject (``sub``)."""
            return claims.subject

        self.fresh_token_required: ClaimsDependency = fresh_token_required
        self.subject_required: Callable[..., Awaitable[str]] = subject_required
        self.router = self._router()

    def scopes_required(self, *scopes: str) -> ClaimsDependency:
        """A dependency: the claims, or 403 ``insufficient_scope`` unless every scope is granted."""
        needed = frozenset(scopes)
        need = self.access_token_required

        async def scopes_required(claims: Annotated[Claims, Depends(need)]) -> Claims:
            check_scopes(claims, needed)
            return claims

        return scopes_required

    # -- wiring -----------------------------------------------------------------------

    def install(self, app: FastAPI) -> None:
        """Add the middleware (cookie mode or not), the exception handlers and the routes."""
        app.add_middleware(TokenLifeMiddleware, gate=self.gate)
        for exc, handler in self.exception_handlers.items():
            app.add_exception_handler(exc, handler)
        app.include_router(self.router)

    @property
    def exception_handlers(self) -> dict[Any, Handler]:
        """Handlers for refusals and tokenlife's errors, for ``FastAPI(exception_handlers=...)``."""
        return exception_handlers(self.gate)

    def lifespan(
        self, inner: Lifespan[Any] | None = None
    ) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
        """``async with authority.store`` around the app's own lifespan (``inner``)."""
        return store_lifespan(self.authority, inner)

    def _router(self) -> APIRouter:
        router = APIRouter(tags=["auth"])
        gate, config = self.gate, self.config
        if config.refresh_path is not None:

            async def refresh(request: Request) -> Response:
                """Rotate a refresh token: bearer header, JSON or form body, or the cookie.

                Cookies are set only for the cookie, with the CSRF header.
                """
                return to_response(await gate.refresh(await _facts(request)))

            router.add_api_route(config.refresh_path, refresh, methods=["POST"])
        if config.logout_path is not None:

            async def logout(request: Request) -> Response:
                """End the session of the token presented; 204 only once a session ended."""
                return to_response(await gate.logout(await _facts(request)))

            router.add_api_route(config.logout_path, logout, methods=["POST"])
        if self.jwks_path is not None:
            keys = self.authority.codec.keys

            async def jwks() -> Response:
                """The public signing keys (JWKS)."""
                return JSONResponse(
                    keys.public_jwks(),
                    headers={"Cache-Control": "public, max-age=300"},
                    media_type="application/jwk-set+json",
                )

            router.add_api_route(self.jwks_path, jwks, methods=["GET"])
        self._devices_routes(router)
        add_oauth_routes(router, gate)
        return router

    def _devices_routes(self, router: APIRouter) -> None:
        """The caller's own sessions: list, end one, end the others, end all (those configured)."""
        gate, config = self.gate, self.config
        Auth = Annotated[Claims, Depends(self.access_token_required)]
        tags: list[str | Any] = ["sessions"]
        if config.sessions_path is not None:

            async def list_sessions(request: Request, claims: Auth) -> Response:
                """Your live sessions, oldest first, the current one marked."""
                return to_response(await gate.list_sessions(await _facts(request), claims))

            async def end_session(request: Request, claims: Auth, session_id: str) -> Response:
                """End one of your sessions: 204; 404 for any id that is not one of yours."""
                facts = await _facts(request)
                return to_response(await gate.end_session(facts, claims, session_id))

            path = config.sessions_path
            router.add_api_route(path, list_sessions, methods=["GET"], tags=tags)
            router.add_api_route(
                path.rstrip("/") + "/{session_id}", end_session, methods=["DELETE"], tags=tags
            )
        if config.logout_others_path is not None:

            async def logout_others(request: Request, claims: Auth) -> Response:
                """End all your sessions but this one: ``{"ended": n}``."""
                return to_response(await gate.end_other_sessions(await _facts(request), claims))

            router.add_api_route(
                config.logout_others_path, logout_others, methods=["POST"], tags=tags
            )
        if config.logout_all_path is not None:

            async def logout_all(request: Request, claims: Auth) -> Response:
                """End all your sessions, this one included: ``{"ended": n}``, cookies cleared."""
                return to_response(await gate.end_all_sessions(await _facts(request), claims))

            router.add_api_route(config.logout_all_path, logout_all, methods=["POST"], tags=tags)

    # -- helpers for the application's own routes -------------------------------------

    async def login(
        self,
        subject: str,
        *,
        request: Request | None = None,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        metadata: Mapping[str, str] | None = None,
        content: Any = None,
        status_code: int = 200,
    ) -> Response:
        """Start a session for an authenticated ``subject`` and answer with its tokens.

        In cookie mode the response sets the auth cookies too — given
        ``request``, only if it is a JSON request (no cross-site form can send
        one); without it, the application vouches for the request.
        """
        facts = HttpRequest.from_asgi(request.scope) if request is not None else None
        reply = await self.gate.login(
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
        return await self.gate.issue(
            subject, scopes=scopes, claims=claims, fresh=fresh, metadata=metadata
        )

    def cookies_for(self, pair: TokenPair) -> tuple[SetCookie, ...]:
        """The cookies carrying ``pair``; ``response.raw_headers`` takes ``c.render()``."""
        return self.gate.cookies_for(pair)

    def clearing_cookies(self) -> tuple[SetCookie, ...]:
        """Cookies that delete ours, for an application's own logout response."""
        return self.gate.clearing_cookies()


async def _facts(request: Request) -> HttpRequest:
    return HttpRequest.from_asgi(request.scope, await request.body())


def _access_dependency(gate: Gate, bearer_name: str, cookie_name: str) -> ClaimsDependency:
    """The claims dependency: the middleware's verdict, else the gate's own (bearer only)."""
    description = "An access token (`typ: at+jwt`) in `Authorization: Bearer`."
    jar = gate.jar
    if jar is None:
        return _AccessToken(gate, scheme_name=bearer_name, description=description)
    bearer = HTTPBearer(
        bearerFormat="JWT", scheme_name=bearer_name, description=description, auto_error=False
    )
    cookie = APIKeyCookie(
        name=jar.config.access_cookie,
        scheme_name=cookie_name,
        description=(
            "The access cookie set by login or refresh. Unsafe methods also need the "
            f"`{jar.config.csrf_header}` header equal to the `{jar.config.csrf_cookie}` cookie."
        ),
        auto_error=False,
    )

    async def access_token_required(
        request: HTTPConnection,
        _bearer: Annotated[Any, Depends(bearer)],
        _cookie: Annotated[Any, Depends(cookie)],
    ) -> Claims:
        """The verified claims (bearer or cookie, as the middleware found them), or a refusal."""
        found = request.scope.get(SCOPE_KEY)
        if found is None:
            # Cookie mode needs the middleware (an in-line refresh's cookies go out there).
            raise unauthorized("route_not_authenticated")
        if isinstance(found, Refusal):
            raise found
        claims: Claims = found.claims
        return claims

    return access_token_required


class _AccessToken(HTTPBearer):
    """``HTTPBearer`` (``/docs`` shows the scheme) returning the verified claims.

    FastAPI resolves nothing else per request; without the middleware it asks
    the gate itself, on the raw ASGI headers.
    """

    def __init__(self, gate: Gate, *, scheme_name: str, description: str) -> None:
        super().__init__(
            bearerFormat="JWT", scheme_name=scheme_name, description=description, auto_error=False
        )
        self._gate = gate

    async def __call__(self, request: HTTPConnection) -> Claims:  # type: ignore[override]
        """The verified claims of the request's access token, or a refusal (401, 400, 503)."""
        scope = request.scope
        found = scope.get(SCOPE_KEY)
        if found is None:
            found = await self._gate.authenticate(HttpRequest.from_asgi(scope))
        elif isinstance(found, Refusal):
            raise found
        claims: Claims = found.claims
        return claims


__all__ = ("DOCS_PATHS", "ClaimsDependency", "TokenLife", "claims_of")
