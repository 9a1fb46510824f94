"""A refresh storm, run in a separate process by test_storm.py.

Every process refreshes every session's current token from many tasks at
once, round after round; a barrier starts each round in all processes
together, so the same token is hit from 4 processes x N tasks at the same
instant. Each process reports, per round and session, the successor tokens
it was handed (there must be exactly one, the same in every process) and
any error.
"""

from __future__ import annotations

import asyncio
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from tokenlife import KeySet, Policy, TokenAuthority, TokenPair
from tokenlife.testing import FrozenClock
from tokenlife_redis import RedisStore

KEYS = KeySet.from_secret(b"storm-tests-secret-of-at-least-32-bytes!")
POLICY = Policy(grace=10.0)
T0 = 1_800_000_000.0

#: Per process: ``(index, rounds, errors)``; ``rounds[r][s]`` lists the distinct
#: successor refresh tokens session ``s`` got in round ``r``.
Report = tuple[int, list[list[list[str]]], list[str]]


def authority(store: RedisStore, clock: FrozenClock) -> TokenAuthority:
    return TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock)


def storm(
    index: int,
    url: str,
    prefix: str,
    tokens: list[str],
    rounds: int,
    callers: int,
    barrier: Barrier,
    reports: Queue[Report],
) -> None:
    """The process entry point."""
    reports.put(asyncio.run(_storm(index, url, prefix, tokens, rounds, callers, barrier)))


async def _storm(
    index: int,
    url: str,
    prefix: str,
    tokens: list[str],
    rounds: int,
    callers: int,
    barrier: Barrier,
) -> Report:
    clock = FrozenClock(T0)
    seen: list[list[list[str]]] = []
    errors: list[str] = []
    async with RedisStore.from_url(url, prefix=prefix) as store:
        auth = authority(store, clock)
        current = list(tokens)
        for round_ in range(rounds):
            clock.now = T0 + round_ + 1
            barrier.wait(timeout=60)
            outcomes: list[Any] = await asyncio.gather(
                *(auth.refresh(token) for token in current for _ in range(callers)),
                return_exceptions=True,
            )
            successors: list[list[str]] = []
            for n in range(len(current)):
                mine = outcomes[n * callers : (n + 1) * callers]
                errors += [repr(o) for o in mine if not isinstance(o, TokenPair)]
                got = sorted({o.refresh_token for o in mine if isinstance(o, TokenPair)})
                successors.append(got)
            seen.append(successors)
            current = [got[0] if got else "" for got in successors]
    return index, seen, errors
