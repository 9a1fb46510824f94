"""Verified claims and issued token pairs."""

from __future__ import annotations

from typing import Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from ._errors import ClaimError

#: JOSE ``typ`` of access tokens (RFC 9068).
ACCESS_TYP: Final = "at+jwt"
#: JOSE ``typ`` of refresh tokens: never accepted where an access token is expected.
REFRESH_TYP: Final = "refresh+jwt"

#: Claim names tokenlife sets itself; custom claims may not override them.
RESERVED_CLAIMS: Final = frozenset(
    {"iss", "sub", "aud", "iat", "exp", "nbf", "jti", "sid", "scope", "fresh", "csrf", "gen", "cnf"}
)


class Claims(msgspec.Struct, frozen=True, kw_only=True, dict=True, omit_defaults=True):
    """The verified payload of a token, its registered claims typed.

    msgspec decodes straight into this Struct, so every registered claim's
    JSON type is checked in C (``true`` is not a number, ``null`` is not a
    string). Claims tokenlife does not define are decoded only when asked for,
    through :meth:`custom` or :meth:`get`. Immutable, so a verified instance
    can be shared by every request presenting the same token.
    """

    exp: int | float
    iat: int | float | UnsetType = UNSET
    nbf: int | float | UnsetType = UNSET
    sub: str | UnsetType = UNSET
    jti: str | UnsetType = UNSET
    sid: str | UnsetType = UNSET
    iss: str | UnsetType = UNSET
    aud: str | tuple[str, ...] | UnsetType = UNSET
    scope: str | UnsetType = UNSET
    csrf: str | UnsetType = UNSET
    fresh: bool = False
    #: The session generation an access token was minted in (see SessionRecord).
    gen: int | UnsetType = UNSET
    #: Confirmation (RFC 7800): ``{"jkt": <thumbprint>}`` on a DPoP-bound token (RFC 9449 §6).
    cnf: dict[str, Any] | UnsetType = UNSET

    @property
    def jkt(self) -> str | None:
        """The RFC 7638 thumbprint of the key the token is bound to (``cnf.jkt``), or ``None``."""
        cnf = self.cnf
        if cnf is UNSET:
            return None
        jkt = cnf.get("jkt")
        return jkt if isinstance(jkt, str) else None

    @property
    def subject(self) -> str:
        """``sub``; the lifecycle always requires it."""
        return self.sub if self.sub is not UNSET else ""

    @property
    def session_id(self) -> str | None:
        return self.sid if self.sid is not UNSET else None

    @property
    def token_id(self) -> str | None:
        return self.jti if self.jti is not UNSET else None

    @property
    def issued_at(self) -> float | None:
        return None if self.iat is UNSET else self.iat

    @property
    def scopes(self) -> tuple[str, ...]:
        return tuple(self.scope.split()) if self.scope is not UNSET else ()

    def custom(self) -> dict[str, Any]:
        """The claims tokenlife does not define itself (decoded on first use; a copy)."""
        # The instance dict is outside the frozen fields: the codec keeps the
        # verified payload there, and JSON can never reach it.
        cached: dict[str, Any] | None = self.__dict__.get("_custom")
        if cached is None:
            raw = self.__dict__.get("_payload")
            try:
                everything = msgspec.json.decode(raw) if raw is not None else {}
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                # e.g. an integer Python refuses to build (over 4300 digits)
                raise ClaimError("the token's custom claims cannot be decoded") from None
            cached = {k: v for k, v in everything.items() if k not in RESERVED_CLAIMS}
            self.__dict__["_custom"] = cached
        return dict(cached)

    def get(self, name: str, default: Any = None) -> Any:
        """Any claim by name, registered or custom."""
        if name in RESERVED_CLAIMS:
            value = getattr(self, name)
            return default if value is UNSET else value
        return self.custom().get(name, default)

    def to_dict(self) -> dict[str, Any]:
        """Every claim, registered and custom, as plain JSON values."""
        return {**_without_unset(self), **self.custom()}


def _without_unset(claims: Claims) -> dict[str, Any]:
    return {
        name: value
        for name in claims.__struct_fields__
        if (value := getattr(claims, name)) is not UNSET
    }


class TokenPair(msgspec.Struct, frozen=True, kw_only=True):
    """What a login or a refresh returns."""

    access_token: str
    refresh_token: str
    session_id: str
    access_expires_at: int
    refresh_expires_at: int
    expires_in: int
    #: ``"bearer"``, or ``"DPoP"`` for a session bound to a key (RFC 9449 §5).
    token_type: str = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    csrf_token: str | None = None

    def to_response(self) -> dict[str, Any]:
        """The OAuth 2.0 token response body (RFC 6749 §5.1)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }


__all__ = ("ACCESS_TYP", "REFRESH_TYP", "RESERVED_CLAIMS", "Claims", "TokenPair")
