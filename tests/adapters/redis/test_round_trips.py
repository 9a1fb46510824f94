"""One round trip per lifecycle operation, counted by the server itself.

``MONITOR`` streams every command a server executes, naming the client that
sent it — or ``lua`` for the commands a script runs inside the server. Around
each operation the commands sent by clients must be exactly one EVALSHA: one
command, so one round trip, so one atomic step.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis

from tests import redis_servers
from tokenlife import KeySet, TokenAuthority, TokenPair
from tokenlife.testing import FrozenClock, SequentialIds
from tokenlife_redis import RedisStore

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"round-trip-tests-secret-of-32-bytes!")


class CommandLog:
    """A MONITOR connection read by a thread; marks delimit what one operation sent."""

    def __init__(self, url: str) -> None:
        self._monitor_client = redis.Redis.from_url(url)
        self._admin = redis.Redis.from_url(url)
        self._seen: list[dict[str, Any]] = []
        self._marks = itertools.count()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    def _read(self) -> None:
        try:
            with self._monitor_client.monitor() as monitor:  # type: ignore[no-untyped-call]
                self._ready.set()
                for entry in monitor.listen():
                    self._seen.append(entry)
        except (redis.RedisError, OSError, ValueError):
            return  # the connection was closed: the test is over

    def _mark(self) -> str:
        mark = f"mark-{next(self._marks)}"
        self._admin.echo(mark)
        deadline = time.monotonic() + 10
        while not any(e["command"] == f"ECHO {mark}" for e in self._seen):
            assert time.monotonic() < deadline, "MONITOR lost a mark"
            time.sleep(0.001)
        return mark

    async def commands_of(self, operation: Callable[[], Awaitable[object]]) -> list[str]:
        """The commands clients sent while ``operation`` ran (script internals excluded)."""
        start = self._mark()
        await operation()
        end = self._mark()
        seen = [e["command"] for e in self._seen]
        inside = self._seen[seen.index(f"ECHO {start}") + 1 : seen.index(f"ECHO {end}")]
        return [e["command"].split()[0].upper() for e in inside if e["client_type"] != "lua"]

    def close(self) -> None:
        self._admin.close()
        self._monitor_client.connection_pool.disconnect()


async def test_each_lifecycle_operation_is_one_evalsha(
    own_server: redis_servers.RedisServer,
) -> None:
    own_server.start()
    log = CommandLog(own_server.url)
    clock = FrozenClock()
    async with RedisStore.from_url(own_server.url) as store:
        auth = TokenAuthority(store, keys=KEYS, clock=clock, ids=SequentialIds())
        # Warm up: connections opened, scripts loaded.
        warm = await auth.issue("warm")
        await auth.verify(warm.access_token)
        await auth.refresh(warm.refresh_token)
        await auth.revoke(warm.access_token)

        pairs: list[TokenPair] = []

        async def issue() -> None:
            pairs.append(await auth.issue("alice", scopes=("read",)))

        async def refresh() -> None:
            clock.advance(1)
            pairs.append(await auth.refresh(pairs[-1].refresh_token))

        one = ["EVALSHA"]
        assert await log.commands_of(issue) == one, "issue"
        assert await log.commands_of(lambda: auth.verify(pairs[-1].access_token)) == one
        assert await log.commands_of(refresh) == one, "refresh (rotation)"
        assert await log.commands_of(refresh) == one, "refresh (the next rotation)"
        stale = pairs[-2].refresh_token
        assert await log.commands_of(lambda: auth.refresh(stale)) == one, "grace replay"
        assert await log.commands_of(lambda: auth.verify(pairs[-1].access_token)) == one
        assert await log.commands_of(lambda: auth.revoke(pairs[-1].access_token)) == one
        await issue()
        sid = pairs[-1].session_id
        assert await log.commands_of(lambda: auth.revoke_session(sid)) == one
        assert await log.commands_of(lambda: auth.revoke(pairs[-1].refresh_token)) == one
    log.close()
