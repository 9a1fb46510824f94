"""The facts of one HTTP request, as any framework can state them.

Headers are kept as the raw ``(name, value)`` byte pairs an ASGI server
hands over (names lower-case): nothing is copied or decoded until a rule
asks for it, because the bearer check runs on every authenticated request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class HttpRequest:
    """Method, path, headers, query string and body of a request; cookies parsed on demand.

    ``headers`` are byte pairs with lower-case names (as ASGI gives them),
    in a collection that can be iterated more than once (a list);
    :meth:`build` accepts any casing and ``str`` values. ``body`` is only
    read by the routes that take one (refresh, logout, login): a middleware
    passes ``b""``. ``websocket`` marks a WebSocket handshake, which has no
    response to carry cookies and needs a same-origin check for them.
    """

    __slots__ = ("_cookies", "body", "headers", "method", "path", "query", "scheme", "websocket")

    def __init__(
        self,
        method: str,
        path: str,
        headers: Iterable[tuple[bytes, bytes]],
        *,
        query: bytes = b"",
        body: bytes = b"",
        websocket: bool = False,
        scheme: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.query = query
        self.body = body
        self.websocket = websocket
        #: ``http`` or ``https`` when the server said (DPoP proofs name the whole URL).
        self.scheme = scheme
        self._cookies: Mapping[str, str] | None = None

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        headers: Iterable[tuple[str | bytes, str | bytes]] = (),
        *,
        query: str | bytes = b"",
        body: bytes = b"",
        websocket: bool = False,
        scheme: str | None = None,
    ) -> HttpRequest:
        """A request from headers in any casing, as ``str`` or ``bytes``."""
        pairs = [(_bytes(name).lower(), _bytes(value)) for name, value in headers]
        return cls(
            method.upper(),
            path,
            pairs,
            query=_bytes(query),
            body=body,
            websocket=websocket,
            scheme=scheme,
        )

    @classmethod
    def from_asgi(cls, scope: Mapping[str, Any], body: bytes = b"") -> HttpRequest:
        """The facts of an ASGI ``http`` or ``websocket`` scope."""
        websocket = scope["type"] == "websocket"
        return cls(
            "GET" if websocket else scope["method"],
            scope["path"],
            scope["headers"],
            query=scope.get("query_string", b""),
            body=body,
            websocket=websocket,
            scheme=_HTTP_SCHEMES.get(scope.get("scheme", "")),
        )

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower-case bytes), or ``None``."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_values(self, name: bytes) -> list[bytes]:
        """Every value of header ``name`` (lower-case bytes), in order."""
        return [value for key, value in self.headers if key == name]

    @property
    def cookies(self) -> Mapping[str, str]:
        """Every ``Cookie`` header, parsed and merged; the first of a name wins."""
        found = self._cookies
        if found is None:
            raw = self.header_values(b"cookie")
            found = self._cookies = parse_cookies(b"; ".join(raw)) if raw else {}
        return found

    @property
    def content_type(self) -> str:
        """The media type of the body, lower-case, without parameters (``""`` if none)."""
        value = self.header(b"content-type")
        if value is None:
            return ""
        return value.partition(b";")[0].strip().decode("latin-1").lower()

    def __repr__(self) -> str:  # never the headers: they carry credentials
        return f"HttpRequest({self.method} {self.path})"


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


_HTTP_SCHEMES = {"http": "http", "https": "https", "ws": "http", "wss": "https"}


def _bytes(value: str | bytes) -> bytes:
    return value.encode("latin-1") if isinstance(value, str) else value


__all__ = ("HttpRequest", "parse_cookies")
