"""One body reader for every route that takes a token or credentials.

Bounded before parsing, JSON decoded by msgspec straight into a typed
Struct (unknown members skipped, nesting that would exhaust the stack
refused), forms as RFC 6749 §4 sends them. Anything unreadable — wrong
media type, too large, malformed, wrongly typed — is ``400 invalid_request``:
the client's request is bad, not its token, and nothing is touched.
"""

from __future__ import annotations

from typing import Final, TypeVar
from urllib.parse import parse_qsl

import msgspec

from ._config import DEFAULT_MAX_BODY_BYTES
from ._facts import HttpRequest
from ._replies import invalid_request

T = TypeVar("T")

_FORM: Final = "application/x-www-form-urlencoded"
_MAX_FIELDS: Final = 64
#: Members a token body may carry; anything else is ignored.
_TOKEN_FIELDS: Final = ("refresh_token", "token", "token_type_hint", "grant_type", "scope")


class TokenBody(msgspec.Struct, frozen=True, kw_only=True):
    """The token fields of a refresh or logout body (OAuth names; RFC 7009 calls it ``token``)."""

    refresh_token: str | None = None
    token: str | None = None
    token_type_hint: str | None = None
    grant_type: str | None = None
    #: RFC 6749 §6: a refresh may narrow the scope (space-delimited).
    scope: str | None = None

    @property
    def presented(self) -> str | None:
        """The token the body presents, whichever name it used."""
        return self.refresh_token or self.token or None


def is_json(media_type: str) -> bool:
    """``application/json`` or a ``+json`` type: what no cross-site form can send unasked.

    A page of another origin may post ``text/plain``, forms and multipart
    without a CORS preflight; a JSON media type needs the server's consent.
    """
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _bounded(request: HttpRequest, max_bytes: int) -> bytes:
    body = request.body
    if len(body) > max_bytes:
        raise invalid_request("body_too_large")
    return body


def json_body(request: HttpRequest, type: type[T], *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> T:
    """The body as ``type``; it must be JSON (by media type), bounded, well formed and typed."""
    if not is_json(request.content_type):
        raise invalid_request("not_json")
    return _decode(_bounded(request, max_bytes), type)


def _decode(raw: bytes, type: type[T]) -> T:
    try:
        return msgspec.json.decode(raw, type=type)
    except msgspec.ValidationError:  # a DecodeError subclass: first
        raise invalid_request("wrong_json_type") from None
    except (msgspec.DecodeError, RecursionError):
        raise invalid_request("malformed_json") from None


def token_body(request: HttpRequest, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> TokenBody:
    """The token fields of a JSON or form body; an empty body has none.

    Raises :class:`Refusal` (400 ``invalid_request``) for any other media
    type, an oversized body, malformed JSON or form, a field of the wrong
    type, or a field given twice.
    """
    raw = _bounded(request, max_bytes)
    if not raw.strip():
        return TokenBody()
    media_type = request.content_type
    if is_json(media_type):
        return _decode(raw, TokenBody)
    if media_type == _FORM:
        return _form(raw)
    raise invalid_request("unsupported_media_type")


def _form(raw: bytes) -> TokenBody:
    try:
        pairs = _form_pairs(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise invalid_request("malformed_form") from None
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in _TOKEN_FIELDS:
            if name in found:
                raise invalid_request("repeated_field")  # RFC 6749 §3.1
            found[name] = value
    return TokenBody(**found)


def _form_pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl`` with strict parsing, blank values kept and at most 64 fields.

    A body with nothing to decode (no ``%``, no ``+``: a token is base64url)
    is split here, with parse_qsl's own rules and errors; any other goes to
    parse_qsl itself.
    """
    if not text:
        return []
    if "%" in text or "+" in text:
        return parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, errors="strict", max_num_fields=64
        )
    pieces = text.split("&")
    if len(pieces) > _MAX_FIELDS:
        raise ValueError("Max number of fields exceeded")
    pairs: list[tuple[str, str]] = []
    for piece in pieces:
        name, sep, value = piece.partition("=")
        if not sep:
            raise ValueError(f"bad query field: {piece!r}")
        pairs.append((name, value))
    return pairs


__all__ = ("TokenBody", "is_json", "json_body", "token_body")
