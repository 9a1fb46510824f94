"""Schema versions: created, migrated in place, and foreign or newer schemas refused untouched."""

from __future__ import annotations

import asyncpg
import pytest

from tests import postgres_servers
from tests.adapters.postgres.conftest import fresh_schema
from tokenlife import ConfigurationError, StoreError
from tokenlife.store import RefreshRecord, RefreshRequest, Rotate, SessionRecord
from tokenlife_postgres import PostgresStore
from tokenlife_postgres._schema import V1, VERSION

pytestmark = pytest.mark.anyio
T0 = 1_800_000_000.0


async def _tables(url: str, schema: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT c.relname, c.relfilenode FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1",
            schema,
        )
        return {row[0]: row[1] for row in rows}
    finally:
        await conn.close()


async def _sql(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def test_a_new_schema_is_created_at_the_current_version(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    async with PostgresStore(pg_server.url, schema=schema):
        pass
    conn = await asyncpg.connect(pg_server.url)
    try:
        version = await conn.fetchval(f"SELECT version FROM {schema}.tokenlife_meta")  # noqa: S608
    finally:
        await conn.close()
    assert version == VERSION


async def test_someone_elses_schema_is_refused_untouched(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    await _sql(
        pg_server.url,
        f"CREATE SCHEMA {schema}",
        f"CREATE TABLE {schema}.sessions (id int PRIMARY KEY, note text)",
        f"INSERT INTO {schema}.sessions VALUES (1, 'theirs')",  # noqa: S608
    )
    before = await _tables(pg_server.url, schema)
    with pytest.raises(StoreError, match="not tokenlife's"):
        await PostgresStore(pg_server.url, schema=schema).open()
    assert await _tables(pg_server.url, schema) == before


async def test_a_newer_schema_is_refused_untouched(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    async with PostgresStore(pg_server.url, schema=schema):
        pass
    await _sql(pg_server.url, f"UPDATE {schema}.tokenlife_meta SET version = {VERSION + 1}")  # noqa: S608
    before = await _tables(pg_server.url, schema)
    with pytest.raises(StoreError, match="upgrade"):
        await PostgresStore(pg_server.url, schema=schema).open()
    assert await _tables(pg_server.url, schema) == before


async def test_a_v1_schema_is_migrated_in_place_keeping_its_sessions(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    await _sql(
        pg_server.url,
        f"CREATE SCHEMA {schema}",
        f"SET search_path = {schema}; {V1}",
        f"INSERT INTO {schema}.tokenlife_meta VALUES ('tokenlife', 1)",  # noqa: S608
        f"INSERT INTO {schema}.sessions (sid, subject, created_at, expires_at, current_jti, "  # noqa: S608
        f"refreshed_at) VALUES ('s1', 'alice', {T0}, {T0 + 86400}, 'r0', {T0})",
        f"INSERT INTO {schema}.refresh (jti, sid, subject, issued_at, expires_at, state) "  # noqa: S608
        f"VALUES ('r0', 's1', 'alice', {T0}, {T0 + 3600}, 0)",
    )
    async with PostgresStore(pg_server.url, schema=schema) as store:
        session = await store.session("s1")
        assert session is not None
        assert (session.subject, session.current_jti, session.generation) == ("alice", "r0", 0)
        decision = await store.refresh(
            RefreshRequest(
                jti="r0",
                sid="s1",
                subject="alice",
                now=T0 + 5,
                grace=10,
                successor_jti="r1",
                refresh_ttl=3600,
            )
        )
        assert isinstance(decision, Rotate)
        assert decision.session.generation == 1
        after = await store.session("s1")
        assert after is not None
        assert (after.current_jti, after.generation) == ("r1", 1)


async def test_the_database_refuses_a_second_active_refresh_record(
    pg_store: PostgresStore,
) -> None:
    session = SessionRecord(
        sid="s", subject="a", created_at=T0, expires_at=T0 + 600, current_jti="j0",
        refreshed_at=T0,
    )  # fmt: skip
    first = RefreshRecord(jti="j0", sid="s", subject="a", issued_at=T0, expires_at=T0 + 600)
    await pg_store.create_session(session, first)
    request = RefreshRequest(
        jti="j0", sid="s", subject="a", now=T0 + 1, grace=10, successor_jti="j1",
        refresh_ttl=600,
    )  # fmt: skip
    assert isinstance(await pg_store.refresh(request), Rotate)  # one ACTIVE at a time
    with pytest.raises(asyncpg.UniqueViolationError, match="refresh_one_active"):
        await pg_store.pool.execute(
            "INSERT INTO refresh (jti, sid, subject, issued_at, expires_at, state) "
            "VALUES ('rogue', 's', 'a', $1, $2, 0)",
            T0,
            T0 + 600,
        )
    record = await pg_store.refresh_record("j1", sid="s")
    assert record is not None
    assert record.state.name == "ACTIVE"


async def test_two_stores_opening_an_empty_schema_at_once_create_it_once(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    import anyio

    schema = fresh_schema()
    stores = [PostgresStore(pg_server.url, schema=schema) for _ in range(4)]
    async with anyio.create_task_group() as group:
        for store in stores:
            group.start_soon(store.open)
    try:
        session = SessionRecord(
            sid="s", subject="a", created_at=T0, expires_at=T0 + 60, current_jti="j",
            refreshed_at=T0,
        )  # fmt: skip
        first = RefreshRecord(jti="j", sid="s", subject="a", issued_at=T0, expires_at=T0 + 60)
        await stores[0].create_session(session, first)
        assert await stores[3].session("s") == session
    finally:
        for store in stores:
            await store.close()


def test_bad_arguments_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError):
        PostgresStore("mysql://x")
    with pytest.raises(ConfigurationError):
        PostgresStore("postgresql://x", schema='x"; DROP')
    with pytest.raises(ConfigurationError):
        PostgresStore("postgresql://x", max_size=0)
