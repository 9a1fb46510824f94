"""Real stores for the command-line tests: a SQLite file, a real redis-server.

A redis-server is started once per session on a free 127.0.0.1 port (the Redis
suite's helper) and removed at the end. Each test gets its own key prefix, so
tests never see each other's keys. Without redis-server the Redis cases skip,
unless ``TOKENLIFE_REQUIRE_SERVICES=1`` (CI), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import backends, postgres_servers, redis_servers
from tests.cli._targets import Target, postgres_target, redis_target, sqlite_target


def _unavailable(reason: str) -> None:
    if backends.services_required():
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[redis_servers.RedisServer]:
    reason = redis_servers.missing()
    if reason is not None:
        _unavailable(reason)
    try:
        import tokenlife_redis  # noqa: F401
    except ImportError as exc:
        _unavailable(f"tokenlife-redis not installed ({exc})")
    server = redis_servers.RedisServer().start()
    yield server
    server.remove()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres_servers.PostgresServer]:
    reason = postgres_servers.missing()
    if reason is not None:
        _unavailable(reason)
    try:
        import tokenlife_postgres  # noqa: F401
    except ImportError as exc:
        _unavailable(f"tokenlife-postgres not installed ({exc})")
    server = postgres_servers.PostgresServer().start()
    yield server
    server.remove()


@pytest.fixture(params=["sqlite", "redis", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Target:
    """An empty store of each kind."""
    if request.param == "sqlite":
        return sqlite_target(tmp_path / "tokens.db")
    if request.param == "postgres":
        pg: postgres_servers.PostgresServer = request.getfixturevalue("postgres_server")
        return postgres_target(pg.url)
    server: redis_servers.RedisServer = request.getfixturevalue("redis_server")
    return redis_target(server)
