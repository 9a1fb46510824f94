"""Faults: a statement timeout, a lost connection, a restarted or killed server.

Each must surface as StoreError (the driver fails closed: 503 through the
framework adapters), leave nothing half-written, and never lose a rotation the
store acknowledged.
"""

from __future__ import annotations

import anyio
import asyncpg
import pytest

from tests import postgres_servers
from tests.adapters.postgres.conftest import fresh_schema
from tokenlife import KeySet, Policy, StoreError, TokenAuthority
from tokenlife.store import RefreshState
from tokenlife.testing import FrozenClock
from tokenlife_postgres import PostgresStore

pytestmark = pytest.mark.anyio
KEYS = KeySet.from_secret(b"postgres-faults-secret-of-32-bytes!!")


def authority(store: PostgresStore, clock: FrozenClock) -> TokenAuthority:
    return TokenAuthority(store, keys=KEYS, policy=Policy(grace=10), clock=clock)


async def test_a_statement_timeout_fails_closed_and_writes_nothing(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    async with PostgresStore(pg_server.url, schema=schema, command_timeout=0.3) as store:
        clock = FrozenClock()
        auth = authority(store, clock)
        pair = await auth.issue("alice")
        clock.advance(1)
        # Someone else holds the session's row lock past the timeout.
        blocker = await asyncpg.connect(pg_server.url)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute(
                f"SELECT 1 FROM {schema}.sessions WHERE sid = $1 FOR UPDATE",  # noqa: S608
                pair.session_id,
            )
            with pytest.raises(StoreError):
                await auth.refresh(pair.refresh_token)
            await tx.rollback()
        finally:
            await blocker.close()
        session = await store.session(pair.session_id)
        assert session is not None
        first = await store.refresh_record(session.current_jti)
        assert first is not None
        assert first.state is RefreshState.ACTIVE and first.successor_jti is None
        assert session.generation == 0
        # Nothing was half-written: the same token still rotates, once.
        fresh = await auth.refresh(pair.refresh_token)
        await auth.verify(fresh.access_token)


async def test_a_connection_lost_mid_rotation_fails_closed_and_writes_nothing(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    async with PostgresStore(pg_server.url, schema=schema, max_size=4) as store:
        clock = FrozenClock()
        auth = authority(store, clock)
        pair = await auth.issue("alice")
        clock.advance(1)
        blocker = await asyncpg.connect(pg_server.url)
        try:
            tx = blocker.transaction()
            await tx.start()
            await blocker.execute(
                f"SELECT 1 FROM {schema}.sessions WHERE sid = $1 FOR UPDATE",  # noqa: S608
                pair.session_id,
            )
            outcome: list[BaseException | None] = []

            async def rotate() -> None:
                try:
                    await auth.refresh(pair.refresh_token)
                    outcome.append(None)
                except BaseException as exc:
                    outcome.append(exc)

            async with anyio.create_task_group() as group:
                group.start_soon(rotate)
                # Cut the rotation's connection while it waits for the row lock.
                with anyio.fail_after(10):
                    while not await blocker.fetchval(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = 'tokenlife' AND wait_event_type = 'Lock'"
                    ):
                        await anyio.sleep(0.01)
            await tx.rollback()
        finally:
            await blocker.close()
        assert len(outcome) == 1 and isinstance(outcome[0], StoreError), outcome
        session = await store.session(pair.session_id)
        assert session is not None and session.generation == 0
        # The pool replaced the connection; the same token still rotates, once.
        fresh = await auth.refresh(pair.refresh_token)
        await auth.verify(fresh.access_token)


async def test_a_restarted_server_fails_closed_then_serves_again(
    own_server: postgres_servers.PostgresServer,
) -> None:
    own_server.start()
    async with PostgresStore(own_server.url, schema=fresh_schema(), max_size=4) as store:
        clock = FrozenClock()
        auth = authority(store, clock)
        pair = await auth.issue("alice")
        own_server.stop()
        clock.advance(1)
        with pytest.raises(StoreError):
            await auth.refresh(pair.refresh_token)
        own_server.start()
        # The failed call wrote nothing; the token rotates now.
        clock.advance(1)
        await auth.refresh(pair.refresh_token)


async def test_acknowledged_rotations_survive_kill_9_of_the_server(
    own_server: postgres_servers.PostgresServer,
) -> None:
    own_server.start()
    schema = fresh_schema()
    acknowledged: list[tuple[str, str]] = []
    async with PostgresStore(own_server.url, schema=schema) as store:
        clock = FrozenClock()
        auth = authority(store, clock)
        pairs = [await auth.issue(f"user{i}") for i in range(8)]
        for _ in range(5):
            clock.advance(1)
            pairs = [await auth.refresh(p.refresh_token) for p in pairs]
        acknowledged = [(p.session_id, p.refresh_token) for p in pairs]
        own_server.kill()
    own_server.start()
    async with PostgresStore(own_server.url, schema=schema) as store:
        auth = authority(store, clock)
        for sid, token in acknowledged:
            session = await store.session(sid)
            assert session is not None
            assert session.generation == 5
            clock.advance(1)
            await auth.refresh(token)  # the acknowledged successor is the live one


async def test_a_restart_mid_storm_fails_closed_and_leaves_every_chain_whole(
    own_server: postgres_servers.PostgresServer,
) -> None:
    """16 sessions rotating as fast as they can while the server restarts under them:
    each call rotates or raises StoreError, every session's chain stays whole (one
    ACTIVE record, the current one; a generation per ROTATED record), and each
    walks on from its last acknowledged token."""
    own_server.start()
    schema = fresh_schema()
    store = PostgresStore(own_server.url, schema=schema, max_size=16, command_timeout=2.0)
    async with store:
        clock = FrozenClock()
        auth = authority(store, clock)  # the clock stands still: replays stay inside grace
        latest = {p.session_id: p for p in [await auth.issue(f"user{i}") for i in range(16)]}
        acknowledged = dict.fromkeys(latest, 0)
        failures: list[StoreError] = []
        restarted = anyio.Event()

        async def walk(sid: str) -> None:
            after = 0
            with anyio.fail_after(60):
                while after < 3:
                    try:
                        latest[sid] = await auth.refresh(latest[sid].refresh_token)
                    except StoreError as exc:
                        failures.append(exc)
                        await anyio.sleep(0.02)
                        continue
                    acknowledged[sid] += 1
                    after += restarted.is_set()

        async def restart() -> None:
            await anyio.sleep(0.1)
            await anyio.to_thread.run_sync(own_server.restart)
            restarted.set()

        async with anyio.create_task_group() as group:
            for sid in latest:
                group.start_soon(walk, sid)
            group.start_soon(restart)
        assert failures, "the restart should have cut rotations off"
        conn = await asyncpg.connect(own_server.url)
        try:
            for sid in latest:
                active = await conn.fetch(
                    f"SELECT jti FROM {schema}.refresh WHERE sid = $1 AND state = 0",  # noqa: S608
                    sid,
                )
                rotated = await conn.fetchval(
                    f"SELECT count(*) FROM {schema}.refresh WHERE sid = $1 AND state = 1",  # noqa: S608
                    sid,
                )
                session = await store.session(sid)
                assert session is not None and session.revoked_at is None
                assert [row[0] for row in active] == [session.current_jti]
                assert session.generation == rotated >= acknowledged[sid]
        finally:
            await conn.close()
        for pair in latest.values():
            await auth.refresh(pair.refresh_token)  # a rotation, or its replay inside grace
