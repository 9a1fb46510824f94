"""Running the Lua scripts: EVALSHA, and SCRIPT LOAD only when a server says NOSCRIPT.

A server forgets its scripts when it restarts or fails over; the first call
after that is answered NOSCRIPT, and that one call then costs a SCRIPT LOAD
and a retry. Every other call is exactly one EVALSHA — one round trip. (This
is redis-py's ``Script`` logic, kept here so the same scripts can also be
queued in a pipeline, where a NOSCRIPT answer is per command.)

Errors are redis-py's own; the store turns them into StoreError.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any, TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError
from redis.typing import EncodableT

from ._lua import PRELUDE, SOURCES

Client: TypeAlias = "Redis | RedisCluster"
#: One script call: (script, keys, args).
Call: TypeAlias = "tuple[Script, Sequence[str], Sequence[EncodableT]]"
#: Concurrent script calls one cluster-wide step may have in flight.
FAN_OUT = 32


class Script:
    """One Lua script, known to servers by the SHA1 of its source."""

    __slots__ = ("name", "sha", "source")

    def __init__(self, name: str, body: str) -> None:
        self.name = name
        self.source = PRELUDE + body
        self.sha = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()


class Scripts:
    """The store's scripts, and the one way they are called."""

    __slots__ = (
        "access",
        "clear_mirror",
        "client",
        "create",
        "deny",
        "end_others",
        "end_session",
        "mark",
        "purge_session",
        "purge_value",
        "queue_trim",
        "refresh",
        "revoke",
        "sessions",
        "subject_add",
        "subject_mark",
        "unlock",
    )

    def __init__(self, client: Client) -> None:
        self.client = client
        for name, body in SOURCES.items():
            setattr(self, name, Script(name, body))

    create: Script
    subject_add: Script
    mark: Script
    refresh: Script
    access: Script
    revoke: Script
    deny: Script
    subject_mark: Script
    end_session: Script
    end_others: Script
    unlock: Script
    sessions: Script
    purge_session: Script
    purge_value: Script
    clear_mirror: Script
    queue_trim: Script

    def all(self) -> list[Script]:
        return [getattr(self, name) for name in SOURCES]

    async def load(self) -> None:
        """SCRIPT LOAD every script: in one pipeline, or on a cluster on every primary."""
        if isinstance(self.client, RedisCluster):
            for script in self.all():
                await self.client.script_load(script.source)
            return
        pipe = self.client.pipeline(transaction=False)
        for script in self.all():
            pipe.script_load(script.source)
        await pipe.execute()

    async def run(self, script: Script, keys: Sequence[str], args: Sequence[EncodableT]) -> Any:
        """One EVALSHA; on NOSCRIPT, load the script and run it once more."""
        try:
            return await self.client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            await self.client.script_load(script.source)
            return await self.client.evalsha(script.sha, len(keys), *keys, *args)

    async def many(self, calls: Sequence[Call]) -> list[Any]:
        """Run independent calls, not atomically together: in one pipeline on a
        single server; concurrently (at most :data:`FAN_OUT` at a time, each to
        its slot's node) on a cluster, whose pipelines refuse EVALSHA."""
        if not calls:
            return []
        if isinstance(self.client, RedisCluster):
            return await self._fan_out(calls)
        results: list[Any] = [None] * len(calls)
        pending = list(range(len(calls)))
        for attempt in range(2):
            if not pending:
                break
            pipe = self.client.pipeline(transaction=False)
            for i in pending:
                script, keys, args = calls[i]
                pipe.evalsha(script.sha, len(keys), *keys, *args)
            replies = await pipe.execute(raise_on_error=False)
            retry = []
            for i, reply in zip(pending, replies, strict=True):
                if isinstance(reply, NoScriptError) and attempt == 0:
                    retry.append(i)  # not run: load the script, run it again
                elif isinstance(reply, BaseException):
                    raise reply
                else:
                    results[i] = reply
            for script in {calls[i][0].name: calls[i][0] for i in retry}.values():
                await self.client.script_load(script.source)
            pending = retry
        return results

    async def _fan_out(self, calls: Sequence[Call]) -> list[Any]:
        gate = asyncio.Semaphore(FAN_OUT)

        async def one(call: Call) -> Any:
            async with gate:
                return await self.run(*call)

        return list(await asyncio.gather(*(one(call) for call in calls)))


__all__ = ("FAN_OUT", "Call", "Client", "Script", "Scripts")
