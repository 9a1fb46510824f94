"""The Store contract on a subject's sessions: "everywhere else" and the session limit."""

from __future__ import annotations

import math
from typing import Any

from ._contract_kit import (
    GRACE,
    T0,
    ContractViolation,
    StoreFactory,
    expect,
    gather,
    make_session,
    refresh_request,
)
from ._errors import SessionLimitError
from ._machine import decide_access, is_live
from ._store import Rotate, SessionLimit, SessionLimitMode, Store


async def revoke_everywhere_else(factory: StoreFactory) -> None:
    """``keep_sid``: every other session of the subject dies; the kept one, its
    tokens and other subjects are untouched, and no watermark rises."""
    async with factory() as store:
        for sid, subject in (("a1", "alice"), ("a2", "alice"), ("a3", "alice"), ("b1", "bob")):
            await store.create_session(*make_session(sid, subject))
        await store.revoke_session("a3", now=T0 + 5, reason="logout")
        count = await store.revoke_subject("alice", now=T0 + 10, reason="others", keep_sid="a2")
        expect(count == 1, f"one other open session revoked, got {count}")
        ended = await store.session("a1")
        expect(
            ended is not None and (ended.revoked_at, ended.revoked_reason) == (T0 + 10, "others"),
            "the other session is revoked now, with the reason given",
        )
        earlier = await store.session("a3")
        expect(earlier is not None and earlier.revoked_at == T0 + 5, "a revocation stays first")
        kept = await store.session("a2")
        expect(kept is not None and kept.revoked_at is None, "the kept session stays open")
        status = await store.access_status("j", "a2", "alice")
        verdict = decide_access(status, iat=math.floor(T0), now=T0 + 11, grace=GRACE, generation=0)
        expect(verdict is None, f"the kept session's access token still passes, got {verdict}")
        expect(status.revoked_before is None, "keeping a session raises no watermark")
        bob = await store.session("b1")
        expect(bob is not None and bob.revoked_at is None, "other subjects are untouched")
        again = await store.revoke_subject("alice", now=T0 + 12, reason="x", keep_sid="a2")
        expect(again == 0, f"idempotent: nothing left to revoke, got {again}")
        decision = await store.refresh(refresh_request(make_session("a2")[1], T0 + 13, "a2-r1"))
        expect(isinstance(decision, Rotate), "the kept session still refreshes")
        # A keep_sid that is not the subject's spares nothing, and still sets no watermark.
        spared = await store.revoke_subject("bob", now=T0 + 14, reason="x", keep_sid="a2")
        expect(spared == 1, f"a foreign keep_sid keeps nothing, got {spared}")
        status = await store.access_status("j", "b1", "bob")
        expect(status.session_revoked and status.revoked_before is None, "no watermark for bob")
        kept = await store.session("a2")
        expect(kept is not None and kept.revoked_at is None, "another subject's session stays")


def _limit(max_sessions: int, on_excess: SessionLimitMode, now: float = T0 + 50) -> SessionLimit:
    return SessionLimit(max_sessions=max_sessions, on_excess=on_excess, now=now, reason="limit")


async def _live(store: Store, subject: str, now: float) -> list[str]:
    return [s.sid for s in await store.sessions(subject) if is_live(s, now=now)]


async def session_limit_ends_oldest(factory: StoreFactory) -> None:
    """A login beyond the limit ends the oldest live sessions; dead ones do not count."""
    async with factory() as store:
        await store.create_session(*make_session("gone", "alice", now=T0, ttl=10.0))
        for i, sid in enumerate(("a1", "a2", "a3", "a4")):
            await store.create_session(*make_session(sid, "alice", now=T0 + 1 + i))
        await store.revoke_session("a2", now=T0 + 6, reason="logout")
        await store.create_session(*make_session("b1", "bob", now=T0))
        new, first = make_session("a5", "alice", now=T0 + 50)
        ended = await store.create_session(new, first, limit=_limit(2, "end_oldest"))
        expect(ended == ("a1", "a3"), f"the two oldest live sessions end, got {ended}")
        for sid in ended:
            stored = await store.session(sid)
            expect(
                stored is not None
                and (stored.revoked_at, stored.revoked_reason) == (T0 + 50, "limit"),
                f"{sid} is revoked at the limit's now, with its reason",
            )
        expect(await store.session("a5") == new, "the new session is stored")
        expect(await store.refresh_record(first.jti) == first, "with its first refresh record")
        live = await _live(store, "alice", T0 + 50)
        expect(live == ["a4", "a5"], f"two live sessions remain, got {live}")
        bob = await store.session("b1")
        expect(bob is not None and bob.revoked_at is None, "other subjects are untouched")
        room = await store.create_session(*make_session("b2", "bob"), limit=_limit(2, "refuse"))
        expect(room == (), f"a login within the limit ends nothing, got {room}")
        plain = await store.create_session(*make_session("a6", "alice", now=T0 + 51))
        expect(plain == (), "without a limit nothing ends")


async def session_limit_refuses(factory: StoreFactory) -> None:
    """``refuse``: a login beyond the limit raises SessionLimitError and writes nothing."""
    async with factory() as store:
        for i, sid in enumerate(("a1", "a2")):
            await store.create_session(*make_session(sid, "alice", now=T0 + i))
        before = await store.sessions("alice")
        new, first = make_session("a3", "alice", now=T0 + 50)
        try:
            await store.create_session(new, first, limit=_limit(2, "refuse"))
        except SessionLimitError:
            pass
        else:
            raise ContractViolation("a login beyond the limit must raise SessionLimitError")
        expect(await store.session("a3") is None, "a refused login stores no session")
        expect(await store.refresh_record(first.jti) is None, "nor its refresh record")
        expect(await store.sessions("alice") == before, "and ends nothing")
        await store.revoke_session("a1", now=T0 + 60, reason="logout")
        later = _limit(2, "refuse", now=T0 + 61)
        expect(
            await store.create_session(new, first, limit=later) == (), "room again after one ends"
        )


async def concurrent_logins_respect_the_limit(factory: StoreFactory) -> None:
    """64 logins of one subject at once, limit 5: exactly 5 live sessions remain
    (``end_oldest``), or exactly 5 logins succeed and 59 are refused (``refuse``)."""
    logins, cap = 64, 5
    for mode in ("end_oldest", "refuse"):  # the subject is named after the mode
        async with factory() as store:

            async def login(i: int, mode: SessionLimitMode = mode, store: Store = store) -> Any:
                session, first = make_session(f"{mode}-{i:02d}", mode, now=T0 + 50)
                try:
                    return await store.create_session(session, first, limit=_limit(cap, mode))
                except SessionLimitError as exc:
                    return exc

            results = await gather([login(i) for i in range(logins)])
            live = await _live(store, mode, T0 + 50)
            expect(len(live) == cap, f"{mode}: exactly {cap} live sessions, got {len(live)}")
            refused = [r for r in results if isinstance(r, SessionLimitError)]
            ended = [sid for r in results if isinstance(r, tuple) for sid in r]
            if mode == "refuse":
                expect(
                    len(refused) == logins - cap,
                    f"refuse: {logins - cap} refused, got {len(refused)}",
                )
                expect(ended == [], "refuse ends nothing")
                stored = len(await store.sessions(mode))
                expect(stored == cap, f"refused logins store nothing, found {stored} sessions")
            else:
                expect(refused == [], "end_oldest refuses nothing")
                expect(
                    sorted(ended) == sorted(set(ended)) and len(ended) == logins - cap,
                    f"each excess session is ended exactly once, got {len(ended)}",
                )


__all__ = (
    "concurrent_logins_respect_the_limit",
    "revoke_everywhere_else",
    "session_limit_ends_oldest",
    "session_limit_refuses",
)
