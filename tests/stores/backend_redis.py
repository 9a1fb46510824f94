"""The Redis backend of the store-parametrized suites: a real redis-server.

One server per test run, started on first use on a free port and stopped by
``cleanup``. Each store gets a key prefix derived from its ``workdir``, so a
new workdir is an empty store (and opening the same workdir twice reaches the
same data, as a SQLite file would) without flushing anyone else's keys.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests import redis_servers
from tests.backends import Backend
from tokenlife.store import Store
from tokenlife_redis import RedisStore

_server: redis_servers.RedisServer | None = None


def _url() -> str:
    global _server
    if _server is None or not _server.running:
        _server = redis_servers.RedisServer().start()
    return _server.url


def _cleanup() -> None:
    global _server
    if _server is not None:
        _server.remove()
        _server = None


def prefix_for(workdir: Path) -> str:
    return f"t{hashlib.sha1(str(workdir).encode(), usedforsecurity=False).hexdigest()[:16]}:"


@asynccontextmanager
async def _open(workdir: Path) -> AsyncIterator[Store]:
    async with RedisStore.from_url(_url(), prefix=prefix_for(workdir)) as store:
        yield store


BACKEND = Backend(name="redis", open=_open, unavailable=redis_servers.missing, cleanup=_cleanup)
