"""The routes the plugin adds: explicit refresh, logout, JWKS; and the login response.

Each route authenticates on its own (they are excluded from the middleware):
the refresh route takes a *refresh* token, logout takes either kind, and
both accept the cookies only with the double-submit CSRF header.
"""

from __future__ import annotations

import logging
from typing import Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.handlers import HTTPRouteHandler
from litestar.types import Scope

from tokenlife import RevokedTokenError, TokenError, TokenPair

from ._auth import Authenticator, bearer, constant_time_equal, header, request_cookies
from ._errors import CSRFFailed, InvalidGrant

logger: Final = logging.getLogger("tokenlife.litestar")

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _TokenBody(msgspec.Struct):
    """``{"refresh_token": ...}`` (our refresh route) or ``{"token": ...}`` (RFC 7009 style)."""

    refresh_token: str | None = None
    token: str | None = None


async def _body_token(request: Request[Any, Any, Any]) -> str | None:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        body = msgspec.json.decode(raw, type=_TokenBody)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return body.refresh_token or body.token or None


def _sid(auth: Authenticator, token: str) -> object:
    try:
        return auth.authority.codec.peek_claims(token).get("sid")
    except TokenError:
        return None


def _cookie_in_session(auth: Authenticator, scope: Scope, token: str) -> bool:
    """Does the refresh cookie belong to the session of ``token`` (now revoked)?

    Compares *unverified* ``sid`` claims: it only decides whether the
    cookies of a session that just died are cleared too.
    """
    jar = auth.jar
    if jar is None:
        return False
    cookie = request_cookies(scope).get(jar.config.refresh_name)
    sid = _sid(auth, token)
    return cookie is not None and isinstance(sid, str) and _sid(auth, cookie) == sid


def pair_response(
    auth: Authenticator,
    pair: TokenPair,
    *,
    content: Any = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """The OAuth token response (or ``content``), with the auth cookies in cookie mode."""
    jar = auth.jar
    return Response(
        content=pair.to_response() if content is None else content,
        status_code=status_code,
        headers={**NO_STORE, **(headers or {})},
        cookies=jar.issued(pair) if jar is not None else None,
    )


def refresh_route(auth: Authenticator, path: str, opt_key: str) -> HTTPRouteHandler:
    """``POST path``: rotate a refresh token from the header, the JSON body, or the cookie."""

    async def refresh(request: Request[Any, Any, Any]) -> Response[Any]:
        scope = request.scope
        jar = auth.jar
        token = bearer(header(scope, b"authorization")) or await _body_token(request)
        from_cookie = False
        csrf: str | None = None
        if token is None and jar is not None:
            cookies = request_cookies(scope)
            token = cookies.get(jar.config.refresh_name) or None
            from_cookie = token is not None
            csrf = auth.csrf_header(scope)
            if from_cookie and not constant_time_equal(csrf, cookies.get(jar.config.csrf_name)):
                raise InvalidGrant("csrf_mismatch")
        if token is None:
            raise InvalidGrant("no_refresh_token")
        try:
            pair = await auth.authority.refresh(token)
        except TokenError as exc:
            dead = isinstance(exc, RevokedTokenError) and _cookie_in_session(auth, scope, token)
            raise InvalidGrant(exc.code, clear_cookies=from_cookie or dead) from None
        if from_cookie and not constant_time_equal(csrf, pair.csrf_token):
            logger.warning("refresh by cookie with a CSRF value of another session: refused")
            raise InvalidGrant("csrf_not_of_this_session")
        return pair_response(auth, pair)

    return post(
        path,
        status_code=200,
        opt={opt_key: True},
        security=[{}],
        summary="Rotate a refresh token",
        description=(
            "Takes the refresh token from `Authorization: Bearer`, a JSON body "
            '`{"refresh_token": ...}`, or the refresh cookie (with the CSRF header). '
            'Returns a new access token and the successor refresh token; 401 `{"error": '
            '"invalid_grant"}` otherwise.'
        ),
        tags=["auth"],
    )(refresh)


def logout_route(auth: Authenticator, path: str, opt_key: str) -> HTTPRouteHandler:
    """``POST path``: revoke the session of the token presented and clear the cookies."""

    async def logout(request: Request[Any, Any, Any]) -> Response[None]:
        scope = request.scope
        jar = auth.jar
        tokens: list[str] = []
        token = bearer(header(scope, b"authorization")) or await _body_token(request)
        if token is not None:
            tokens.append(token)
        elif jar is not None:
            cookies = request_cookies(scope)
            found = [
                value
                for name in (jar.config.access_name, jar.config.refresh_name)
                if (value := cookies.get(name))
            ]
            if found and not constant_time_equal(
                auth.csrf_header(scope), cookies.get(jar.config.csrf_name)
            ):
                raise CSRFFailed("csrf_mismatch")
            tokens.extend(found)
        for presented in tokens:
            # Idempotent; an invalid token is not an error (RFC 7009 §2.2).
            # A StoreError propagates: 503, and the cookies stay for a retry.
            await auth.authority.revoke(presented)
        cookies_out: list[Cookie] | None = jar.clearing() if jar is not None else None
        return Response(content=None, status_code=204, headers=NO_STORE, cookies=cookies_out)

    return post(
        path,
        status_code=204,
        opt={opt_key: True},
        security=[{}],
        summary="Log out",
        description="Revokes the session of the token presented (access or refresh) "
        "and clears the auth cookies.",
        tags=["auth"],
    )(logout)


def jwks_route(auth: Authenticator, path: str, opt_key: str) -> HTTPRouteHandler:
    """``GET path``: the public keys, for services that verify our tokens themselves."""

    async def jwks() -> Response[dict[str, list[dict[str, Any]]]]:
        return Response(
            content=auth.authority.codec.keys.public_jwks(),
            headers={"Cache-Control": "public, max-age=300"},
            media_type="application/jwk-set+json",
        )

    return get(
        path, opt={opt_key: True}, security=[{}], summary="Public signing keys", tags=["auth"]
    )(jwks)


__all__ = ("NO_STORE", "jwks_route", "logout_route", "pair_response", "refresh_route")
