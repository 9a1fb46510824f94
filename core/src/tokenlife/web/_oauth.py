"""OAuth 2.0 on the web layer: the refresh grant, RFC 7009 revocation, RFC 8414 metadata.

A standard client posts ``grant_type=refresh_token`` to the refresh route
(RFC 6749 §6) and gets §5.1 answers and §5.2 errors: ``error`` always,
``error_description`` only where it reveals nothing about the token (the
precise reason goes to the log). Every check that can refuse runs before
the rotation, so a refused grant consumes nothing.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import urlsplit

import msgspec

from tokenlife._claims import ACCESS_TYP, REFRESH_TYP, TokenPair
from tokenlife._errors import DPoPBindingError, StoreError, TokenError

from ._base import logger
from ._body import TokenBody, token_body
from ._facts import HttpRequest
from ._introspection import IntrospectionRoute, oauth_error
from ._replies import Refusal, Reply, json_reply

#: RFC 6749 §3.3: ``scope-token = 1*NQCHAR``, tokens separated by one space.
_SCOPE_TOKEN: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_GRANT_REFUSED: Final = "the refresh token is invalid, expired or revoked"


def parse_scope(raw: str) -> tuple[str, ...] | None:
    """The scope tokens of an RFC 6749 §3.3 ``scope`` value (duplicates dropped), or ``None``."""
    parts = raw.split(" ")
    if not raw or not all(_SCOPE_TOKEN.fullmatch(p) for p in parts):
        return None
    return tuple(dict.fromkeys(parts))


class OAuthRoutes(IntrospectionRoute):
    """:meth:`token_grant`, :meth:`revoke` and :meth:`metadata` of :class:`Gate`."""

    __slots__ = ()

    async def token_grant(
        self, request: HttpRequest, body: TokenBody, jkt: str | None = None
    ) -> Reply:
        """The refresh route for a body with ``grant_type`` (RFC 6749 §6, §5.1, §5.2).

        Cookies are never set: an OAuth client keeps its tokens itself. ``jkt``
        is the key the request's ``DPoP`` proof showed (RFC 9449 §5): a bound
        session rotates only with a proof of its own key.
        """
        if body.grant_type != "refresh_token":
            logger.info("%r: unsupported_grant_type", request)
            return oauth_error(
                400, "unsupported_grant_type", "this endpoint grants refresh_token only"
            )
        token = body.refresh_token
        if not token:
            return oauth_error(400, "invalid_request", "the refresh_token parameter is required")
        requested: tuple[str, ...] | None = None
        if body.scope is not None:
            requested = parse_scope(body.scope)
            if requested is None:
                return oauth_error(400, "invalid_scope", "the scope parameter is malformed")
        try:
            if requested is not None:
                refused = await self._narrowing_refused(request, token, requested)
                if refused is not None:
                    return refused
            try:
                pair = await self.authority.refresh(token, jkt)
            except DPoPBindingError as exc:
                # Nothing ends: proving the session's own key is the fix (RFC 9449 §5).
                logger.info("%r: invalid_dpop_proof (%s)", request, exc.code)
                return oauth_error(400, "invalid_dpop_proof")
            except TokenError as exc:
                logger.info("%r: invalid_grant (%s)", request, exc.code)
                return oauth_error(400, "invalid_grant", _GRANT_REFUSED)
        except StoreError as exc:
            logger.error("%r: the token store failed: %s", request, exc)
            return oauth_error(503, "temporarily_unavailable")
        content = pair.to_response()
        if requested is not None:
            issued = " ".join(requested)
            pair = self._narrowed(pair, issued)
            content["access_token"] = pair.access_token
            if issued != body.scope:
                content["scope"] = issued  # §5.1: required when it differs from the request
        return json_reply(content)

    async def _narrowing_refused(
        self, request: HttpRequest, token: str, requested: tuple[str, ...]
    ) -> Reply | None:
        """§6: a requested scope may only narrow the session's; refused before rotating.

        Reads the session once more than a plain refresh, only when a scope is asked.
        """
        claims = self._authentic(token, REFRESH_TYP, allow_expired=False)
        if claims is None:
            logger.info("%r: invalid_grant (refresh token refused)", request)
            return oauth_error(400, "invalid_grant", _GRANT_REFUSED)
        session = await self.authority.store.session(str(claims.sid))
        if session is None:
            return None  # the refresh itself refuses it, with its own reason and events
        granted = session.access_claims.get("scope")
        held = set(granted.split()) if isinstance(granted, str) else set()
        if not held.issuperset(requested):
            logger.info("%r: invalid_scope (beyond the original grant)", request)
            return oauth_error(400, "invalid_scope", "the scope may only narrow the original grant")
        return None

    def _narrowed(self, pair: TokenPair, scope: str) -> TokenPair:
        """``pair`` with its access token re-signed for ``scope`` (same jti, same times)."""
        codec = self.authority.codec
        claims = codec.peek_claims(pair.access_token)
        if claims.get("scope") == scope:
            return pair
        claims["scope"] = scope
        return msgspec.structs.replace(pair, access_token=codec.encode(claims, typ=ACCESS_TYP))

    async def revoke(self, request: HttpRequest) -> Reply:
        """``POST revocation_path`` (RFC 7009 §2): ``token``, optional ``token_type_hint``.

        200 whether or not the token was valid or known (§2.2): the client's
        goal, a dead token, holds either way. Ending an access or refresh
        token ends its session; the hint is ignored (tokens carry their type).
        """
        try:
            body = token_body(request, max_bytes=self.config.max_body_bytes)
        except Refusal as refusal:
            logger.info("%r: %s (%s)", request, refusal.error, refusal.reason)
            return oauth_error(400, "invalid_request")
        if not body.token:
            return oauth_error(400, "invalid_request", "the token parameter is required")
        try:
            await self.authority.revoke(body.token)
        except StoreError as exc:
            # §2.2.1: 503 tells the client to retry later.
            logger.error("%r: the token store failed: %s", request, exc)
            return oauth_error(503, "temporarily_unavailable")
        return Reply(status=200, headers=(("cache-control", "no-store"),))

    def metadata(self, origin: str) -> Reply:
        """``GET metadata_path``: the RFC 8414 §2 authorization server metadata.

        The issuer is the policy's when it is an http(s) URL, else ``origin``
        (the scheme and host the request reached, as the adapter saw them).
        """
        # Public and cacheable, unlike every other reply here; it varies with the host
        # only when the issuer is taken from the request.
        return Reply(
            status=200,
            body=msgspec.json.encode(self.metadata_document(origin)),
            headers=(
                ("content-type", "application/json"),
                ("cache-control", "public, max-age=300"),
                ("vary", "host"),
            ),
        )

    def metadata_document(self, origin: str) -> dict[str, Any]:
        """The metadata members, endpoints as absolute URLs on the issuer's origin."""
        config = self.config
        issuer = self.authority.policy.issuer
        if not isinstance(issuer, str) or urlsplit(issuer).scheme not in ("http", "https"):
            issuer = origin.rstrip("/")
        parts = urlsplit(issuer)
        base = f"{parts.scheme}://{parts.netloc}"
        document: dict[str, Any] = {"issuer": issuer}
        if config.refresh_path is not None:
            document["token_endpoint"] = base + config.refresh_path
        if config.jwks_path is not None:
            document["jwks_uri"] = base + config.jwks_path
        document["response_types_supported"] = []
        document["grant_types_supported"] = ["refresh_token"]
        document["token_endpoint_auth_methods_supported"] = ["none"]
        if config.revocation_path is not None:
            document["revocation_endpoint"] = base + config.revocation_path
            document["revocation_endpoint_auth_methods_supported"] = ["none"]
        if config.introspection_path is not None:
            document["introspection_endpoint"] = base + config.introspection_path
            document["introspection_endpoint_auth_methods_supported"] = ["client_secret_basic"]
        return document


__all__ = ("OAuthRoutes", "parse_scope")
