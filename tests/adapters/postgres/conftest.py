"""Real PostgreSQL servers for the PostgreSQL adapter's own tests.

One server is started per test run (only when a test asks for it); fault
tests start servers of their own. Without PostgreSQL the tests skip — or
fail, in CI (``TOKENLIFE_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator

import pytest

from tests import backends, postgres_servers
from tokenlife_postgres import PostgresStore

_schemas = itertools.count()


def _require_server() -> None:
    reason = postgres_servers.missing()
    if reason is not None:
        if backends.services_required():
            pytest.fail(f"required service unavailable: {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres_servers.PostgresServer]:
    """One server shared by the session (tests use schemas of their own)."""
    _require_server()
    server = postgres_servers.PostgresServer().start()
    yield server
    server.remove()


@pytest.fixture
def own_server() -> Iterator[postgres_servers.PostgresServer]:
    """A server for one test alone (to restart or kill)."""
    _require_server()
    server = postgres_servers.PostgresServer()
    yield server
    server.remove()


def fresh_schema() -> str:
    """A schema no other store of this run uses: an empty store."""
    return f"tl{next(_schemas)}"


@pytest.fixture
async def pg_store(pg_server: postgres_servers.PostgresServer) -> AsyncIterator[PostgresStore]:
    async with PostgresStore(pg_server.url, schema=fresh_schema()) as opened:
        yield opened
