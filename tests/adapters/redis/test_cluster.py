"""The store on a real 3-master Redis Cluster (redis.asyncio.cluster.RedisCluster).

Every script touches one slot, so nothing here may raise CROSSSLOT; sessions
spread over the masters; the lifecycle — issue, refresh, grace, reuse,
revoke_subject, sessions, purge — and the whole Store contract behave as on
one server.
"""

from __future__ import annotations

import asyncio

import pytest
import redis

from tests import redis_servers
from tests.adapters.redis.conftest import fresh_prefix
from tokenlife import (
    KeySet,
    Policy,
    ReuseDetectedError,
    RevokedTokenError,
    TokenAuthority,
)
from tokenlife.store import Reject
from tokenlife.testing import (
    STORE_CONTRACT,
    ContractCheck,
    FrozenClock,
    SequentialIds,
    make_session,
    refresh_request,
)
from tokenlife_redis import RedisStore

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"cluster-tests-secret-of-at-least-32-bytes")
DAY = 86400.0


@pytest.mark.parametrize("check", STORE_CONTRACT, ids=lambda check: check.__name__)
async def test_contract_on_a_cluster(
    check: ContractCheck, redis_cluster: redis_servers.RedisClusterServers
) -> None:
    prefix = fresh_prefix()
    await check(lambda: RedisStore.from_url(redis_cluster.url, cluster=True, prefix=prefix))


async def test_lifecycle_on_a_cluster(cluster_store: RedisStore) -> None:
    clock = FrozenClock()
    policy = Policy(grace=10, session_ttl=30 * DAY, refresh_ttl=14 * DAY)
    auth = TokenAuthority(cluster_store, keys=KEYS, policy=policy, clock=clock, ids=SequentialIds())
    alice = [await auth.issue("alice", scopes=("read",)) for _ in range(3)]
    bob = await auth.issue("bob")
    await auth.verify(alice[0].access_token)

    clock.advance(1)
    rotated = await auth.refresh(alice[0].refresh_token)
    clock.advance(2)
    again = await auth.refresh(alice[0].refresh_token)  # inside grace: the same successor
    assert again.refresh_token == rotated.refresh_token
    clock.advance(30)
    with pytest.raises(RevokedTokenError):  # the old access token was superseded
        await auth.verify(alice[0].access_token)
    await auth.verify(rotated.access_token)

    await auth.refresh(alice[1].refresh_token)
    clock.advance(30)
    with pytest.raises(ReuseDetectedError):  # outside grace: reuse kills the session
        await auth.refresh(alice[1].refresh_token)

    assert len(await auth.sessions("alice")) == 2
    assert await auth.revoke_subject("alice") == 2
    assert await auth.sessions("alice") == []
    assert len(await auth.sessions("alice", include_revoked=True)) == 3
    for pair in (rotated, alice[2]):
        with pytest.raises(RevokedTokenError):
            await auth.verify(pair.access_token)
    await auth.verify(bob.access_token)

    clock.advance(31 * DAY)
    assert await auth.purge() == 4
    assert await auth.sessions("alice", include_revoked=True) == []
    assert await auth.sessions("bob", include_revoked=True) == []
    assert await cluster_store.session(rotated.session_id) is None


async def test_sessions_spread_over_the_masters(
    redis_cluster: redis_servers.RedisClusterServers,
) -> None:
    prefix = fresh_prefix()
    async with RedisStore.from_url(redis_cluster.url, cluster=True, prefix=prefix) as store:
        for n in range(30):
            await store.create_session(*make_session(f"s{n}", f"user{n}"))
    for port in redis_cluster.ports:
        node = redis.Redis(host="127.0.0.1", port=port)
        assert any(True for _ in node.scan_iter(match=f"{prefix}{{s:*", count=1000))
        node.close()


async def test_login_racing_logout_everywhere(cluster_store: RedisStore) -> None:
    """A login that began before "log out everywhere" never survives it, however the
    per-slot steps of the two interleave."""
    for n in range(40):
        subject = f"racer{n}"
        session, first = make_session(f"r{n}", subject, now=1_800_000_000.0)
        revoked_at = 1_800_000_000.0 + 1
        await asyncio.gather(
            cluster_store.create_session(session, first),
            cluster_store.revoke_subject(subject, now=revoked_at, reason="everywhere"),
        )
        decision = await cluster_store.refresh(refresh_request(first, revoked_at + 1, f"r{n}-1"))
        assert decision == Reject(reason="revoked")
        status = await cluster_store.access_status("j", f"r{n}", subject)
        assert status.revoked_before == revoked_at
