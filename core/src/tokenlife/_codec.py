"""Compact JWS encode/decode: pyjwt's key objects do the crypto, msgspec the JSON.

Strict by construction and lean on the hot path: one ``bytes.translate``
checks the alphabet, the JOSE header is parsed strictly once per distinct
header segment and cached, and msgspec decodes the payload straight into a
typed Struct, so claim types are checked in C. Every failure is a
``TokenError`` with a reason code, whatever the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

import msgspec
from msgspec import UNSET, UnsetType

from ._b64 import b64url_decode, b64url_decode_checked, b64url_encode
from ._claims import ACCESS_TYP, REFRESH_TYP, Claims
from ._clock import system_time
from ._errors import (
    AlgorithmError,
    ClaimError,
    ConfigurationError,
    ExpiredTokenError,
    MalformedTokenError,
    NotYetValidError,
    SignatureError,
    TokenTooLargeError,
    TokenTypeError,
    UnknownKeyError,
    UnsupportedHeaderError,
)
from ._keys import Key, KeySet

#: Tokens longer than this are refused before any decoding.
DEFAULT_MAX_TOKEN_BYTES: Final = 8192
#: The most clock skew a codec will forgive (RFC 8725 asks for a small leeway).
MAX_LEEWAY: Final = 300.0
#: Largest NumericDate accepted: beyond year 9999 a date is an attack or a bug.
MAX_NUMERIC_DATE: Final = 253402300799

_TOKEN_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
#: Header members that point at keys elsewhere or change how the JWS is processed.
_REFUSED_HEADERS: Final = frozenset(
    {"crit", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "zip", "b64"}
)
_HEADER_CACHE_SIZE: Final = 64
_REQUIRE_CACHE_SIZE: Final = 16
#: A header segment's (typ, HMAC check after it, verify of decoded signatures, key).
_HeaderEntry = tuple[
    str, Callable[[bytes, bytes], bool] | None, Callable[[bytes, bytes], bool] | None, Key
]
_MAX: Final = MAX_NUMERIC_DATE
_MIN: Final = -MAX_NUMERIC_DATE

_json_decode = msgspec.json.Decoder().decode
_json_encode = msgspec.json.Encoder().encode
_claims_decode = msgspec.json.Decoder(Claims).decode


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise MalformedTokenError("duplicate member names in a JSON object")
    return result


def _strict_json_object(raw: bytes, what: str) -> dict[str, Any]:
    """Decode a JSON object, refusing duplicate member names at any depth."""
    try:
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except MalformedTokenError:
        raise
    except (ValueError, RecursionError):
        raise MalformedTokenError(f"the {what} is not valid UTF-8 JSON") from None
    if type(value) is not dict:
        raise MalformedTokenError(f"the {what} is not a JSON object")
    # json accepts NaN/Infinity; msgspec's parser is the reference for what JSON is.
    try:
        _json_decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        raise MalformedTokenError(f"the {what} is not valid JSON") from None
    return value


def _split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """Exactly three non-empty base64url segments, or ``MalformedTokenError``."""
    if raw.translate(None, _TOKEN_ALPHABET):
        raise MalformedTokenError("a token may hold only base64url characters and dots")
    parts = raw.split(b".")
    if len(parts) != 3 or not (parts[0] and parts[1] and parts[2]):
        raise MalformedTokenError("not a compact JWS (three base64url segments)")
    return parts[0], parts[1], parts[2]


#: Registered claims whose absence shows as UNSET on a decoded ``Claims``.
_UNSET_DEFAULT_CLAIMS: Final = frozenset(Claims.__struct_fields__) - {"fresh"}


def _payload_members(payload: bytes) -> dict[str, Any]:
    try:
        members = _json_decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        raise ClaimError("the payload's custom claims cannot be decoded") from None
    return members if type(members) is dict else {}


def _ascii(token: str | bytes, max_bytes: int) -> bytes:
    """The token as bytes, refused before any decoding if too long or not ASCII."""
    if isinstance(token, str):
        if len(token) > max_bytes:
            raise TokenTooLargeError(f"token longer than {max_bytes} bytes")
        try:
            return token.encode("ascii")
        except UnicodeEncodeError:
            raise MalformedTokenError("token contains non-ASCII characters") from None
    if isinstance(token, (bytes, bytearray, memoryview)):
        if len(token) > max_bytes:
            raise TokenTooLargeError(f"token longer than {max_bytes} bytes")
        return bytes(token)
    raise MalformedTokenError("a token must be str or bytes")


def peek_header(
    token: str | bytes, *, max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
) -> dict[str, Any]:
    """A token's JOSE header, strictly parsed but *not* verified. For diagnostics:
    nothing read this way may be trusted."""
    header_segment = _split(_ascii(token, max_token_bytes))[0]
    return _strict_json_object(b64url_decode(header_segment), "header")


def peek_claims(
    token: str | bytes, *, max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
) -> dict[str, Any]:
    """A token's payload, parsed but *not* verified. For diagnostics only.

    Stricter than :meth:`Codec.decode` about one thing: a payload with
    duplicate member names is refused here, where verification resolves them
    to the last one (RFC 7515 §5.2 allows either; see the security page).
    """
    payload = b64url_decode(_split(_ascii(token, max_token_bytes))[1])
    return _strict_json_object(payload, "payload")


def _in_range(value: int | float) -> bool:
    return -MAX_NUMERIC_DATE <= value <= MAX_NUMERIC_DATE


class Codec:
    """Signs and verifies compact JWS tokens with a :class:`KeySet`.

    ``typ`` is explicit on both sides (``at+jwt`` or ``refresh+jwt``), so an
    access token is never accepted where a refresh token is expected, nor
    the reverse.
    """

    __slots__ = (
        "_audience",
        "_headers",
        "_issuer",
        "_keys",
        "_last_require",
        "_leeway",
        "_max_bytes",
        "_requires",
        "_signing_headers",
    )

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str | None = None,
        audience: str | Sequence[str] | None = None,
        leeway: float = 0,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
    ) -> None:
        if not isinstance(keys, KeySet):
            raise ConfigurationError("Codec needs a KeySet")
        if issuer is not None and (not isinstance(issuer, str) or not issuer):
            raise ConfigurationError("issuer must be a non-empty string or None")
        if isinstance(audience, str):
            audience = (audience,)
        if audience is not None:
            audience = tuple(audience)
            if not audience or not all(isinstance(a, str) and a for a in audience):
                raise ConfigurationError("audience must be non-empty strings")
        if not 0 <= leeway <= MAX_LEEWAY:
            raise ConfigurationError(f"leeway must be between 0 and {MAX_LEEWAY:g} seconds")
        if not 256 <= max_token_bytes <= 1 << 20:
            raise ConfigurationError("max_token_bytes must be between 256 and 1 MiB")
        self._keys = keys
        self._issuer = issuer
        self._audience: tuple[str, ...] | None = audience
        self._leeway = float(leeway)
        self._max_bytes = max_token_bytes
        self._headers: dict[bytes, _HeaderEntry] = {}
        self._requires: dict[tuple[str, ...], Callable[[Claims], bool]] = {}
        self._last_require: tuple[object, Callable[[Claims], bool] | None] = (None, None)
        self._signing_headers: dict[str, bytes] = {}

    @property
    def keys(self) -> KeySet:
        return self._keys

    @property
    def issuer(self) -> str | None:
        return self._issuer

    @property
    def audience(self) -> tuple[str, ...] | None:
        return self._audience

    @property
    def leeway(self) -> float:
        return self._leeway

    # -- encode ---------------------------------------------------------------

    def encode(self, claims: Mapping[str, Any], *, typ: str = ACCESS_TYP) -> str:
        """Sign ``claims`` with the active key. Adds ``iss``/``aud`` when configured."""
        header = self._signing_headers.get(typ)
        if header is None:
            header = self._signing_header(typ)
        if self._issuer is not None and "iss" not in claims:
            claims = {**claims, "iss": self._issuer}
        if self._audience is not None and "aud" not in claims:
            aud = self._audience[0] if len(self._audience) == 1 else list(self._audience)
            claims = {**claims, "aud": aud}
        try:
            payload = b64url_encode(_json_encode(claims))
        except (TypeError, ValueError, OverflowError) as exc:
            raise ClaimError(f"claims are not JSON-serializable: {exc}") from None
        signing_input = header + b"." + payload
        signature = self._keys.active.sign(signing_input)
        return (signing_input + b"." + b64url_encode(signature)).decode("ascii")

    def _signing_header(self, typ: str) -> bytes:
        if not isinstance(typ, str) or not typ:
            raise ConfigurationError("typ must be a non-empty string")
        key = self._keys.active
        segment = b64url_encode(_json_encode({"alg": key.algorithm, "kid": key.kid, "typ": typ}))
        self._signing_headers[typ] = segment
        return segment

    # -- decode ---------------------------------------------------------------

    def decode(
        self,
        token: str | bytes,
        *,
        typ: str = ACCESS_TYP,
        now: float | None = None,
        require: Iterable[str] = (),
        allow_expired: bool = False,
    ) -> Claims:
        """Verify ``token`` and return its claims; raise a ``TokenError`` otherwise.

        ``exp`` is always required; ``require`` names more claims that must be
        present. ``now`` defaults to the system clock. ``allow_expired`` accepts
        an authentic token past its ``exp`` (every other check still applies):
        for the one thing such a token may still do, end its own session.
        """
        # The common case, with the fewest Python operations: a token under a
        # header already seen. Every step either proves that the strict path
        # (_decode_strict) would reach the same point, or hands the token to
        # it, so the errors and their order are the strict path's.
        if type(token) is str and token.isascii() and len(token) <= self._max_bytes:
            raw = token.encode()
        elif type(token) is bytes and len(token) <= self._max_bytes:
            raw = token
        else:
            return self._decode_strict(token, typ, now, require, allow_expired)
        try:
            header_segment, payload_segment, signature_segment = raw.split(b".")
        except ValueError:  # not three segments
            return self._decode_strict(token, typ, now, require, allow_expired)
        entry = self._headers.get(header_segment)
        if entry is None:
            return self._decode_strict(token, typ, now, require, allow_expired)
        entry_typ, mac_check, verify, _ = entry
        if entry_typ != typ:
            return self._decode_strict(token, typ, now, require, allow_expired)
        if mac_check is not None:
            valid = mac_check(payload_segment, signature_segment)
        else:
            signature = b64url_decode_checked(signature_segment)
            if signature is None or verify is None:
                return self._decode_strict(token, typ, now, require, allow_expired)
            valid = verify(header_segment + b"." + payload_segment, signature)
        if not valid:
            _split(raw)  # a token that is not even well-formed says so first
            raise SignatureError("signature verification failed")
        payload = b64url_decode_checked(payload_segment)
        if payload is None:
            return self._decode_strict(token, typ, now, require, allow_expired)
        try:
            claims = _claims_decode(payload)
        except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
            return self._decode_strict(token, typ, now, require, allow_expired)
        claims.__dict__["_payload"] = payload  # for Claims.custom(); not a field
        if now is None:
            now = system_time()
        # Holds only when _check_claims would pass without a doubt; in any
        # other case _check_claims decides (and raises the precise error).
        exp, nbf, iat, aud, audience = (
            claims.exp,
            claims.nbf,
            claims.iat,
            claims.aud,
            self._audience,
        )
        low, high = now - self._leeway, now + self._leeway
        if (
            allow_expired
            or not (low < exp <= _MAX and exp >= _MIN)
            or (nbf is not UNSET and not (_MIN <= nbf <= _MAX and nbf <= high))
            or (iat is not UNSET and not (_MIN <= iat <= _MAX and iat <= high))
            or (self._issuer is not None and claims.iss != self._issuer)
            or (
                aud is not UNSET
                if audience is None
                else type(aud) is not str or aud not in audience
            )
        ):
            self._check_claims(claims, now, allow_expired)
        if require:
            last = self._last_require
            missing = last[1] if last[0] is require else self._presence(require)
            if missing is None or missing(claims):
                self._check_required(claims, payload, require)
        return claims

    def _presence(self, require: Iterable[str]) -> Callable[[Claims], bool] | None:
        """For a tuple of registered claim names, a test that one of them is missing.

        Built once per tuple (at most ``_REQUIRE_CACHE_SIZE`` of them) as one
        ``or`` of ``is UNSET`` tests, which is several times faster than any
        loop; the source holds nothing but ``Claims`` field names, checked here.
        """
        if type(require) is not tuple:
            return None
        try:
            missing = self._requires.get(require)
        except TypeError:  # unhashable names: the strict loop says what is wrong
            return None
        if missing is None:
            if len(self._requires) >= _REQUIRE_CACHE_SIZE or not all(
                type(name) is str and name in _UNSET_DEFAULT_CLAIMS for name in require
            ):
                return None
            source = " or ".join(f"claims.{name} is UNSET" for name in require)
            missing = eval(f"lambda claims: {source}", {"UNSET": UNSET})  # noqa: S307
            self._requires[require] = missing
        self._last_require = (require, missing)
        return missing

    def _decode_strict(
        self,
        token: str | bytes,
        typ: str,
        now: float | None,
        require: Iterable[str],
        allow_expired: bool,
    ) -> Claims:
        """Every check in order, each failure with its precise error."""
        header_segment, payload_segment, signature_segment = _split(self._ascii(token))
        cached = self._headers.get(header_segment)
        token_typ, key = (
            (cached[0], cached[3]) if cached is not None else self._header(header_segment)
        )
        if token_typ != typ:
            raise TokenTypeError(f"expected a {typ!r} token, got {token_typ!r}")
        if not key.verify_segment(header_segment + b"." + payload_segment, signature_segment):
            raise SignatureError("signature verification failed")
        payload = b64url_decode(payload_segment)
        try:
            claims = _claims_decode(payload)
        except msgspec.ValidationError as exc:
            raise ClaimError(f"invalid claims: {exc}") from None
        except (msgspec.DecodeError, RecursionError):
            raise MalformedTokenError("the payload is not a valid UTF-8 JSON object") from None
        claims.__dict__["_payload"] = payload  # for Claims.custom(); not a field
        self._check_claims(claims, system_time() if now is None else now, allow_expired)
        self._check_required(claims, payload, require)
        return claims

    @staticmethod
    def _check_required(claims: Claims, payload: bytes, require: Iterable[str]) -> None:
        members: dict[str, Any] | None = None
        for name in require:
            if name in _UNSET_DEFAULT_CLAIMS:
                present = getattr(claims, name) is not UNSET
            else:  # a custom claim, or ``fresh`` (which defaults to False): look at the JSON
                if members is None:
                    members = _payload_members(payload)
                present = members.get(name) is not None
            if not present:
                raise ClaimError(f"claim {name!r} is required", code="missing_claim")

    def decode_access(self, token: str | bytes, *, now: float | None = None) -> Claims:
        return self.decode(token, typ=ACCESS_TYP, now=now)

    def decode_refresh(self, token: str | bytes, *, now: float | None = None) -> Claims:
        return self.decode(token, typ=REFRESH_TYP, now=now)

    def peek_header(self, token: str | bytes) -> dict[str, Any]:
        """The JOSE header, strictly parsed but *not* verified (for diagnostics)."""
        return peek_header(token, max_token_bytes=self._max_bytes)

    def peek_claims(self, token: str | bytes) -> dict[str, Any]:
        """The payload, parsed but *not* verified (for diagnostics only)."""
        return peek_claims(token, max_token_bytes=self._max_bytes)

    def _ascii(self, token: str | bytes) -> bytes:
        return _ascii(token, self._max_bytes)

    def _header(self, segment: bytes) -> tuple[str, Key]:
        header = _strict_json_object(b64url_decode(segment), "header")
        refused = _REFUSED_HEADERS.intersection(header)
        if refused:
            raise UnsupportedHeaderError(f"refused header member(s): {sorted(refused)}")
        alg, kid, typ = header.get("alg"), header.get("kid"), header.get("typ")
        if not isinstance(alg, str):
            raise MalformedTokenError("the header has no 'alg' string")
        if not isinstance(kid, str) and "kid" in header:  # `"kid": null` is not "no kid"
            raise MalformedTokenError("the header 'kid' must be a string")
        if not isinstance(typ, str):
            raise TokenTypeError("the header has no 'typ': tokens must be explicitly typed")
        key = self._keys.get(kid)
        if key is None:
            raise UnknownKeyError("no key matches the token's 'kid'")
        if alg != key.algorithm:
            raise AlgorithmError(f"alg {alg!r} is not the algorithm bound to this key")
        if len(self._headers) < _HEADER_CACHE_SIZE:
            mac_after = key.mac_after
            self._headers[segment] = (
                typ,
                mac_after(segment + b".") if mac_after is not None else None,
                key.verify if key.decodes_segment else None,
                key,
            )
        return typ, key

    def _check_claims(self, claims: Claims, now: float, allow_expired: bool = False) -> None:
        leeway = self._leeway
        exp, nbf, iat = claims.exp, claims.nbf, claims.iat
        if not _in_range(exp):
            raise ClaimError("claim 'exp' is out of range", code="bad_claim_type")
        if exp <= now - leeway and not allow_expired:
            raise ExpiredTokenError("the token has expired")
        if nbf is not UNSET:
            if not _in_range(nbf):
                raise ClaimError("claim 'nbf' is out of range", code="bad_claim_type")
            if nbf > now + leeway:
                raise NotYetValidError("the token is not valid yet (nbf)")
        if iat is not UNSET:
            if not _in_range(iat):
                raise ClaimError("claim 'iat' is out of range", code="bad_claim_type")
            if iat > now + leeway:
                raise NotYetValidError("the token was issued in the future (iat)")
        if self._issuer is not None and claims.iss != self._issuer:
            raise ClaimError("the token has a different issuer", code="bad_issuer")
        if claims.aud is not UNSET or self._audience is not None:
            self._check_audience(claims.aud)

    def _check_audience(self, aud: str | tuple[str, ...] | UnsetType) -> None:
        if aud is UNSET:
            raise ClaimError("claim 'aud' is required", code="bad_audience")
        if self._audience is None:
            # As RFC 7519 §4.1.3 asks: a recipient that expects no audience
            # must not accept a token addressed to someone.
            raise ClaimError(
                "the token names an audience and none is configured", code="bad_audience"
            )
        if type(aud) is str:
            if aud in self._audience:
                return
        elif aud and any(a in self._audience for a in aud):
            return
        raise ClaimError("the token is for a different audience", code="bad_audience")


__all__ = ("DEFAULT_MAX_TOKEN_BYTES", "MAX_LEEWAY", "Codec", "peek_claims", "peek_header")
