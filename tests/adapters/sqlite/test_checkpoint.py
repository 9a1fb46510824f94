"""WAL checkpoints on the checkpointer thread: bounded WAL, intact data, errors contained."""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tokenlife import ConfigurationError, StoreError
from tokenlife_sqlite import SQLiteStore, _checkpoint
from tokenlife_sqlite._checkpoint import THREAD_NAME, Checkpointer

from ._support import integrity, login

pytestmark = pytest.mark.anyio

PAGE = 4096
LOGGER = "tokenlife.sqlite"


def checkpointers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()}


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``check`` until it holds: the thread works on its own time."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def in_the_file_alone(path: Path) -> int:
    """Sessions in the database file without its WAL: what checkpoints have copied back."""
    alone = path.with_name("alone.db")
    for name in (alone, path.with_name("alone.db-wal"), path.with_name("alone.db-shm")):
        name.unlink(missing_ok=True)
    shutil.copyfile(path, alone)
    conn = sqlite3.connect(alone)
    try:
        return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
    except sqlite3.DatabaseError:  # copied halfway through a checkpoint
        return -1
    finally:
        conn.close()


async def test_the_wal_stays_bounded_under_a_stream_of_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Restart from 100 frames (not 1000) keeps the run short. A passive
    # checkpoint racing this stream never catches up, so without the RESTART
    # the WAL would hold every frame written here: ~7 pages a session, ~20 MB.
    monkeypatch.setattr(_checkpoint, "RESTART_FRAMES", 100)
    path = tmp_path / "db"
    sessions = 700
    async with SQLiteStore(path, synchronous="normal", checkpoint_interval=0.01) as store:
        for i in range(sessions):
            await store.create_session(*login(f"s{i:05d}"))
        written = sessions * 7 * PAGE
        wal = size(tmp_path / "db-wal")  # never shrinks: its largest size so far
        assert wal < 6_000_000 < written / 3, wal
        assert await store.session(f"s{sessions - 1:05d}") is not None


async def test_the_thread_copies_the_wal_back_and_the_data_survives(tmp_path: Path) -> None:
    path = tmp_path / "db"
    async with SQLiteStore(path, checkpoint_interval=0.01) as store:
        # ~700 frames, below SQLite's own autocheckpoint: only the thread copies them.
        for i in range(100):
            await store.create_session(*login(f"s{i}"))
        await eventually(lambda: in_the_file_alone(path) == 100)
    assert not (tmp_path / "db-wal").exists()  # the last close checkpointed and removed it
    assert integrity(path) == ["ok"]
    async with SQLiteStore(path) as store:
        for i in range(100):
            assert await store.session(f"s{i}") is not None


async def test_without_an_interval_sqlite_checkpoints_on_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "db"
    before = checkpointers()
    async with SQLiteStore(path, checkpoint_interval=None) as store:
        assert checkpointers() == before
        for i in range(100):
            await store.create_session(*login(f"s{i}"))
        assert in_the_file_alone(path) == 0, "below 1000 frames, nothing is checkpointed"
        assert store._conn is not None
        async with store._conn.execute("PRAGMA wal_autocheckpoint") as cursor:
            assert await cursor.fetchone() == (1000,)
    async with SQLiteStore(path) as store:
        assert store._conn is not None
        async with store._conn.execute("PRAGMA wal_autocheckpoint") as cursor:
            assert await cursor.fetchone() == (_checkpoint.BACKSTOP_PAGES,)


async def test_close_joins_the_thread_and_a_failed_open_starts_none(tmp_path: Path) -> None:
    before = checkpointers()
    store = SQLiteStore(tmp_path / "db")
    async with store:
        await store.create_session(*login("s1"))
        assert len(checkpointers() - before) == 1
    assert checkpointers() == before
    other = tmp_path / "other.db"
    other.write_bytes(b"not a database, " * 100)
    with pytest.raises(StoreError):
        await SQLiteStore(other).open()
    assert checkpointers() == before


def test_the_interval_is_validated(tmp_path: Path) -> None:
    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ConfigurationError, match="checkpoint_interval"):
            SQLiteStore(tmp_path / "db", checkpoint_interval=bad)
    SQLiteStore(tmp_path / "db", checkpoint_interval=0)
    SQLiteStore(tmp_path / "db", checkpoint_interval=None)


async def test_a_reader_blocking_the_restart_is_logged_and_writes_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_checkpoint, "RESTART_FRAMES", 20)
    monkeypatch.setattr(_checkpoint, "RESTART_WAIT", 0.02)
    monkeypatch.setattr(_checkpoint, "MIN_BACKOFF", 0.001)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    path = tmp_path / "db"
    async with SQLiteStore(path, checkpoint_interval=0) as store:
        await store.create_session(*login("s0"))
        reader = sqlite3.connect(path, isolation_level=None)
        try:
            reader.execute("BEGIN")  # another process's long read: the WAL cannot restart
            reader.execute("SELECT count(*) FROM sessions").fetchall()
            for i in range(1, 30):
                started = time.monotonic()
                await store.create_session(*login(f"s{i}"))
                assert time.monotonic() - started < 1.0
            await eventually(lambda: any(r.levelno == logging.WARNING for r in caplog.records))
            blocked = [r for r in caplog.records if "blocked" in r.getMessage()]
            assert [r.levelno for r in blocked][: _checkpoint.WARN_AFTER] == [logging.DEBUG] * (
                _checkpoint.WARN_AFTER - 1
            ) + [logging.WARNING]
        finally:
            reader.execute("COMMIT")
            reader.close()
        await store.create_session(*login("last"))  # a nudge: the next round succeeds
        await eventually(lambda: "resumed" in caplog.text)
        assert len(await store.sessions("alice")) == 31
    assert integrity(path) == ["ok"]


async def test_errors_are_logged_then_the_thread_gives_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(self: Checkpointer, conn: sqlite3.Connection) -> bool:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Checkpointer, "_round", failing)
    monkeypatch.setattr(_checkpoint, "MIN_BACKOFF", 0.001)
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    before = checkpointers()
    async with SQLiteStore(tmp_path / "db", checkpoint_interval=0) as store:
        await store.create_session(*login("s0"))
        await eventually(lambda: checkpointers() == before)  # retried, then gave up
        mine = [r for r in caplog.records if r.name == LOGGER]
        assert [r.levelno for r in mine] == [logging.WARNING] + [logging.DEBUG] * (
            _checkpoint.MAX_ERRORS - 2
        ) + [logging.ERROR]
        assert "disk I/O error" in mine[0].getMessage()
        for i in range(1, 20):
            await store.create_session(*login(f"s{i}"))
        assert len(await store.sessions("alice")) == 20


async def test_close_does_not_wait_long_for_a_stuck_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    entered, release = threading.Event(), threading.Event()

    def stuck(self: Checkpointer, conn: sqlite3.Connection) -> bool:
        entered.set()
        release.wait(10)  # a checkpoint that takes its time (a lock, a slow disk)
        return True

    monkeypatch.setattr(Checkpointer, "_round", stuck)
    monkeypatch.setattr(Checkpointer, "join_timeout", 0.05)
    before = checkpointers()
    async with SQLiteStore(tmp_path / "db", checkpoint_interval=0) as store:
        await store.create_session(*login("s1"))
        await eventually(entered.is_set)
        started = time.monotonic()
    assert time.monotonic() - started < 1.0
    assert "still busy" in caplog.text
    (left,) = checkpointers() - before
    release.set()
    left.join(5)
    assert not left.is_alive()
