"""Group commit: every operation queued while a batch runs goes into the next batch.

An ``await`` on a SQLite connection is a hop to its thread and back
(~100 µs here), while one rotation's SQL costs a few tens of microseconds.
So an operation is not a hop: callers queue a *job* (a synchronous function
of a :class:`Tx`) and await a future; the queue is handed to the
connection's thread as one batch, in one hop, and the batch's futures are
resolved together when it comes back.

On the thread a batch with any write runs in one ``BEGIN IMMEDIATE …
COMMIT`` (so it takes SQLite's write lock once and, with
``synchronous=FULL``, syncs once), each job inside its own SAVEPOINT so a job
that fails is rolled back alone and the others still commit. A batch of
reads only runs without the write lock. Nothing is acknowledged before the
COMMIT has returned.

The thread is aiosqlite's: its :class:`aiosqlite.Connection` owns the
``sqlite3`` connection and the thread that alone may touch it; a batch is
submitted through the connection's internal ``_execute`` (the one private
aiosqlite name this package uses, wrapped in :func:`_run_in_thread`).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from typing import Any, Final, TypeVar

import aiosqlite
import msgspec

from tokenlife import StoreError

from ._cache import INSERT_CHANGE, SESSIONS_CHANGED, AccessCache

T = TypeVar("T")

#: What a failing operation may raise that means "the backend failed".
NATIVE_ERRORS: Final = (sqlite3.Error, OSError, ValueError, MemoryError)
_BUSY_CODES: Final = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
_encode_list = msgspec.json.Encoder().encode


class Tx:
    """What a job sees: the connection, the cache, and where to put its side effects."""

    __slots__ = ("cache", "changed", "conn", "effects", "logged")

    def __init__(self, conn: sqlite3.Connection, cache: AccessCache) -> None:
        self.conn = conn
        self.cache = cache
        #: Cache updates, run in order once the batch has committed.
        self.effects: list[Callable[[], object]] = []
        #: Sessions whose access-check answer changed: one change row per batch.
        self.changed: list[str] = []
        self.logged = False

    def log(self, kind: str, key: str | None, value: float | None = None) -> None:
        """Tell other processes' caches about this write (same transaction)."""
        self.conn.execute(INSERT_CHANGE, (kind, key, value))
        self.logged = True

    def session_changed(self, sid: str) -> None:
        """Like :meth:`log` for a session, gathered into one row at the end of the batch."""
        self.changed.append(sid)

    def after(self, effect: Callable[[], object]) -> None:
        self.effects.append(effect)

    def mark(self) -> tuple[int, int]:
        return len(self.effects), len(self.changed)

    def undo(self, mark: tuple[int, int]) -> None:
        """Forget what a job asked for: it was rolled back."""
        del self.effects[mark[0] :]
        del self.changed[mark[1] :]


Job = Callable[[Tx], Any]
#: One job's outcome: (True, result) or (False, exception).
Outcome = tuple[bool, Any]


def store_error(exc: BaseException) -> BaseException:
    """A native error as :class:`StoreError`; anything else unchanged."""
    if isinstance(exc, NATIVE_ERRORS):
        error = StoreError(f"sqlite store: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        return error
    return exc


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(exc) or "busy" in str(exc)


def begin_immediate(conn: sqlite3.Connection, timeout: float) -> None:
    """Take the write lock, retrying SQLITE_BUSY until ``timeout`` has passed.

    SQLite's own busy handler (``busy_timeout``) already waits inside the
    statement; this loop also covers the BUSY answers SQLite gives without
    waiting, and gives up at the same deadline.
    """
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            left = deadline - time.monotonic()
            if not _is_busy(exc) or left <= 0:
                raise
            time.sleep(min(delay, left))
            delay = min(delay * 2, 0.05)


class Runner:
    """The connection thread's side: runs one batch, returns one outcome per job."""

    __slots__ = ("busy_timeout", "cache", "conn", "on_commit")

    def __init__(
        self,
        conn: sqlite3.Connection,
        cache: AccessCache,
        busy_timeout: float,
        *,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.conn = conn
        self.cache = cache
        self.busy_timeout = busy_timeout
        #: Called here after each write batch commits (the checkpointer's nudge,
        #: see ``_checkpoint``); it runs before the batch is acknowledged, so it
        #: must be cheap and must not raise.
        self.on_commit = on_commit

    def run(self, jobs: list[tuple[Job, bool]]) -> list[Outcome]:
        tx = Tx(self.conn, self.cache)
        if any(write for _, write in jobs):
            outcomes = self._write(tx, jobs)
        else:
            outcomes = [self._one(tx, job) for job, _ in jobs]
        for effect in tx.effects:
            effect()
        return outcomes

    @staticmethod
    def _one(tx: Tx, job: Job) -> Outcome:
        mark = tx.mark()
        try:
            return (True, job(tx))
        except Exception as exc:
            tx.undo(mark)
            return (False, store_error(exc))

    def _write(self, tx: Tx, jobs: list[tuple[Job, bool]]) -> list[Outcome]:
        conn, cache = self.conn, self.cache
        begin_immediate(conn, self.busy_timeout)
        outcomes: list[Outcome] = []
        try:
            cache.pull(conn)  # others' commits first: we hold the lock, so this is all of them
            for job, _ in jobs:
                conn.execute("SAVEPOINT job")
                outcome = self._one(tx, job)
                if not outcome[0]:
                    conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                outcomes.append(outcome)
            if tx.changed:
                tx.log(SESSIONS_CHANGED, _encode_list(tx.changed).decode())
            end = cache.log_end(conn) if tx.logged else None
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):  # keep the first error
                    conn.execute("ROLLBACK")
            raise
        if end is not None:
            cache.cursor = end
        if self.on_commit is not None:
            self.on_commit()
        return outcomes


async def _run_in_thread(conn: aiosqlite.Connection, fn: Callable[[], T]) -> T:
    """Run ``fn`` on the connection's own thread: one hop there and back."""
    result: T = await conn._execute(fn)  # type: ignore[no-untyped-call]
    return result


class Batcher:
    """The event loop's side: queues jobs, keeps one batch in flight, resolves futures."""

    __slots__ = ("_conn", "_loop", "_max_batch", "_pending", "_runner", "_running", "_scheduled")

    def __init__(self, conn: aiosqlite.Connection, runner: Runner, *, max_batch: int) -> None:
        self._conn = conn
        self._runner = runner
        self._max_batch = max_batch
        self._loop = asyncio.get_running_loop()
        self._pending: list[tuple[Job, bool, asyncio.Future[Any]]] = []
        self._running = False
        self._scheduled = False

    def submit(self, job: Callable[[Tx], T], *, write: bool) -> asyncio.Future[T]:
        future: asyncio.Future[T] = self._loop.create_future()
        self._pending.append((job, write, future))
        if not self._scheduled and not self._running:
            # Wait for the rest of this loop iteration: whatever else is
            # submitted meanwhile joins the same batch.
            self._scheduled = True
            self._loop.call_soon(self._flush)
        return future

    async def run(self, job: Callable[[Tx], T], *, write: bool) -> T:
        return await self.submit(job, write=write)

    def _flush(self) -> None:
        self._scheduled = False
        if self._running or not self._pending:
            return
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        jobs = [(job, write) for job, write, _ in batch]
        self._running = True
        task = self._loop.create_task(_run_in_thread(self._conn, lambda: self._runner.run(jobs)))
        task.add_done_callback(lambda done: self._settle(batch, done))

    def _settle(
        self, batch: list[tuple[Job, bool, asyncio.Future[Any]]], done: asyncio.Task[list[Outcome]]
    ) -> None:
        self._running = False
        if done.cancelled():
            failure: BaseException | None = StoreError("sqlite store: the batch was cancelled")
        else:
            failure = done.exception()
        if failure is not None:
            failure = store_error(failure)
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(failure)
        else:
            for (_, _, future), (ok, value) in zip(batch, done.result(), strict=True):
                if future.done():  # the caller was cancelled; the job ran anyway
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        if self._pending and not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self._flush)


__all__ = (
    "NATIVE_ERRORS",
    "Batcher",
    "Job",
    "Outcome",
    "Runner",
    "Tx",
    "begin_immediate",
    "store_error",
)
