"""The file format: creation, migration, and refusing files that are not ours to touch."""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
from pathlib import Path

import pytest
from msgspec.structs import replace

from tokenlife import StoreError
from tokenlife.store import RefreshRequest, RefreshState, Rotate, SessionRecord
from tokenlife_sqlite import SCHEMA_VERSION, SQLiteStore
from tokenlife_sqlite import _rows as rows
from tokenlife_sqlite._schema import (
    APPLICATION_ID,
    PAGE_SIZE,
    V1,
    V1_TO_V2,
    V2_TO_V3,
    V3_TO_V4,
    V4_TO_V5,
)

from ._support import T0, login

pytestmark = pytest.mark.anyio


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


#: The session columns before v6 added ``generation``.
OLD_SESSION_COLUMNS = rows.SESSION_COLUMNS.removesuffix(", generation")
#: How v1 to v3 wrote a session and a refresh record (separate tables).
OLD_INSERT_SESSION = f"INSERT INTO sessions ({OLD_SESSION_COLUMNS}) VALUES ({', '.join('?' * 11)})"  # noqa: S608
OLD_INSERT_REFRESH = f"INSERT INTO refresh ({rows.REFRESH_COLUMNS}) VALUES ({', '.join('?' * 9)})"  # noqa: S608
#: How v4 wrote them: one table, no headroom.
V4_INSERT_SESSION = (
    f"INSERT INTO records (jti, {OLD_SESSION_COLUMNS}) VALUES ('', {', '.join('?' * 11)})"  # noqa: S608
)
#: How v5 wrote a session: with the headroom its first rotation uses.
V5_INSERT_SESSION = (
    f"INSERT INTO records (jti, {OLD_SESSION_COLUMNS}, headroom) "  # noqa: S608
    f"VALUES ('', {', '.join('?' * 11)}, zeroblob(200))"
)


def old_row(session: SessionRecord) -> tuple[object, ...]:
    """A session's row as schema v1 to v5 had it (no generation)."""
    return rows.session_row(session)[:11]


V4_INSERT_REFRESH = f"INSERT INTO records ({rows.REFRESH_COLUMNS}) VALUES ({', '.join('?' * 9)})"  # noqa: S608


def v1_file(path: Path, *, second_active: bool = False) -> None:
    """A file as schema v1 left it, with one session (and optionally a forked chain)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(V1)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    session, first = login("s1")
    conn.execute(OLD_INSERT_SESSION, old_row(session))
    conn.execute(OLD_INSERT_REFRESH, rows.refresh_row(first))
    if second_active:  # what v1 could not prevent: two ACTIVE tokens in one session
        conn.execute(OLD_INSERT_REFRESH, rows.refresh_row(replace(first, jti="s1-fork")))
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


def old_file(path: Path, version: int) -> None:
    """A file as schema v2 to v5 left it: one session rotated once (a ROTATED and
    an ACTIVE record), a second session never rotated, a third revoked, a
    denied access token and a subject watermark."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        V1
        + V1_TO_V2
        + (V2_TO_V3 if version >= 3 else "")
        + (V3_TO_V4 if version >= 4 else "")
        + (";" + V4_TO_V5 if version >= 5 else "")
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {version}")
    insert_session = (
        V5_INSERT_SESSION
        if version >= 5
        else V4_INSERT_SESSION
        if version >= 4
        else OLD_INSERT_SESSION
    )
    insert_refresh = V4_INSERT_REFRESH if version >= 4 else OLD_INSERT_REFRESH
    session, first = login("s1")
    rotated = replace(
        first, state=RefreshState.ROTATED, rotated_at=first.issued_at + 5, successor_jti="s1-r1"
    )
    active = replace(first, jti="s1-r1", parent_jti=first.jti, issued_at=first.issued_at + 5)
    conn.execute(insert_session, old_row(replace(session, current_jti="s1-r1")))
    conn.execute(insert_refresh, rows.refresh_row(rotated))
    conn.execute(insert_refresh, rows.refresh_row(active))
    other, other_first = login("s2")
    conn.execute(insert_session, old_row(other))
    conn.execute(insert_refresh, rows.refresh_row(other_first))
    gone, gone_first = login("s3", "bob")
    gone = replace(gone, revoked_at=T0 + 2, revoked_reason="logout")
    conn.execute(insert_session, old_row(gone))
    conn.execute(insert_refresh, rows.refresh_row(gone_first))
    conn.execute("INSERT INTO denials (jti, until) VALUES ('a-denied', ?)", (T0 + 900,))
    conn.execute("INSERT INTO watermarks (subject, revoked_before) VALUES ('carol', ?)", (T0,))
    conn.close()


@pytest.mark.parametrize("version", [2, 3, 4, 5])
async def test_old_files_are_migrated_to_sessions_stored_with_their_records(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / f"v{version}.db"
    old_file(path, version)
    async with SQLiteStore(path) as store:
        parent, child = await store.refresh_record("s1-r0"), await store.refresh_record("s1-r1")
        assert parent is not None and parent.state is RefreshState.ROTATED
        assert parent.successor_jti == "s1-r1"
        assert child is not None and child.state is RefreshState.ACTIVE
        assert child.parent_jti == "s1-r0"
        session = await store.session("s1")
        assert session is not None and session.current_jti == "s1-r1"
        assert session.access_claims == login("s1")[0].access_claims
        assert session.generation == 0, "a session from before generations starts at 0"
        revoked = await store.session("s3")
        assert revoked is not None and revoked.revoked_at == T0 + 2
        assert (await store.access_status("a", "s3", "bob")).session_revoked
        assert (await store.access_status("a-denied", "s1", "alice")).denied
        await store.create_session(*login("c1", "carol", now=T0 - 1))
        assert (await store.access_status("a", "c1", "carol")).revoked_before == T0
        decision = await store.refresh(
            RefreshRequest(
                jti="s1-r1", sid="s1", subject="alice", now=child.issued_at + 1, grace=10.0,
                successor_jti="s1-r2", refresh_ttl=3600.0,
            )
        )  # fmt: skip
        assert isinstance(decision, Rotate)
        assert decision.session.generation == 1
        assert await store.session("s1") == decision.session
        status = await store.access_status("a", "s1", "alice")
        assert (status.generation, status.refreshed_at) == (1, child.issued_at + 1)
        assert [s.sid for s in await store.sessions("alice")] == ["s1", "s2"]
        await store.revoke_session("c1", now=T0, reason="x")
    assert pragma(path, "user_version") == SCHEMA_VERSION
    conn = sqlite3.connect(path)
    try:
        key = [
            r[1]
            for r in sorted(conn.execute("PRAGMA table_info(records)"), key=lambda r: r[5])
            if r[5]
        ]
        columns = {row[1] for row in conn.execute("PRAGMA table_info(records)")}
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(records)")}
        kinds = dict(conn.execute("SELECT name, type FROM sqlite_schema"))
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        (active,) = conn.execute(
            "SELECT count(*) FROM refresh WHERE sid = 's1' AND state = 0"
        ).fetchone()
        in_key_order = conn.execute("SELECT sid, jti FROM records").fetchall()
    finally:
        conn.close()
    assert key == ["sid", "jti"], "a session's rows are stored together"
    assert {"headroom", "generation"} <= columns
    assert {"refresh_by_jti", "refresh_one_active", "sessions_by_expiry"} <= indexes
    assert kinds["sessions"] == kinds["refresh"] == "view", "the v3 tables, to read"
    assert active == 1
    assert in_key_order == [
        ("c1", ""), ("c1", "c1-r0"),
        ("s1", ""), ("s1", "s1-r0"), ("s1", "s1-r1"), ("s1", "s1-r2"), ("s2", ""), ("s2", "s2-r0"),
        ("s3", ""), ("s3", "s3-r0"),
    ], "each session's row first, then its records"  # fmt: skip


async def test_a_new_file_has_the_smaller_page_size(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    async with SQLiteStore(path) as store:
        await store.create_session(*login("s1"))
    assert pragma(path, "page_size") == PAGE_SIZE


async def test_records_keep_their_shape_and_their_session(tmp_path: Path) -> None:
    """What v3's foreign key and table split guaranteed, v4's CHECK and trigger still do."""
    path = tmp_path / "db"
    async with SQLiteStore(path) as store:
        await store.create_session(*login("s1"))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="no session"):
            conn.execute(
                "INSERT INTO records (sid, jti, subject, expires_at, issued_at, state) "
                "VALUES ('ghost', 'g-r0', 'alice', 1, 0, 0)"
            )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(  # a refresh record without its state
                "INSERT INTO records (sid, jti, subject, expires_at, issued_at) "
                "VALUES ('s1', 's1-x', 'alice', 1, 0)"
            )
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            conn.execute(  # a session row claiming a token's state
                "UPDATE records SET state = 0 WHERE sid = 's1' AND jti = ''"
            )
        rows_now = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        conn.execute("DELETE FROM records WHERE sid = 's1' AND jti = ''")
        rows_left = conn.execute("SELECT count(*) FROM records").fetchone()[0]
    finally:
        conn.close()
    assert rows_now == 2
    assert rows_left == 0, "deleting a session deletes its refresh records"


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


def records_leaves(path: Path) -> int:
    """Leaf pages of the ``records`` B-tree (SQLite's ``dbstat`` table)."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        query = "SELECT count(*) FROM dbstat WHERE name = 'records' AND pagetype = 'leaf'"
        return int(conn.execute(query).fetchone()[0])
    except sqlite3.OperationalError as exc:  # pragma: no cover - SQLite built without it
        pytest.skip(f"no dbstat table in this SQLite: {exc}")
    finally:
        conn.close()


async def leaves_before_and_after_first_rotations(
    path: Path, sids: list[str], subject: str
) -> tuple[int, int]:
    """Log ``sids`` in one after another, then rotate each once, in random order."""
    async with SQLiteStore(path) as store:
        for sid in sids:
            await store.create_session(*login(sid, subject))
    before = records_leaves(path)
    requests = [
        RefreshRequest(
            jti=f"{sid}-r0", sid=sid, subject=subject, now=T0 + 60, grace=10.0,
            successor_jti=f"{sid}-r1", refresh_ttl=3600.0,
        )
        for sid in random.Random(7).sample(sids, len(sids))
    ]  # fmt: skip
    async with SQLiteStore(path) as store:
        decisions = await asyncio.gather(*map(store.refresh, requests))
    assert all(isinstance(d, Rotate) for d in decisions)
    return before, records_leaves(path)


@pytest.mark.parametrize(
    ("sid_prefix", "subject"),
    [
        ("s", "alice"),
        ("0190f3a2-7c1e-7b3d-9f00-", "someone.with.a.long.address@example.com"),
        ("s", "ünïcödé-名前-" * 3),
    ],
)
async def test_a_first_rotation_fits_in_the_room_its_login_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sid_prefix: str, subject: str
) -> None:
    """Logins pack leaves full (ids are time-ordered, rows append); each session's
    ``headroom`` is what keeps its first rotation from splitting its leaf."""
    sids = [f"{sid_prefix}{i:06d}" for i in range(400)]
    before, after = await leaves_before_and_after_first_rotations(
        tmp_path / "room.db", sids, subject
    )
    # A few sessions straddle two leaves: their records grow the second one.
    assert after - before <= max(2, before // 12), (before, after)
    # The same without headroom splits most leaves: the check above can fail.
    monkeypatch.setattr(rows, "HEADROOM_CAP", 0)
    bare_before, bare_after = await leaves_before_and_after_first_rotations(
        tmp_path / "bare.db", sids, subject
    )
    assert bare_after - bare_before >= bare_before // 4, (bare_before, bare_after)
    assert bare_before < before, "headroom costs room before the first rotation"


def test_headroom_is_capped() -> None:
    session, first = login("s" * 2000, "x" * 2000)
    assert rows.headroom(session, first) == rows.HEADROOM_CAP
