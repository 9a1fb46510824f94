"""Opening each store, and purging what can no longer matter."""

from __future__ import annotations

import asyncio
import logging

from tokenlife import StoreError, TokenAuthority
from tokenlife.store import Store
from tokenlife_memory import MemoryStore
from tokenlife_postgres import PostgresStore
from tokenlife_redis import RedisStore
from tokenlife_sqlite import SQLiteStore

logger = logging.getLogger("myapp.tokens")


# --8<-- [start:memory]
def memory_store() -> Store:
    # Tests, development, a single process: everything is gone at exit.
    return MemoryStore()


# --8<-- [end:memory]


# --8<-- [start:sqlite]
def sqlite_store(path: str) -> Store:
    # One file, shared by every worker process on this machine.
    # synchronous="full" (the default): an acknowledged logout survives power loss.
    return SQLiteStore(path, synchronous="full", busy_timeout=5.0)


# --8<-- [end:sqlite]


# --8<-- [start:postgres]
def postgres_store(dsn: str) -> Store:
    # e.g. "postgresql://app:password@db.internal:5432/app"; the tables live in
    # their own schema. A statement past command_timeout fails closed (503).
    return PostgresStore.from_dsn(dsn, schema="tokenlife", max_size=32, command_timeout=5.0)


# --8<-- [end:postgres]


# --8<-- [start:redis]
def redis_store(url: str) -> Store:
    # e.g. "redis://:password@redis.internal:6379/0"; prefix namespaces every key.
    return RedisStore.from_url(url, prefix="myapp:tokens:")


def redis_cluster_store(url: str) -> Store:
    # Any node's URL; every operation stays within one hash slot per step.
    return RedisStore.from_url(url, cluster=True, prefix="myapp:tokens:")


# --8<-- [end:redis]


# --8<-- [start:purge]
async def purge_forever(auth: TokenAuthority, every: float = 3600.0) -> None:
    """Delete expired sessions, stale denials and old watermarks, every hour.

    Purge never touches a live session, and keeps each session's records
    until its absolute expiry, so a late replay is still caught as reuse.
    """
    while True:
        try:
            removed = await auth.purge(batch=1000)  # batches keep each lock short
        except StoreError:
            logger.exception("purge failed; retrying at the next interval")
        else:
            logger.info("purged %d expired sessions", removed)
        await asyncio.sleep(every)


# --8<-- [end:purge]
