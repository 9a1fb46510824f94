"""The routes of the web layer: refresh, logout, login.

Each answers a :class:`Reply` whatever happens; every check that can refuse
runs before the store is called.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tokenlife._claims import REFRESH_TYP, TokenPair
from tokenlife._errors import DPoPBindingError, RevokedTokenError, StoreError, TokenError

from ._base import Source
from ._body import is_json, token_body
from ._devices import CLIENT_KEY, client_label
from ._dpop import dpop_token
from ._facts import HttpRequest
from ._oauth import OAuthRoutes
from ._replies import (
    Refusal,
    Reply,
    csrf_failed,
    invalid_grant,
    invalid_request,
    invalid_token,
    no_content,
    refusal_reply,
    unavailable,
)
from ._rules import bearer_token, csrf_holds


class Routes(OAuthRoutes):
    """:meth:`refresh`, :meth:`logout`, :meth:`login` and :meth:`issue` of :class:`Gate`.

    The OAuth 2.0 routes (revocation, introspection, metadata) come from
    :class:`OAuthRoutes`.
    """

    __slots__ = ()

    # -- the routes ------------------------------------------------------------------

    async def refresh(self, request: HttpRequest) -> Reply:
        """``POST /refresh``: rotate the refresh token of the header, the body, or the cookie.

        Cookies are set only when the token came from the cookie and the CSRF
        header matched its session: a cross-site form posting an attacker's
        token gets the token response, never the attacker's cookies.
        """
        jar = self.jar
        try:
            source: Source = "header"
            token = bearer_token(request)
            if token is None:
                body = token_body(request, max_bytes=self.config.max_body_bytes)
                if body.grant_type is not None:  # an OAuth 2.0 client (RFC 6749 §6)
                    # RFC 9449 §5: a DPoP client proves its key at the token endpoint.
                    return await self.token_grant(request, body, await self._proven_key(request))
                source, token = "body", body.presented
            if token is None and jar is not None:
                source, token = "cookie", request.cookies.get(jar.config.refresh_cookie) or None
            if token is None:
                raise invalid_request("no_refresh_token")
            from_cookie = source == "cookie"
            if from_cookie:
                claims = self._authentic(token, REFRESH_TYP, allow_expired=False)
                if claims is None:
                    raise invalid_grant("refresh_refused", clear_cookies=True)
                if not csrf_holds(request.header(self._csrf_header), claims):
                    raise csrf_failed("csrf_mismatch")
            jkt = await self._proven_key(request)
            try:
                pair = await self.authority.refresh(token, jkt)
            except DPoPBindingError as exc:
                # Proving the session's own key fixes it: a token error, nothing ends.
                raise Refusal(400, "invalid_dpop_proof", exc.code) from None
            except TokenError as exc:
                dead = from_cookie or (
                    isinstance(exc, RevokedTokenError) and self._cookie_of(request, token)
                )
                raise invalid_grant(exc.code, clear_cookies=dead) from None
        except Refusal as refusal:
            return self.refused(request, refusal)
        except StoreError as exc:
            return self.refused(request, self._outage(request, exc))
        return self.pair_reply(pair, cookies=from_cookie)

    async def logout(self, request: HttpRequest) -> Reply:
        """``POST /logout``: end the session of the token presented; 204 only if one ended.

        The token comes from the ``Authorization`` header, the body (``token``
        or ``refresh_token``, JSON or form), or else the cookies — which need
        the CSRF header of their own session. An expired but authentic token
        may still end its own session. With no credential and no cookie at all
        there is nothing to end: 204, nothing cleared. Anything present but
        unreadable is 400, a token that is not ours 401; neither clears a
        cookie of a live session.
        """
        jar = self.jar
        try:
            token = (
                bearer_token(request)
                or (dpop_token(request) if self._dpop is not None else None)
                or token_body(request, max_bytes=self.config.max_body_bytes).presented
            )
            if token is not None:
                claims = self._any_authentic(token)
                if claims is None:
                    raise invalid_token("logout_token_refused")
                if claims.jkt is not None and await self._proven_key(request) != claims.jkt:
                    # A copied bound token cannot even log its owner out.
                    raise invalid_token("logout_dpop_key")
                ended = await self._end(claims)
                clear = ended and jar is not None and self._cookie_of(request, token)
                return no_content(jar.clearing() if clear and jar is not None else ())
            if jar is None:
                return no_content()
            cookies = request.cookies
            found = [
                value
                for name in (jar.config.access_cookie, jar.config.refresh_cookie)
                if (value := cookies.get(name))
            ]
            if not found:
                return no_content()
            authentic = [c for c in map(self._any_authentic, found) if c is not None]
            if not authentic:
                raise invalid_token("logout_cookies_refused", clear_cookies=True)
            csrf = request.header(self._csrf_header)
            proven = {c.sid: c for c in authentic if csrf_holds(csrf, c)}
            if not proven:
                raise csrf_failed("csrf_mismatch")
            ended = False
            for claims in proven.values():
                ended = await self._end(claims) or ended
            if not ended:
                raise invalid_token("logout_session_unknown", clear_cookies=True)
            return no_content(jar.clearing())
        except Refusal as refusal:
            return self.refused(request, refusal)
        except StoreError as exc:
            # The cookies stay, so the client can retry once the store is back.
            return self.refused(request, self._outage(request, exc))

    async def login(
        self,
        request: HttpRequest | None,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        metadata: Mapping[str, str] | None = None,
        content: Any = None,
        status: int = 200,
    ) -> Reply:
        """Start a session for an authenticated ``subject``; the token response, maybe cookies.

        In cookie mode the cookies are set only for a JSON login request
        (``request`` with a JSON media type, which a cross-site form cannot
        send), or when ``request`` is ``None`` (the application vouches for it).
        """
        if request is not None and self.config.client_labels:
            label = client_label(request)
            if label is not None and CLIENT_KEY not in (metadata or {}):
                metadata = {**(metadata or {}), CLIENT_KEY: label}
        try:
            jkt = await self._proven_key(request)
            if jkt is None and self.authority.policy.require_dpop:
                raise Refusal(400, "invalid_dpop_proof", "dpop_missing")
            pair = await self.issue(
                subject, scopes=scopes, claims=claims, fresh=fresh, metadata=metadata, jkt=jkt
            )
        except Refusal as refusal:
            return refusal_reply(refusal) if request is None else self.refused(request, refusal)
        except StoreError as exc:
            return refusal_reply(unavailable(f"store_error: {exc}"))
        # A DPoP-bound session lives in its client's memory, never in cookies:
        # a browser would send them without a proof, and they would only be refused.
        cookies = (request is None or is_json(request.content_type)) and jkt is None
        return self.pair_reply(pair, cookies=cookies, content=content, status=status)

    async def issue(
        self,
        subject: str,
        *,
        scopes: Iterable[str] = (),
        claims: Mapping[str, Any] | None = None,
        fresh: bool = True,
        metadata: Mapping[str, str] | None = None,
        jkt: str | None = None,
    ) -> TokenPair:
        """A new session's pair, with a CSRF value in cookie mode; bound to ``jkt`` if given."""
        return await self.authority.issue(
            subject,
            scopes=scopes,
            claims=claims,
            fresh=fresh,
            csrf=self.jar is not None,
            metadata=metadata,
            jkt=jkt,
        )

    async def _proven_key(self, request: HttpRequest | None) -> str | None:
        """The key a token-route request proved (checked, claimed once), or ``None`` without
        a ``DPoP`` header; a bad proof is a 400 :class:`Refusal` (RFC 9449 §5)."""
        guard = self._dpop
        if guard is None or request is None or not guard.presented(request):
            return None
        return (await guard.prove(request, resource=False)).jkt


__all__ = ("Routes",)
