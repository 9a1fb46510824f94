"""Lifetimes and rules of a deployment, checked once at construction."""

from __future__ import annotations

from datetime import timedelta
from typing import Final, Literal

import msgspec
from msgspec.structs import force_setattr

from ._codec import DEFAULT_MAX_TOKEN_BYTES, MAX_LEEWAY
from ._errors import PolicyError

#: A grace window longer than this stops being "two tabs at once" and starts
#: being "a stolen token still works for a while" (Okta caps it at 60 s).
MAX_GRACE: Final = 60.0

RevocationMode = Literal["strict", "stateless"]
#: What a login beyond ``max_sessions`` does (the same values as ``SessionLimit.on_excess``).
SessionLimitPolicy = Literal["end_oldest", "refuse"]


def _seconds(value: object, name: str) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PolicyError(f"{name} must be a number of seconds or a timedelta")
    if value != value or value in (float("inf"), float("-inf")):
        raise PolicyError(f"{name} must be a finite number")
    return float(value)


class Policy(msgspec.Struct, frozen=True, kw_only=True):
    """How long tokens live and how strictly they are checked.

    Durations are seconds (a ``timedelta`` is converted too). A setting that
    cannot work is a ``PolicyError`` here, not a surprise in production.
    """

    #: The ``iss`` every token carries and every verification requires exactly.
    issuer: str | None = None
    #: The ``aud`` tokens are minted for; a token must name one of these.
    audience: str | tuple[str, ...] | None = None
    #: Access-token lifetime (default 15 minutes).
    access_ttl: float = 900.0
    #: Idle lifetime of a refresh token (default 14 days); rotation renews it.
    refresh_ttl: float = 14 * 86400.0
    #: Absolute session lifetime from login (default 30 days); never extended.
    session_ttl: float = 30 * 86400.0
    #: How long a rotated refresh token may be replayed for the same successor.
    grace: float = 10.0
    #: Clock skew forgiven on exp/nbf/iat (default 0, at most 300 s).
    leeway: float = 0.0
    #: ``strict``: every access-token verify asks the store (logout takes effect at
    #: the next request; SQLite across worker processes within its ``staleness``,
    #: 50 ms by default).
    #: ``stateless``: signature and claims only (logout takes effect at ``exp``).
    revocation: RevocationMode = "strict"
    #: After a refresh, access tokens of the session's earlier generations die
    #: once the grace window after the rotation has passed (by identity: each
    #: access token carries its generation, whatever second it was minted in).
    access_floor_on_refresh: bool = True
    #: Longer tokens are refused before any decoding.
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
    #: Live sessions one subject may hold (``None``: no limit, the default).
    #: Enforced by the store atomically with each login.
    max_sessions: int | None = None
    #: A login beyond ``max_sessions``: ``end_oldest`` revokes the subject's
    #: oldest live sessions to make room; ``refuse`` raises ``SessionLimitError``.
    on_session_limit: SessionLimitPolicy = "end_oldest"
    #: Every session must be bound to a DPoP key (RFC 9449): ``issue`` needs
    #: the proven ``jkt``, and an unbound token is refused wherever one is used.
    require_dpop: bool = False

    def __post_init__(self) -> None:
        for name in ("access_ttl", "refresh_ttl", "session_ttl", "grace", "leeway"):
            force_setattr(self, name, _seconds(getattr(self, name), name))
        if self.access_ttl <= 0 or self.refresh_ttl <= 0 or self.session_ttl <= 0:
            raise PolicyError("access_ttl, refresh_ttl and session_ttl must be positive")
        if self.access_ttl > self.session_ttl:
            raise PolicyError("access_ttl must not exceed session_ttl")
        if self.refresh_ttl > self.session_ttl:
            raise PolicyError(
                "refresh_ttl must not exceed session_ttl (a refresh token never outlives "
                "its session)"
            )
        if not 0 <= self.grace <= MAX_GRACE:
            raise PolicyError(f"grace must be between 0 and {MAX_GRACE:g} seconds")
        if not 0 <= self.leeway <= MAX_LEEWAY:
            raise PolicyError(f"leeway must be between 0 and {MAX_LEEWAY:g} seconds")
        if self.revocation not in ("strict", "stateless"):
            raise PolicyError('revocation must be "strict" or "stateless"')
        limit = self.max_sessions
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise PolicyError("max_sessions must be None or a whole number of sessions")
        if limit is not None and limit < 1:
            raise PolicyError("max_sessions must be at least 1 (None turns the limit off)")
        if self.on_session_limit not in ("end_oldest", "refuse"):
            raise PolicyError('on_session_limit must be "end_oldest" or "refuse"')
        if self.audience is not None and not isinstance(self.audience, str):
            force_setattr(self, "audience", tuple(self.audience))  # lists welcome


__all__ = ("MAX_GRACE", "Policy", "RevocationMode", "SessionLimitPolicy")
