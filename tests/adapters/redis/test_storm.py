"""4 processes x refresh storms against one server: no session ever forks.

Never two successors for one token: in every round every caller in every
process is handed the same successor, and the store's chain for each session
is a straight line — one rotation per round, no reuse detected, nothing revoked.
"""

from __future__ import annotations

import itertools
import multiprocessing
from typing import Any

import pytest

from tests import redis_servers
from tests.adapters.redis import _storm
from tests.adapters.redis.conftest import fresh_prefix
from tokenlife import RefreshState
from tokenlife.testing import FrozenClock
from tokenlife_redis import RedisStore

pytestmark = pytest.mark.anyio

PROCESSES = 4
SESSIONS = 8
ROUNDS = 5
CALLERS = 16  # per process and token: 64 concurrent refreshes of each token


async def test_refresh_storms_from_four_processes(
    redis_server: redis_servers.RedisServer,
) -> None:
    prefix = fresh_prefix()
    async with RedisStore.from_url(redis_server.url, prefix=prefix) as store:
        auth = _storm.authority(store, FrozenClock(_storm.T0))
        pairs = [await auth.issue(f"user{n % 3}") for n in range(SESSIONS)]

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    reports: Any = context.Queue()
    tokens = [pair.refresh_token for pair in pairs]
    workers = [
        context.Process(
            target=_storm.storm,
            args=(n, redis_server.url, prefix, tokens, ROUNDS, CALLERS, barrier, reports),
        )
        for n in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    try:
        results = sorted(reports.get(timeout=240) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    assert [worker.exitcode for worker in workers] == [0] * PROCESSES

    for _, _, errors in results:
        assert errors == [], "inside grace no concurrent refresh may fail"
    for round_ in range(ROUNDS):
        for session in range(SESSIONS):
            handed = {tuple(seen[round_][session]) for _, seen, _ in results}
            assert len(handed) == 1, f"round {round_}, session {session}: {handed}"
            (successors,) = handed
            assert len(successors) == 1, "one token, one successor"

    async with RedisStore.from_url(redis_server.url, prefix=prefix) as store:
        for pair in pairs:
            stored = await store.session(pair.session_id)
            assert stored is not None
            assert stored.revoked_at is None
            record = await store.refresh_record(stored.current_jti)
            chain = []
            while record is not None:
                chain.append(record)
                record = await store.refresh_record(record.parent_jti or "")
            assert len(chain) == ROUNDS + 1, "exactly one rotation per round"
            assert chain[0].state is RefreshState.ACTIVE
            assert all(r.state is RefreshState.ROTATED for r in chain[1:])
            assert all(
                newer.jti == older.successor_jti for newer, older in itertools.pairwise(chain)
            )
