"""The Store contract: what every store must do, as plain async checks.

Each check takes a factory that opens a fresh, empty store and raises
:class:`ContractViolation` when the store misbehaves. No test framework is
needed to run them; :mod:`tokenlife.testing` shows how to plug them into pytest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from ._contract_claims import CLAIM_CHECKS
from ._contract_kit import (
    GRACE,
    REFRESH_TTL,
    T0,
    ContractCheck,
    ContractViolation,
    StoreFactory,
    expect,
    make_session,
    refresh_request,
)
from ._contract_kit import gather as _gather
from ._contract_kit import kind as _kind
from ._contract_kit import state as _state
from ._contract_sessions import (
    concurrent_logins_respect_the_limit,
    revoke_everywhere_else,
    session_limit_ends_oldest,
    session_limit_refuses,
)
from ._errors import StoreError
from ._store import PurgeRequest, RefreshState, Reject, Replay, RevokeForReuse, Rotate

# -- the checks --------------------------------------------------------------------


async def create_and_read_back(factory: StoreFactory) -> None:
    """Records come back exactly as written: floats, unicode, nested claims."""
    session, first = make_session(
        now=1_800_000_000.123456789,
        access_claims={"scope": "read write", "org": {"id": 7, "name": "Zürich ✓"}},
        metadata={"user_agent": "Mozilla/5.0 ☃", "ip": "2001:db8::1"},
        generation=2**40,
    )
    async with factory() as store:
        await store.create_session(session, first)
        expect(
            await store.session("s1") == session, "session(sid) must return the record as written"
        )
        expect(
            await store.refresh_record(first.jti) == first, "refresh_record(jti) must round-trip"
        )
        expect(
            await store.sessions("alice") == [session], "sessions(subject) must list the session"
        )
        expect(await store.session("nope") is None, "an unknown sid must read as None")
        expect(await store.refresh_record("nope") is None, "an unknown jti must read as None")
        status = await store.access_status("any-jti", "s1", "alice")
        expect(status.session_found and not status.session_revoked, "a new session is open")
        expect(not status.denied, "no jti is denied by default")
        expect(status.revoked_before is None, "no watermark by default")
        expect(
            status.generation == session.generation and status.refreshed_at == session.refreshed_at,
            "access_status reports the session's generation and when it began",
        )
        expect(
            await store.refresh_record(first.jti, sid="s1") == first,
            "refresh_record(jti, sid=...) must round-trip",
        )
        expect(
            await store.refresh_record(first.jti, sid="other") is None,
            "a record read under another session's sid is None",
        )


async def duplicate_ids_refused(factory: StoreFactory) -> None:
    """Creating a session whose sid already exists fails and changes nothing."""
    session, first = make_session()
    other, other_first = make_session(subject="mallory", jti="other-r0")
    async with factory() as store:
        await store.create_session(session, first)
        try:
            await store.create_session(other, other_first)
        except StoreError:
            pass
        else:
            raise ContractViolation("a duplicate sid must raise StoreError")
        expect(await store.session("s1") == session, "a refused create must not overwrite")
        expect(await store.refresh_record("other-r0") is None, "a refused create writes nothing")


async def rotation_moves_forward(factory: StoreFactory) -> None:
    """An ACTIVE token rotates: parent ROTATED, successor ACTIVE, session points at it."""
    session, first = make_session()
    now = T0 + 100.5
    async with factory() as store:
        await store.create_session(session, first)
        decision = await store.refresh(refresh_request(first, now, "s1-r1"))
        expect(isinstance(decision, Rotate), f"expected Rotate, got {_kind(decision)}")
        assert isinstance(decision, Rotate)
        parent, successor, updated = decision.parent, decision.successor, decision.session
        expect(parent.state is RefreshState.ROTATED, "the parent must be ROTATED")
        expect(parent.rotated_at == now and parent.successor_jti == "s1-r1", "parent links")
        expect(successor.parent_jti == first.jti, "the successor links to its parent")
        expect(successor.state is RefreshState.ACTIVE, "the successor is ACTIVE")
        expect(successor.expires_at == min(now + REFRESH_TTL, session.expires_at), "successor exp")
        expect(updated.current_jti == "s1-r1" and updated.refreshed_at == now, "session moves on")
        expect(updated.access_floor == math.floor(now), "the access floor rises to the rotation")
        expect(updated.generation == session.generation + 1, "a rotation starts a generation")
        expect(updated.expires_at == session.expires_at, "rotation never extends a session")
        stored = await _state(store, "s1", first.jti, "s1-r1")
        expect(stored == (updated, parent, successor), "the store holds what the decision says")
        status = await store.access_status("any-jti", "s1", "alice")
        expect(
            (status.generation, status.refreshed_at) == (1, now),
            "access_status reports the new generation and when it began",
        )


async def grace_replay_changes_nothing(factory: StoreFactory) -> None:
    """The parent replayed inside grace returns the same successor; nothing is written."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        await store.refresh(refresh_request(first, T0 + 1, "s1-r1"))
        before = await _state(store, "s1", first.jti, "s1-r1")
        decision = await store.refresh(refresh_request(first, T0 + 1 + GRACE, "s1-r9"))
        expect(isinstance(decision, Replay), f"expected Replay, got {_kind(decision)}")
        assert isinstance(decision, Replay)
        expect(decision.successor == before[2], "a replay hands back the same successor")
        expect(await _state(store, "s1", first.jti, "s1-r1") == before, "a replay writes nothing")
        expect(await store.refresh_record("s1-r9") is None, "no second successor exists")


async def grace_only_moves_forward(factory: StoreFactory) -> None:
    """A clock that stepped back is never inside grace: nothing minted, nothing revoked."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        rotated = await store.refresh(refresh_request(first, T0 + 100, "s1-r1"))
        assert isinstance(rotated, Rotate)
        early = T0 + 50  # the clock stepped back 50 s after the rotation
        before = await _state(store, "s1", first.jti, "s1-r1")
        decision = await store.refresh(refresh_request(first, early, "s1-r2"))
        expect(decision == Reject(reason="clock_behind"), f"expected clock_behind, got {decision}")
        expect(await _state(store, "s1", first.jti, "s1-r1") == before, "nothing is written")
        expect(await store.refresh_record("s1-r2") is None, "no successor was minted")
        late = T0 + 100 + GRACE + 1  # once the clock is past the window: reuse as ever
        decision = await store.refresh(refresh_request(first, late, "s1-r3"))
        expect(isinstance(decision, RevokeForReuse), f"expected reuse, got {_kind(decision)}")


async def replay_after_grace_revokes(factory: StoreFactory) -> None:
    """Outside grace a rotated token is reuse: the session dies, newest token included."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        rotated = await store.refresh(refresh_request(first, T0 + 1, "s1-r1"))
        assert isinstance(rotated, Rotate)
        late = T0 + 1 + GRACE + 0.001
        decision = await store.refresh(refresh_request(first, late, "s1-r2"))
        expect(isinstance(decision, RevokeForReuse), f"expected reuse, got {_kind(decision)}")
        stored = await store.session("s1")
        expect(stored is not None and stored.revoked_at == late, "the session is revoked now")
        expect(stored is not None and stored.revoked_reason == "reuse_detected", "reason kept")
        newest = await store.refresh(refresh_request(rotated.successor, late, "s1-r3"))
        expect(newest == Reject(reason="revoked"), "the newest token dies with its session")


async def ancestor_replay_revokes_inside_grace(factory: StoreFactory) -> None:
    """Only the immediate parent of the current token gets grace; older ancestors are reuse."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        one = await store.refresh(refresh_request(first, T0 + 1, "s1-r1"))
        assert isinstance(one, Rotate)
        two = await store.refresh(refresh_request(one.successor, T0 + 2, "s1-r2"))
        expect(isinstance(two, Rotate), "the successor rotates")
        decision = await store.refresh(refresh_request(first, T0 + 3, "s1-r3"))
        expect(isinstance(decision, RevokeForReuse), f"expected reuse, got {_kind(decision)}")


async def expiry_rejects_without_writing(factory: StoreFactory) -> None:
    """Past the session's absolute end, or the token's idle end: rejected, not revoked."""
    session, first = make_session(ttl=100.0, refresh_ttl=50.0)
    async with factory() as store:
        await store.create_session(session, first)
        before = await _state(store, "s1", first.jti)
        for now in (T0 + 50, T0 + 100, T0 + 1e6):
            decision = await store.refresh(refresh_request(first, now, f"x{now}"))
            expect(decision == Reject(reason="expired"), f"expected expired at {now}")
        expect(await _state(store, "s1", first.jti) == before, "an expired refresh writes nothing")


async def unknown_or_mismatched_rejected(factory: StoreFactory) -> None:
    """Unknown jti, or a token whose sid/sub disagree with the store: unknown, no write."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        before = await _state(store, "s1", first.jti)
        cases = [
            refresh_request(first, T0 + 1, "n1", jti="nope"),
            refresh_request(first, T0 + 1, "n2", sid="s2"),
            refresh_request(first, T0 + 1, "n3", subject="mallory"),
        ]
        for request in cases:
            decision = await store.refresh(request)
            expect(decision == Reject(reason="unknown"), f"expected unknown for {request}")
        expect(await _state(store, "s1", first.jti) == before, "a rejection writes nothing")


async def revoke_session_is_idempotent(factory: StoreFactory) -> None:
    """The first revocation's time and reason stay; denial lists the access jti."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        once = await store.revoke_session("s1", now=T0 + 5, reason="logout", deny=("a1", T0 + 900))
        twice = await store.revoke_session("s1", now=T0 + 6, reason="again")
        expect(once is not None and once.revoked_at == T0 + 5, "revoked at the first call")
        expect(twice == once, "revoking again changes nothing")
        expect(await store.revoke_session("nope", now=T0, reason="x") is None, "unknown sid: None")
        status = await store.access_status("a1", "s1", "alice")
        expect(status.denied and status.session_revoked, "denied jti and revoked session")
        refreshed = await store.refresh(refresh_request(first, T0 + 7, "s1-r1"))
        expect(refreshed == Reject(reason="revoked"), "a revoked session never refreshes")


async def revoke_subject_everywhere(factory: StoreFactory) -> None:
    """Every session of the subject dies; sessions begun before the watermark stay dead."""
    async with factory() as store:
        for sid, subject in (("a1", "alice"), ("a2", "alice"), ("b1", "bob")):
            await store.create_session(*make_session(sid, subject))
        count = await store.revoke_subject("alice", now=T0 + 10, reason="everywhere")
        expect(count == 2, f"two sessions revoked, got {count}")
        expect(await store.revoke_subject("alice", now=T0 + 11, reason="x") == 0, "idempotent")
        for sid in ("a1", "a2"):
            stored = await store.session(sid)
            expect(stored is not None and stored.revoked_at == T0 + 10, f"{sid} revoked")
        bob = await store.session("b1")
        expect(bob is not None and bob.revoked_at is None, "other subjects are untouched")
        status = await store.access_status("j", "b1", "bob")
        expect(status.revoked_before is None, "bob has no watermark")
        # A login that began before the watermark but was stored after it (a race).
        early, early_first = make_session("a3", "alice", now=T0 + 9)
        await store.create_session(early, early_first)
        status = await store.access_status("j", "a3", "alice")
        expect(status.revoked_before == T0 + 11, "the watermark only rises")
        decision = await store.refresh(refresh_request(early_first, T0 + 12, "a3-r1"))
        expect(decision == Reject(reason="revoked"), "below the watermark means revoked")
        late, late_first = make_session("a4", "alice", now=T0 + 20)
        await store.create_session(late, late_first)
        decision = await store.refresh(refresh_request(late_first, T0 + 21, "a4-r1"))
        expect(isinstance(decision, Rotate), "a login after the watermark works")


async def deny_access_until_expiry(factory: StoreFactory) -> None:
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        await store.deny_access("a1", until=T0 + 900, now=T0)
        expect((await store.access_status("a1", "s1", "alice")).denied, "a1 is denied")
        # A denial only lengthens, whichever operation writes it.
        await store.revoke_session("s1", now=T0, reason="logout", deny=("a1", T0 + 10))
        await store.deny_access("a1", until=T0 + 20, now=T0)
        purge = PurgeRequest(sessions_before=0, denials_before=T0 + 100, watermarks_before=0)
        await store.purge(purge)
        expect((await store.access_status("a1", "s1", "alice")).denied, "the longest denial holds")
        expect(not (await store.access_status("a2", "s1", "alice")).denied, "a2 is not")
        status = await store.access_status("a2", "s1", "mallory")
        expect(not status.session_found, "a session read under the wrong subject is not found")


async def purge_keeps_the_living(factory: StoreFactory) -> None:
    """Purge removes only what expired, in batches; live sessions never notice."""
    async with factory() as store:
        for i in range(5):
            await store.create_session(*make_session(f"old{i}", "alice", ttl=100.0 + i))
        live, live_first = make_session("live", "alice")
        await store.create_session(live, live_first)
        await store.deny_access("stale", until=T0 + 50, now=T0)
        await store.deny_access("fresh", until=T0 + 5000, now=T0)
        await store.revoke_subject("bob", now=T0, reason="x")
        request = PurgeRequest(
            sessions_before=T0 + 1000, denials_before=T0 + 1000, watermarks_before=T0 + 1,
            limit=2,
        )  # fmt: skip
        counts = [await store.purge(request) for _ in range(4)]
        expect(counts == [2, 2, 1, 0], f"purge must honour its batch limit, got {counts}")
        expect([s.sid for s in await store.sessions("alice")] == ["live"], "only the live remain")
        for i in range(5):
            expect(await store.refresh_record(f"old{i}-r0") is None, "refresh records go too")
        expect(await store.session("live") == live, "a live session is untouched")
        expect(not (await store.access_status("stale", "live", "alice")).denied, "stale denial")
        expect((await store.access_status("fresh", "live", "alice")).denied, "live denial stays")
        expect((await store.access_status("j", "x", "bob")).revoked_before is None, "old mark")
        decision = await store.refresh(refresh_request(live_first, T0 + 1001, "live-r1"))
        expect(isinstance(decision, Rotate), "a live session refreshes after a purge")


async def sessions_listed_oldest_first(factory: StoreFactory) -> None:
    async with factory() as store:
        for sid, at in (("c", T0 + 3), ("a", T0 + 1), ("b", T0 + 2)):
            await store.create_session(*make_session(sid, "alice", now=at))
        await store.revoke_session("b", now=T0 + 4, reason="x")
        listed = [s.sid for s in await store.sessions("alice")]
        expect(listed == ["a", "b", "c"], f"oldest first, revoked included; got {listed}")
        expect(await store.sessions("nobody") == [], "an unknown subject has no sessions")


async def concurrent_refreshes_one_successor(factory: StoreFactory) -> None:
    """Many refreshes of one token at once: one Rotate, every other a Replay of it."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        decisions = await _gather(
            [store.refresh(refresh_request(first, T0 + 1, f"c{i}")) for i in range(50)]
        )
        rotates = [d for d in decisions if isinstance(d, Rotate)]
        expect(len(rotates) == 1, f"exactly one rotation, got {len(rotates)}")
        successor = rotates[0].successor
        others = [d for d in decisions if not isinstance(d, Rotate)]
        expect(
            all(isinstance(d, Replay) and d.successor == successor for d in others),
            "every other concurrent refresh replays the one successor",
        )
        current = await store.session("s1")
        expect(current is not None and current.current_jti == successor.jti, "one successor")


async def refresh_racing_revoke(factory: StoreFactory) -> None:
    """No token is minted after a revocation commits."""
    session, first = make_session()
    async with factory() as store:
        await store.create_session(session, first)
        results = await _gather(
            [
                store.refresh(refresh_request(first, T0 + 1, "r1")),
                store.revoke_session("s1", now=T0 + 1, reason="logout"),
                store.refresh(refresh_request(first, T0 + 1, "r2")),
            ]
        )
        stored = await store.session("s1")
        expect(stored is not None and stored.revoked_at is not None, "the revoke took effect")
        for result in (results[0], results[2]):
            if isinstance(result, (Rotate, Replay)):
                expect(result.session.revoked_at is None, "never minted from a revoked session")
        assert stored is not None
        after = await store.refresh_record(stored.current_jti)
        assert after is not None
        decision = await store.refresh(refresh_request(after, T0 + 2, "r3"))
        expect(decision == Reject(reason="revoked"), "nothing refreshes after the revoke")


async def closed_store_fails_closed(factory: StoreFactory) -> None:
    """After close(), operations raise StoreError rather than pretend."""
    async with factory() as store:
        await store.create_session(*make_session())
    try:
        await store.access_status("j", "s1", "alice")
    except StoreError:
        return
    raise ContractViolation("a closed store must raise StoreError")


#: Every check a store must pass, in a stable order (parametrize tests over it).
STORE_CONTRACT: Final[Sequence[ContractCheck]] = (
    create_and_read_back,
    duplicate_ids_refused,
    rotation_moves_forward,
    grace_replay_changes_nothing,
    grace_only_moves_forward,
    replay_after_grace_revokes,
    ancestor_replay_revokes_inside_grace,
    expiry_rejects_without_writing,
    unknown_or_mismatched_rejected,
    revoke_session_is_idempotent,
    revoke_subject_everywhere,
    revoke_everywhere_else,
    session_limit_ends_oldest,
    session_limit_refuses,
    concurrent_logins_respect_the_limit,
    deny_access_until_expiry,
    purge_keeps_the_living,
    sessions_listed_oldest_first,
    concurrent_refreshes_one_successor,
    refresh_racing_revoke,
    *CLAIM_CHECKS,
    closed_store_fails_closed,
)


__all__ = (
    "STORE_CONTRACT",
    "ContractCheck",
    "ContractViolation",
    "StoreFactory",
    "make_session",
    "refresh_request",
)
