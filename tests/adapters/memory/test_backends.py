"""The memory store runs on asyncio and on trio (anyio)."""

from __future__ import annotations

import pytest

from tokenlife import KeySet, ReuseDetectedError, TokenAuthority
from tokenlife.testing import STORE_CONTRACT, ContractCheck, FrozenClock, SequentialIds
from tokenlife_memory import MemoryStore

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_lifecycle_on_every_event_loop(anyio_backend: str) -> None:
    clock = FrozenClock()
    async with MemoryStore() as store:
        auth = TokenAuthority(
            store,
            keys=KeySet.from_secret(b"memory-backend-tests-secret-32-bytes"),
            clock=clock,
            ids=SequentialIds(),
        )
        pair = await auth.issue("alice")
        clock.advance(1)
        successor = await auth.refresh(pair.refresh_token)
        await auth.verify(successor.access_token)
        clock.advance(60)
        with pytest.raises(ReuseDetectedError):
            await auth.refresh(pair.refresh_token)


@pytest.mark.parametrize("check", STORE_CONTRACT, ids=lambda check: check.__name__)
async def test_contract_on_every_event_loop(check: ContractCheck, anyio_backend: str) -> None:
    await check(MemoryStore)
