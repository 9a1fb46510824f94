"""Why a token was rejected, in one sentence a person can act on.

The codec says *what* failed with a stable ``TokenError.code``; this module
adds *how*: the values the token claims (parsed without verification, so they
are evidence, not truth) against what was expected. "expired 3 min ago", not
"the token has expired".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from tokenlife import ACCESS_TYP, REFRESH_TYP, Key, KeySet, TokenError

from ._clock import iso, span, when

#: Token kinds by JOSE ``typ`` (docs/design/lifecycle.md#tokens).
KINDS: Final = {ACCESS_TYP: "access", REFRESH_TYP: "refresh"}

#: Algorithms one key can plausibly be meant for: a hint to pass ``--alg``
#: makes sense inside a family, never across (RSA key vs HS256 is an attack).
_FAMILIES: Final = (
    frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    frozenset({"HS256", "HS384", "HS512"}),
)


@dataclass(frozen=True)
class Expectations:
    """What the token was checked against, as the person asked for it."""

    typ: str
    issuer: str | None
    audience: tuple[str, ...] | None
    leeway: float
    now: float
    keys: KeySet
    #: ``--alg`` was given (else the algorithm came from the key itself).
    algorithm_given: bool


@dataclass(frozen=True)
class _Case:
    error: TokenError
    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    expect: Expectations

    def key(self) -> Key | None:
        kid = self.header.get("kid")
        return self.expect.keys.get(kid if isinstance(kid, str) else None)

    def number(self, name: str) -> float | None:
        value = self.claims.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)

    def leeway(self) -> str:
        leeway = self.expect.leeway
        return f", beyond the {leeway:g} s leeway" if leeway else ""


def explain(
    error: TokenError,
    header: Mapping[str, Any] | None,
    claims: Mapping[str, Any] | None,
    expect: Expectations,
) -> str:
    """One line saying exactly why ``error`` happened to this token."""
    case = _Case(error, header or {}, claims or {}, expect)
    handler = _HANDLERS.get(error.code)
    if handler is not None:
        return handler(case)
    return f"{error.code.replace('_', ' ')}: {error.message}"


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _kind(typ: object) -> str:
    kind = KINDS.get(typ) if isinstance(typ, str) else None
    return f"{kind} token (typ {typ!r})" if kind else f"token of typ {_show(typ)}"


def _a(text: str) -> str:
    """``an access token``, ``a refresh token``."""
    return f"{'an' if text[:1] in 'aeiou' else 'a'} {text}"


def _malformed(case: _Case) -> str:
    return f"malformed: {case.error.message}"


def _too_large(case: _Case) -> str:
    return f"too large: {case.error.message}; nothing was decoded"


def _bad_header(case: _Case) -> str:
    return (
        f"refused header: {case.error.message} (tokenlife never follows keys or "
        "processing rules named inside a token)"
    )


def _wrong_type(case: _Case) -> str:
    wanted = f"expected {_a(_kind(case.expect.typ))}"
    if "typ" not in case.header:
        return f"wrong type: {wanted}, the token has no 'typ' header (tokens must be typed)"
    return f"wrong type: {wanted}, got {_a(_kind(case.header['typ']))}"


def _unknown_key(case: _Case) -> str:
    keys = case.expect.keys.keys
    kids = ", ".join(repr(k.kid) for k in keys)
    if "kid" not in case.header:
        return (
            f"unknown kid: the token names no 'kid' and the key set holds {len(keys)} keys "
            f"({kids}); only a one-key set matches that"
        )
    return f"unknown kid: the token names kid {_show(case.header['kid'])}, the keys have {kids}"


def _bad_algorithm(case: _Case) -> str:
    alg = case.header.get("alg")
    key = case.key()
    text = f"algorithm not bound to key: the token says alg {_show(alg)}"
    if key is None:
        return text
    text += f", key {key.kid!r} is bound to {key.algorithm!r}"
    if isinstance(alg, str) and alg.lower() == "none":
        return text + " (an unsigned token is never accepted)"
    same_family = any(alg in family and key.algorithm in family for family in _FAMILIES)
    if same_family and not case.expect.algorithm_given:
        text += f" (if this key really signs {alg}, pass --alg {alg})"
    return text


def _bad_signature(case: _Case) -> str:
    key = case.key()
    which = f"key {key.kid!r} ({key.algorithm})" if key is not None else "this key"
    return f"bad signature: not signed by {which}, or altered after signing"


def _bad_issuer(case: _Case) -> str:
    claims = case.claims
    said = f"token says {_show(claims['iss'])}" if "iss" in claims else "token has no 'iss'"
    return f"wrong issuer (expected {case.expect.issuer!r}, {said})"


def _bad_audience(case: _Case) -> str:
    claims, audience = case.claims, case.expect.audience
    expected = " or ".join(repr(a) for a in audience) if audience else "none"
    said = f"token says {_show(claims['aud'])}" if "aud" in claims else "token has no 'aud'"
    return f"wrong audience (expected {expected}, {said})"


def _expired(case: _Case) -> str:
    exp, now = case.number("exp"), case.expect.now
    if exp is None:
        return f"expired: {case.error.message}"
    if exp > now:  # within the leeway arithmetic only; say it plainly
        return f"expired at {iso(exp)}"
    return f"expired {span(now - exp)} ago (exp {iso(exp)}{case.leeway()})"


def _not_yet_valid(case: _Case) -> str:
    now = case.expect.now
    limit = now + case.expect.leeway
    nbf, iat = case.number("nbf"), case.number("iat")
    if nbf is not None and nbf > limit:
        return f"not valid yet: nbf is {when(nbf, now)}{case.leeway()}"
    if iat is not None and iat > limit:
        return (
            f"issued in the future: iat is {when(iat, now)}{case.leeway()}; "
            "is the issuer's clock ahead?"
        )
    return f"not valid yet: {case.error.message}"


def _missing_claim(case: _Case) -> str:
    kind = KINDS.get(case.expect.typ, "tokenlife")
    return f"missing claim: {case.error.message.replace('claim ', '', 1)} in {_a(kind)} token"


def _bad_claim(case: _Case) -> str:
    return f"invalid claims: {case.error.message}"


_HANDLERS: Final[dict[str, Callable[[_Case], str]]] = {
    "malformed": _malformed,
    "too_large": _too_large,
    "bad_header": _bad_header,
    "wrong_type": _wrong_type,
    "unknown_key": _unknown_key,
    "bad_algorithm": _bad_algorithm,
    "bad_signature": _bad_signature,
    "bad_issuer": _bad_issuer,
    "bad_audience": _bad_audience,
    "expired": _expired,
    "not_yet_valid": _not_yet_valid,
    "missing_claim": _missing_claim,
    "bad_claim": _bad_claim,
    "bad_claim_type": _bad_claim,
}

__all__ = ("KINDS", "Expectations", "explain")
