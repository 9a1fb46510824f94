"""The Redis store under load, beside redis-py's own PING at the same concurrency.

A PING is the cheapest thing a client can ask a server: one round trip, no
work. Every lifecycle operation of the Redis store is also one round trip (one
EVALSHA), so PING's rate at a given concurrency is the ceiling, and the ratio
says what the script and the Python around it cost. Rows, each measured with
1 caller and with 64 concurrent callers (``asyncio.gather`` of 64 calls: one
"op" of a 64-caller row is 64 calls, for PING as for the rest):

- **PING** — ``redis.asyncio.Redis.ping()`` on the store's own client (baseline).
- **store.refresh** — one rotation at the store (the Lua script, and the Python
  that encodes the request and re-checks the decision); each caller walks
  its own session's chain. Target with 64 callers: at least 0.50 of PING's rate.
- **TokenAuthority.refresh** — the same rotation through the driver: refresh
  token verified, access and refresh tokens signed (HS256).
- **store.access_status** / **TokenAuthority.verify** — the strict-mode check,
  at the store and through the driver (verify cache off: full checks).

One redis-server (started here, on a free port) serves each group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests import redis_servers
from tokenlife import KeySet, Policy, TokenAuthority
from tokenlife.store import RefreshRequest, Rotate
from tokenlife_redis import RedisStore

from ._harness import Group, Skip, Target

SECRET = "bench-only-hs256-secret-0123456789abcdef"
POLICY = Policy(issuer="https://api.example", audience="api")
CONCURRENCY = (1, 64)
PACKAGES = ("tokenlife", "tokenlife-redis", "redis", "msgspec")


class Chain:
    """One session's refresh chain, walked one rotation at a time."""

    __slots__ = ("jti", "sid", "subject", "token")

    def __init__(self, jti: str, sid: str, subject: str, token: str) -> None:
        self.jti, self.sid, self.subject, self.token = jti, sid, subject, token


class Rig:
    """A server, a store, an authority, and one session per caller."""

    def __init__(self, callers: int) -> None:
        self.callers = callers
        self.server: redis_servers.RedisServer | None = None
        self.store: RedisStore | None = None
        self.auth: TokenAuthority | None = None
        self.by_store: list[Chain] = []
        self.by_driver: list[Chain] = []
        self.access: list[tuple[str, str, str, str]] = []
        self._ids = iter(range(10**12))

    async def setup(self) -> None:
        reason = redis_servers.missing()
        if reason is not None:
            raise Skip(reason)
        self.server = redis_servers.RedisServer().start()
        store = RedisStore.from_url(self.server.url, max_connections=max(self.callers, 2))
        self.store = await store.__aenter__()
        self.auth = TokenAuthority(
            store, keys=KeySet.from_secret(SECRET), policy=POLICY, verify_cache=0
        )
        for n in range(self.callers):
            subject = f"user{n}"
            for chains in (self.by_store, self.by_driver):
                pair = await self.auth.issue(subject, scopes=("read",))
                claims = self.auth.codec.decode(pair.refresh_token, typ="refresh+jwt")
                chains.append(Chain(str(claims.jti), str(claims.sid), subject, pair.refresh_token))
            # Sessions of their own for the checks: never rotated, so never superseded.
            pair = await self.auth.issue(subject, scopes=("read",))
            access = self.auth.codec.decode(pair.access_token, typ="at+jwt")
            self.access.append((str(access.jti), str(access.sid), subject, pair.access_token))
        # Every contender must really succeed before anything is timed.
        for op in (self.ping, self.store_refresh, self.driver_refresh):
            await op()
        for op in (self.store_access, self.driver_verify):
            await op()

    async def teardown(self) -> None:
        if self.store is not None:
            await self.store.close()
        if self.server is not None:
            self.server.remove()

    def _fan(self, one: Callable[[int], Awaitable[Any]]) -> Callable[[], Awaitable[Any]]:
        if self.callers == 1:
            return lambda: one(0)
        callers = range(self.callers)
        return lambda: asyncio.gather(*(one(n) for n in callers))

    async def ping(self) -> None:
        assert self.store is not None
        client = self.store.client
        await self._fan(lambda n: client.ping())()

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
    if redis_servers.missing() is not None:
        raise Skip(redis_servers.missing() or "")
    found = []
    for callers in CONCURRENCY:
        rig = Rig(callers)
        label = "1 caller" if callers == 1 else f"{callers} callers (1 op = {callers} calls)"
        found.append(
            Group(
                f"redis: rotation, {label}",
                baseline="redis-py PING",
                contenders={
                    "redis-py PING": rig.ping,
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
                f"redis: strict check, {label}",
                baseline="redis-py PING",
                contenders={
                    "redis-py PING": rig.ping,
                    "store.access_status": rig.store_access,
                    "TokenAuthority.verify (strict)": rig.driver_verify,
                },
                setup=rig.setup,
                teardown=rig.teardown,
                packages=PACKAGES,
            )
        )
    return found
