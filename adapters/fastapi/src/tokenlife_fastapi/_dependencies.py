"""``TokenLife``: FastAPI dependencies for verified claims, subject, scopes, freshness.

The shapes AuthX users know (``Depends(tl.access_token_required)``,
``tl.fresh_token_required``), backed by a :class:`TokenAuthority`: a
dependency returns the verified :class:`Claims` or raises a refusal that
:func:`exception_handlers` answers (RFC 6750).

The claims come from ``scope["auth"]`` when an authentication middleware
already verified the request; otherwise the dependency verifies the
``Authorization: Bearer`` token itself (one ``authority.verify``). The
bearer and cookie dependencies are FastAPI security schemes, so ``/docs``
shows them on every route that needs a token — as alternatives.
"""

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

from fastapi import Depends
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection, Request

from tokenlife import Claims, TokenAuthority, TokenError

from ._errors import AuthenticationRequired, Handler, InsufficientScope, InvalidToken
from ._errors import exception_handlers as _handlers
from ._lifespan import Lifespan, store_lifespan

ClaimsDependency = Callable[..., Awaitable[Claims]]


def claims_of(connection: HTTPConnection) -> Claims | None:
    """The claims an authentication middleware put in ``scope["auth"]``, if any."""
    claims = connection.scope.get("auth")
    return claims if isinstance(claims, Claims) else None


class TokenLife:
    """Dependencies, error handlers and a store lifespan for one authority.

    >>> tl = TokenLife(authority)
    >>> app = FastAPI(lifespan=tl.lifespan(), exception_handlers=tl.exception_handlers)
    >>> @app.get("/me")
    ... async def me(claims: Claims = Depends(tl.access_token_required)) -> dict: ...
    """

    def __init__(
        self,
        authority: TokenAuthority,
        *,
        access_cookie: str | None = None,
        realm: str | None = None,
        bearer_scheme_name: str = "BearerToken",
        cookie_scheme_name: str = "AccessCookie",
    ) -> None:
        self.authority = authority
        self.realm = realm
        #: ``Authorization: Bearer`` as FastAPI's own security scheme (shown in /docs).
        self.bearer = HTTPBearer(
            bearerFormat="JWT",
            scheme_name=bearer_scheme_name,
            description="An access token (`typ: at+jwt`) in `Authorization: Bearer`.",
            auto_error=False,
        )
        #: The access cookie, documented as an alternative (cookie mode only).
        self.cookie = (
            APIKeyCookie(
                name=access_cookie,
                scheme_name=cookie_scheme_name,
                description="The access cookie set by login or refresh.",
                auto_error=False,
            )
            if access_cookie is not None
            else None
        )
        self.access_token_required: ClaimsDependency = self._claims_dependency()

        async def fresh_token_required(
            claims: Annotated[Claims, Depends(self.access_token_required)],
        ) -> Claims:
            """The claims of a token straight from a login (not from a refresh), or 403."""
            if not claims.fresh:
                raise InsufficientScope("not_fresh")
            return claims

        async def subject_required(
            claims: Annotated[Claims, Depends(self.access_token_required)],
        ) -> str:
            """The verified subject (``sub``)."""
            return claims.subject

        self.fresh_token_required: ClaimsDependency = fresh_token_required
        self.subject_required: Callable[..., Awaitable[str]] = subject_required

    def _claims_dependency(self) -> ClaimsDependency:
        verify = self.authority.verify
        description = self.bearer.model.description or ""
        name = self.bearer.scheme_name
        if self.cookie is None:
            # One dependency that is itself the security scheme: FastAPI
            # resolves nothing else per request (see _AccessToken).
            return _AccessToken(verify, scheme_name=name, description=description)
        bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(self.bearer)]
        cookie = Annotated[str | None, Depends(self.cookie)]

        async def access_token_required(
            connection: HTTPConnection, found: bearer, _cookie: cookie
        ) -> Claims:
            """The verified claims of the request's access token, or 401.

            The access cookie is authenticated (with CSRF and implicit
            refresh) by the middleware; here it only documents the scheme.
            """
            claims = claims_of(connection)
            if claims is not None:
                return claims
            if found is None:
                raise AuthenticationRequired("no_token")
            try:
                return await verify(found.credentials)
            except TokenError as exc:
                raise InvalidToken(exc.code) from None

        return access_token_required

    def scopes_required(self, *scopes: str) -> ClaimsDependency:
        """A dependency: the claims, or 403 ``insufficient_scope`` unless every scope is granted."""
        needed = frozenset(scopes)
        challenge = " ".join(sorted(needed))

        async def scopes_required(
            claims: Annotated[Claims, Depends(self.access_token_required)],
        ) -> Claims:
            if not needed.issubset(claims.scopes):
                raise InsufficientScope("missing_scope", scope=challenge)
            return claims

        return scopes_required

    @property
    def exception_handlers(self) -> dict[int | type[Exception], Handler]:
        """Handlers for the refusals and for tokenlife's errors (``TokenError``, ``StoreError``)."""
        return _handlers(self.realm)

    def lifespan(
        self, inner: Lifespan[Any] | None = None
    ) -> Callable[[Any], AbstractAsyncContextManager[Any]]:
        """``async with authority.store`` around the app's own lifespan (``inner``)."""
        return store_lifespan(self.authority, inner)


class _AccessToken(HTTPBearer):
    """``HTTPBearer`` (so ``/docs`` shows the scheme) that returns the verified claims.

    It reads the raw ASGI headers rather than ``request.headers`` and asks
    FastAPI for nothing but the request: this runs on every protected call.
    """

    def __init__(
        self, verify: Callable[[str], Awaitable[Claims]], *, scheme_name: str, description: str
    ) -> None:
        super().__init__(
            bearerFormat="JWT", scheme_name=scheme_name, description=description, auto_error=False
        )
        self._verify = verify

    async def __call__(self, request: Request) -> Claims:  # type: ignore[override]
        """The verified claims of the request's access token, or 401."""
        scope = request.scope
        claims = scope.get("auth")
        if isinstance(claims, Claims):
            return claims
        for key, value in scope["headers"]:
            if key == b"authorization":
                kind, _, token = value.partition(b" ")
                if kind.lower() != b"bearer":
                    break
                token = token.strip()
                if not token:
                    raise InvalidToken("empty_bearer")
                try:
                    return await self._verify(token.decode("latin-1"))
                except TokenError as exc:
                    raise InvalidToken(exc.code) from None
        raise AuthenticationRequired("no_token")


__all__ = ("ClaimsDependency", "TokenLife", "claims_of")
