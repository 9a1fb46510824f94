"""Reading a store back, and the invariants checked on what it holds.

The invariants are those of docs/design/lifecycle.md#invariants.

A :class:`Snapshot` is what the store answers for the sessions, refresh
records and access tokens the model knows of (plus, after a refresh, the ids
handed out in that step, to catch stray records). The checks compare it with
the model field by field, and with the previous snapshot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

import anyio

from tokenlife import RefreshState
from tokenlife.store import AccessStatus, RefreshRecord, SessionRecord, Store

from . import _model as m

#: Reads in flight at once: enough to pipeline, few enough that a pooled
#: client (Redis) does not open a connection per read.
CONCURRENT_READS = 8


@dataclass(frozen=True)
class ReadPlan:
    sids: list[str]
    jtis: list[str]
    #: (access jti, its sid, its sub)
    access: list[tuple[str, str, str]]
    subjects: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Snapshot:
    sessions: dict[str, SessionRecord | None]
    records: dict[str, RefreshRecord | None]
    access: dict[str, AccessStatus]
    listings: dict[str, list[SessionRecord]]


async def read(store: Store, plan: ReadPlan) -> Snapshot:
    """Every read of ``plan`` (concurrently: a store must answer reads in any order)."""
    sessions: dict[str, SessionRecord | None] = dict.fromkeys(plan.sids)
    records: dict[str, RefreshRecord | None] = dict.fromkeys(plan.jtis)
    statuses: dict[str, AccessStatus] = {}
    listings: dict[str, list[SessionRecord]] = {}
    limiter = anyio.CapacityLimiter(CONCURRENT_READS)

    async def session(sid: str) -> None:
        sessions[sid] = await store.session(sid)

    async def record(jti: str) -> None:
        records[jti] = await store.refresh_record(jti)

    async def status(jti: str, sid: str, sub: str) -> None:
        statuses[jti] = await store.access_status(jti, sid, sub)

    async def listing(sub: str) -> None:
        listings[sub] = await store.sessions(sub)

    async def limited(one: Callable[..., Awaitable[None]], *args: str) -> None:
        async with limiter:
            await one(*args)

    async with anyio.create_task_group() as group:
        for sid in plan.sids:
            group.start_soon(limited, session, sid)
        for jti in plan.jtis:
            group.start_soon(limited, record, jti)
        for jti, sid, sub in plan.access:
            group.start_soon(limited, status, jti, sid, sub)
        for sub in plan.subjects:
            group.start_soon(limited, listing, sub)
    return Snapshot(sessions, records, statuses, listings)


def _diff(what: str, got: object, expected: dict[str, object]) -> list[str]:
    return [
        f"{what}.{name}: store has {getattr(got, name)!r}, model expects {want!r}"
        for name, want in expected.items()
        if getattr(got, name) != want
    ]


def against_model(model: m.Model, snap: Snapshot, gone: Collection[str]) -> list[str]:
    """Every stored field the snapshot read equals what the model derived.

    This is where invariants 1 (one ACTIVE record), 5 (fixed expiry, no
    refresh record outliving its session), 8 (chain links, sid/sub) and 9
    (purge takes exactly what it may) are checked on the records themselves.
    ``gone``: purged sessions already confirmed absent (not read again).
    """
    problems: list[str] = []
    for session in model.session_list():
        if session.sid in gone:
            continue
        got = snap.sessions[session.sid]
        if session.purged:
            if got is not None:
                problems.append(f"session {session.sid} should have been purged")
            problems += [
                f"record {jti} should have been purged"
                for jti in session.chain
                if snap.records.get(jti) is not None
            ]
            continue
        if got is None:
            problems.append(f"session {session.sid} is missing from the store")
            continue
        problems += _diff(
            f"session {session.sid}",
            got,
            {
                "sid": session.sid,
                "subject": session.subject,
                "created_at": session.created_at,
                "expires_at": session.expires_at,
                "current_jti": session.current,
                "refreshed_at": session.refreshed_at,
                "access_floor": session.access_floor,
                "generation": session.generation,
                "revoked_at": session.revoked_at,
                "revoked_reason": session.revoked_reason,
                "access_claims": session.access_claims,
                "metadata": session.metadata,
            },
        )
        problems += _chain_problems(model, session, got, snap)
    # A record or session under any other id is a stray write (a second successor...).
    problems += [
        f"stray session {sid}: {found}"
        for sid, found in snap.sessions.items()
        if sid not in model.sessions and found is not None
    ]
    problems += [
        f"stray refresh record {jti}: {found}"
        for jti, found in snap.records.items()
        if jti not in model.refresh and found is not None
    ]
    for jti, status in snap.access.items():
        problems += _access_problems(model, jti, status)
    for subject, listed in snap.listings.items():
        sids = [s.sid for s in listed]
        if set(sids) != set(model.stored_sessions(subject)) or len(sids) != len(set(sids)):
            problems.append(f"store.sessions({subject}) lists {sids}")
        starts = [s.created_at for s in listed]
        if starts != sorted(starts):
            problems.append(f"store.sessions({subject}) is not oldest first: {sids}")
        problems += [
            f"listing of {s.sid} differs from store.session"
            for s in listed
            if snap.sessions.get(s.sid, s) != s
        ]
    return problems


def _chain_problems(
    model: m.Model, session: m.MSession, got: SessionRecord, snap: Snapshot
) -> list[str]:
    problems: list[str] = []
    active = 0
    for i, jti in enumerate(session.chain):
        if jti not in snap.records:
            continue  # not read this time (see Driver._plan)
        record = snap.records[jti]
        if record is None:
            problems.append(f"refresh record {jti} of live session {session.sid} missing")
            continue
        mine = model.refresh[jti]
        last = i == len(session.chain) - 1
        active += record.state is RefreshState.ACTIVE
        problems += _diff(
            f"refresh {jti}",
            record,
            {
                "jti": jti,
                "sid": session.sid,
                "subject": session.subject,
                "issued_at": mine.issued_at,
                "expires_at": mine.expires_at,
                "parent_jti": session.chain[i - 1] if i else None,
                "state": RefreshState.ACTIVE if last else RefreshState.ROTATED,
                "rotated_at": mine.rotated_at,
                "successor_jti": None if last else session.chain[i + 1],
            },
        )
        if record.expires_at > got.expires_at:
            problems.append(f"refresh {jti} outlives its session (invariant 5)")
    if active > 1:
        problems.append(f"session {session.sid} has {active} ACTIVE records (invariant 1)")
    return problems


def _access_problems(model: m.Model, jti: str, status: AccessStatus) -> list[str]:
    token = model.access[jti]
    session = model.stored(token.sid)
    problems: list[str] = []
    if jti in model.denied:
        if not status.denied:
            problems.append(f"access {jti} should be denied")
    elif status.denied and jti not in model.dropped_denials:
        problems.append(f"access {jti} is denied but was never revoked")
    if status.session_found != (session is not None):
        problems.append(f"access {jti}: session_found={status.session_found}")
    if session is None or not status.session_found:
        return problems
    mark = model.watermarks.get(token.subject)
    # A purge may drop a stale watermark, or keep it: both are fine.
    dropped = model.dropped_watermarks.get(token.subject)
    if status.revoked_before != mark and not (mark is None and status.revoked_before == dropped):
        problems.append(f"access {jti}: watermark {status.revoked_before}, expected {mark}")
    return problems + _diff(
        f"access status {jti}",
        status,
        {
            "session_revoked": session.revoked_at is not None,
            "session_created_at": session.created_at,
            "access_floor": session.access_floor,
            "generation": session.generation,
            "refreshed_at": session.refreshed_at,
        },
    )


def moved_backwards(previous: Snapshot, snap: Snapshot) -> list[str]:
    """Invariant 7 (and 5): states only move forward; fixed fields never move."""
    problems: list[str] = []
    fixed = ("sid", "subject", "issued_at", "expires_at", "parent_jti")
    for jti, was in previous.records.items():
        now = snap.records.get(jti)
        if was is None or now is None:
            continue
        if any(getattr(now, f) != getattr(was, f) for f in fixed):
            problems.append(f"refresh {jti} changed a fixed field: {was} -> {now}")
        if was.state is RefreshState.ROTATED and (
            now.state is not RefreshState.ROTATED
            or (now.rotated_at, now.successor_jti) != (was.rotated_at, was.successor_jti)
        ):
            problems.append(f"refresh {jti} left ROTATED or changed its successor: {now}")
    for sid, before in previous.sessions.items():
        after = snap.sessions.get(sid)
        if before is None or after is None:
            continue
        if (after.subject, after.created_at, after.expires_at) != (
            before.subject,
            before.created_at,
            before.expires_at,
        ):
            problems.append(f"session {sid} changed a fixed field (invariant 5)")
        if before.revoked_at is not None and (after.revoked_at, after.revoked_reason) != (
            before.revoked_at,
            before.revoked_reason,
        ):
            problems.append(f"session {sid}: revocation changed or undone (invariants 2, 7)")
        if after.access_floor < before.access_floor:
            problems.append(f"session {sid}: access floor went down")
        if after.generation < before.generation:
            problems.append(f"session {sid}: generation went down")
    return problems


def changed(previous: Snapshot, snap: Snapshot) -> list[str]:
    """What differs among the reads both snapshots made. (Records under ids the
    model does not know are reported as strays by :func:`against_model`.)"""
    found: list[str] = []
    pairs: tuple[tuple[str, dict[str, object], dict[str, object]], ...] = (
        ("session", dict(previous.sessions), dict(snap.sessions)),
        ("record", dict(previous.records), dict(snap.records)),
        ("access", dict(previous.access), dict(snap.access)),
        ("listing", dict(previous.listings), dict(snap.listings)),
    )
    for what, before, after in pairs:
        found += [
            f"{what} {key}" for key, value in before.items() if key in after and after[key] != value
        ]
    return found


__all__ = (
    "CONCURRENT_READS",
    "ReadPlan",
    "Snapshot",
    "against_model",
    "changed",
    "moved_backwards",
    "read",
)
