"""Hand-written operation sequences with the trace docs/design/lifecycle.md predicts for them.

They pin the reference model itself to the design document (the stateful test
only checks stores against the model), and they are the first sequences the
cross-store trace test replays.
"""

from __future__ import annotations

from tokenlife.testing import _model as m
from tokenlife.testing import _ops as ops
from tokenlife.testing._ops import (
    Advance,
    ConcurrentRefresh,
    Doctored,
    Forged,
    Issue,
    ListSessions,
    Purge,
    Refresh,
    RefreshAny,
    Revoke,
    RevokeSession,
    RevokeSubject,
    Verify,
    WrongKey,
    WrongType,
)

OK, EXP, REV, REUSE = m.OK, m.EXPIRED, m.REVOKED, m.REUSE
Scenario = tuple[m.Config, list[tuple[ops.Op, str]]]

SCENARIOS: dict[str, Scenario] = {
    "grace replay returns the same successor, up to grace inclusive": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Advance(1), OK),
            (Refresh(0), OK),
            (Advance(10), OK),
            (Refresh(0, 1), OK),
            (Refresh(0, 1), OK),
            (Verify(-1), OK),
            (Refresh(0), OK),
        ],
    ),
    "replay past grace revokes the session and its newest token": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Refresh(0), OK),
            (Advance(10.25), OK),
            (Verify(-1), OK),
            (Refresh(0, 1), f"{REUSE}>{REV}"),
            (Refresh(0), REV),
            (Verify(-1), REV),
            (Refresh(0, 1), REV),
        ],
    ),
    "an older ancestor inside grace is reuse": (
        m.Config(),
        [
            (Issue("bob"), OK),
            (Refresh(0), OK),
            (Refresh(0), OK),
            (Refresh(0, 2), f"{REUSE}>{REV}"),
        ],
    ),
    "concurrent refreshes: one successor, none revokes inside grace": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (ConcurrentRefresh(0, (0,) * 5), "+".join([OK] * 5)),
            (Advance(10), OK),
            (ConcurrentRefresh(0, (1,) * 3), "+".join([OK] * 3)),
            (Advance(1), OK),
            (ConcurrentRefresh(0, (1,) * 3), "+".join([REUSE, REV, REV])),
        ],
    ),
    "a forged rotated token changes nothing": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Refresh(0), OK),
            (Advance(30), OK),
            (Forged("refresh", 0), m.BAD_SIGNATURE),
            (Forged("verify", 0), m.BAD_SIGNATURE),
            (Forged("revoke", 0), OK),
            (Doctored(0, "sub"), m.UNKNOWN),
            (Refresh(0), OK),
        ],
    ),
    "a doctored sid never revokes the named session": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Issue("alice"), OK),
            (Refresh(0), OK),
            (Advance(30), OK),
            (Doctored(0, "sid"), m.UNKNOWN),
            (Refresh(1), OK),
            (Refresh(0), OK),
        ],
    ),
    "rotation never extends the session": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Advance(590), OK),
            (Refresh(0), OK),
            (Advance(590), OK),
            (Refresh(0), OK),
            (Advance(590), OK),
            (Refresh(0), OK),
            (Advance(29.5), OK),
            (Verify(-1), OK),
            (Advance(0.5), OK),
            (Refresh(0), EXP),
            (Verify(-1), EXP),
            (Purge(), "ok:1"),
            (ListSessions("alice"), "ok:0/0"),
        ],
    ),
    "purge is invisible to live sessions": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Advance(1000), OK),
            (Issue("bob"), OK),
            (Advance(500), OK),
            (Refresh(1), OK),
            (Advance(400), OK),
            (Purge(1), "ok:1"),
            (Refresh(1), OK),
            (Refresh(0), EXP),
            (RevokeSession(0), "ok:False"),
            (ListSessions("bob"), "ok:1/1"),
        ],
    ),
    "revocation is idempotent": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Revoke("access", 0, twice=True), OK),
            (Verify(0), REV),
            (Refresh(0), REV),
            (RevokeSession(0, twice=True), "ok:True"),
            (RevokeSession(None, twice=True), "ok:False"),
            (Revoke("refresh", 0, twice=True), OK),
        ],
    ),
    "log out everywhere, then log in again at the same instant": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Issue("alice"), OK),
            (Issue("bob"), OK),
            (RevokeSubject("alice", twice=True), "ok:2"),
            (Issue("alice"), OK),
            (Refresh(3), OK),
            (Refresh(0), REV),
            (Refresh(2), OK),
            (ListSessions("alice"), "ok:1/3"),
        ],
    ),
    "a refresh supersedes older access tokens after grace": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Advance(1), OK),
            (Refresh(0), OK),
            (Verify(0), OK),
            (Advance(9.75), OK),
            (Verify(0), OK),
            (Advance(0.25), OK),
            (Verify(0), m.SUPERSEDED),
            (Verify(1), OK),
        ],
    ),
    "without the floor, older access tokens live to exp": (
        m.Config(floor_on_refresh=False),
        [
            (Issue("alice"), OK),
            (Advance(1), OK),
            (Refresh(0), OK),
            (Advance(58), OK),
            (Verify(0), OK),
            (Advance(1), OK),
            (Verify(0), EXP),
        ],
    ),
    "leeway forgives exp, and refresh step 3 still expires the record": (
        m.Config(leeway=5.0),
        [
            (Issue("alice"), OK),
            (Advance(60), OK),
            (Verify(0), OK),
            (Advance(4.5), OK),
            (Verify(0), OK),
            (Advance(0.5), OK),
            (Verify(0), EXP),
            (Advance(535), OK),
            (Refresh(0), EXP),
        ],
    ),
    "grace zero: only a same-instant replay is forgiven": (
        m.Config(grace=0.0),
        [
            (Issue("alice"), OK),
            (Refresh(0), OK),
            (Refresh(0, 1), OK),
            (ConcurrentRefresh(0, (0,) * 3), "+".join([OK] * 3)),
            (Advance(0.25), OK),
            (Refresh(0, 1), f"{REUSE}>{REV}"),
        ],
    ),
    "a replayed parent racing the newest token, and a revoke racing both": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Refresh(0), OK),
            (Advance(2), OK),
            (ConcurrentRefresh(0, (0, 1, 0, 1)), "race"),
            (ConcurrentRefresh(0, (0, 0, 1), revoke=True), "race"),
            (Refresh(0), REV),
        ],
    ),
    "wrong token types are refused untouched": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (WrongType("verify", 0), m.WRONG_TYPE),
            (WrongType("refresh", 0), m.WRONG_TYPE),
            (RefreshAny(0), OK),
        ],
    ),
    "a DPoP-bound session is useless without its key, and changes nothing when refused": (
        m.Config(),
        [
            (Issue("alice"), OK),
            (Issue("bob", key=0), OK),
            (WrongKey("verify", 1), "DPoPBindingError:dpop_required"),
            (WrongKey("verify", 1, 1), "DPoPBindingError:dpop_key_mismatch"),
            (WrongKey("verify", 2, 0), "DPoPBindingError:dpop_not_bound"),
            (WrongKey("refresh", 0), "DPoPBindingError:dpop_required"),
            (WrongKey("refresh", 0, 1), "DPoPBindingError:dpop_key_mismatch"),
            (Refresh(1), OK),
            (Verify(-1), OK),
            (Advance(11), OK),
            (Refresh(1, 1), f"{REUSE}>{REV}"),
            (WrongKey("refresh", 1), "DPoPBindingError:dpop_required"),
        ],
    ),
}

__all__ = ("SCENARIOS", "Scenario")
