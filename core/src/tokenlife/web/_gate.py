"""The async driver of the web layer: authenticate, refresh, log in, log out.

Every check that can refuse — the body, the credential, CSRF, the session
binding of two tokens — runs before the store is called, so a refused
request consumes nothing (no rotation, no revocation, no cookie change).
The store is reached only through :class:`TokenAuthority`.
"""

from __future__ import annotations

import msgspec

from tokenlife._claims import ACCESS_TYP, REFRESH_TYP, Claims
from tokenlife._errors import DPoPBindingError, ExpiredTokenError, StoreError, TokenError

from ._base import Source
from ._cookies import SetCookie
from ._devices import Devices
from ._dpop import dpop_token
from ._facts import HttpRequest
from ._replies import (
    csrf_failed,
    invalid_token,
    unauthorized,
)
from ._routes import Routes
from ._rules import SAFE_METHODS, bearer_token, csrf_holds, query_token, same_origin


class Authenticated(msgspec.Struct, frozen=True):
    """A request's verified claims, where its token came from, and cookies a refresh set."""

    claims: Claims
    source: Source = "header"
    #: New auth cookies when the request was refreshed in-line; add them to its response.
    set_cookies: tuple[SetCookie, ...] = ()


class Gate(Routes, Devices):
    """The HTTP rules of docs/design/lifecycle.md over one :class:`TokenAuthority`, framework-free.

    ``Gate(authority, config, *, also_exclude=())``: ``also_exclude`` adds
    path patterns an adapter knows of (its OpenAPI document's route).
    :meth:`authenticate` raises :class:`Refusal`; the routes (:meth:`refresh`,
    :meth:`logout`, :meth:`login`) return a :class:`Reply` whatever happens,
    refusals and store outages (503) included.
    """

    __slots__ = ()

    async def authenticate(self, request: HttpRequest) -> Authenticated:
        """The request's claims, from the first configured location that has a token.

        Raises :class:`Refusal`: 401 (no token, or a refused one), 403 (CSRF),
        400 (an unreadable header), 503 (the store failed).
        """
        try:
            for location in self._locations:
                if location == "header":
                    token = bearer_token(request)
                    if token is not None:
                        # The hot path: one coroutine, no helper (this runs on every request).
                        try:
                            return Authenticated(await self._verify(token))
                        except DPoPBindingError as exc:
                            if self._dpop is not None:  # a bound token used as a bearer token
                                raise self._dpop.token_refused(exc.code) from None
                            raise invalid_token(exc.code) from None
                        except TokenError as exc:
                            raise invalid_token(exc.code) from None
                    if self._dpop is not None:
                        token = dpop_token(request)
                        if token is not None:
                            return Authenticated(await self._proven(request, token))
                elif location == "cookie":
                    found = await self._from_cookies(request)
                    if found is not None:
                        return found
                else:
                    token = query_token(request, self.config.query_param)
                    if token is not None:
                        return Authenticated(await self._verified(token), "query")
        except StoreError as exc:
            raise self._outage(request, exc) from None
        raise unauthorized("no_token")

    async def _proven(self, request: HttpRequest, token: str) -> Claims:
        """``Authorization: DPoP``: the proof's stateless checks, the token (a read),
        then the proof's one-time claim (a write), so a refused token writes nothing."""
        guard = self._dpop
        assert guard is not None
        proof = guard.check(request, access_token=token, resource=True)
        try:
            claims = await self.authority.verify(token, proof.jkt)
        except TokenError as exc:
            raise guard.token_refused(exc.code) from None
        await guard.claim(proof, resource=True)
        return claims

    async def _verified(self, token: str) -> Claims:
        try:
            return await self.authority.verify(token)
        except TokenError as exc:
            raise invalid_token(exc.code) from None

    async def _from_cookies(self, request: HttpRequest) -> Authenticated | None:
        jar = self.jar
        assert jar is not None
        config = jar.config
        cookies = request.cookies
        access = cookies.get(config.access_cookie) or None
        if request.websocket:
            # No response to carry new cookies, and a cross-site page may open
            # a WebSocket with the victim's cookies unless the origin is checked.
            if access and same_origin(request):
                return Authenticated(await self._verified(access), "cookie")
            return None
        refresh = (cookies.get(config.refresh_cookie) or None) if config.implicit_refresh else None
        if access is None and refresh is None:
            return None
        unsafe = request.method not in SAFE_METHODS
        csrf = request.header(self._csrf_header) if unsafe else None
        expired: Claims | None = None
        reason = "no_access_cookie"
        if access is not None:
            try:
                claims = await self.authority.verify(access)
            except ExpiredTokenError:
                reason = "expired"
                expired = self._authentic(access, ACCESS_TYP, allow_expired=True)
            except TokenError as exc:
                reason = exc.code
            else:
                if unsafe and not csrf_holds(csrf, claims):
                    raise csrf_failed("csrf_mismatch")
                if refresh is None or claims.exp - self.now() > self._window:
                    return Authenticated(claims, "cookie")
                peer = self._authentic(refresh, REFRESH_TYP, allow_expired=False)
                # Only a longer-lived token of this very session is worth a rotation.
                if peer is None or peer.sid != claims.sid or peer.exp <= claims.exp:
                    return Authenticated(claims, "cookie")
                return await self._refresh_in_line(refresh, keep=claims)
        if refresh is None:
            raise invalid_token(reason)
        peer = self._authentic(refresh, REFRESH_TYP, allow_expired=False)
        if peer is None:
            raise invalid_token("refresh_refused", clear_cookies=True)
        if expired is not None and expired.sid != peer.sid:
            # Two sessions' cookies in one request: refuse rather than swap identity.
            raise invalid_token("session_mismatch")
        if unsafe and not csrf_holds(csrf, peer):
            raise csrf_failed("csrf_mismatch")
        return await self._refresh_in_line(refresh, keep=None)

    async def _refresh_in_line(self, refresh: str, keep: Claims | None) -> Authenticated:
        """docs/design/lifecycle.md#refresh rules 1-6 for this request; its
        response will carry the new pair."""
        jar = self.jar
        assert jar is not None
        try:
            pair = await self.authority.refresh(refresh)
        except ExpiredTokenError:
            if keep is not None:
                # The session ends before the access token does: use it to the end.
                return Authenticated(keep, "cookie")
            raise invalid_token("refresh_expired", clear_cookies=True) from None
        except TokenError as exc:
            raise invalid_token(f"refresh_{exc.code}", clear_cookies=True) from None
        claims = await self._verified(pair.access_token)
        return Authenticated(claims, "cookie", jar.issued(pair))

    def with_cookies(
        self, headers: list[tuple[bytes, bytes]], cookies: tuple[SetCookie, ...]
    ) -> list[tuple[bytes, bytes]]:
        """A response's ASGI headers plus an in-line refresh's cookies.

        The refresh already happened, so the new cookies go out with whatever
        the route answers — else the browser keeps a rotated token and trips
        reuse detection later. Except when the response itself sets or clears
        our cookies (a logout, a login): a response that logs out is never
        followed by cookies that log back in.
        """
        jar = self.jar
        if not cookies or jar is None or jar.touches_ours(headers):
            return headers
        return [*headers, *((b"set-cookie", c.render().encode("latin-1")) for c in cookies)]


__all__ = ("Authenticated", "Gate", "Source")
