"""The lifecycle rules as pure functions: no await, no clock, no randomness.

As in h11's ``_state.py``, the state machine is data: a transition table per
kind of record. Every write a decision makes goes through :func:`advance`,
so an illegal move (un-rotating a token, un-revoking a session) is an error
by construction, whichever store applies it.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar

from msgspec.structs import replace

from ._errors import IllegalTransitionError, SessionLimitError
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
    SessionLimit,
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
    # A rotation later than this request's clock (a clock that stepped back,
    # a host behind another, a request the server ran after its own retry):
    # no window holds a negative elapsed time, so nothing is minted — and
    # nothing is revoked, since the caller's clock cannot tell reuse apart.
    if record.rotated_at is not None and now < record.rotated_at:
        return Reject(reason="clock_behind")
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
    # The whole-second floor still governs tokens minted before generations.
    floor = float(int(now)) if request.raise_access_floor else session.access_floor
    updated = replace(
        session,
        current_jti=successor.jti,
        refreshed_at=now,
        access_floor=max(session.access_floor, floor),
        generation=session.generation + 1,
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


# -- the session limit ------------------------------------------------------------


def is_live(session: SessionRecord, *, now: float, revoked_before: float | None = None) -> bool:
    """Counts against the limit: not revoked, not expired at ``now``, not below the watermark."""
    return (
        session.revoked_at is None
        and now < session.expires_at
        and not is_below_watermark(session, revoked_before)
    )


def sessions_to_end(
    sessions: Iterable[SessionRecord], limit: SessionLimit, *, revoked_before: float | None = None
) -> tuple[SessionRecord, ...]:
    """The live sessions a new login must end to stay within ``limit``, oldest first.

    ``sessions`` are the subject's stored sessions (any order, dead ones
    welcome). With ``on_excess="refuse"`` a login that would need any ended
    raises :class:`SessionLimitError` instead: the store then writes nothing.
    """
    live = sorted(
        (s for s in sessions if is_live(s, now=limit.now, revoked_before=revoked_before)),
        key=lambda s: (s.created_at, s.sid),
    )
    excess = len(live) + 1 - limit.max_sessions
    if excess <= 0:
        return ()
    if limit.on_excess == "refuse":
        raise SessionLimitError(
            f"the subject already holds {len(live)} live sessions "
            f"(the limit is {limit.max_sessions})"
        )
    return tuple(live[:excess])


# -- access (strict mode) ---------------------------------------------------------


def in_window(elapsed: float, width: float, *, closed: bool = False) -> bool:
    """Is ``elapsed`` inside a window of ``width`` seconds opened at 0?

    Time only moves forward in the rules: a negative elapsed time (a clock
    that stepped back) is never inside any window. ``closed`` includes the
    far edge itself (the grace of a replay, ``<=`` in docs/design/lifecycle.md#refresh).
    """
    return 0.0 <= elapsed <= width if closed else 0.0 <= elapsed < width


def decide_access(
    status: AccessStatus,
    *,
    iat: float,
    now: float,
    grace: float,
    generation: int | None = None,
    supersede: bool = True,
) -> str | None:
    """``None`` if the access token may pass, else the reason code it may not.

    ``generation`` is the token's ``gen`` claim. A token of the session's
    current generation (or a later one) passes; one of the generation just before it passes
    while the rotation that ended it is younger than ``grace``; any older one
    is superseded (its refresh token could only be replayed as reuse by now).
    A token without the claim was minted before generations existed and
    keeps the rule it was issued under: the whole-second ``access_floor``
    (which a store raises only when the policy asks). ``supersede=False``
    (``Policy.access_floor_on_refresh`` off) lets older generations live.
    """
    if not status.session_found:
        return "unknown_token"
    if status.denied or status.session_revoked:
        return "revoked"
    if status.revoked_before is not None and status.session_created_at < status.revoked_before:
        return "revoked"
    if generation is None:
        if iat < status.access_floor and not in_window(now - status.access_floor, grace):
            return "superseded"
        return None
    current = status.generation
    # A later generation than the store reports is a view that has not caught
    # up yet (another process's cache, a replica): the token was signed from a
    # record that had it, so it is not superseded.
    if generation >= current or not supersede:
        return None
    if generation == current - 1 and in_window(now - status.refreshed_at, grace):
        return None
    return "superseded"


__all__ = (
    "REFRESH_TRANSITIONS",
    "SESSION_TRANSITIONS",
    "Event",
    "SessionState",
    "advance",
    "decide_access",
    "decide_refresh",
    "in_window",
    "is_below_watermark",
    "is_live",
    "revoke",
    "session_state",
    "sessions_to_end",
)
