"""SQLiteStore: one SQLite file, one writer connection, group commit, an exact cache.

Thread hops per operation (each ~100 µs, the unit that matters here):

- writes (``create_session``, ``refresh``, the revocations, ``deny_access``,
  ``purge``): one hop per *batch*; everything queued while a batch runs shares
  the next one (``_batch``);
- ``access_status`` (the strict check): none when the session is cached,
  one (batched) on a miss, plus one shared catch-up read at most every
  ``staleness`` seconds when nothing else has caught up meanwhile (``_cache``);
- the other reads: one (batched).

Durability: WAL, and ``synchronous=FULL`` by default, so an acknowledged
write survives power loss, not just a crashed process; the fsync is per
batch, not per operation. ``synchronous="normal"`` keeps what survives a
process crash (the crash test covers both) but may lose the last commits on
power loss, for roughly twice the single-writer rate.

Checkpoints (copying the WAL back into the database file) run on a thread of
their own (``_checkpoint``), at most every ``checkpoint_interval`` seconds:
left to SQLite, the commit that fills the WAL does it, and on a large file
its thousands of random page writes stall every queued write.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import sqlite3
import time
from functools import partial
from types import TracebackType
from typing import Final, TypeVar

import aiosqlite

from tokenlife import ConfigurationError, StoreError
from tokenlife.store import (
    AccessStatus,
    PurgeRequest,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    SessionLimit,
    SessionRecord,
)

from . import _claims as claims
from . import _ops as ops
from ._batch import NATIVE_ERRORS, Batcher, Runner, Tx, _run_in_thread, store_error
from ._cache import AccessCache
from ._checkpoint import BACKSTOP_PAGES, Checkpointer
from ._schema import Synchronous, open_file

T = TypeVar("T")

DEFAULT_STALENESS: Final = 0.05
DEFAULT_CHECKPOINT_INTERVAL: Final = 0.2
#: Sessions purged per transaction (one purge call may run several).
PURGE_CHUNK: Final = 256


class SQLiteStore:
    """A :class:`tokenlife.Store` in one SQLite file, shared safely by many processes.

    ``busy_timeout``: how long a write waits for another process's write lock
    before failing with :class:`StoreError`. ``synchronous``: ``"full"``
    (default) or ``"normal"``, see the module notes. ``staleness``: the
    longest a strict access check may go without seeing another process's
    revocation (this process's own writes are seen at once). ``cache_sessions``:
    sessions the access check keeps in memory. ``max_batch``: jobs per
    transaction. ``check``: run ``PRAGMA quick_check`` on open (reads the
    whole file). ``checkpoint_interval``: WAL checkpoints run on a background
    thread, at most this often (seconds), so no write waits for one; ``None``
    leaves them to SQLite, on the commit that takes the WAL past 1000 pages.
    Use it as ``async with SQLiteStore(path) as store``; asyncio only.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        synchronous: Synchronous = "full",
        staleness: float = DEFAULT_STALENESS,
        cache_sessions: int = 100_000,
        max_batch: int = 256,
        check: bool = False,
        checkpoint_interval: float | None = DEFAULT_CHECKPOINT_INTERVAL,
    ) -> None:
        self.path = os.fspath(path)
        if self.path in ("", ":memory:") or self.path.startswith("file:"):
            raise ConfigurationError("SQLiteStore needs a file path (use MemoryStore for memory)")
        if synchronous not in ("full", "normal"):
            raise ConfigurationError("synchronous must be 'full' or 'normal'")
        if busy_timeout < 0 or staleness < 0 or cache_sessions < 1 or max_batch < 1:
            raise ConfigurationError(
                "busy_timeout and staleness ≥ 0; cache_sessions, max_batch ≥ 1"
            )
        if checkpoint_interval is not None and not (
            math.isfinite(checkpoint_interval) and checkpoint_interval >= 0
        ):
            raise ConfigurationError("checkpoint_interval must be None or a finite number ≥ 0")
        self.busy_timeout = busy_timeout
        self.synchronous: Synchronous = synchronous
        self.staleness = staleness
        self._max_batch = max_batch
        self._check = check
        self.checkpoint_interval = checkpoint_interval
        self._cache = AccessCache(cache_sessions)
        self._conn: aiosqlite.Connection | None = None
        self._batcher: Batcher | None = None
        self._checkpointer: Checkpointer | None = None
        self._syncing: asyncio.Future[None] | None = None
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------

    async def open(self) -> SQLiteStore:
        """Open (creating or migrating the file); ``async with`` calls this for you."""
        if self._conn is not None or self._closed:
            raise StoreError("a SQLiteStore opens once")
        try:
            conn = await aiosqlite.connect(
                self.path, isolation_level=None, timeout=self.busy_timeout, cached_statements=256
            )
        except NATIVE_ERRORS as exc:
            raise store_error(exc) from exc
        try:
            raw: sqlite3.Connection = conn._conn  # used on its own thread only
            await _run_in_thread(conn, lambda: self._prepare(raw))
            # Last, once the file is prepared: a store that fails to open starts no thread.
            checkpointer = self._start_checkpointer()
        except BaseException as exc:
            await conn.close()
            if isinstance(exc, NATIVE_ERRORS):
                raise store_error(exc) from exc
            raise
        self._conn, self._checkpointer = conn, checkpointer
        nudge = None if checkpointer is None else checkpointer.nudge
        runner = Runner(raw, self._cache, self.busy_timeout, on_commit=nudge)
        self._batcher = Batcher(conn, runner, max_batch=self._max_batch)
        return self

    def _prepare(self, raw: sqlite3.Connection) -> None:
        open_file(raw, self.path, synchronous=self.synchronous, check=self._check)
        if self.checkpoint_interval is not None:
            # The thread checkpoints; SQLite's own checkpoint stays as a backstop.
            raw.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        # The version first: a commit landing during the rebuild moves it again.
        self._cache.data_version = raw.execute("PRAGMA data_version").fetchone()[0]
        self._cache.rebuild(raw)

    def _start_checkpointer(self) -> Checkpointer | None:
        if self.checkpoint_interval is None:
            return None
        checkpointer = Checkpointer(
            self.path,
            interval=self.checkpoint_interval,
            busy_timeout=self.busy_timeout,
            synchronous=self.synchronous,
        )
        checkpointer.start()
        return checkpointer

    async def close(self) -> None:
        """Finish what is queued, then close. Later calls raise :class:`StoreError`."""
        if self._closed:
            return
        self._closed = True
        conn, batcher = self._conn, self._batcher
        if conn is None or batcher is None:
            return
        try:
            await batcher.run(_drained, write=False)  # runs after everything queued before it
        finally:
            try:
                await self._stop_checkpointer(conn)
            finally:
                try:
                    await conn.close()
                except NATIVE_ERRORS as exc:
                    raise store_error(exc) from exc

    async def _stop_checkpointer(self, conn: aiosqlite.Connection) -> None:
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is None:
            return
        checkpointer.stop()
        # The join blocks, so it runs on the connection's thread (idle now), not
        # the loop's; bounded, as the thread may be waiting on a lock.
        with contextlib.suppress(*NATIVE_ERRORS):  # a dead connection: the thread is a daemon
            await _run_in_thread(conn, partial(checkpointer.join, checkpointer.join_timeout))

    async def __aenter__(self) -> SQLiteStore:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _ready(self) -> Batcher:
        if self._closed or self._batcher is None:
            if self._closed:
                raise StoreError("the sqlite store is closed")
            raise StoreError(
                "the SQLiteStore is not open yet: use `async with SQLiteStore(path) as store:` "
                "or `await store.open()` first"
            )
        return self._batcher

    # -- writes -------------------------------------------------------------------------

    async def create_session(
        self, session: SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        """One job in the write transaction: with ``limit``, counting the subject's
        live sessions, ending the excess and inserting are one atomic step."""
        return await self._ready().run(
            lambda tx: ops.create_session(tx, session, first, limit), write=True
        )

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        return await self._ready().run(lambda tx: ops.refresh(tx, request), write=True)

    async def revoke_session(
        self,
        sid: str,
        *,
        now: float,
        reason: str,
        deny: tuple[str, float] | None = None,
    ) -> SessionRecord | None:
        return await self._ready().run(
            lambda tx: ops.revoke_session(tx, sid, now, reason, deny), write=True
        )

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        return await self._ready().run(
            lambda tx: ops.revoke_subject(tx, subject, now, reason, keep_sid), write=True
        )

    async def deny_access(self, jti: str, *, until: float, now: float) -> None:
        await self._ready().run(lambda tx: ops.deny_access(tx, jti, until), write=True)

    async def claim_once(self, key: str, *, until: float, now: float) -> bool:
        return await self._ready().run(
            lambda tx: claims.claim_once(tx, key, until, now), write=True
        )

    async def purge(self, request: PurgeRequest) -> int:
        """At most ``request.limit`` sessions, in transactions of at most
        :data:`PURGE_CHUNK`, so refreshes queued meanwhile wait for one chunk only."""
        batcher = self._ready()
        await batcher.run(partial(claims.purge_claims, before=request.denials_before), write=True)
        limit, removed = max(request.limit, 0), 0
        while True:
            chunk, sweep = min(limit - removed, PURGE_CHUNK), removed == 0
            count = await batcher.run(
                partial(ops.purge, request=request, limit=chunk, sweep=sweep), write=True
            )
            removed += count
            if count < chunk or removed >= limit:
                return removed

    # -- reads --------------------------------------------------------------------------

    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        """The strict check: from memory when it can (no hop), see ``_cache``."""
        batcher = self._ready()
        cache = self._cache
        needed = time.monotonic() - self.staleness  # the oldest view this check may use
        if cache.synced_at < needed:
            await self._catch_up(batcher, needed)
        entry = cache.lookup(sid)
        if entry is None:
            entry = await batcher.run(lambda tx: ops.access_entry(tx, sid), write=False)
        denied = jti in cache.denied
        if entry is None or entry[0] != subject:
            return AccessStatus(denied=denied, session_found=False)
        return AccessStatus(
            denied=denied,
            session_found=True,
            session_revoked=entry[3],
            session_created_at=entry[1],
            access_floor=entry[2],
            revoked_before=cache.marks.get(subject),
            generation=entry[5],
            refreshed_at=entry[6],
        )

    async def _catch_up(self, batcher: Batcher, needed: float) -> None:
        """Bring the view up to ``needed`` (a ``time.monotonic()``).

        Checks that find the view too old share one catch-up read. A read
        already in flight may have looked at the database before ``needed``;
        if it did, one more read, started now, certainly does not.
        """
        syncing = self._syncing
        if syncing is not None and not syncing.done():
            await asyncio.shield(syncing)
            if self._cache.synced_at >= needed:
                return
        syncing = self._syncing = batcher.submit(ops.sync, write=False)
        await asyncio.shield(syncing)

    async def session(self, sid: str) -> SessionRecord | None:
        return await self._ready().run(lambda tx: ops.session(tx, sid), write=False)

    async def refresh_record(self, jti: str, *, sid: str | None = None) -> RefreshRecord | None:
        record = await self._ready().run(lambda tx: ops.refresh_record(tx, jti), write=False)
        return None if record is None or (sid is not None and record.sid != sid) else record

    async def sessions(self, subject: str) -> list[SessionRecord]:
        return await self._ready().run(lambda tx: ops.sessions(tx, subject), write=False)


def _drained(tx: Tx) -> None:
    """A no-op job: batches run in order, so it returns once everything before it has."""


__all__ = ("DEFAULT_CHECKPOINT_INTERVAL", "DEFAULT_STALENESS", "SQLiteStore")
