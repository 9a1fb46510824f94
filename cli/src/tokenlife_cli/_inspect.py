"""``tokenlife inspect``: show what a token says and, given a key, whether to believe it.

Without a key the header and claims are shown as claimed — clearly marked as
unverified. With a key the token goes through the same ``Codec.decode`` the
library uses (same required claims as ``TokenAuthority``), and a rejection is
explained from its ``TokenError.code`` plus the unverified claims.
"""

from __future__ import annotations

import base64
import json
import math
import sys
from dataclasses import dataclass
from typing import Any, Final

from tokenlife import (
    ACCESS_REQUIRED_CLAIMS,
    ACCESS_TYP,
    REFRESH_TYP,
    Codec,
    ConfigurationError,
    MalformedTokenError,
    TokenError,
    peek_claims,
    peek_header,
)

from . import _clock, _keyfile
from ._errors import EXIT_OK, EXIT_REJECTED, CliError, UsageError
from ._explain import KINDS, Expectations, explain
from ._output import Result, escape

#: The claims ``TokenAuthority`` requires of both token kinds.
REQUIRED: Final = ACCESS_REQUIRED_CLAIMS
TIME_CLAIMS: Final = ("iat", "nbf", "exp")
TYPES: Final = {"access": ACCESS_TYP, "refresh": REFRESH_TYP}


@dataclass(frozen=True)
class InspectOptions:
    token: str
    keys: _keyfile.KeyOptions
    issuer: str | None
    audience: tuple[str, ...] | None
    kind: str | None
    leeway: float


def read_token(raw: str) -> str:
    """The token from the argument or, for ``-``, stdin; a ``Bearer`` prefix is dropped."""
    if raw == "-":
        try:
            raw = sys.stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read the token from stdin: {exc}") from None
    token = raw.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    if not token:
        raise CliError("no token given (empty argument or empty stdin)")
    return token


def _peek(token: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None, TokenError | None]:
    """Header and claims as claimed, and what makes the token undecodable, if anything.

    The header is parsed as strictly as ``decode`` parses it. The claims are
    too, except that duplicate member names fall back to "the last one wins",
    which is what ``decode`` does with them (RFC 7519 §4 allows either).
    """
    header = claims = None
    problem: TokenError | None = None
    try:
        header = peek_header(token)
    except TokenError as exc:
        problem = exc
    try:
        claims = peek_claims(token)
    except TokenError as exc:
        claims = _last_wins(token)
        if claims is None:
            problem = problem or exc
    return header, claims, problem


#: Why a member that parsed is still refused: no JSON text means these values.
HOSTILE: Final = (
    "the {part} holds a value JSON cannot carry (NaN, Infinity, a number out of "
    "range, or a lone surrogate)"
)


def _is_hostile(value: object, depth: int = 0) -> bool:
    """A non-finite number or a lone surrogate anywhere in a parsed member."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, str):
        return any(0xD800 <= ord(char) <= 0xDFFF for char in value)
    if isinstance(value, dict):
        return any(_is_hostile(k, depth + 1) or _is_hostile(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_is_hostile(item, depth + 1) for item in value)
    return False


def _refuse_hostile(
    header: dict[str, Any] | None, claims: dict[str, Any] | None, problem: TokenError | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None, TokenError | None]:
    """Drop a member holding a value no JSON text means; the token is then malformed."""
    if _is_hostile(header):
        header, problem = None, MalformedTokenError(HOSTILE.format(part="header"))
    if _is_hostile(claims):
        claims = None
        problem = problem or MalformedTokenError(HOSTILE.format(part="payload"))
    return header, claims, problem


def _last_wins(token: str) -> dict[str, Any] | None:
    try:
        payload = base64.urlsafe_b64decode(token.split(".")[1] + "==")
        value = json.loads(payload)
    except (IndexError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _audience(options: InspectOptions, claims: dict[str, Any] | None) -> tuple[str, ...] | None:
    """``--audience``, else the token's own (so an unchecked audience is not a failure)."""
    if options.audience is not None:
        return options.audience
    aud = (claims or {}).get("aud")
    if isinstance(aud, str) and aud:
        return (aud,)
    if isinstance(aud, list) and aud and all(isinstance(a, str) and a for a in aud):
        return tuple(aud)
    return None


def run(options: InspectOptions) -> Result:
    now = _clock.now()
    token = read_token(options.token)
    peeked = _peek(token)
    header, claims, problem = _refuse_hostile(*peeked)
    hostile = problem if problem is not peeked[2] else None
    loaded = _keyfile.load(options.keys, (header or {}).get("kid"))
    typ = TYPES[options.kind] if options.kind else (header or {}).get("typ")
    typ = typ if typ in KINDS else ACCESS_TYP
    verification: dict[str, Any] = {
        "verified": loaded is not None,
        "valid": None if problem is None else False,
        "type": KINDS[typ] if (options.kind or (header or {}).get("typ") in KINDS) else None,
        "code": None if problem is None else problem.code,
        "explanation": None,
        "key": None if loaded is None else loaded.source,
        "kid_note": None if loaded is None else loaded.kid_note,
        "issuer_checked": options.issuer is not None,
        "audience_checked": options.audience is not None,
    }
    if loaded is not None and hostile is not None:
        explanation = f"malformed: {hostile.message}"
        verification.update(valid=False, code=hostile.code, explanation=explanation)
    elif loaded is not None:
        audience = _audience(options, claims)
        expect = Expectations(
            typ=typ,
            issuer=options.issuer,
            audience=audience,
            leeway=options.leeway,
            now=now,
            keys=loaded.keys,
            algorithm_given=options.keys.algorithm is not None,
        )
        try:
            codec = Codec(
                loaded.keys, issuer=options.issuer, audience=audience, leeway=options.leeway
            )
        except ConfigurationError as exc:
            raise UsageError(exc.message) from None
        try:
            codec.decode(token, typ=typ, now=now, require=REQUIRED)
        except TokenError as exc:
            problem = exc
            explanation = explain(exc, header, claims, expect)
            verification.update(valid=False, code=exc.code, explanation=explanation)
        else:
            problem = None
            verification.update(valid=True, type=KINDS[typ], code=None)
    elif problem is not None:
        verification["explanation"] = f"{problem.code.replace('_', ' ')}: {problem.message}"
    data = {
        "now": _clock.as_json(now, now),
        "header": header,
        "claims": claims,
        "times": {
            name: _clock.as_json(float(value), now)
            for name in TIME_CLAIMS
            if isinstance(value := (claims or {}).get(name), (int, float))
            and not isinstance(value, bool)
        },
        "verification": verification,
    }
    exit_code = EXIT_REJECTED if verification["valid"] is False else EXIT_OK
    return Result(data, render(data, now), exit_code)


def _value(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _section(title: str, members: dict[str, Any] | None, now: float) -> list[str]:
    if members is None:
        return [f"{title}: (cannot be decoded)"]
    lines = [f"{title}:"]
    width = max((len(escape(name)) for name in members), default=0)
    for name, value in members.items():
        text = _value(value)
        if name in TIME_CLAIMS and isinstance(value, (int, float)) and not isinstance(value, bool):
            text += f"  {_clock.when(float(value), now)}"
        elif name == "typ" and isinstance(value, str) and value in KINDS:
            text += f"  ({KINDS[value]} token)"
        lines.append(f"  {escape(name).ljust(width)}  {escape(text)}")
    return lines


def render(data: dict[str, Any], now: float) -> str:
    """The report for people: header, claims, then the verdict last, where eyes land."""
    result = data["verification"]
    unverified = "" if result["valid"] else " (NOT verified)"
    lines = _section(f"Header{unverified}", data["header"], now)
    lines += ["", *_section(f"Claims{unverified}", data["claims"], now), ""]
    if result["verified"]:
        key = result["key"] + (f"; {result['kid_note']}" if result["kid_note"] else "")
        issuer = "checked" if result["issuer_checked"] else "not checked (no --issuer)"
        audience = "checked" if result["audience_checked"] else "not checked (no --audience)"
        lines += [
            f"Verification at {_clock.iso(now)}:",
            f"  key       {key}",
            f"  issuer    {issuer}",
            f"  audience  {audience}",
            "",
        ]
    if result["valid"] is False:
        explanation = escape(str(result["explanation"]), backslash=False)
        lines.append(f"INVALID: {explanation}  [{result['code']}]")
    elif result["valid"]:
        exp = data["times"].get("exp")
        until = f", expires {exp['relative']}" if exp else ""
        lines.append(f"VALID {result['type']} token{until}.")
    else:
        lines.append("Signature not checked: pass --key FILE or --secret-env VAR to verify.")
    return "\n".join(lines)


__all__ = ("REQUIRED", "TYPES", "InspectOptions", "read_token", "render", "run")
