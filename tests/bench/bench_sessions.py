"""A subject's sessions on every store: listing them, and ending all but one.

Rows, per store, for a subject holding 100 sessions:

- **store.sessions** — the store's read (baseline);
- **TokenAuthority.sessions** — the same through the driver (live ones only).

Targets, as checks counted rather than timed:

- listing the sessions is ONE store read: ``TokenAuthority.sessions`` makes one
  store call, and that call is one round trip where there is one to make
  (Redis: commands sent on the socket, a pipeline counting once; PostgreSQL:
  statements sent; SQLite: statements run on the connection's thread, in one
  hop; memory: none);
- "log out everywhere else" (``revoke_subject(keep_sid=...)``) for a subject
  with 100 live sessions is ONE store call that ends the other 99, timed per
  call (median over a few subjects) with its round trips shown.

Calls are counted by a wrapper around the store, round trips by a counting
connection class (redis-py, asyncpg) or SQLite's trace callback.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import asyncpg
from redis.asyncio import Connection as RedisConnection

from tests import postgres_servers, redis_servers
from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife.store import Store
from tokenlife_memory import MemoryStore
from tokenlife_postgres import PostgresStore
from tokenlife_redis import RedisStore
from tokenlife_sqlite import SQLiteStore
from tokenlife_sqlite._batch import _run_in_thread

from ._harness import Check, Group, Skip

SECRET = "bench-only-hs256-secret-0123456789abcdef"
POLICY = Policy(issuer="https://api.example", audience="api")
SESSIONS = 100
#: Subjects "everywhere else" is timed on (each call needs 99 live sessions to end).
SUBJECTS = 5
PACKAGES = ("tokenlife", "tokenlife-sqlite", "tokenlife-redis", "tokenlife-postgres")

#: Round trips, by backend, counted by the connection classes below.
TRIPS: Counter[str] = Counter()


class CountingRedisConnection(RedisConnection):
    """Counts every write to the socket: one command, or one whole pipeline."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        TRIPS["redis"] += 1
        await super().send_packed_command(command, check_health)


class CountingPgConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    """Counts every statement sent (BEGIN and COMMIT included)."""

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        TRIPS["postgres"] += 1
        status: str = await super().execute(query, *args, timeout=timeout)
        return status

    async def executemany(self, command: str, args: Any, *, timeout: float | None = None) -> None:
        TRIPS["postgres"] += 1
        await super().executemany(command, args, timeout=timeout)

    async def fetch(
        self, query: str, *args: Any, timeout: float | None = None, record_class: Any = None
    ) -> list[Any]:
        TRIPS["postgres"] += 1
        rows: list[Any] = await super().fetch(
            query, *args, timeout=timeout, record_class=record_class
        )
        return rows

    async def fetchrow(
        self, query: str, *args: Any, timeout: float | None = None, record_class: Any = None
    ) -> Any:
        TRIPS["postgres"] += 1
        return await super().fetchrow(query, *args, timeout=timeout, record_class=record_class)

    async def fetchval(
        self, query: str, *args: Any, column: int = 0, timeout: float | None = None
    ) -> Any:
        TRIPS["postgres"] += 1
        return await super().fetchval(query, *args, column=column, timeout=timeout)


class CountingStore:
    """Any store, with every call counted by operation name."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name.startswith("_") or not callable(attribute):
            return attribute

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await attribute(*args, **kwargs)

        return counted


class Rig:
    """One store, a subject with 100 sessions, and subjects to end sessions of."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self.store: Store | None = None
        self.counting: CountingStore | None = None
        self.auth: TokenAuthority | None = None
        self._server: redis_servers.RedisServer | postgres_servers.PostgresServer | None = None
        self._dir: Path | None = None
        self._kept: list[tuple[str, str]] = []  # (subject, the session it keeps)

    async def _open(self) -> Store:
        if self.backend == "memory":
            return MemoryStore()
        if self.backend == "sqlite":
            self._dir = Path(tempfile.mkdtemp(prefix="tokenlife-bench-"))
            store = await SQLiteStore(self._dir / "sessions.db").open()
            raw = store._conn._conn  # type: ignore[union-attr]  # the connection's own thread
            assert store._conn is not None

            def count(_statement: str) -> None:
                TRIPS["sqlite"] += 1

            await _run_in_thread(store._conn, lambda: raw.set_trace_callback(count))
            return store
        if self.backend == "redis":
            reason = redis_servers.missing()
            if reason is not None:
                raise Skip(reason)
            server = self._server = redis_servers.RedisServer().start()
            redis_store = RedisStore.from_url(server.url, connection_class=CountingRedisConnection)
            return await redis_store.__aenter__()
        reason = postgres_servers.missing()
        if reason is not None:
            raise Skip(reason)
        pg = self._server = postgres_servers.PostgresServer().start()
        return await PostgresStore(pg.url, connection_class=CountingPgConnection).open()

    async def setup(self) -> None:
        self.store = await self._open()
        self.counting = CountingStore(self.store)
        self.auth = TokenAuthority(
            cast(Store, self.counting), keys=KeySet.from_secret(SECRET), policy=POLICY
        )
        auth = self.auth
        await asyncio.gather(*(auth.issue("lister") for _ in range(SESSIONS)))
        for n in range(SUBJECTS):
            pairs = await asyncio.gather(*(auth.issue(f"user{n}") for _ in range(SESSIONS)))
            self._kept.append((f"user{n}", pairs[n].session_id))
        for op in (self.store_sessions, self.driver_sessions):
            await op()

    async def teardown(self) -> None:
        if self.store is not None:
            await self.store.close()
        if self._server is not None:
            self._server.remove()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    async def store_sessions(self) -> None:
        assert self.store is not None
        if len(await self.store.sessions("lister")) != SESSIONS:
            raise AssertionError(f"expected {SESSIONS} sessions")

    async def driver_sessions(self) -> None:
        assert self.auth is not None
        if len(await self.auth.sessions("lister")) != SESSIONS:
            raise AssertionError(f"expected {SESSIONS} live sessions")

    def _trips(self) -> int:
        return TRIPS[self.backend]

    async def one_read(self) -> tuple[str, bool]:
        assert self.auth is not None and self.counting is not None
        calls, trips = sum(self.counting.calls.values()), self._trips()
        await self.auth.sessions("lister")
        calls, trips = sum(self.counting.calls.values()) - calls, self._trips() - trips
        if self.backend == "memory":
            return f"{calls} store call, no round trip (in process)", calls == 1
        return f"{calls} store call, {trips} round trip(s)", calls == 1 and trips == 1

    async def end_others(self) -> tuple[str, bool]:
        assert self.auth is not None and self.counting is not None
        times, trips, ok = [], [], True
        for subject, kept in self._kept:
            calls, before = sum(self.counting.calls.values()), self._trips()
            start = time.perf_counter()
            ended = await self.auth.revoke_subject(subject, reason="bench", keep_sid=kept)
            times.append(time.perf_counter() - start)
            calls = sum(self.counting.calls.values()) - calls
            trips.append(self._trips() - before)
            live = [s.sid for s in await self.auth.sessions(subject)]
            ok = ok and calls == 1 and ended == SESSIONS - 1 and live == [kept]
        median_ms = statistics.median(times) * 1000
        shown = "round trips: none (in process)"
        if self.backend != "memory":
            shown = f"{max(trips)} round trip(s)"
            if self.backend == "sqlite":
                shown = f"1 transaction of {max(trips)} statements"
        return f"1 store call each ({shown}), {median_ms:.2f} ms per call", ok


def groups() -> list[Group]:
    found = []
    for backend in ("memory", "sqlite", "redis", "postgres"):
        missing: Callable[[], str | None] = {
            "redis": redis_servers.missing,
            "postgres": postgres_servers.missing,
        }.get(backend, lambda: None)
        if missing() is not None:
            continue
        rig = Rig(backend)
        checks: tuple[Check, ...] = (
            Check(f"{backend}: listing a subject's sessions is one store read", rig.one_read),
            Check(
                f"{backend}: ending all others of {SESSIONS} sessions is one store call",
                rig.end_others,
            ),
        )
        contenders: dict[str, Callable[[], Awaitable[None]]] = {
            "store.sessions": rig.store_sessions,
            "TokenAuthority.sessions": rig.driver_sessions,
        }
        found.append(
            Group(
                f"sessions: {backend}, {SESSIONS} sessions of one subject",
                baseline="store.sessions",
                contenders=contenders,
                setup=rig.setup,
                teardown=rig.teardown,
                packages=PACKAGES,
                checks=checks,
            )
        )
    if not found:
        raise Skip("no store to run")
    return found
