"""Schema v7 (one-time claims): a v6 file, as v6 wrote it, is migrated in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tokenlife.store import PurgeRequest
from tokenlife_sqlite import SCHEMA_VERSION, SQLiteStore
from tokenlife_sqlite._schema import V5_TO_V6

from ._support import T0
from .test_schema import old_file, pragma

pytestmark = pytest.mark.anyio


def v6_file(path: Path) -> None:
    """The v5 file of the migration tests, taken to v6 by v6's own script."""
    old_file(path, 5)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(V5_TO_V6)
        conn.execute("PRAGMA user_version = 6")
    finally:
        conn.close()


async def test_a_v6_file_gains_the_claims_table_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v6.db"
    v6_file(path)
    assert pragma(path, "user_version") == 6
    async with SQLiteStore(path) as store:
        session = await store.session("s1")
        assert session is not None and session.current_jti == "s1-r1"
        assert (await store.access_status("a-denied", "s1", "alice")).denied
        assert await store.claim_once("proof", until=T0 + 60, now=T0)
        assert not await store.claim_once("proof", until=T0 + 60, now=T0 + 1)
        await store.purge(
            PurgeRequest(sessions_before=0, denials_before=T0 + 60, watermarks_before=0)
        )
        assert await store.claim_once("proof", until=T0 + 120, now=T0 + 60)
    assert pragma(path, "user_version") == SCHEMA_VERSION == 7
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    finally:
        conn.close()
    assert {"claimed_keys", "claimed_keys_by_until"} <= names


async def test_a_v7_file_without_its_claims_table_is_refused_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "v7.db"
    async with SQLiteStore(path):
        pass
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TABLE claimed_keys")
    conn.close()
    with pytest.raises(Exception, match="damaged"):
        await SQLiteStore(path).open()
