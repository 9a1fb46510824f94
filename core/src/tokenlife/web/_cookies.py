"""The three auth cookies, set and cleared with the very same attributes.

A browser only deletes a cookie when the clearing ``Set-Cookie`` names the
same name, ``Path`` and ``Domain``; keeping every attribute in one place is
what makes "logout clears the cookies" true rather than hopeful.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from tokenlife._claims import TokenPair

from ._config import CookieConfig, SameSite


class SetCookie(msgspec.Struct, frozen=True, kw_only=True):
    """One ``Set-Cookie`` header as data; :meth:`render` gives its value."""

    name: str
    value: str
    max_age: int
    path: str
    domain: str | None
    secure: bool
    httponly: bool
    samesite: SameSite

    def render(self) -> str:
        """The header value (RFC 6265): ``name=value; Path=...; ...``."""
        parts = [f"{self.name}={self.value}", f"Path={self.path}", f"Max-Age={self.max_age}"]
        if self.domain is not None:
            parts.append(f"Domain={self.domain}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        parts.append(f"SameSite={self.samesite.capitalize()}")
        return "; ".join(parts)


class CookieJar:
    """Builds the ``Set-Cookie`` values of one :class:`CookieConfig`."""

    __slots__ = ("config", "names", "refresh_path")

    def __init__(self, config: CookieConfig, refresh_path: str) -> None:
        self.config = config
        self.refresh_path = refresh_path
        #: Cookie names the web layer owns, as bytes (to spot them in raw headers).
        self.names = tuple(
            name.encode("latin-1")
            for name in (config.access_cookie, config.refresh_cookie, config.csrf_cookie)
        )

    def _cookie(
        self, name: str, value: str, max_age: int, *, path: str, httponly: bool
    ) -> SetCookie:
        config = self.config
        return SetCookie(
            name=name,
            value=value,
            max_age=max_age,
            path=path,
            domain=config.domain,
            secure=config.secure,
            httponly=httponly,
            samesite=config.samesite,
        )

    def issued(self, pair: TokenPair) -> tuple[SetCookie, ...]:
        """Cookies carrying a freshly minted pair.

        Lifetimes are counted from the pair's own issue time (the authority's
        clock), so the refresh cookie never outlives the refresh token, which
        never outlives its session.
        """
        config = self.config
        issued_at = pair.access_expires_at - pair.expires_in
        refresh_age = max(0, pair.refresh_expires_at - issued_at)
        cookies = [
            self._cookie(
                config.access_cookie,
                pair.access_token,
                pair.expires_in,
                path=config.path,
                httponly=True,
            ),
            self._cookie(
                config.refresh_cookie,
                pair.refresh_token,
                refresh_age,
                path=self.refresh_path,
                httponly=True,
            ),
        ]
        if pair.csrf_token is not None:
            # Readable by the page's scripts: that is the point of double submit.
            cookies.append(
                self._cookie(
                    config.csrf_cookie,
                    pair.csrf_token,
                    refresh_age,
                    path=config.path,
                    httponly=False,
                )
            )
        return tuple(cookies)

    def clearing(self) -> tuple[SetCookie, ...]:
        """The same three cookies, emptied and expired."""
        config = self.config
        return (
            self._cookie(config.access_cookie, "", 0, path=config.path, httponly=True),
            self._cookie(config.refresh_cookie, "", 0, path=self.refresh_path, httponly=True),
            self._cookie(config.csrf_cookie, "", 0, path=config.path, httponly=False),
        )

    def touches_ours(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        """Does a response already set or clear one of our cookies?

        Then it wins over cookies a refresh in-line would add: a response
        that logs out is never followed by cookies that log back in.
        """
        names = self.names
        for key, value in headers:
            if key.lower() == b"set-cookie" and value.partition(b"=")[0].strip() in names:
                return True
        return False


__all__ = ("CookieJar", "SetCookie")
