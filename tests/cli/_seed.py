"""Fill a store in-process with TokenAuthority, the way an application would."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tests.cli._cli import T0
from tests.cli._targets import Target
from tokenlife import KeySet, Policy, SessionRecord, TokenAuthority
from tokenlife.testing import FrozenClock

T = TypeVar("T")

KEYS = KeySet.from_secret(b"cli-tests-secret-of-at-least-32-bytes")
#: Sessions last one hour, so a purge test only has to move the clock a little.
POLICY = Policy(
    issuer="https://api.example",
    audience="api",
    access_ttl=60,
    refresh_ttl=1800,
    session_ttl=3600,
)


@dataclass
class Rig:
    auth: TokenAuthority
    clock: FrozenClock


def with_authority(target: Target, work: Callable[[Rig], Awaitable[T]], start: float = T0) -> T:
    """Open the store, run ``work`` with an authority whose clock starts at ``start``."""

    async def main() -> T:
        async with target.open() as store:
            clock = FrozenClock(start)
            rig = Rig(TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock), clock)
            return await work(rig)

    return asyncio.run(main())


def stored_session(target: Target, sid: str) -> SessionRecord | None:
    async def main() -> SessionRecord | None:
        async with target.open() as store:
            return await store.session(sid)

    return asyncio.run(main())


def stored_sessions(target: Target, subject: str) -> list[SessionRecord]:
    async def main() -> list[SessionRecord]:
        async with target.open() as store:
            return await store.sessions(subject)

    return asyncio.run(main())


__all__ = ("KEYS", "POLICY", "Rig", "stored_session", "stored_sessions", "with_authority")
