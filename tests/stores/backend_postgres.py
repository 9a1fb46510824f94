"""The PostgreSQL backend of the store-parametrized suites: a real server.

One throwaway cluster per test run, started on first use and stopped by
``cleanup``. Each store gets a schema derived from its ``workdir``, so a new
workdir is an empty store (and opening the same workdir twice reaches the
same data, as a SQLite file would).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tests import postgres_servers
from tests.backends import Backend
from tokenlife.store import Store
from tokenlife_postgres import PostgresStore

_server: postgres_servers.PostgresServer | None = None


def url() -> str:
    global _server
    if _server is None or not _server.running:
        _server = postgres_servers.PostgresServer().start()
    return _server.url


def _cleanup() -> None:
    global _server
    if _server is not None:
        _server.remove()
        _server = None


def schema_for(workdir: Path) -> str:
    return f"t{hashlib.sha1(str(workdir).encode(), usedforsecurity=False).hexdigest()[:16]}"


@asynccontextmanager
async def _open(workdir: Path) -> AsyncIterator[Store]:
    async with PostgresStore(url(), schema=schema_for(workdir), max_size=16) as store:
        yield store


BACKEND = Backend(
    name="postgres", open=_open, unavailable=postgres_servers.missing, cleanup=_cleanup
)
