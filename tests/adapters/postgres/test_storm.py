"""Several processes x many concurrent refreshes of one token: exactly one successor."""

from __future__ import annotations

import multiprocessing

import pytest

from tests import postgres_servers
from tests.adapters.postgres import _storm
from tests.adapters.postgres.conftest import fresh_schema
from tokenlife.store import RefreshState
from tokenlife.testing import FrozenClock
from tokenlife_postgres import PostgresStore

pytestmark = pytest.mark.anyio
PROCESSES, CALLERS = 4, 32


async def test_a_storm_from_several_processes_mints_exactly_one_successor(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    async with PostgresStore(pg_server.url, schema=schema) as store:
        clock = FrozenClock(_storm.T0)
        pair = await _storm.authority(store, clock).issue("alice")
        context = multiprocessing.get_context("spawn")
        barrier = context.Barrier(PROCESSES)
        reports: multiprocessing.Queue[_storm.Report] = context.Queue()
        children = [
            context.Process(
                target=_storm.storm,
                args=(pg_server.url, schema, pair.refresh_token, CALLERS, barrier, reports),
            )
            for _ in range(PROCESSES)
        ]
        for child in children:
            child.start()
        got = [reports.get(timeout=120) for _ in children]
        for child in children:
            child.join(timeout=30)
        errors = [e for _, errs in got for e in errs]
        assert errors == [], errors[:5]
        successors = {token for seen, _ in got for token in seen}
        assert len(successors) == 1, f"{len(successors)} successors minted"
        session = await store.session(pair.session_id)
        assert session is not None and session.generation == 1 and session.revoked_at is None
        current = await store.refresh_record(session.current_jti)
        assert current is not None and current.state is RefreshState.ACTIVE
        first = await store.refresh_record(current.parent_jti or "")
        assert first is not None and first.parent_jti is None
        assert first.state is RefreshState.ROTATED and first.successor_jti == current.jti
