"""The HTTP face of every outcome: RFC 6750 / RFC 6749 codes, nothing more.

docs/design/lifecycle.md#errors-and-http-mapping: a client learns *that* a request
was refused (``invalid_token``, ``invalid_request``) but never *why*
(expired, reused, revoked, bad signature) — :attr:`Refusal.reason` is for
logs, where an operator can see it and an attacker cannot. The 400-vs-401
choice is made here, once: a request that cannot be read is the client's
bug (400 ``invalid_request``), a token that was read and refused is 401.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec

from ._cookies import SetCookie

#: Every token-bearing or refusing response: no cache may keep it (RFC 6749 §5.1).
NO_STORE: Final = (("cache-control", "no-store"), ("pragma", "no-cache"))
_JSON: Final = ("content-type", "application/json")
_encode = msgspec.json.encode


class Refusal(Exception):
    """A refused request as data: status, RFC error code, challenge, and the reason for logs.

    ``challenge`` is the ``WWW-Authenticate`` error code: ``None`` sends no
    challenge, ``""`` the bare ``Bearer`` one (no credentials at all,
    RFC 6750 §3.1). ``clear_cookies`` asks for the auth cookies to be
    cleared too (a dead session). It is an exception so that a framework can
    raise it from deep inside a request and answer it in one handler.
    """

    __slots__ = (
        "challenge",
        "clear_cookies",
        "error",
        "headers",
        "params",
        "reason",
        "scheme",
        "scope",
        "status",
    )

    def __init__(
        self,
        status: int,
        error: str,
        reason: str,
        *,
        challenge: str | None = None,
        clear_cookies: bool = False,
        scope: str = "",
        scheme: str = "Bearer",
        params: tuple[str, ...] = (),
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(f"{status} {error} ({reason})")
        self.status = status
        self.error = error
        self.reason = reason
        self.challenge = challenge
        self.clear_cookies = clear_cookies
        self.scope = scope
        #: The challenge's auth scheme and extra parameters (``DPoP``, ``algs="ES256"``).
        self.scheme = scheme
        self.params = params
        #: Headers the response carries besides the challenge (``DPoP-Nonce``).
        self.headers = headers


def unauthorized(reason: str = "no_token") -> Refusal:
    """401 with a bare ``Bearer`` challenge: no credentials at all."""
    return Refusal(401, "unauthorized", reason, challenge="")


def invalid_token(reason: str, *, clear_cookies: bool = False) -> Refusal:
    """401 ``invalid_token``: a bad, expired, revoked or reused access token."""
    return Refusal(
        401, "invalid_token", reason, challenge="invalid_token", clear_cookies=clear_cookies
    )


def invalid_grant(reason: str, *, clear_cookies: bool = False) -> Refusal:
    """401 ``invalid_grant`` (RFC 6749 §5.2): the refresh route refused a refresh token."""
    return Refusal(401, "invalid_grant", reason, clear_cookies=clear_cookies)


def invalid_request(reason: str) -> Refusal:
    """400 ``invalid_request``: a body or header that cannot be read as asked."""
    return Refusal(400, "invalid_request", reason)


def insufficient_scope(reason: str, scope: str = "") -> Refusal:
    """403 ``insufficient_scope``: a valid token without the scope or freshness a route needs."""
    return Refusal(403, "insufficient_scope", reason, challenge="insufficient_scope", scope=scope)


def csrf_failed(reason: str) -> Refusal:
    """403 ``invalid_csrf_token``: a cookie-authenticated unsafe request without its proof."""
    return Refusal(403, "invalid_csrf_token", reason)


def unavailable(reason: str = "store_error") -> Refusal:
    """503 ``temporarily_unavailable``: the store failed; fail closed, the client may retry."""
    return Refusal(503, "temporarily_unavailable", reason)


class Reply(msgspec.Struct, frozen=True, kw_only=True):
    """A response as data: what an adapter sends, byte for byte.

    ``headers`` exclude ``Set-Cookie``, which :attr:`set_cookies` carries as
    structured values (frameworks have their own cookie types).
    :meth:`asgi_headers` renders everything for a raw ASGI response.
    """

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    set_cookies: tuple[SetCookie, ...] = ()

    def asgi_headers(
        self, cookie: Callable[[SetCookie], tuple[bytes, bytes]] | None = None
    ) -> list[tuple[bytes, bytes]]:
        """Every header, ``Set-Cookie`` included, as ASGI byte pairs.

        ``cookie`` renders each ``Set-Cookie`` header instead of
        :meth:`SetCookie.render`: a framework whose own responses set the same
        cookies renders them its way, so a cookie cleared reads as it was set.
        """
        raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in self.headers]
        if cookie is None:
            raw.extend((b"set-cookie", c.render().encode("latin-1")) for c in self.set_cookies)
        else:
            raw.extend(map(cookie, self.set_cookies))
        raw.append((b"content-length", str(len(self.body)).encode("ascii")))
        return raw


def json_reply(
    content: Any,
    *,
    status: int = 200,
    headers: tuple[tuple[str, str], ...] = (),
    set_cookies: tuple[SetCookie, ...] = (),
) -> Reply:
    """A JSON response no cache keeps."""
    return Reply(
        status=status,
        body=_encode(content),
        headers=(_JSON, *NO_STORE, *headers),
        set_cookies=set_cookies,
    )


def no_content(set_cookies: tuple[SetCookie, ...] = ()) -> Reply:
    """204, no body, not cached."""
    return Reply(status=204, headers=NO_STORE, set_cookies=set_cookies)


def challenge(
    realm: str | None,
    error: str,
    scope: str = "",
    *,
    scheme: str = "Bearer",
    extra: tuple[str, ...] = (),
) -> str:
    """The ``WWW-Authenticate`` value (RFC 6750 §3; RFC 9449 §7.1 with ``scheme="DPoP"``)."""
    params = [f'realm="{realm}"'] if realm else []
    if error:
        params.append(f'error="{error}"')
    if scope:
        params.append(f'scope="{scope}"')
    params.extend(extra)
    return f"{scheme} " + ", ".join(params) if params else scheme


def refusal_reply(
    refusal: Refusal, realm: str | None = None, clearing: tuple[SetCookie, ...] = ()
) -> Reply:
    """The response for ``refusal``: ``{"error": code}``, its challenge, maybe clearing cookies."""
    headers: list[tuple[str, str]] = []
    if refusal.challenge is not None:
        headers.append(
            (
                "www-authenticate",
                challenge(
                    realm,
                    refusal.challenge,
                    refusal.scope,
                    scheme=refusal.scheme,
                    extra=refusal.params,
                ),
            )
        )
    headers.extend(refusal.headers)
    if refusal.status == 503:
        headers.append(("retry-after", "1"))
    return json_reply(
        {"error": refusal.error},
        status=refusal.status,
        headers=tuple(headers),
        set_cookies=clearing if refusal.clear_cookies else (),
    )


__all__ = (
    "NO_STORE",
    "Refusal",
    "Reply",
    "challenge",
    "csrf_failed",
    "insufficient_scope",
    "invalid_grant",
    "invalid_request",
    "invalid_token",
    "json_reply",
    "no_content",
    "refusal_reply",
    "unauthorized",
    "unavailable",
)
