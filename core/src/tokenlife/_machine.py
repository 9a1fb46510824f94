"""The lifecycle rules as pure functions: no await, no clock, no randomness.

As in h11's ``_state.py``, the state machine is data: a transition table per
kind of record. Every write a decision makes goes through :func:`advance`,
so an illegal move (un-rotating a token, un-revoking a session) is an error
by construction, whichever store applies it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final, TypeVar

from msgspec.structs import replace

from ._errors import IllegalTransitionError
from ._store import (
    AccessStatus,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    RefreshSnapshot,
    RefreshState,
    Reject,
    Replay,
    RevokeForReuse,
    Rotate,
    SessionRecord,
)


class SessionState(enum.Enum):
    """Stored states of a session. EXPIRED is derived from ``now``, never stored."""

    OPEN = "open"
    REVOKED = "revoked"


class Event(enum.Enum):
    ROTATE = "rotate"
    REVOKE = "revoke"


_S = TypeVar("_S", RefreshState, SessionState)

REFRESH_TRANSITIONS: Final[Mapping[tuple[RefreshState, Event], RefreshState]] = {
    (RefreshState.ACTIVE, Event.ROTATE): RefreshState.ROTATED,
}
SESSION_TRANSITIONS: Final[Mapping[tuple[SessionState, Event], SessionState]] = {
    (SessionState.OPEN, Event.ROTATE): SessionState.OPEN,
    (SessionState.OPEN, Event.REVOKE): SessionState.REVOKED,
    # Revocation is idempotent: revoking again changes nothing.
    (SessionState.REVOKED, Event.REVOKE): SessionState.REVOKED,
}


def advance(table: Mapping[tuple[_S, Event], _S], state: _S, event: Event) -> _S:
    """The state after ``event``, or :class:`IllegalTransitionError`."""
    try:
        return table[(state, event)]
    except KeyError:
        raise IllegalTransitionError(
            f"{event.value!r} is not allowed from {state.value!r}"
        ) from None


def session_state(session: SessionRecord) -> SessionState:
    return SessionState.REVOKED if session.revoked_at is not None else SessionState.OPEN


# -- refresh --------------------------------------------------------------------


def decide_refresh(snapshot: RefreshSnapshot, request: RefreshRequest) -> RefreshDecision:
    """docs/design/lifecycle.md#refresh, steps 1-6, on what the store just read."""
    record, session, now = snapshot.record, snapshot.session, request.now
    # 1. Unknown token, or a token whose claims disagree with the store.
    if (
        record is None
        or session is None
        or record.sid != request.sid
        or record.subject != request.subject
        or session.subject != request.subject
    ):
        return Reject(reason="unknown")
    # 2. Revoked session, or a session older than the subject's watermark.
    if session.revoked_at is not None or is_below_watermark(session, snapshot.revoked_before):
        return Reject(reason="revoked")
    # 3. Expired: no revocation, nothing written.
    if now >= session.expires_at or now >= record.expires_at:
        return Reject(reason="expired")
    # 4. The active token: rotate.
    if record.state is RefreshState.ACTIVE:
        return _rotate(record, session, request)
    # 5. The immediate parent of the current token, inside grace: same successor.
    successor = snapshot.successor
    if (
        record.rotated_at is not None
        and now - record.rotated_at <= request.grace
        and successor is not None
        and record.successor_jti == session.current_jti == successor.jti
    ):
        return Replay(successor=successor, session=session)
    # 6. Anything else rotated: reuse. The whole session dies, newest token too.
    return RevokeForReuse(session=revoke(session, now=now, reason="reuse_detected"), jti=record.jti)


def _rotate(record: RefreshRecord, session: SessionRecord, request: RefreshRequest) -> Rotate:
    now = request.now
    advance(SESSION_TRANSITIONS, session_state(session), Event.ROTATE)
    successor = RefreshRecord(
        jti=request.successor_jti,
        sid=record.sid,
        subject=record.subject,
        issued_at=now,
        # A refresh token never outlives its session (invariant 5).
        expires_at=min(now + request.refresh_ttl, session.expires_at),
        parent_jti=record.jti,
    )
    parent = replace(
        record,
        state=advance(REFRESH_TRANSITIONS, record.state, Event.ROTATE),
        rotated_at=now,
        successor_jti=successor.jti,
    )
    floor = float(int(now)) if request.raise_access_floor else session.access_floor
    updated = replace(
        session,
        current_jti=successor.jti,
        refreshed_at=now,
        access_floor=max(session.access_floor, floor),
    )
    return Rotate(parent=parent, successor=successor, session=updated)


# -- revocation -----------------------------------------------------------------


def revoke(session: SessionRecord, *, now: float, reason: str) -> SessionRecord:
    """The session revoked; an already revoked one keeps its first time and reason."""
    state = session_state(session)
    advance(SESSION_TRANSITIONS, state, Event.REVOKE)
    if state is SessionState.REVOKED:
        return session
    return replace(session, revoked_at=now, revoked_reason=reason)


def is_below_watermark(session: SessionRecord, revoked_before: float | None) -> bool:
    """Logged out everywhere after this session began?"""
    return revoked_before is not None and session.created_at < revoked_before


# -- access (strict mode) ---------------------------------------------------------


def decide_access(status: AccessStatus, *, iat: float, now: float, grace: float) -> str | None:
    """``None`` if the access token may pass, else the reason code it may not."""
    if not status.session_found:
        return "unknown_token"
    if status.denied or status.session_revoked:
        return "revoked"
    if status.revoked_before is not None and status.session_created_at < status.revoked_before:
        return "revoked"
    if iat < status.access_floor and now >= status.access_floor + grace:
        return "superseded"
    return None


__all__ = (
    "REFRESH_TRANSITIONS",
    "SESSION_TRANSITIONS",
    "Event",
    "SessionState",
    "advance",
    "decide_access",
    "decide_refresh",
    "is_below_watermark",
    "revoke",
    "session_state",
)
