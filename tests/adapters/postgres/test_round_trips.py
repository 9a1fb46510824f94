"""Round trips per operation: every statement the store's connections send, counted.

asyncpg calls a connection's query loggers once for each statement it sends
to the server, BEGIN and COMMIT included. Once a statement sits in the
connection's prepared-statement cache (after a warm-up), each one is exactly
one round trip, so the count is the operation's cost in round trips.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from tests import postgres_servers
from tests.adapters.postgres.conftest import fresh_schema
from tokenlife import KeySet, TokenAuthority, TokenPair
from tokenlife.testing import FrozenClock, SequentialIds
from tokenlife_postgres import PostgresStore

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"round-trip-tests-secret-of-32-bytes!")


class StatementLog:
    """The statements sent on every connection of a pool (installed by its ``init``)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def init(self, conn: asyncpg.Connection) -> None:
        conn.add_query_logger(lambda record: self.sent.append(" ".join(record.query.split())))

    async def of(self, operation: Callable[[], Awaitable[object]]) -> list[str]:
        self.sent.clear()
        await operation()
        return [statement.split()[0].rstrip(";").upper() for statement in self.sent]


async def test_round_trips_of_each_lifecycle_operation(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    log = StatementLog()
    clock = FrozenClock()
    # One pooled connection, so the warm-up prepares every statement on it.
    store = PostgresStore.from_dsn(pg_server.url, schema=fresh_schema(), max_size=1, init=log.init)
    async with store:
        auth = TokenAuthority(store, keys=KEYS, clock=clock, ids=SequentialIds())
        warm = await auth.issue("warm")
        await auth.verify(warm.access_token)
        clock.advance(1)
        await auth.refresh(warm.refresh_token)

        pairs: list[TokenPair] = []

        async def issue() -> None:
            pairs.append(await auth.issue("alice", scopes=("read",)))

        async def refresh() -> None:
            clock.advance(1)
            pairs.append(await auth.refresh(pairs[-1].refresh_token))

        transaction = ["BEGIN", "INSERT", "INSERT", "COMMIT"]
        assert await log.of(issue) == transaction, "issue"
        strict = await log.of(lambda: auth.verify(pairs[-1].access_token))
        assert strict == ["SELECT"], "the strict check is one statement"
        rotation = ["BEGIN", "SELECT", "WITH", "COMMIT"]
        assert await log.of(refresh) == rotation, "refresh (rotation)"
        assert await log.of(refresh) == rotation, "refresh (the next rotation)"
        stale = pairs[-2].refresh_token
        assert await log.of(lambda: auth.refresh(stale)) == ["BEGIN", "SELECT", "COMMIT"]
        assert await log.of(lambda: auth.verify(pairs[-1].access_token)) == ["SELECT"]
