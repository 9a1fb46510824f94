"""A store on a pool the application made: its own settings, no search_path of ours.

The whole store contract runs on such stores, so a statement that depended on
the store's own pool settings (an unqualified table) would fail here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import pytest

from tests import postgres_servers
from tests.adapters.postgres.conftest import fresh_schema
from tokenlife import KeySet, StoreError, TokenAuthority
from tokenlife.store import Store
from tokenlife.testing import STORE_CONTRACT, ContractCheck
from tokenlife_postgres import PostgresStore

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("check", STORE_CONTRACT, ids=lambda check: check.__name__)
async def test_the_contract_on_the_applications_pool(
    check: ContractCheck, pg_server: postgres_servers.PostgresServer
) -> None:
    pool = await asyncpg.create_pool(pg_server.url, min_size=1, max_size=8, command_timeout=5)
    try:

        @asynccontextmanager
        async def fresh() -> AsyncIterator[Store]:
            async with PostgresStore.from_pool(pool, schema=fresh_schema()) as store:
                yield store

        await check(fresh)
        assert await pool.fetchval("SHOW search_path") == '"$user", public'
    finally:
        await pool.close()


async def test_closing_the_store_leaves_the_pool_open(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    async with asyncpg.create_pool(pg_server.url, min_size=1, max_size=2) as pool:
        store = PostgresStore.from_pool(pool, schema=fresh_schema())
        async with store:
            auth = TokenAuthority(store, keys=KeySet.from_secret(b"p" * 32))
            pair = await auth.issue("alice")
            await auth.verify(pair.access_token)
        with pytest.raises(StoreError, match="closed"):
            await store.session(pair.session_id)
        assert not pool.is_closing()
        assert await pool.fetchval("SELECT 1") == 1
        async with PostgresStore.from_pool(pool, schema=store.schema) as again:
            assert await again.session(pair.session_id) is not None
