"""The file format: creation, migration, and refusing files that are not ours to touch."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path

import pytest
from msgspec.structs import replace

from tokenlife import StoreError
from tokenlife.store import RefreshRequest, RefreshState, Rotate
from tokenlife_sqlite import SCHEMA_VERSION, SQLiteStore
from tokenlife_sqlite import _rows as rows
from tokenlife_sqlite._schema import APPLICATION_ID, V1, V1_TO_V2

from ._support import login

pytestmark = pytest.mark.anyio


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def v1_file(path: Path, *, second_active: bool = False) -> None:
    """A file as schema v1 left it, with one session (and optionally a forked chain)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(V1)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    session, first = login("s1")
    conn.execute(rows.INSERT_SESSION, rows.session_row(session))
    conn.execute(rows.INSERT_REFRESH, rows.refresh_row(first))
    if second_active:  # what v1 could not prevent: two ACTIVE tokens in one session
        conn.execute(rows.INSERT_REFRESH, rows.refresh_row(replace(first, jti="s1-fork")))
    conn.close()


async def test_fresh_file_is_created_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with SQLiteStore(path) as store:
        await store.create_session(*login("s1"))
    assert pragma(path, "user_version") == SCHEMA_VERSION
    assert pragma(path, "application_id") == APPLICATION_ID
    assert pragma(path, "journal_mode") == "wal"
    async with SQLiteStore(path) as store:  # reopening changes nothing
        assert await store.session("s1") is not None


async def test_an_empty_file_is_a_fresh_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    async with SQLiteStore(path) as store:
        await store.create_session(*login("s1"))
    assert pragma(path, "user_version") == SCHEMA_VERSION


async def test_v1_is_migrated_in_place_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    v1_file(path)
    async with SQLiteStore(path) as store:
        session = await store.session("s1")
        assert session is not None and session.subject == "alice"
        record = await store.refresh_record("s1-r0")
        assert record is not None and record.state is RefreshState.ACTIVE
    assert pragma(path, "user_version") == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    conn.close()
    assert {"refresh_one_active", "changes"} <= names


def v2_file(path: Path) -> None:
    """A file as schema v2 left it: one session rotated once (a ROTATED and an ACTIVE record)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(V1 + V1_TO_V2)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 2")
    session, first = login("s1")
    rotated = replace(
        first, state=RefreshState.ROTATED, rotated_at=first.issued_at + 5, successor_jti="s1-r1"
    )
    active = replace(first, jti="s1-r1", parent_jti=first.jti, issued_at=first.issued_at + 5)
    conn.execute(rows.INSERT_SESSION, rows.session_row(replace(session, current_jti="s1-r1")))
    conn.execute(rows.INSERT_REFRESH, rows.refresh_row(rotated))
    conn.execute(rows.INSERT_REFRESH, rows.refresh_row(active))
    conn.close()


async def test_v2_is_migrated_to_records_stored_in_session_order(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    v2_file(path)
    async with SQLiteStore(path) as store:
        parent, child = await store.refresh_record("s1-r0"), await store.refresh_record("s1-r1")
        assert parent is not None and parent.state is RefreshState.ROTATED
        assert parent.successor_jti == "s1-r1"
        assert child is not None and child.state is RefreshState.ACTIVE
        assert child.parent_jti == "s1-r0"
        decision = await store.refresh(
            RefreshRequest(
                jti="s1-r1", sid="s1", subject="alice", now=child.issued_at + 1, grace=10.0,
                successor_jti="s1-r2", refresh_ttl=3600.0,
            )
        )  # fmt: skip
        assert isinstance(decision, Rotate)
    assert pragma(path, "user_version") == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    try:
        key = [
            r[1]
            for r in sorted(conn.execute("PRAGMA table_info(refresh)"), key=lambda r: r[5])
            if r[5]
        ]
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(refresh)")}
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (active,) = conn.execute(
            "SELECT count(*) FROM refresh WHERE sid = 's1' AND state = 0"
        ).fetchone()
    finally:
        conn.close()
    assert key == ["sid", "jti"], "a session's records are stored together"
    assert {"refresh_by_jti", "refresh_one_active"} <= indexes
    assert "refresh_by_sid" not in indexes, "the primary key replaces it"
    assert active == 1


async def test_a_failing_migration_rolls_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "forked.db"
    v1_file(path, second_active=True)
    before = digest(path)
    with pytest.raises(StoreError, match="cannot migrate"):
        async with SQLiteStore(path):
            pass
    assert pragma(path, "user_version") == 1
    conn = sqlite3.connect(path)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    conn.close()
    assert "changes" not in names and "refresh_one_active" not in names
    assert digest(path) == before, "a rolled-back migration leaves the file as it was"


async def test_a_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    async with SQLiteStore(path):
        pass
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = digest(path)
    with pytest.raises(StoreError, match="newer"):
        async with SQLiteStore(path):
            pass
    assert digest(path) == before
    assert not (tmp_path / "newer.db-wal").exists()


async def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the tokens you are looking for\n" * 100)
    before = digest(path)
    with pytest.raises(StoreError, match="not a SQLite database"):
        async with SQLiteStore(path):
            pass
    assert digest(path) == before


async def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(StoreError, match="another program"):
        async with SQLiteStore(path):
            pass
    assert digest(path) == before


@pytest.mark.parametrize("damage", ["header", "schema page", "truncated"])
async def test_a_damaged_file_is_refused_untouched(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "damaged.db"
    async with SQLiteStore(path) as store:
        for i in range(50):
            await store.create_session(*login(f"s{i}"))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")  # fold the WAL in: one self-contained file
    conn.close()
    data = bytearray(path.read_bytes())
    if damage == "header":
        data[16:24] = b"\xff" * 8  # page size and format bytes
    elif damage == "schema page":
        data[100:400] = b"\x5a" * 300  # the sqlite_schema B-tree page header and cells
    else:
        data = data[:150]
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(StoreError, match=r"damaged|not a database"):
        async with SQLiteStore(path):
            pass
    assert digest(path) == before


async def test_deep_damage_is_found_by_the_optional_check(tmp_path: Path) -> None:
    path = tmp_path / "deep.db"
    async with SQLiteStore(path) as store:
        for i in range(300):
            await store.create_session(*login(f"s{i:04d}"))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    last = len(data) // page_size - 1
    data[last * page_size : last * page_size + 64] = b"\xa5" * 64  # a leaf deep in a table
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(StoreError, match="damaged"):
        async with SQLiteStore(path, check=True):
            pass
    assert digest(path) == before


async def test_two_stores_opening_one_new_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    first, second = SQLiteStore(path), SQLiteStore(path)
    await asyncio.gather(first.open(), second.open())
    try:
        await first.create_session(*login("s1"))
        assert await second.session("s1") is not None
    finally:
        await first.close()
        await second.close()
    assert pragma(path, "user_version") == SCHEMA_VERSION
