"""WAL checkpoints on a thread of their own, off the write path.

A commit appends its pages to the ``-wal`` file; a *checkpoint* copies them
back into the database file and fsyncs it. Left to SQLite, the commit that
takes the WAL past ``wal_autocheckpoint`` pages does that itself, on the
writer's connection: on a large file, thousands of random page writes while
every queued write waits. Instead a daemon thread with its own connection
does it, woken by the writer after each committed batch (:meth:`nudge`, an
``Event.set``) and at most once per ``interval`` seconds:

- ``PASSIVE`` first: it takes no lock a writer needs, so it copies the bulk of
  the WAL while writes go on;
- then, once the WAL holds :data:`RESTART_FRAMES` frames, ``RESTART``. SQLite
  rewrites the WAL from its start only when a write begins after a checkpoint
  that copied *every* frame, which a passive one racing a busy writer rarely
  manages (frames committed meanwhile are left over), so the file would grow
  until the writer's own checkpoint. RESTART takes the write lock, copies what
  is left and waits for readers to leave the WAL; writes wait meanwhile, so it
  follows passive passes until little is left (:data:`RESTART_TAIL`) and
  waits at most :data:`RESTART_WAIT` before giving up.

A commit is durable in the WAL before any checkpoint sees it, so checkpoints
never change what is acknowledged: one that fails (busy, I/O) is logged and
retried with a backoff, and after :data:`MAX_ERRORS` errors in a row the
thread stops. The writer keeps SQLite's autocheckpoint as a backstop, at
:data:`BACKSTOP_PAGES`, so the WAL stays bounded even then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Final

from ._batch import _is_busy
from ._schema import Synchronous

logger: Final = logging.getLogger("tokenlife.sqlite")

#: The checkpointer thread's name (one per open store).
THREAD_NAME: Final = "tokenlife-sqlite-checkpoint"
#: WAL frames (pages) from which a round also restarts the WAL: SQLite's own
#: autocheckpoint default, so the WAL stays the size it would have anyway.
RESTART_FRAMES: Final = 1000
#: The writer's ``wal_autocheckpoint`` while the thread runs: only reached if
#: the thread has stopped or fallen far behind.
BACKSTOP_PAGES: Final = 10 * RESTART_FRAMES
#: RESTART once a passive pass leaves at most this many frames to copy, or
#: after MAX_PASSES passes (if writes outpace them).
RESTART_TAIL: Final = 128
MAX_PASSES: Final = 3
#: The longest (s) a RESTART waits for the write lock and for readers: it
#: holds the write lock while it waits for readers, so writes wait as long.
RESTART_WAIT: Final = 0.1
#: After a failed round the next waits twice as long as the last, from
#: ``max(interval, MIN_BACKOFF)`` up to ``MAX_BACKOFF`` seconds.
MIN_BACKOFF: Final = 0.05
MAX_BACKOFF: Final = 5.0
#: Errors (not busy answers) in a row after which the thread gives up.
MAX_ERRORS: Final = 8
#: Blocked rounds in a row before a warning: two processes' checkpoints meeting
#: is routine, a long read transaction keeping the WAL from restarting is not.
WARN_AFTER: Final = 5
_PASSIVE: Final = "PRAGMA wal_checkpoint(PASSIVE)"
_BLOCKED: Final = "blocked by another connection (a checkpoint, or a long read transaction)"


class Checkpointer:
    """One daemon thread checkpointing one file; :meth:`nudge` it after each commit."""

    __slots__ = ("_nudged", "_stopping", "_thread", "interval", "path", "synchronous", "wait")

    def __init__(
        self, path: str, *, interval: float, busy_timeout: float, synchronous: Synchronous
    ) -> None:
        self.path = os.path.abspath(path)
        self.interval = interval
        self.synchronous = synchronous
        #: The connection's busy timeout: the store's, but at most RESTART_WAIT.
        self.wait = min(busy_timeout, RESTART_WAIT)
        self._nudged = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    @property
    def join_timeout(self) -> float:
        """Long enough for a busy wait and a last checkpoint; a stuck thread is left behind."""
        return self.wait + 2.0

    def start(self) -> None:
        self._thread.start()

    def nudge(self) -> None:
        """A batch committed: check the WAL. Called on the writer's thread, so cheap."""
        if not self._nudged.is_set():  # no lock taken when already nudged
            self._nudged.set()

    def stop(self) -> None:
        """Ask the thread to make a last passive checkpoint and end; returns at once."""
        self._stopping.set()
        self._nudged.set()

    def join(self, timeout: float) -> bool:
        """Wait for the thread (blocking); False if it is still running after ``timeout``."""
        if self._thread.ident is None:
            return True  # never started
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.warning(
                "sqlite checkpointer for %r still busy after %.1fs; leaving it to finish",
                self.path,
                timeout,
            )
            return False
        return True

    # -- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        failures = errors = 0  # rounds in a row that failed / that raised
        warned = False
        try:
            while True:
                self._nudged.wait()
                if self._stopping.is_set():
                    break
                self._nudged.clear()  # commits from now on nudge again
                started = time.monotonic()
                error: Exception | None = None
                try:
                    if conn is None:
                        conn = self._connect()
                    done = self._round(conn)
                except Exception as exc:  # whatever it is, the thread goes on
                    done, error = False, exc
                    if conn is not None:
                        with contextlib.suppress(sqlite3.Error):
                            conn.close()
                        conn = None  # a new connection next round
                if done:
                    if warned:
                        logger.info("sqlite checkpoints of %r resumed", self.path)
                    failures = errors = 0
                    warned = False
                    delay = self.interval
                else:
                    failures += 1
                    errors = errors + 1 if error is not None else 0
                    if errors >= MAX_ERRORS:
                        logger.error(
                            "sqlite checkpointer of %r stopped after %d errors in a row (%s); "
                            "the writer's own autocheckpoint bounds the WAL from now on",
                            self.path,
                            errors,
                            error,
                        )
                        return
                    warn = errors == 1 if error is not None else failures == WARN_AFTER
                    warned = warned or warn
                    logger.log(
                        logging.WARNING if warn else logging.DEBUG,
                        "sqlite checkpoint of %r %s (%d in a row); retrying",
                        self.path,
                        f"failed: {error}" if error is not None else _BLOCKED,
                        failures,
                    )
                    delay = min(
                        max(self.interval, MIN_BACKOFF) * 2 ** min(failures - 1, 16), MAX_BACKOFF
                    )
                    self._nudged.set()  # retry after the delay, even without new commits
                if self._stopping.wait(max(0.0, started + delay - time.monotonic())):
                    break
            if conn is not None:  # stopping: leave the WAL copied back for the next opener
                with contextlib.suppress(sqlite3.Error):
                    conn.execute(_PASSIVE).fetchall()
        finally:
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()

    def _connect(self) -> sqlite3.Connection:
        # mode=rw: never create a file that has gone missing meanwhile.
        uri = Path(self.path).as_uri() + "?mode=rw"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=self.wait)
        try:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"journal mode is {mode!r}, not WAL")
            # The checkpoint fsyncs the database file as the writer's would.
            conn.execute(f"PRAGMA synchronous = {self.synchronous.upper()}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _round(self, conn: sqlite3.Connection) -> bool:
        """One checkpoint; False if another connection kept it from finishing."""
        try:
            busy, log, _ = conn.execute(_PASSIVE).fetchone()
            if busy or log < RESTART_FRAMES:
                return not busy  # busy: another connection is checkpointing
            # A pass reports the WAL's length when it began, so ``now - log``
            # frames were committed during the last one. RESTART copies what is
            # left holding the write lock: while that is much, copy it passively
            # (unless the WAL is already as long as the backstop allows).
            for _ in range(MAX_PASSES - 1):
                busy, now, _ = conn.execute(_PASSIVE).fetchone()
                if busy or now < RESTART_FRAMES:
                    return not busy
                if now - log <= RESTART_TAIL or now >= BACKSTOP_PAGES:
                    break
                log = now
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):  # e.g. a connection holding the file in exclusive mode
                return False
            raise
        return not busy


__all__ = (
    "BACKSTOP_PAGES",
    "MAX_ERRORS",
    "MAX_PASSES",
    "RESTART_FRAMES",
    "RESTART_TAIL",
    "RESTART_WAIT",
    "THREAD_NAME",
    "WARN_AFTER",
    "Checkpointer",
)
