"""Layout v5 (one-time claims): a v4 schema, as v4 built it, is migrated in place."""

from __future__ import annotations

import pytest

from tests import postgres_servers
from tests.adapters.postgres.conftest import fresh_schema
from tests.adapters.postgres.test_schema import _sql
from tokenlife.store import PurgeRequest
from tokenlife_postgres import PostgresStore
from tokenlife_postgres._schema import MIGRATIONS, V1, VERSION

pytestmark = pytest.mark.anyio
T0 = 1_800_000_000.0


async def test_a_v4_schema_gains_the_claims_table_keeping_its_sessions(
    pg_server: postgres_servers.PostgresServer,
) -> None:
    schema = fresh_schema()
    steps = [MIGRATIONS[v].replace("{schema}", schema) for v in (1, 2, 3)]
    await _sql(
        pg_server.url,
        f"CREATE SCHEMA {schema}",
        f"SET search_path = {schema}; {V1}",
        *(f"SET search_path = {schema}; {step}" for step in steps),
        f"INSERT INTO {schema}.tokenlife_meta VALUES ('tokenlife', 4)",  # noqa: S608
        f"INSERT INTO {schema}.sessions (sid, subject, created_at, expires_at, current_jti, "  # noqa: S608
        f"refreshed_at) VALUES ('s1', 'alice', {T0}, {T0 + 86400}, 'r0', {T0})",
    )
    async with PostgresStore(pg_server.url, schema=schema) as store:
        session = await store.session("s1")
        assert session is not None and session.current_jti == "r0"
        assert await store.claim_once("proof", until=T0 + 60, now=T0)
        assert not await store.claim_once("proof", until=T0 + 60, now=T0 + 1)
        await store.purge(
            PurgeRequest(sessions_before=0, denials_before=T0 + 60, watermarks_before=0)
        )
        assert await store.claim_once("proof", until=T0 + 120, now=T0 + 60)
    assert VERSION == 5
