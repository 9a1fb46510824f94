"""The lifecycle rules as pure functions: no store, no event loop, no clock."""

from __future__ import annotations

import itertools

import pytest
from msgspec.structs import replace

from tokenlife import IllegalTransitionError
from tokenlife._machine import (
    REFRESH_TRANSITIONS,
    SESSION_TRANSITIONS,
    Event,
    SessionState,
    advance,
    decide_access,
    decide_refresh,
    revoke,
)
from tokenlife.store import (
    AccessStatus,
    RefreshSnapshot,
    RefreshState,
    Reject,
    Replay,
    RevokeForReuse,
    Rotate,
)
from tokenlife.testing import make_session, refresh_request

T0 = 1_800_000_000.0


def snapshot(**changes: object) -> RefreshSnapshot:
    session, record = make_session(now=T0)
    fields: dict[str, object] = {
        "record": record,
        "session": session,
        "successor": None,
        "revoked_before": None,
    }
    fields.update(changes)
    return RefreshSnapshot(**fields)  # type: ignore[arg-type]


def rotated_snapshot(at: float = T0 + 1) -> tuple[RefreshSnapshot, Rotate]:
    first = snapshot()
    assert first.record is not None
    rotation = decide_refresh(first, refresh_request(first.record, at, "r1"))
    assert isinstance(rotation, Rotate)
    after = RefreshSnapshot(
        record=rotation.parent,
        session=rotation.session,
        successor=rotation.successor,
        revoked_before=None,
    )
    return after, rotation


def test_transition_tables_allow_only_forward_moves() -> None:
    for state, event in itertools.product(RefreshState, Event):
        if (state, event) in REFRESH_TRANSITIONS:
            assert advance(REFRESH_TRANSITIONS, state, event) is RefreshState.ROTATED
        else:
            with pytest.raises(IllegalTransitionError):
                advance(REFRESH_TRANSITIONS, state, event)
    with pytest.raises(IllegalTransitionError):
        advance(SESSION_TRANSITIONS, SessionState.REVOKED, Event.ROTATE)
    assert advance(SESSION_TRANSITIONS, SessionState.REVOKED, Event.REVOKE) is SessionState.REVOKED


def test_active_token_rotates_with_capped_expiry_and_raised_floor() -> None:
    session, record = make_session(now=T0, ttl=100.0, refresh_ttl=80.0)
    decision = decide_refresh(
        snapshot(record=record, session=session),
        refresh_request(record, T0 + 50.7, "r1", refresh_ttl=80.0),
    )
    assert isinstance(decision, Rotate)
    assert decision.successor.expires_at == T0 + 100.0  # session end, not now + 80
    assert decision.session.access_floor == float(int(T0 + 50.7))
    assert decision.parent.state is RefreshState.ROTATED
    no_floor = decide_refresh(
        snapshot(record=record, session=session),
        refresh_request(record, T0 + 1, "r1", raise_access_floor=False),
    )
    assert isinstance(no_floor, Rotate)
    assert no_floor.session.access_floor == 0.0


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0.0, Replay), (10.0, Replay), (10.001, RevokeForReuse), (1000.0, RevokeForReuse)],
)
def test_grace_window_edges(offset: float, expected: type) -> None:
    after, rotation = rotated_snapshot()
    assert after.record is not None
    decision = decide_refresh(after, refresh_request(after.record, T0 + 1 + offset, "r2"))
    assert isinstance(decision, expected)
    if isinstance(decision, Replay):
        assert decision.successor == rotation.successor
    if isinstance(decision, RevokeForReuse):
        assert decision.session.revoked_reason == "reuse_detected"


def test_parent_of_a_rotated_successor_is_reuse_even_inside_grace() -> None:
    after, _ = rotated_snapshot()
    moved_on = replace(after, session=replace(after.session, current_jti="r2"))  # type: ignore[type-var]
    assert moved_on.record is not None
    decision = decide_refresh(moved_on, refresh_request(moved_on.record, T0 + 2, "r3"))
    assert isinstance(decision, RevokeForReuse)


def test_rejections_write_nothing_and_say_why() -> None:
    base = snapshot()
    assert base.record is not None and base.session is not None
    record, session = base.record, base.session
    cases = {
        "unknown record": (replace(base, record=None), "unknown"),
        "unknown session": (replace(base, session=None), "unknown"),
        "sid mismatch": (replace(base, record=replace(record, sid="other")), "unknown"),
        "revoked": (replace(base, session=revoke(session, now=T0, reason="x")), "revoked"),
        "watermark": (replace(base, revoked_before=T0 + 0.5), "revoked"),
        "session over": (replace(base, session=replace(session, expires_at=T0 + 5)), "expired"),
        "token idle": (replace(base, record=replace(record, expires_at=T0 + 5)), "expired"),
    }
    for name, (snap, reason) in cases.items():
        decision = decide_refresh(snap, refresh_request(record, T0 + 5, "r1"))
        assert decision == Reject(reason=reason), name  # type: ignore[arg-type]
    wrong_subject = decide_refresh(base, refresh_request(record, T0 + 1, "r1", subject="eve"))
    assert wrong_subject == Reject(reason="unknown")


def test_expired_beats_reuse() -> None:
    after, _ = rotated_snapshot()
    assert after.record is not None and after.session is not None
    late = after.session.expires_at
    decision = decide_refresh(after, refresh_request(after.record, late, "r2"))
    assert decision == Reject(reason="expired")


def test_revoke_is_idempotent_and_keeps_the_first_reason() -> None:
    session, _ = make_session(now=T0)
    once = revoke(session, now=T0 + 1, reason="logout")
    assert revoke(once, now=T0 + 2, reason="other") is once


@pytest.mark.parametrize(
    ("status", "iat", "now", "expected"),
    [
        (AccessStatus(denied=False, session_found=False), T0, T0, "unknown_token"),
        (AccessStatus(denied=True, session_found=True), T0, T0, "revoked"),
        (AccessStatus(denied=False, session_found=True, session_revoked=True), T0, T0, "revoked"),
        (
            AccessStatus(
                denied=False, session_found=True, session_created_at=T0, revoked_before=T0 + 1
            ),
            T0,
            T0,
            "revoked",
        ),
        (AccessStatus(denied=False, session_found=True, access_floor=T0 + 5), T0, T0 + 14, None),
        (
            AccessStatus(denied=False, session_found=True, access_floor=T0 + 5),
            T0,
            T0 + 15,
            "superseded",
        ),
        (
            AccessStatus(denied=False, session_found=True, access_floor=T0 + 5),
            T0 + 5,
            T0 + 99,
            None,
        ),
        (AccessStatus(denied=False, session_found=True), T0, T0, None),
    ],
)
def test_access_decision(
    status: AccessStatus, iat: float, now: float, expected: str | None
) -> None:
    assert decide_access(status, iat=iat, now=now, grace=10.0) == expected


def test_sessions_to_end_counts_only_live_sessions_oldest_first() -> None:
    from tokenlife import SessionLimitError
    from tokenlife.store import SessionLimit, SessionRecord, sessions_to_end

    def rec(sid: str, at: float, **fields: object) -> SessionRecord:
        return SessionRecord(
            sid=sid, subject="alice", created_at=at, expires_at=at + 100,
            current_jti=f"{sid}-r0", refreshed_at=at, **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    stored = [
        rec("c", 3.0),
        rec("a", 1.0),
        rec("b", 1.0),  # same instant as "a": the sid breaks the tie
        rec("gone", -200.0),  # expired at now
        rec("revoked", 0.5, revoked_at=2.0, revoked_reason="logout"),
        rec("d", 4.0),
    ]
    limit = SessionLimit(max_sessions=2, on_excess="end_oldest", now=50.0)
    assert [s.sid for s in sessions_to_end(stored, limit)] == ["a", "b", "c"]
    # Below the watermark counts as dead already.
    assert [s.sid for s in sessions_to_end(stored, limit, revoked_before=1.5)] == ["c"]
    roomy = SessionLimit(max_sessions=5, on_excess="refuse", now=50.0)
    assert sessions_to_end(stored, roomy) == ()
    with pytest.raises(SessionLimitError):
        sessions_to_end(stored, SessionLimit(max_sessions=4, on_excess="refuse", now=50.0))
