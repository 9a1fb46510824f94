"""RFC 7662 token introspection: for resource servers that ask instead of verifying.

The caller proves it is a configured resource server first (HTTP Basic,
``client_secret_basic``, or its secret alone as a bearer credential), every
secret compared in constant time. Then the token is judged by signature and
claims, and by exactly one store read — the strict-verify read for an access
token, the session for a refresh token — so logout is seen at once. Anything
dead, revoked, foreign or malformed is ``{"active": false}``, with no hint why.
"""

from __future__ import annotations

import binascii
import hmac
from base64 import b64decode, b64encode
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote, unquote

from tokenlife._claims import ACCESS_TYP, REFRESH_TYP, Claims
from tokenlife._errors import StoreError, TokenError, TokenTypeError
from tokenlife._machine import decide_access
from tokenlife._store import SessionRecord

from ._base import GateBase, logger
from ._body import token_body
from ._facts import HttpRequest
from ._replies import Refusal, Reply, json_reply

_INACTIVE: Final = {"active": False}
_REQUIRED: Final = ("sub", "sid", "jti")
#: Compared against when a client id is unknown, so timing tells nothing.
_DUMMY: Final = b"\x00" * 32


def oauth_error(
    status: int, error: str, description: str | None = None, *, challenge: str | None = None
) -> Reply:
    """An RFC 6749 §5.2 error body (``error``, maybe ``error_description``), not cached."""
    body = (
        {"error": error}
        if description is None
        else {"error": error, "error_description": description}
    )
    headers = (("www-authenticate", challenge),) if challenge is not None else ()
    return json_reply(body, status=status, headers=headers)


#: A client's usual ``Basic`` credentials, each with the client id it proves.
BasicCredentials = tuple[tuple[bytes, str], ...]


def basic_credentials(clients: Mapping[str, str]) -> BasicCredentials:
    """The ``Basic`` credential each client sends as clients usually encode it.

    RFC 6749 §2.3.1 form-urlencodes id and secret before base64; most ids and
    secrets encode to themselves, and some clients skip the step: both forms
    are kept. A credential in another legal encoding takes the decoding path.
    """
    found: dict[bytes, str] = {}
    for client_id, secret in clients.items():
        for pair in (
            f"{client_id}:{secret}",
            f"{quote(client_id)}:{quote(secret)}",
            f"{quote(client_id, safe='')}:{quote(secret, safe='')}",
        ):
            found.setdefault(b64encode(pair.encode("utf-8")), client_id)
    return tuple(found.items())


def client_of(
    request: HttpRequest, clients: Mapping[str, str], known: BasicCredentials = ()
) -> str | None:
    """The configured resource server the request authenticates as, or ``None``.

    ``Basic`` carries ``client_id:client_secret``, each form-urlencoded
    (RFC 6749 §2.3.1); ``Bearer`` carries a secret alone. Every configured
    secret is compared, whichever matches, so the time taken reveals nothing.
    ``known`` (from :func:`basic_credentials`) are compared first, all of
    them, in constant time: the usual credential costs no decoding.
    """
    values = request.header_values(b"authorization")
    if len(values) != 1:
        return None
    scheme, _, credential = values[0].strip().partition(b" ")
    scheme = scheme.lower()
    credential = credential.strip()
    if scheme == b"basic":
        matched: str | None = None
        for value, client_id in known:
            if hmac.compare_digest(value, credential) and matched is None:
                matched = client_id
        if matched is not None:
            return matched
        try:
            decoded = b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        raw_id, sep, raw_secret = decoded.partition(":")
        if not sep:
            return None
        client_id, secret = unquote(raw_id.replace("+", " ")), unquote(raw_secret.replace("+", " "))
        expected = clients.get(client_id)
        stored = expected.encode() if expected is not None else _DUMMY
        ok = hmac.compare_digest(stored, secret.encode())
        return client_id if ok and expected is not None else None
    if scheme == b"bearer" and credential:
        found: str | None = None
        for client_id, expected in clients.items():
            if hmac.compare_digest(expected.encode(), credential) and found is None:
                found = client_id
        return found
    return None


class IntrospectionRoute(GateBase):
    """:meth:`introspect` of :class:`Gate`."""

    __slots__ = ()

    async def introspect(self, request: HttpRequest) -> Reply:
        """``POST introspection_path``: RFC 7662 §2.2 — is this token active, and what is it?"""
        clients = self.config.introspection_clients or {}
        known = self._basic_credentials
        if known is None:
            known = self._basic_credentials = basic_credentials(clients)
        client = client_of(request, clients, known)
        if client is None:
            logger.info("%r: introspection refused: no valid client credential", request)
            # RFC 6749 §5.2: 401 invalid_client, with a challenge for the scheme to use.
            return oauth_error(401, "invalid_client", challenge='Basic realm="introspection"')
        try:
            body = token_body(request, max_bytes=self.config.max_body_bytes)
        except Refusal as refusal:
            logger.info("%r: %s (%s)", request, refusal.error, refusal.reason)
            return oauth_error(400, "invalid_request")
        token = body.token
        if not token:
            return oauth_error(400, "invalid_request", "the token parameter is required")
        try:
            content = await self.introspection(token, hint=body.token_type_hint)
        except StoreError as exc:
            logger.error("%r: the token store failed: %s", request, exc)
            return oauth_error(503, "temporarily_unavailable")
        return json_reply(content)

    async def introspection(self, token: str, *, hint: str | None = None) -> dict[str, Any]:
        """The RFC 7662 §2.2 members for ``token``; one store read at most.

        ``hint`` (``token_type_hint``) only orders the attempts; a token is
        judged by its own ``typ`` whatever the hint says.
        """
        now = self.authority.now()
        order = (REFRESH_TYP, ACCESS_TYP) if hint == "refresh_token" else (ACCESS_TYP, REFRESH_TYP)
        for typ in order:
            try:
                claims = self.authority.codec.decode(token, typ=typ, now=now, require=_REQUIRED)
            except TokenTypeError:
                continue
            except TokenError:
                return _INACTIVE
            if typ == ACCESS_TYP:
                alive = await self._access_alive(claims, now)
            else:
                alive = _refresh_alive(
                    await self.authority.store.session(str(claims.sid)), claims, now
                )
            return _members(claims, typ) if alive else _INACTIVE
        return _INACTIVE

    async def _access_alive(self, claims: Claims, now: float) -> bool:
        """The strict-verify rule (``decide_access``) on the one store read."""
        status = await self.authority.store.access_status(
            str(claims.jti), str(claims.sid), str(claims.sub)
        )
        gen = claims.gen
        policy = self.authority.policy
        reason = decide_access(
            status,
            iat=float(claims.iat),  # type: ignore[arg-type]
            now=now,
            grace=policy.grace,
            generation=gen if isinstance(gen, int) else None,
            supersede=policy.access_floor_on_refresh,
        )
        return reason is None


def _refresh_alive(session: SessionRecord | None, claims: Claims, now: float) -> bool:
    """Only the session's current refresh token, of a live session, is active."""
    return (
        session is not None
        and session.revoked_at is None
        and session.expires_at > now
        and session.subject == claims.sub
        and session.current_jti == claims.jti
    )


def _members(claims: Claims, typ: str) -> dict[str, Any]:
    content: dict[str, Any] = {"active": True}
    if isinstance(claims.scope, str) and claims.scope:
        content["scope"] = claims.scope
    content["sub"] = claims.sub
    content["exp"] = int(claims.exp)
    if isinstance(claims.iat, (int, float)):
        content["iat"] = int(claims.iat)
    content["jti"] = claims.jti
    if typ == ACCESS_TYP:
        # Only access tokens are "Bearer": a resource server checking
        # token_type never mistakes a refresh token for one.
        content["token_type"] = "Bearer"  # noqa: S105 (a type name, not a secret)
    if isinstance(claims.iss, str):
        content["iss"] = claims.iss
    aud = claims.aud
    if isinstance(aud, str):
        content["aud"] = aud
    elif isinstance(aud, tuple):
        content["aud"] = list(aud)
    content["sid"] = claims.sid
    return content


__all__ = (
    "BasicCredentials",
    "IntrospectionRoute",
    "basic_credentials",
    "client_of",
    "oauth_error",
)
