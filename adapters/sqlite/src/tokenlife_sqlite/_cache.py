"""This process's view of what the strict access check needs, kept exact or nearly so.

A strict ``verify`` asks one question per request: is this access ``jti``
denied, its session revoked or superseded, its subject logged out
everywhere? Asking SQLite costs a thread hop (~100 µs); answering from
memory costs about a microsecond. So the check is answered from this cache:

- **denials** and **watermarks**: all of them, in dicts (they are few: one
  per logout within an access lifetime, one per "log out everywhere"
  within a session lifetime);
- **sessions**: what the check reads of a session, for up to ``capacity``
  sessions (first in, first out); a miss costs one read.

*Exact for this process's writes*: every write of this store updates the
cache on its connection's thread right after its COMMIT, before the caller
hears back. *Bounded for everyone else's*: each write that matters to the
check also appends a row to the ``changes`` table, in the same transaction.
Before answering from a view older than the staleness bound, the store
reads ``PRAGMA data_version`` (which moves only when another connection
commits) and, if it moved, the change rows after its cursor: a changed
session is evicted, a denial or watermark copied. Change rows are numbered
without gaps, so a gap means old rows were trimmed and the whole cache is
rebuilt. Cache fills and change reads run on the one connection thread, in
order, so a fill can never overwrite a newer change with an older row.

The dicts are written only on the connection's thread and read on the event
loop's; single dict operations are atomic, and a reader never needs two
of them to agree.
"""

from __future__ import annotations

import sqlite3
import time
from collections import OrderedDict
from typing import Final

import msgspec

from tokenlife.store import SessionRecord

from ._rows import ACCESS_ROW

#: (subject, created_at, access_floor, revoked, expires_at, generation, refreshed_at)
Entry = tuple[str, float, float, bool, float, int, float]

#: Change kinds: sessions changed (a JSON list of sids, one row per batch); a
#: denial; a watermark; sessions purged up to an expiry; denials and watermarks
#: purged up to a time.
SESSIONS_CHANGED, DENIAL, WATERMARK = "S", "d", "w"
SESSIONS_PURGED, DENIALS_PURGED, WATERMARKS_PURGED = "p", "D", "W"

INSERT_CHANGE: Final = "INSERT INTO changes (kind, key, value) VALUES (?, ?, ?)"
_decode_list = msgspec.json.Decoder(list[str]).decode
_READ_CHANGES: Final = "SELECT seq, kind, key, value FROM changes WHERE seq > ? ORDER BY seq"
#: Change rows kept for processes that have not synced for a while; one
#: that falls further behind rebuilds its cache.
KEEP_CHANGES: Final = 100_000
_TRIM_EVERY: Final = 1_000


class AccessCache:
    """Sessions, denials and watermarks as the strict access check needs them."""

    __slots__ = (
        "capacity",
        "cursor",
        "data_version",
        "denied",
        "marks",
        "purged_before",
        "sessions",
        "synced_at",
    )

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        #: First in, first out. An OrderedDict because evicting a plain dict's
        #: first key scans past every key deleted before it: ~30 µs a put at
        #: 100,000 sessions, against ~1 µs here.
        self.sessions: OrderedDict[str, Entry] = OrderedDict()
        self.denied: dict[str, float] = {}
        self.marks: dict[str, float] = {}
        #: Cached sessions expiring at or before this may have been purged elsewhere.
        self.purged_before = float("-inf")
        #: The last change row applied.
        self.cursor = 0
        self.data_version = -1
        #: ``time.monotonic()`` when the view last caught up with the database.
        self.synced_at = float("-inf")

    # -- the event loop's side (reads only) ----------------------------------------

    def lookup(self, sid: str) -> Entry | None:
        entry = self.sessions.get(sid)
        if entry is not None and entry[4] <= self.purged_before:
            return None  # maybe purged by another process: ask the database
        return entry

    # -- the connection thread's side --------------------------------------------------

    def put(self, sid: str, entry: Entry) -> None:
        sessions = self.sessions
        if sid not in sessions and len(sessions) >= self.capacity:
            sessions.popitem(last=False)
        sessions[sid] = entry

    def put_session(self, session: SessionRecord) -> None:
        self.put(
            session.sid,
            (
                session.subject,
                session.created_at,
                session.access_floor,
                session.revoked_at is not None,
                session.expires_at,
                session.generation,
                session.refreshed_at,
            ),
        )

    def evict_all(self, sids: list[str]) -> None:
        sessions = self.sessions
        for sid in sids:
            sessions.pop(sid, None)

    def drop_denials(self, until: float) -> None:
        for jti in [j for j, t in self.denied.items() if t <= until]:
            del self.denied[jti]

    def drop_marks(self, before: float) -> None:
        for subject in [s for s, m in self.marks.items() if m <= before]:
            del self.marks[subject]

    @staticmethod
    def read(conn: sqlite3.Connection, sid: str) -> Entry | None:
        row = conn.execute(ACCESS_ROW, (sid,)).fetchone()
        if row is None:
            return None
        return (row[0], row[1], row[2], bool(row[3]), row[4], row[5], row[6])

    def rebuild(self, conn: sqlite3.Connection) -> None:
        """Start over from the database: after open, or after missing trimmed changes.

        The cursor is read first: a change committed while the tables are
        read is then applied again by the next pull, which is harmless,
        instead of being skipped, which would not be.
        """
        started = time.monotonic()
        self.cursor = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        self.sessions.clear()
        self.denied = dict(conn.execute("SELECT jti, until FROM denials").fetchall())
        self.marks = dict(conn.execute("SELECT subject, revoked_before FROM watermarks"))
        self.purged_before = float("-inf")
        self.synced_at = started

    def sync(self, conn: sqlite3.Connection) -> None:
        """Catch up with other connections' commits, if there were any (outside a transaction)."""
        started = time.monotonic()
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self.data_version:
            self.pull(conn)
            self.data_version = version
        self.synced_at = started

    def pull(self, conn: sqlite3.Connection) -> None:
        """Apply the change rows after the cursor (inside a write transaction: all of them)."""
        started = time.monotonic()
        rows = conn.execute(_READ_CHANGES, (self.cursor,)).fetchall()
        if rows and rows[0][0] != self.cursor + 1:
            self.rebuild(conn)
            return
        for _, kind, key, value in rows:
            if kind == SESSIONS_CHANGED:
                for sid in _decode_list(key):
                    self.sessions.pop(sid, None)
            elif kind == DENIAL:
                self.denied[key] = value
            elif kind == WATERMARK:
                self.marks[key] = value
            elif kind == SESSIONS_PURGED:
                self.purged_before = max(self.purged_before, value)
            elif kind == DENIALS_PURGED:
                self.drop_denials(value)
            elif kind == WATERMARKS_PURGED:
                self.drop_marks(value)
        if rows:
            self.cursor = rows[-1][0]
        self.synced_at = started

    def log_end(self, conn: sqlite3.Connection) -> int:
        """Where the change log ends once our rows are in (we hold the write lock).

        Called just before COMMIT; the caller moves :attr:`cursor` there only
        once the COMMIT has succeeded. Now and then trims the rows every
        process has had time to read.
        """
        end: int = conn.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0]
        if end // _TRIM_EVERY != self.cursor // _TRIM_EVERY and end > KEEP_CHANGES:
            conn.execute("DELETE FROM changes WHERE seq <= ?", (end - KEEP_CHANGES,))
        return end


__all__ = (
    "DENIAL",
    "DENIALS_PURGED",
    "INSERT_CHANGE",
    "KEEP_CHANGES",
    "SESSIONS_CHANGED",
    "SESSIONS_PURGED",
    "WATERMARK",
    "WATERMARKS_PURGED",
    "AccessCache",
    "Entry",
)
