"""A refresh storm, run in separate processes by test_storm.py.

Every process refreshes the same token from many tasks at once, after a
barrier that starts all processes together, and reports the distinct
successor refresh tokens it was handed and the errors it met.
"""

from __future__ import annotations

import asyncio
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from tokenlife import KeySet, Policy, TokenAuthority, TokenError
from tokenlife.testing import FrozenClock
from tokenlife_postgres import PostgresStore

KEYS = KeySet.from_secret(b"storm-tests-secret-of-at-least-32-bytes!")
POLICY = Policy(grace=10.0)
T0 = 1_800_000_000.0

#: ``(successor refresh tokens seen, errors)``
Report = tuple[list[str], list[str]]


def authority(store: PostgresStore, clock: FrozenClock) -> TokenAuthority:
    return TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock)


def storm(
    url: str, schema: str, token: str, callers: int, barrier: Barrier, reports: Queue[Report]
) -> None:
    """The process entry point."""
    reports.put(asyncio.run(_storm(url, schema, token, callers, barrier)))


async def _storm(url: str, schema: str, token: str, callers: int, barrier: Barrier) -> Report:
    clock = FrozenClock(T0 + 1)
    seen: set[str] = set()
    errors: list[str] = []
    async with PostgresStore(url, schema=schema, max_size=8) as store:
        auth = authority(store, clock)

        async def one() -> None:
            try:
                seen.add((await auth.refresh(token)).refresh_token)
            except (TokenError, Exception) as exc:
                errors.append(repr(exc))

        await asyncio.get_running_loop().run_in_executor(None, barrier.wait)
        await asyncio.gather(*(one() for _ in range(callers)))
    return sorted(seen), errors
