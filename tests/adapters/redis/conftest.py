"""Real Redis servers for the Redis adapter's own tests.

A single server and a 3-master cluster are started once per test run (only
when a test asks for them) and stopped at its end; fault tests start servers
of their own. Without redis-server the tests skip — or fail, in CI
(``TOKENLIFE_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import pytest

from tests import backends, redis_servers
from tokenlife_redis import RedisStore

_prefixes = itertools.count()


def _require_servers() -> None:
    reason = redis_servers.missing()
    if reason is not None:
        if backends.services_required():
            pytest.fail(f"required service unavailable: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis_servers.RedisServer]:
    """One plain server shared by the session (tests use their own key prefixes)."""
    _require_servers()
    server = redis_servers.RedisServer().start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[redis_servers.RedisClusterServers]:
    """A 3-master Redis Cluster shared by the session."""
    _require_servers()
    cluster = redis_servers.RedisClusterServers(masters=3).start()
    yield cluster
    cluster.remove()


@pytest.fixture
def own_server() -> Iterator[redis_servers.RedisServer]:
    """A server for one test alone (to restart, kill, or count commands on)."""
    _require_servers()
    server = redis_servers.RedisServer()
    yield server
    server.remove()


def fresh_prefix() -> str:
    """A key prefix no other store of this run uses: an empty store."""
    return f"tl{next(_prefixes)}:"


@pytest.fixture
async def redis_store(redis_server: redis_servers.RedisServer) -> AsyncIterator[RedisStore]:
    async with RedisStore.from_url(redis_server.url, prefix=fresh_prefix()) as opened:
        yield opened


@pytest.fixture
async def cluster_store(
    redis_cluster: redis_servers.RedisClusterServers,
) -> AsyncIterator[RedisStore]:
    async with RedisStore.from_url(redis_cluster.url, cluster=True, prefix=fresh_prefix()) as s:
        yield s
