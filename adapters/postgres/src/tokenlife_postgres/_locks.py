"""First-come, first-served per session within one process.

PostgreSQL's row lock makes concurrent writes to a session atomic across
processes, but the order in which a process's own concurrent calls reach it
depends on which pooled connection the server schedules first. Queueing them
here, per session, applies them in the order the process made them (as the
SQLite store's batches do), and a burst on one session holds one pooled
connection at a time instead of parking the whole pool on one row lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class SessionLocks:
    """One FIFO ``asyncio.Lock`` per session with a caller in flight; none otherwise."""

    __slots__ = ("_locks",)

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, sid: str) -> AsyncIterator[None]:
        entry = self._locks.get(sid)
        if entry is None:
            entry = self._locks[sid] = (asyncio.Lock(), [0])
        lock, users = entry
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if not users[0]:
                del self._locks[sid]

    def __len__(self) -> int:
        return len(self._locks)


__all__ = ("SessionLocks",)
