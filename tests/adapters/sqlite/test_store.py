"""What is particular to the SQLite store: batching, locking, errors, the access cache."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from msgspec.structs import replace

from tokenlife import (
    ConfigurationError,
    KeySet,
    Policy,
    RevokedTokenError,
    StoreError,
    TokenAuthority,
)
from tokenlife.store import AccessStatus, RefreshRequest, RefreshState, Reject, Rotate
from tokenlife.testing import FrozenClock, SequentialIds
from tokenlife_sqlite import SQLiteStore, _cache

from ._support import T0, StallMeter, login

pytestmark = pytest.mark.anyio


def rotate(sid: str, jti: str, successor: str, now: float = T0 + 1) -> RefreshRequest:
    return RefreshRequest(
        jti=jti, sid=sid, subject="alice", now=now, grace=10.0,
        successor_jti=successor, refresh_ttl=3600.0,
    )  # fmt: skip


async def test_a_failing_job_does_not_spoil_its_batch(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "db") as store:
        await store.create_session(*login("s1"))
        # Queued in one loop iteration, so one transaction; the duplicate fails alone.
        results = await asyncio.gather(
            store.create_session(*login("s2")),
            store.create_session(*login("s1")),
            store.refresh(rotate("s1", "s1-r0", "s1-r1")),
            store.create_session(*login("s3")),
            return_exceptions=True,
        )
        assert results[0] == () and results[3] == ()
        assert isinstance(results[1], StoreError)
        assert isinstance(results[2], Rotate)
        assert await store.session("s2") is not None and await store.session("s3") is not None
        record = await store.refresh_record("s1-r1")
        assert record is not None and record.parent_jti == "s1-r0"


async def test_one_active_token_per_session_is_a_database_guarantee(tmp_path: Path) -> None:
    path = tmp_path / "db"
    async with SQLiteStore(path) as store:
        await store.create_session(*login("s1"))
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            conn.execute(
                "INSERT INTO records (jti, sid, subject, issued_at, expires_at, state) "
                "VALUES ('fork', 's1', 'alice', 0, 1, 0)"
            )
    finally:
        conn.close()


async def test_a_held_write_lock_fails_closed_after_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "db"
    async with SQLiteStore(path, busy_timeout=1.0) as store:
        await store.create_session(*login("s1"))
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        try:
            async with StallMeter() as meter:
                started = time.monotonic()
                with pytest.raises(StoreError):
                    await store.refresh(rotate("s1", "s1-r0", "s1-r1"))
                waited = time.monotonic() - started
            assert 0.9 <= waited < 5.0, waited
            # The wait happens on the connection's thread: the loop went on ticking
            # (a loop blocked by the wait would stall for the whole second).
            assert meter.longest < 0.5, meter.longest
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        decision = await store.refresh(rotate("s1", "s1-r0", "s1-r1"))
        assert isinstance(decision, Rotate), "the lock released, writes go through again"


async def test_errors_are_store_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        await SQLiteStore(tmp_path / "no" / "such" / "dir.db").open()
    with pytest.raises(StoreError):
        await SQLiteStore(tmp_path).open()  # a directory
    with pytest.raises(ConfigurationError):
        SQLiteStore(":memory:")
    store = SQLiteStore(tmp_path / "db")
    with pytest.raises(StoreError, match="not open yet"):
        await store.session("s1")
    async with store:
        pass
    for call in (store.session("s1"), store.access_status("j", "s1", "alice")):
        with pytest.raises(StoreError, match="closed"):
            await call


async def test_a_cached_access_check_makes_no_thread_hop(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "db") as store:
        await store.create_session(*login("s1"))
        await store.access_status("j", "s1", "alice")  # warm, and caught up
        check = store.access_status("j", "s1", "alice")
        # Driven by hand: a coroutine that never suspends finishes on its first step.
        with pytest.raises(StopIteration) as done:
            check.send(None)
        status = done.value.value
        assert isinstance(status, AccessStatus) and status.session_found


async def test_own_writes_are_seen_at_once_without_a_catch_up(tmp_path: Path) -> None:
    # staleness 1 hour: nothing but this process's own writes can update the view.
    async with SQLiteStore(tmp_path / "db", staleness=3600) as store:
        await store.create_session(*login("s1"))
        await store.create_session(*login("s2"))
        await store.create_session(*login("b1", "bob"))
        assert not (await store.access_status("j", "s1", "alice")).session_revoked
        await store.revoke_session("s1", now=T0 + 1, reason="logout", deny=("a1", T0 + 900))
        status = await store.access_status("a1", "s1", "alice")
        assert status.session_revoked and status.denied
        await store.refresh(rotate("s2", "s2-r0", "s2-r1", now=T0 + 7.5))
        assert (await store.access_status("j", "s2", "alice")).access_floor == T0 + 7
        await store.revoke_subject("bob", now=T0 + 9, reason="everywhere")
        status = await store.access_status("j", "b1", "bob")
        assert status.session_revoked and status.revoked_before == T0 + 9
        await store.deny_access("a2", until=T0 + 10, now=T0)
        assert (await store.access_status("a2", "s2", "alice")).denied


async def test_another_connections_writes_respect_the_staleness_bound(tmp_path: Path) -> None:
    path = tmp_path / "db"
    async with SQLiteStore(path, staleness=0.05) as reader, SQLiteStore(path) as writer:
        await writer.create_session(*login("s1"))
        assert (await reader.access_status("j", "s1", "alice")).session_found
        await writer.revoke_session("s1", now=T0 + 1, reason="logout")
        await writer.deny_access("a9", until=T0 + 900, now=T0)
        await asyncio.sleep(0.06)  # past the bound, whatever the reader last saw
        status = await reader.access_status("a9", "s1", "alice")
        assert status.session_revoked and status.denied
    async with SQLiteStore(path, staleness=0) as exact, SQLiteStore(path) as writer:
        await writer.create_session(*login("s2"))
        assert not (await exact.access_status("j", "s2", "alice")).session_revoked
        await writer.revoke_session("s2", now=T0 + 1, reason="logout")
        assert (await exact.access_status("j", "s2", "alice")).session_revoked


async def test_a_small_cache_stays_exact(tmp_path: Path) -> None:
    async with SQLiteStore(tmp_path / "db", cache_sessions=4) as store:
        for i in range(20):
            await store.create_session(*login(f"s{i}"))
        await store.revoke_session("s3", now=T0 + 1, reason="x")
        for i in range(20):
            status = await store.access_status("j", f"s{i}", "alice")
            assert status.session_found and status.session_revoked == (i == 3)
        assert not (await store.access_status("j", "nope", "alice")).session_found


async def test_the_whole_lifecycle_through_the_authority(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    async with SQLiteStore(tmp_path / "db") as store:
        auth = TokenAuthority(
            store, keys=KeySet.from_secret(b"sqlite-store-tests-secret-32-bytes!"),
            policy=Policy(grace=10), clock=clock, ids=SequentialIds(),
        )  # fmt: skip
        pair = await auth.issue("alice")
        await auth.verify(pair.access_token)
        clock.advance(60)
        newer = await auth.refresh(pair.refresh_token)
        clock.advance(11)
        with pytest.raises(RevokedTokenError):
            await auth.verify(pair.access_token)  # superseded by the refresh
        await auth.verify(newer.access_token)
        await auth.revoke(newer.access_token)
        with pytest.raises(RevokedTokenError):
            await auth.verify(newer.access_token)


async def test_a_reader_behind_trimmed_changes_rebuilds_its_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cache, "KEEP_CHANGES", 3)  # trim hard, on every batch
    monkeypatch.setattr(_cache, "_TRIM_EVERY", 1)
    rebuilds = []
    rebuild = _cache.AccessCache.rebuild

    def spy(self: _cache.AccessCache, conn: sqlite3.Connection) -> None:
        rebuilds.append(self)
        rebuild(self, conn)

    monkeypatch.setattr(_cache.AccessCache, "rebuild", spy)
    path = tmp_path / "db"
    async with SQLiteStore(path, staleness=0) as reader, SQLiteStore(path) as writer:
        for i in range(10):
            await writer.create_session(*login(f"s{i}"))
        for i in range(10):  # all cached by the reader
            assert not (await reader.access_status("j", f"s{i}", "alice")).session_revoked
        for i in range(10):  # two change rows each, all but the last three trimmed
            await writer.revoke_session(f"s{i}", now=T0 + 1, reason="x", deny=(f"a{i}", T0 + 900))
        conn = sqlite3.connect(path)
        first, last = conn.execute("SELECT min(seq), max(seq) FROM changes").fetchone()
        conn.close()
        assert (first, last) == (18, 20)
        opened = len(rebuilds)  # one per store, on open
        for i in range(10):
            status = await reader.access_status(f"a{i}", f"s{i}", "alice")
            assert status.session_revoked and status.denied, i
        assert len(rebuilds) == opened + 1, "the reader saw the gap and rebuilt once"


async def test_an_empty_id_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """The session's own row has the empty jti; no token may take it."""
    async with SQLiteStore(tmp_path / "db") as store:
        session, first = login("s1")
        with pytest.raises(StoreError, match="empty"):
            await store.create_session(session, replace(first, jti=""))
        assert await store.session("s1") is None
        await store.create_session(session, first)
        with pytest.raises(StoreError, match="empty"):
            await store.refresh(rotate("s1", "s1-r0", ""))
        record = await store.refresh_record("s1-r0")
        assert record is not None and record.state is RefreshState.ACTIVE
        assert await store.refresh_record("") is None
        assert isinstance(await store.refresh(rotate("s1", "", "s1-r1")), Reject)
