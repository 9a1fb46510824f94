"""Races through the whole driver, on every store."""

from __future__ import annotations

import contextlib

import anyio
import pytest

from tokenlife import (
    KeySet,
    Policy,
    RefreshState,
    RevokedTokenError,
    TokenAuthority,
    TokenError,
    TokenPair,
)
from tokenlife.store import Store
from tokenlife.testing import FrozenClock, SequentialIds

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"concurrency-tests-secret-32-bytes!!")


def authority(store: Store, clock: FrozenClock) -> TokenAuthority:
    return TokenAuthority(
        store, keys=KEYS, policy=Policy(grace=10), clock=clock, ids=SequentialIds()
    )


async def test_hundred_concurrent_refreshes_one_successor(store: Store) -> None:
    clock = FrozenClock()
    auth = authority(store, clock)
    pair = await auth.issue("alice")
    clock.advance(1)
    results: list[TokenPair | BaseException] = []

    async def refresh() -> None:
        try:
            results.append(await auth.refresh(pair.refresh_token))
        except TokenError as exc:
            results.append(exc)

    async with anyio.create_task_group() as group:
        for _ in range(100):
            group.start_soon(refresh)

    failures = [r for r in results if not isinstance(r, TokenPair)]
    assert failures == [], "inside grace no concurrent refresh may fail"
    pairs = [r for r in results if isinstance(r, TokenPair)]
    assert len({p.refresh_token for p in pairs}) == 1, "every caller gets the same successor"
    session = await store.session(pair.session_id)
    assert session is not None
    assert session.revoked_at is None
    first = await store.refresh_record(session.current_jti)
    assert first is not None
    assert first.state is RefreshState.ACTIVE
    parent = await store.refresh_record(first.parent_jti or "")
    assert parent is not None
    assert parent.successor_jti == first.jti
    assert parent.parent_jti is None, "exactly one rotation happened"
    # The successor is fully usable.
    await auth.verify(pairs[0].access_token)
    clock.advance(1)
    await auth.refresh(pairs[0].refresh_token)


@pytest.mark.parametrize("rounds", [20])
async def test_refresh_racing_revoke_mints_nothing_after(store: Store, rounds: int) -> None:
    clock = FrozenClock()
    auth = authority(store, clock)
    for _ in range(rounds):
        pair = await auth.issue("bob")
        clock.advance(1)
        minted: list[TokenPair] = []

        async def refresh(token: str, minted: list[TokenPair] = minted) -> None:
            with contextlib.suppress(RevokedTokenError):
                minted.append(await auth.refresh(token))

        async with anyio.create_task_group() as group:
            group.start_soon(refresh, pair.refresh_token)
            group.start_soon(auth.revoke_session, pair.session_id)
            group.start_soon(refresh, pair.refresh_token)

        session = await store.session(pair.session_id)
        assert session is not None
        assert session.revoked_at is not None
        # Whatever was minted before the revoke committed is dead now.
        for new in minted:
            with pytest.raises(RevokedTokenError):
                await auth.verify(new.access_token)
            with pytest.raises(RevokedTokenError):
                await auth.refresh(new.refresh_token)
