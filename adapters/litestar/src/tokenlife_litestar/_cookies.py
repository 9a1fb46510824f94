"""The three auth cookies, set and cleared with the very same attributes.

A browser only deletes a cookie when the clearing ``Set-Cookie`` names the
same name, ``Path`` and ``Domain``; keeping every attribute in one place is
what makes "logout clears the cookies" true rather than hopeful.
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar.datastructures import Cookie

from tokenlife import TokenPair

from ._config import CookieConfig


class CookieJar:
    """Builds the ``Set-Cookie`` values for one :class:`CookieConfig`."""

    __slots__ = ("_config", "_refresh_path", "names")

    def __init__(self, config: CookieConfig, refresh_path: str) -> None:
        self._config = config
        self._refresh_path = refresh_path
        #: Cookie names the plugin owns, as bytes (to spot them in raw headers).
        self.names = tuple(
            name.encode("latin-1")
            for name in (config.access_name, config.refresh_name, config.csrf_name)
        )

    @property
    def config(self) -> CookieConfig:
        return self._config

    def _cookie(self, name: str, value: str, max_age: int, *, path: str, httponly: bool) -> Cookie:
        config = self._config
        return Cookie(
            key=name,
            value=value,
            max_age=max_age,
            path=path,
            domain=config.domain,
            secure=config.secure,
            httponly=httponly,
            samesite=config.samesite,
        )

    def issued(self, pair: TokenPair) -> list[Cookie]:
        """Cookies carrying a freshly minted pair.

        Lifetimes are counted from the pair's own issue time (the authority's
        clock), so the refresh cookie never outlives the refresh token, which
        never outlives its session.
        """
        config = self._config
        issued_at = pair.access_expires_at - pair.expires_in
        refresh_age = max(0, pair.refresh_expires_at - issued_at)
        cookies = [
            self._cookie(
                config.access_name,
                pair.access_token,
                pair.expires_in,
                path=config.path,
                httponly=True,
            ),
            self._cookie(
                config.refresh_name,
                pair.refresh_token,
                refresh_age,
                path=self._refresh_path,
                httponly=True,
            ),
        ]
        if pair.csrf_token is not None:
            # Readable by the page's scripts: that is the point of double submit.
            cookies.append(
                self._cookie(
                    config.csrf_name, pair.csrf_token, refresh_age, path=config.path, httponly=False
                )
            )
        return cookies

    def clearing(self) -> list[Cookie]:
        """The same three cookies, emptied and expired."""
        config = self._config
        return [
            self._cookie(config.access_name, "", 0, path=config.path, httponly=True),
            self._cookie(config.refresh_name, "", 0, path=self._refresh_path, httponly=True),
            self._cookie(config.csrf_name, "", 0, path=config.path, httponly=False),
        ]

    @staticmethod
    def raw(cookies: list[Cookie]) -> list[tuple[bytes, bytes]]:
        """ASGI header pairs for ``cookies``."""
        return [cookie.to_encoded_header() for cookie in cookies]

    def touches_ours(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Does a response already set or clear one of our cookies?"""
        names = self.names
        for key, value in headers:
            if key.lower() == b"set-cookie":
                name = value.partition(b"=")[0].strip()
                if name in names:
                    return True
        return False


def parse_cookies(header: bytes) -> Mapping[str, str]:
    """A ``Cookie`` header as a dict; the first occurrence of a name wins (RFC 6265 §5.4)."""
    found: dict[str, str] = {}
    for part in header.decode("latin-1").split(";"):
        name, sep, value = part.partition("=")
        if sep:
            name = name.strip()
            if name and name not in found:
                found[name] = value.strip().strip('"')
    return found


__all__ = ("CookieJar", "parse_cookies")
