"""Store contract checks for one-time claims (``Store.claim_once``).

A DPoP proof's ``jti`` is claimed once: the claim must be atomic (of many
concurrent claims of one key exactly one wins), measured on the caller's
clock (a claim holds while ``until > now``, whatever the backend's clock
says), and swept by ``purge`` once lapsed, never before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Final

from ._store import PurgeRequest, Store
from ._violation import expect

_Factory = Callable[[], AbstractAsyncContextManager[Store]]
T0: Final = 1_800_000_000.25


async def claim_once_refuses_a_replay(factory: _Factory) -> None:
    async with factory() as store:
        expect(await store.claim_once("p1", until=T0 + 60, now=T0), "a first claim wins")
        expect(not await store.claim_once("p1", until=T0 + 60, now=T0), "a second one is a replay")
        expect(
            not await store.claim_once("p1", until=T0 + 120, now=T0 + 59.5),
            "a claim holds until its until, whatever the replay asks for",
        )
        expect(await store.claim_once("p2", until=T0 + 60, now=T0), "another key is its own")
        expect(
            not await store.claim_once("p1", until=T0 + 61, now=T0 + 0.001),
            "the later replay did not shorten or replace the first claim",
        )


async def claim_once_lapses_on_the_callers_clock(factory: _Factory) -> None:
    """``until`` and ``now`` are the caller's: a claim far in the past or future
    of the backend's clock behaves the same."""
    async with factory() as store:
        past = 1_000_000.5  # 1970: a server clock would have expired it at once
        expect(await store.claim_once("old", until=past + 30, now=past), "a claim in 1970")
        expect(not await store.claim_once("old", until=past + 30, now=past + 29.9), "still held")
        expect(await store.claim_once("old", until=past + 90, now=past + 30), "lapsed at until")
        expect(not await store.claim_once("old", until=past + 95, now=past + 60), "new claim holds")
        far = 4_000_000_000.0  # 2096: a server clock would keep it for decades
        expect(await store.claim_once("far", until=far + 5, now=far), "a claim in 2096")
        expect(await store.claim_once("far", until=far + 10, now=far + 5), "lapsed by the caller")


async def claim_once_is_atomic(factory: _Factory) -> None:
    import anyio  # the ``tokenlife[testing]`` extra, as for the other concurrency checks

    async with factory() as store:
        wins: list[bool] = []

        async def claim(key: str) -> None:
            wins.append(await store.claim_once(key, until=T0 + 60, now=T0))

        async with anyio.create_task_group() as group:
            for i in range(40):
                group.start_soon(claim, "race")
                group.start_soon(claim, f"solo{i}")
        expect(
            wins.count(True) == 41,
            f"one winner for 'race' plus 40 solo keys, got {wins.count(True)}",
        )


async def purge_sweeps_lapsed_claims_only(factory: _Factory) -> None:
    async with factory() as store:
        await store.claim_once("stale", until=T0 + 10, now=T0)
        await store.claim_once("live", until=T0 + 500, now=T0)
        request = PurgeRequest(
            sessions_before=T0 + 100, denials_before=T0 + 100, watermarks_before=0
        )
        await store.purge(request)
        expect(
            not await store.claim_once("live", until=T0 + 600, now=T0 + 100),
            "purge keeps a claim that still holds",
        )
        expect(
            await store.claim_once("stale", until=T0 + 200, now=T0 + 100), "a lapsed one is free"
        )


#: Appended to ``STORE_CONTRACT``.
CLAIM_CHECKS: Final[Sequence[Callable[[_Factory], Awaitable[None]]]] = (
    claim_once_refuses_a_replay,
    claim_once_lapses_on_the_callers_clock,
    claim_once_is_atomic,
    purge_sweeps_lapsed_claims_only,
)

__all__ = (
    "CLAIM_CHECKS",
    "claim_once_is_atomic",
    "claim_once_lapses_on_the_callers_clock",
    "claim_once_refuses_a_replay",
    "purge_sweeps_lapsed_claims_only",
)
