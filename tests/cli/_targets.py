"""The stores a command-line test runs against: their ``--store`` URL and an in-process opener."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import redis_servers
from tokenlife.store import Store

_prefixes = itertools.count(1)


@dataclass(frozen=True)
class Target:
    """One empty store: its ``--store`` URL and a way to open it in-process."""

    kind: str
    url: str
    open: Callable[[], AbstractAsyncContextManager[Store]]


def sqlite_target(path: Path) -> Target:
    """A SQLite file (it appears when first opened)."""
    from tokenlife_sqlite import SQLiteStore

    @asynccontextmanager
    async def opened() -> AsyncIterator[Store]:
        async with SQLiteStore(path) as store:
            yield store

    return Target("sqlite", f"sqlite:///{path}", opened)


def redis_target(server: redis_servers.RedisServer) -> Target:
    """A key prefix of its own on a shared server: an empty store per test."""
    from tokenlife_redis import RedisStore

    prefix = f"cli{next(_prefixes)}:"

    @asynccontextmanager
    async def opened() -> AsyncIterator[Store]:
        async with RedisStore.from_url(server.url, prefix=prefix) as store:
            yield store

    return Target("redis", f"{server.url}?prefix={prefix}", opened)


def postgres_target(url: str) -> Target:
    """A schema of its own on a shared server: an empty store per test."""
    from tokenlife_postgres import PostgresStore

    schema = f"cli{next(_prefixes)}"

    @asynccontextmanager
    async def opened() -> AsyncIterator[Store]:
        async with PostgresStore(url, schema=schema) as store:
            yield store

    return Target("postgres", f"{url}?schema={schema}", opened)


__all__ = ("Target", "postgres_target", "redis_target", "sqlite_target")
