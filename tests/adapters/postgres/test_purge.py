"""Purge in bounded batches with ``SKIP LOCKED``: never waits behind a rotation, and
several instances may run it at once."""

from __future__ import annotations

import anyio
import asyncpg
import pytest

from tests import postgres_servers
from tests.adapters.postgres.conftest import fresh_schema
from tokenlife.store import PurgeRequest, RefreshRecord, SessionRecord
from tokenlife_postgres import PURGE_CHUNK, PostgresStore

pytestmark = pytest.mark.anyio
T0 = 1_800_000_000.0
EXPIRED = PURGE_CHUNK + 44  # more than one chunk


def _login(n: int) -> tuple[SessionRecord, RefreshRecord]:
    sid, jti = f"s{n:05d}", f"r{n:05d}"
    session = SessionRecord(
        sid=sid, subject=f"u{n % 7}", created_at=T0, expires_at=T0 + 60, current_jti=jti,
        refreshed_at=T0,
    )  # fmt: skip
    first = RefreshRecord(
        jti=jti, sid=sid, subject=session.subject, issued_at=T0, expires_at=T0 + 60
    )
    return session, first


def _request(limit: int) -> PurgeRequest:
    return PurgeRequest(
        sessions_before=T0 + 61, denials_before=T0 + 61, watermarks_before=T0, limit=limit
    )


async def test_purge_skips_a_locked_session_and_concurrent_purges_share_the_work(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    async with (
        PostgresStore(pg_server.url, schema=schema, command_timeout=2.0) as one,
        PostgresStore(pg_server.url, schema=schema, command_timeout=2.0) as two,
    ):
        for n in range(EXPIRED):
            await one.create_session(*_login(n))
        counts = await one.purge_counts(_request(10_000))
        assert (counts.sessions, counts.refresh_tokens) == (EXPIRED, EXPIRED)
        blocker = await asyncpg.connect(pg_server.url)
        try:
            tx = blocker.transaction()
            await tx.start()
            # What a rotation in flight holds: the session's row lock.
            await blocker.execute(
                f"SELECT 1 FROM {schema}.sessions WHERE sid = 's00000' FOR UPDATE"  # noqa: S608
            )
            removed: list[int] = []

            async def purge(store: PostgresStore) -> None:
                removed.append(await store.purge(_request(10_000)))

            with anyio.fail_after(1.5):  # well inside the statement timeout: no waiting
                async with anyio.create_task_group() as group:
                    group.start_soon(purge, one)
                    group.start_soon(purge, two)
            assert sum(removed) == EXPIRED - 1, removed
            assert await one.session("s00000") is not None
            await tx.rollback()
        finally:
            await blocker.close()
        assert await two.purge(_request(10_000)) == 1
        counts = await one.purge_counts(_request(10_000))
        assert (counts.sessions, counts.refresh_tokens) == (0, 0)


async def test_purge_stops_at_its_limit(pg_store: PostgresStore) -> None:
    for n in range(10):
        await pg_store.create_session(*_login(n))
    assert await pg_store.purge(_request(4)) == 4
    assert (await pg_store.purge_counts(_request(4))).sessions == 6
