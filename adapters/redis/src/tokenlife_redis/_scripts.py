"""Running the Lua scripts: EVALSHA, and SCRIPT LOAD only when a server says NOSCRIPT.

A server forgets its scripts when it restarts or fails over; the first call
after that is answered NOSCRIPT, and that one call then costs a SCRIPT LOAD
and a retry. Every other call is exactly one EVALSHA — one round trip. (This
is redis-py's ``Script`` logic, kept here so the same scripts can also be
queued in a pipeline, where a NOSCRIPT answer is per command.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, TypeAlias

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException, RedisError
from redis.typing import EncodableT

from tokenlife import StoreError

from ._lua import PRELUDE, SOURCES

Client: TypeAlias = "Redis | RedisCluster"
#: One script call: (script, keys, args).
Call: TypeAlias = "tuple[Script, Sequence[str], Sequence[EncodableT]]"
#: What a Redis client may raise: redis-py's own errors, and cluster routing errors.
REDIS_ERRORS = (RedisError, RedisClusterException, OSError)


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
        "mark",
        "purge_session",
        "purge_value",
        "queue_trim",
        "refresh",
        "revoke",
        "subject_add",
        "subject_mark",
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
    purge_session: Script
    purge_value: Script
    clear_mirror: Script
    queue_trim: Script

    def all(self) -> list[Script]:
        return [getattr(self, name) for name in SOURCES]

    async def load(self) -> None:
        """SCRIPT LOAD every script (on a cluster: on every primary)."""
        for script in self.all():
            await self.client.script_load(script.source)

    async def run(self, script: Script, keys: Sequence[str], args: Sequence[EncodableT]) -> Any:
        """One EVALSHA; on NOSCRIPT, load the script and run it once more."""
        try:
            return await self.client.evalsha(script.sha, len(keys), *keys, *args)
        except NoScriptError:
            await self.client.script_load(script.source)
            return await self.client.evalsha(script.sha, len(keys), *keys, *args)

    async def many(self, calls: Sequence[Call]) -> list[Any]:
        """Run independent calls in one pipeline (per node on a cluster), not atomically.

        A call answered NOSCRIPT did not run: those are run again after a load.
        """
        if not calls:
            return []
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
                    retry.append(i)
                elif isinstance(reply, BaseException):
                    raise StoreError(f"redis failed a {calls[i][0].name} step: {reply}") from reply
                else:
                    results[i] = reply
            for script in {calls[i][0].name: calls[i][0] for i in retry}.values():
                await self.client.script_load(script.source)
            pending = retry
        return results


__all__ = ("REDIS_ERRORS", "Call", "Client", "Script", "Scripts")
