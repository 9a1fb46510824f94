"""Helpers for the SQLite store's own tests: child processes, bulk data, a stall meter."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from tokenlife.store import RefreshRecord, SessionRecord
from tokenlife_sqlite import _rows as rows
from tokenlife_sqlite._schema import migrate

ROOT = Path(__file__).resolve().parents[3]
T0 = 1_800_000_000.0


def spawn(*args: str) -> subprocess.Popen[str]:
    """``python -m tests.adapters.sqlite._worker ARGS`` with pipes, from the repo root."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.adapters.sqlite._worker", *args],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def expect_line(child: subprocess.Popen[str], wanted: str) -> None:
    assert child.stdout is not None
    line = child.stdout.readline().strip()
    if line != wanted:
        child.kill()
        _, err = child.communicate(timeout=10)
        raise AssertionError(f"child said {line!r}, not {wanted!r}; stderr:\n{err}")


def send(stream: IO[str] | None, line: str) -> None:
    assert stream is not None
    stream.write(line + "\n")
    stream.flush()


def login(sid: str, subject: str = "alice", *, now: float = T0, ttl: float = 86400.0) -> tuple[SessionRecord, RefreshRecord]:  # fmt: skip  # noqa: E501
    session = SessionRecord(
        sid=sid, subject=subject, created_at=now, expires_at=now + ttl,
        current_jti=f"{sid}-r0", refreshed_at=now,
    )  # fmt: skip
    first = RefreshRecord(
        jti=f"{sid}-r0", sid=sid, subject=subject, issued_at=now,
        expires_at=min(now + 3600, session.expires_at),
    )  # fmt: skip
    return session, first


def bulk_sessions(path: Path, count: int, *, expires_at: float, prefix: str = "old") -> None:
    """``count`` sessions (one refresh record each) written straight into a store file."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, str(path))
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN")
        step = 100_000
        for start in range(0, count, step):
            batch = [login(f"{prefix}{i:08d}", f"user{i % 1000}", now=expires_at - 60, ttl=60)
                     for i in range(start, min(count, start + step))]  # fmt: skip
            conn.executemany(rows.INSERT_SESSION, [rows.login_row(s, f) for s, f in batch])
            conn.executemany(rows.INSERT_REFRESH, [rows.refresh_row(f) for _, f in batch])
        conn.execute("COMMIT")
    finally:
        conn.close()


class StallMeter:
    """A task that ticks every millisecond and records the longest gap between ticks.

    Set :attr:`phase` to attribute gaps to phases (a gap counts for the phase
    current when it ends); :attr:`longest` is the longest gap overall.
    """

    def __init__(self) -> None:
        self.phase = ""
        self.by_phase: dict[str, float] = {}
        self._task: asyncio.Task[Any] | None = None

    @property
    def longest(self) -> float:
        return max(self.by_phase.values(), default=0.0)

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.by_phase[self.phase] = max(self.by_phase.get(self.phase, 0.0), now - last)
            last = now

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def integrity(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
