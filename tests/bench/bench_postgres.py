"""The PostgreSQL store under load, beside raw asyncpg doing the same work on the same server.

The baseline of the rotation groups is the plainest hand-written rotation:
one transaction on a connection of the caller's own — BEGIN, ``UPDATE …
RETURNING`` (the parent ACTIVE → ROTATED, a compare-and-swap), ``INSERT``
(its successor), COMMIT — on a table of its own. It checks no session, no
expiry, no grace, no reuse; the store does all of that in the same four round
trips. Rows, each measured with 1 caller and with 64 concurrent callers
(``asyncio.gather`` of 64 calls: one "op" of a 64-caller row is 64 calls):

- **asyncpg rotation** — the raw transaction above (baseline).
- **store.refresh (rotate)** — one rotation at the store (lock and snapshot,
  ``decide_refresh``, one write, COMMIT); each caller walks its own session's
  chain. Target with 64 callers: at least 0.50 of the baseline's rate.
- **TokenAuthority.refresh** — the same rotation through the driver: refresh
  token verified, access and refresh tokens signed (HS256).

The strict-check groups compare ``store.access_status`` (one statement) and
``TokenAuthority.verify`` (verify cache off) with asyncpg's ``SELECT 1`` on
a pooled connection: the cheapest round trip, the ceiling for any one-round-trip
check. Every commit is flushed (``fsync=on``, the server's default
``synchronous_commit``), for the baseline as for the store.

One throwaway PostgreSQL server (started here, on a free port) serves each group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from tests import postgres_servers
from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife.store import RefreshRequest, Rotate
from tokenlife_postgres import PostgresStore

from ._harness import Group, Skip, Target

SECRET = "bench-only-hs256-secret-0123456789abcdef"
POLICY = Policy(issuer="https://api.example", audience="api")
CONCURRENCY = (1, 64)
PACKAGES = ("tokenlife", "tokenlife-postgres", "asyncpg", "msgspec")

RAW_TABLE = """
CREATE TABLE raw_refresh (
    jti text PRIMARY KEY, sid text NOT NULL, state smallint NOT NULL, successor_jti text
)
"""
RAW_ROTATE = (
    "UPDATE raw_refresh SET state = 1, successor_jti = $2 WHERE jti = $1 AND state = 0 "
    "RETURNING sid"
)
RAW_INSERT = "INSERT INTO raw_refresh (jti, sid, state) VALUES ($1, $2, 0)"


class Chain:
    """One session's refresh chain, walked one rotation at a time."""

    __slots__ = ("jti", "sid", "subject", "token")

    def __init__(self, jti: str, sid: str, subject: str, token: str) -> None:
        self.jti, self.sid, self.subject, self.token = jti, sid, subject, token


class Rig:
    """A server, a store, an authority, raw connections, and one session per caller."""

    def __init__(self, callers: int) -> None:
        self.callers = callers
        self.server: postgres_servers.PostgresServer | None = None
        self.store: PostgresStore | None = None
        self.auth: TokenAuthority | None = None
        self.raw: list[asyncpg.Connection] = []
        self.raw_chains: list[str] = []
        self.by_store: list[Chain] = []
        self.by_driver: list[Chain] = []
        self.access: list[tuple[str, str, str, str]] = []
        self._ids = iter(range(10**12))

    async def setup(self) -> None:
        reason = postgres_servers.missing()
        if reason is not None:
            raise Skip(reason)
        self.server = postgres_servers.PostgresServer().start()
        store = PostgresStore(self.server.url, max_size=max(self.callers, 2))
        self.store = await store.open()
        self.auth = TokenAuthority(
            store, keys=KeySet.from_secret(SECRET), policy=POLICY, verify_cache=0
        )
        self.raw = [await asyncpg.connect(self.server.url) for _ in range(self.callers)]
        await self.raw[0].execute(RAW_TABLE)
        for n in range(self.callers):
            subject = f"user{n}"
            await self.raw[0].execute(RAW_INSERT, f"raw{n}", f"rawsid{n}")
            self.raw_chains.append(f"raw{n}")
            for chains in (self.by_store, self.by_driver):
                pair = await self.auth.issue(subject, scopes=("read",))
                claims = self.auth.codec.decode(pair.refresh_token, typ="refresh+jwt")
                chains.append(Chain(str(claims.jti), str(claims.sid), subject, pair.refresh_token))
            # Sessions of their own for the checks: never rotated, so never superseded.
            pair = await self.auth.issue(subject, scopes=("read",))
            access = self.auth.codec.decode(pair.access_token, typ="at+jwt")
            self.access.append((str(access.jti), str(access.sid), subject, pair.access_token))
        # Every contender must really succeed before anything is timed.
        for op in (self.raw_rotate, self.store_refresh, self.driver_refresh, self.select_one):
            await op()
        for op in (self.store_access, self.driver_verify):
            await op()

    async def teardown(self) -> None:
        for conn in self.raw:
            await conn.close()
        if self.store is not None:
            await self.store.close()
        if self.server is not None:
            self.server.remove()

    def _fan(self, one: Callable[[int], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        if self.callers == 1:
            return lambda: one(0)
        callers = range(self.callers)
        return lambda: asyncio.gather(*(one(n) for n in callers))

    async def _raw_rotate(self, n: int) -> None:
        conn, parent, successor = self.raw[n], self.raw_chains[n], f"r{next(self._ids)}"
        async with conn.transaction():
            sid = await conn.fetchval(RAW_ROTATE, parent, successor)
            if sid is None:
                raise AssertionError("the raw parent should be ACTIVE")
            await conn.execute(RAW_INSERT, successor, sid)
        self.raw_chains[n] = successor

    async def raw_rotate(self) -> None:
        await self._fan(self._raw_rotate)()

    async def _store_refresh(self, n: int) -> None:
        assert self.store is not None
        chain = self.by_store[n]
        request = RefreshRequest(
            jti=chain.jti,
            sid=chain.sid,
            subject=chain.subject,
            now=time.time(),
            grace=POLICY.grace,
            successor_jti=f"b{next(self._ids)}",
            refresh_ttl=POLICY.refresh_ttl,
        )
        decision = await self.store.refresh(request)
        if not isinstance(decision, Rotate):
            raise AssertionError(f"expected a rotation, got {decision}")
        chain.jti = decision.successor.jti

    async def store_refresh(self) -> None:
        await self._fan(self._store_refresh)()

    async def _driver_refresh(self, n: int) -> None:
        assert self.auth is not None
        chain = self.by_driver[n]
        chain.token = (await self.auth.refresh(chain.token)).refresh_token

    async def driver_refresh(self) -> None:
        await self._fan(self._driver_refresh)()

    async def select_one(self) -> None:
        assert self.store is not None
        pool = self.store.pool
        await self._fan(lambda n: pool.fetchval("SELECT 1"))()

    async def _store_access(self, n: int) -> None:
        assert self.store is not None
        jti, sid, subject, _ = self.access[n]
        status = await self.store.access_status(jti, sid, subject)
        if not status.session_found:
            raise AssertionError("the session should be found")

    async def store_access(self) -> None:
        await self._fan(self._store_access)()

    async def _driver_verify(self, n: int) -> None:
        assert self.auth is not None
        await self.auth.verify(self.access[n][3])

    async def driver_verify(self) -> None:
        await self._fan(self._driver_verify)()


def groups() -> list[Group]:
    reason = postgres_servers.missing()
    if reason is not None:
        raise Skip(reason)
    found = []
    for callers in CONCURRENCY:
        rig = Rig(callers)
        label = "1 caller" if callers == 1 else f"{callers} callers (1 op = {callers} calls)"
        found.append(
            Group(
                f"postgres: rotation, {label}",
                baseline="asyncpg rotation",
                contenders={
                    "asyncpg rotation": rig.raw_rotate,
                    "store.refresh (rotate)": rig.store_refresh,
                    "TokenAuthority.refresh": rig.driver_refresh,
                },
                targets=[Target("store.refresh (rotate)", 0.5)] if callers > 1 else [],
                setup=rig.setup,
                teardown=rig.teardown,
                packages=PACKAGES,
            )
        )
        rig = Rig(callers)
        found.append(
            Group(
                f"postgres: strict check, {label}",
                baseline="asyncpg SELECT 1",
                contenders={
                    "asyncpg SELECT 1": rig.select_one,
                    "store.access_status": rig.store_access,
                    "TokenAuthority.verify (strict)": rig.driver_verify,
                },
                setup=rig.setup,
                teardown=rig.teardown,
                packages=PACKAGES,
            )
        )
    return found
