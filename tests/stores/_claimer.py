"""A child process for the shared-claims test: one store, the same keys as its sibling.

``python -m tests.stores._claimer BACKEND WHERE COUNT``: opens the store
(``WHERE`` is a SQLite file, or a server URL plus ``|`` and a key prefix or
schema), says ``ready``, waits for ``go`` on stdin, claims ``k0`` …
``k{COUNT-1}`` as fast as it can, and prints the keys it won as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import AbstractAsyncContextManager

from tokenlife.store import Store

T0 = 1_800_000_000.0


def open_store(backend: str, where: str) -> AbstractAsyncContextManager[Store]:
    if backend == "sqlite":
        from tokenlife_sqlite import SQLiteStore

        return SQLiteStore(where)
    url, _, name = where.partition("|")
    if backend == "redis":
        from tokenlife_redis import RedisStore

        return RedisStore.from_url(url, prefix=name)
    from tokenlife_postgres import PostgresStore

    return PostgresStore(url, schema=name, max_size=8)


async def main(backend: str, where: str, count: int) -> None:
    async with open_store(backend, where) as store:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        keys = [f"k{i}" for i in range(count)]
        won = await asyncio.gather(*(store.claim_once(k, until=T0 + 60, now=T0) for k in keys))
        print(json.dumps([k for k, w in zip(keys, won, strict=True) if w]), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
