"""The file format: schema versions, migrations, and the checks made before touching a file.

The schema version lives in ``PRAGMA user_version`` and the file is marked as
ours with ``PRAGMA application_id``. Opening a file is read-only until every
check has passed, so a file this code does not understand — a newer schema,
another program's database, something that is not SQLite, a damaged
header — is refused with a :class:`StoreError` and left byte-for-byte as it was.

Migrations run in one ``BEGIN IMMEDIATE`` transaction (SQLite DDL is
transactional): a file is either fully migrated or not at all, and two
processes opening an old file at once migrate it once.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from typing import Final, Literal

from tokenlife import StoreError

Synchronous = Literal["full", "normal"]

#: ``PRAGMA application_id`` of a tokenlife file ("tLif").
APPLICATION_ID: Final = 0x744C6966
SQLITE_MAGIC: Final = b"SQLite format 3\x00"

#: Version 1, kept as shipped so that the v1 -> v2 path stays tested: it had
#: neither the one-ACTIVE-per-session guarantee nor the change log.
V1: Final = """
CREATE TABLE sessions (
    sid            TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,
    created_at     REAL NOT NULL,
    expires_at     REAL NOT NULL,
    current_jti    TEXT NOT NULL,
    refreshed_at   REAL NOT NULL,
    access_floor   REAL NOT NULL DEFAULT 0,
    revoked_at     REAL,
    revoked_reason TEXT,
    access_claims  BLOB,
    metadata       BLOB
) WITHOUT ROWID;
CREATE INDEX sessions_by_subject ON sessions (subject, created_at);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
CREATE TABLE refresh (
    jti            TEXT PRIMARY KEY,
    sid            TEXT NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
    subject        TEXT NOT NULL,
    issued_at      REAL NOT NULL,
    expires_at     REAL NOT NULL,
    parent_jti     TEXT,
    state          INTEGER NOT NULL CHECK (state IN (0, 1)),
    rotated_at     REAL,
    successor_jti  TEXT
) WITHOUT ROWID;
CREATE INDEX refresh_by_sid ON refresh (sid);
CREATE TABLE denials (
    jti            TEXT PRIMARY KEY,
    until          REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX denials_by_until ON denials (until);
CREATE TABLE watermarks (
    subject        TEXT PRIMARY KEY,
    revoked_before REAL NOT NULL
) WITHOUT ROWID;
"""

#: Version 2: "one ACTIVE refresh record per session" becomes a database
#: guarantee (a partial unique index), and the change log lets every process
#: keep its access-check cache exact within a bound (see ``_cache``).
#: Creating the index fails if a v1 file already breaks the rule; the whole
#: migration then rolls back and the file stays v1.
V1_TO_V2: Final = """
CREATE UNIQUE INDEX refresh_one_active ON refresh (sid) WHERE state = 0;
CREATE TABLE changes (
    seq            INTEGER PRIMARY KEY,
    kind           TEXT NOT NULL,
    key            TEXT,
    value          REAL
);
"""

#: Version 3: refresh records are stored in session order (primary key
#: ``(sid, jti)``), so a rotation's two writes — marking the parent, inserting
#: its successor — land on one page, next to each other, instead of two random
#: pages plus a third for the ``sid`` index, which the key now replaces. With
#: time-ordered ids, ``jti`` index entries append at the index's right edge.
#: At a million live sessions every random page written costs a random write
#: when the WAL is checkpointed, which is what a rotation's cost comes down to.
V2_TO_V3: Final = """
CREATE TABLE refresh_v3 (
    jti            TEXT NOT NULL,
    sid            TEXT NOT NULL REFERENCES sessions (sid) ON DELETE CASCADE,
    subject        TEXT NOT NULL,
    issued_at      REAL NOT NULL,
    expires_at     REAL NOT NULL,
    parent_jti     TEXT,
    state          INTEGER NOT NULL CHECK (state IN (0, 1)),
    rotated_at     REAL,
    successor_jti  TEXT,
    PRIMARY KEY (sid, jti)
) WITHOUT ROWID;
INSERT INTO refresh_v3 (jti, sid, subject, issued_at, expires_at, parent_jti, state, rotated_at,
                        successor_jti)
    SELECT jti, sid, subject, issued_at, expires_at, parent_jti, state, rotated_at, successor_jti
    FROM refresh ORDER BY sid, jti;
DROP TABLE refresh;
ALTER TABLE refresh_v3 RENAME TO refresh;
CREATE UNIQUE INDEX refresh_by_jti ON refresh (jti);
CREATE UNIQUE INDEX refresh_one_active ON refresh (sid) WHERE state = 0;
"""

#: Version 4: a session and its refresh records share one B-tree, ``records``,
#: keyed ``(sid, jti)``; the session's own row has the empty ``jti`` and sorts
#: first. A rotation reads and writes one leaf page of it (the session row,
#: the parent, the successor) plus one of the one-ACTIVE index, where v3 had
#: separate session and refresh pages: at a million live sessions each of
#: those is a cache miss to read and a random page to write back. The CHECK
#: keeps the two kinds of row apart; two triggers stand in for v3's foreign key
#: (a refresh record needs its session; deleting a session deletes its
#: records), since a real one inside one table would need an index of its own,
#: a third random page per rotation. The views ``sessions`` and ``refresh``
#: show the v3 tables for reading (the store writes ``records``).
V3_TO_V4: Final = """
CREATE TABLE records (
    sid            TEXT NOT NULL,
    jti            TEXT NOT NULL,
    subject        TEXT NOT NULL,
    expires_at     REAL NOT NULL,
    created_at     REAL,
    current_jti    TEXT,
    refreshed_at   REAL,
    access_floor   REAL,
    revoked_at     REAL,
    revoked_reason TEXT,
    access_claims  BLOB,
    metadata       BLOB,
    issued_at      REAL,
    parent_jti     TEXT,
    state          INTEGER,
    rotated_at     REAL,
    successor_jti  TEXT,
    PRIMARY KEY (sid, jti),
    CHECK (CASE WHEN jti = ''
        THEN created_at IS NOT NULL AND current_jti IS NOT NULL AND refreshed_at IS NOT NULL
             AND access_floor IS NOT NULL AND state IS NULL AND issued_at IS NULL
        ELSE (state IS 0 OR state IS 1) AND issued_at IS NOT NULL AND created_at IS NULL
             AND current_jti IS NULL END)
) WITHOUT ROWID;
INSERT INTO records (sid, jti, subject, expires_at, created_at, current_jti, refreshed_at,
                     access_floor, revoked_at, revoked_reason, access_claims, metadata)
    SELECT sid, '', subject, expires_at, created_at, current_jti, refreshed_at, access_floor,
           revoked_at, revoked_reason, access_claims, metadata
    FROM sessions;
INSERT INTO records (sid, jti, subject, expires_at, issued_at, parent_jti, state, rotated_at,
                     successor_jti)
    SELECT sid, jti, subject, expires_at, issued_at, parent_jti, state, rotated_at, successor_jti
    FROM refresh;
DROP TABLE refresh;
DROP TABLE sessions;
CREATE UNIQUE INDEX refresh_by_jti ON records (jti) WHERE jti != '';
CREATE UNIQUE INDEX refresh_one_active ON records (sid) WHERE state = 0;
CREATE INDEX sessions_by_subject ON records (subject, created_at) WHERE jti = '';
CREATE INDEX sessions_by_expiry ON records (expires_at) WHERE jti = '';
CREATE TRIGGER refresh_needs_session BEFORE INSERT ON records
    WHEN NEW.jti != '' AND NOT EXISTS (SELECT 1 FROM records WHERE sid = NEW.sid AND jti = '')
    BEGIN SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: no session for this record'); END;
CREATE TRIGGER session_takes_its_records AFTER DELETE ON records WHEN OLD.jti = ''
    BEGIN DELETE FROM records WHERE sid = OLD.sid; END;
CREATE VIEW sessions AS
    SELECT sid, subject, created_at, expires_at, current_jti, refreshed_at, access_floor,
           revoked_at, revoked_reason, access_claims, metadata
    FROM records WHERE jti = '';
CREATE VIEW refresh AS
    SELECT jti, sid, subject, issued_at, expires_at, parent_jti, state, rotated_at, successor_jti
    FROM records WHERE jti != ''
"""

#: Version 5: a session row carries ``headroom``, a zero-filled blob as large
#: as what the session's first rotation adds to its page (the successor
#: record, the parent's new columns). A login appends to the hot right edge of
#: ``records`` with time-ordered ids, which packs leaves full, so without it
#: that first rotation overflows the leaf: a split writes two leaves and their
#: parent instead of one leaf. The rotation sets ``headroom`` to NULL before
#: writing, and the successor lands in the bytes it gave back. A login pays
#: those bytes on the page it writes anyway; a session never refreshed keeps
#: them until it is purged. Adding a column rewrites no row: v4 sessions
#: simply have none, and their first rotation splits as before.
V4_TO_V5: Final = """
ALTER TABLE records ADD COLUMN headroom BLOB CHECK (headroom IS NULL OR jti = '')
"""

#: Version 6: a session row carries its ``generation`` (how many rotations it
#: has had), which access tokens carry as their ``gen`` claim, so a refresh
#: supersedes earlier access tokens by identity rather than by the second.
#: Adding a column with a default rewrites no row: a v5 session reads as
#: generation 0, and the tokens it issued before have no ``gen`` claim, so
#: they keep the whole-second ``access_floor`` rule they were issued under.
V5_TO_V6: Final = """
ALTER TABLE records ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
DROP VIEW sessions;
CREATE VIEW sessions AS
    SELECT sid, subject, created_at, expires_at, current_jti, refreshed_at, access_floor,
           revoked_at, revoked_reason, access_claims, metadata, generation
    FROM records WHERE jti = ''
"""

#: Version 7: one-time claims (``Store.claim_once``, DPoP proof ids), a table
#: of their own so that nothing the lifecycle writes moves. A claim is taken
#: by one upsert that only overwrites a lapsed row, inside the write lock every
#: process shares, so two processes never both win one key.
V6_TO_V7: Final = """
CREATE TABLE claimed_keys (
    key            TEXT PRIMARY KEY,
    until          REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX claimed_keys_by_until ON claimed_keys (until)
"""

#: ``MIGRATIONS[n]`` takes a file from version ``n`` to ``n + 1``.
MIGRATIONS: Final[Sequence[str]] = (
    V1, V1_TO_V2, V2_TO_V3, V3_TO_V4, V4_TO_V5, V5_TO_V6, V6_TO_V7,
)  # fmt: skip
SCHEMA_VERSION: Final = len(MIGRATIONS)
#: The page size of a new file. Smaller than SQLite's 4096 because a rotation
#: dirties about two pages wherever it lands, and with ``synchronous=FULL``
#: every dirty page is written to the WAL and synced before the commit
#: returns: at a million live sessions half the page is half the bytes per
#: rotation. Existing files keep theirs (changing it needs a VACUUM).
PAGE_SIZE: Final = 2048

_TABLES: Final = ("sessions", "refresh", "denials", "watermarks", "changes", "records")
#: The tables (views from v4 on, for the first two) each schema version has.
_TABLES_OF: Final = {
    1: _TABLES[:4], 2: _TABLES[:5], 3: _TABLES[:5], 4: _TABLES, 5: _TABLES, 6: _TABLES,
    7: (*_TABLES, "claimed_keys"),
}  # fmt: skip


def check_header(path: str) -> None:
    """Refuse a non-empty file that is not SQLite before SQLite ever opens it."""
    try:
        with open(path, "rb") as file:
            head = file.read(100)
    except FileNotFoundError:
        return  # a new file
    except OSError as exc:
        raise StoreError(f"cannot read {path!r}: {exc}") from exc
    if head and not head.startswith(SQLITE_MAGIC):
        raise StoreError(f"{path!r} is not a SQLite database; refusing to touch it")
    if head and len(head) < 100:
        raise StoreError(f"{path!r} is damaged: its SQLite header is truncated")


def inspect(conn: sqlite3.Connection, path: str) -> int:
    """The file's schema version, after read-only checks; raise if it is not ours."""
    try:
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path!r} is damaged or not a database: {exc}") from exc
    if application_id not in (0, APPLICATION_ID):
        raise StoreError(
            f"{path!r} belongs to another application (application_id {application_id:#x})"
        )
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path!r} has schema version {version}, newer than the {SCHEMA_VERSION} this "
            "tokenlife-sqlite knows; upgrade tokenlife-sqlite (the file was not modified)"
        )
    if version == 0 and names:
        raise StoreError(f"{path!r} is another program's SQLite database; refusing to touch it")
    if version > 0 and application_id != APPLICATION_ID:
        raise StoreError(f"{path!r} is not a tokenlife database (no application_id)")
    missing = [t for t in _TABLES_OF.get(version, ()) if t not in names]
    if missing:
        raise StoreError(f"{path!r} is damaged: schema v{version} but no table {missing}")
    try:
        # Each table's root page: cheap, and catches a file cut short or scribbled on.
        for table in _TABLES:
            if table in names:
                conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall()  # noqa: S608
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path!r} is damaged: {exc}") from exc
    return int(version)


def quick_check(conn: sqlite3.Connection, path: str) -> None:
    """``PRAGMA quick_check``: reads every page, so only on request (see SQLiteStore)."""
    try:
        problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path!r} is damaged: {exc}") from exc
    if problems != ["ok"]:
        raise StoreError(f"{path!r} is damaged: {'; '.join(problems[:5])}")


def migrate(conn: sqlite3.Connection, path: str) -> int:
    """Bring the file to :data:`SCHEMA_VERSION` in one transaction; return the old version."""
    # Before the transaction, or it is ignored; on a file that has pages, it is anyway.
    conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        version = inspect(conn, path)
        for step in MIGRATIONS[version:]:
            for statement in _statements(step):
                conn.execute(statement)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException as exc:
        if conn.in_transaction:  # some errors (I/O, busy) already rolled it back
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.IntegrityError):
            raise StoreError(
                f"cannot migrate {path!r} to schema v{SCHEMA_VERSION}: {exc} "
                "(the file was left as it was)"
            ) from exc
        raise
    return version


def configure(conn: sqlite3.Connection, path: str, synchronous: Synchronous) -> None:
    """Per-connection settings. Only called once the file has passed :func:`inspect`."""
    conn.execute("PRAGMA foreign_keys = ON")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"{path!r}: WAL mode is unavailable here (got {mode!r})")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    conn.execute("PRAGMA temp_store = MEMORY")


def open_file(
    conn: sqlite3.Connection, path: str, *, synchronous: Synchronous, check: bool
) -> None:
    """Everything :class:`SQLiteStore` does to a file on open, in the safe order."""
    check_header(path)
    if path != "" and os.path.exists(path) and os.path.getsize(path) > 0:
        version = inspect(conn, path)
        if check:
            quick_check(conn, path)
    else:
        version = 0
    if version < SCHEMA_VERSION:
        migrate(conn, path)
    configure(conn, path, synchronous)


def _statements(script: str) -> list[str]:
    """Split a script into statements; a trigger's body keeps its own semicolons."""
    statements, pending = [], ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending.strip())
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending.strip())
    return statements


__all__ = (
    "APPLICATION_ID",
    "MIGRATIONS",
    "PAGE_SIZE",
    "SCHEMA_VERSION",
    "V1",
    "V1_TO_V2",
    "V2_TO_V3",
    "V3_TO_V4",
    "V4_TO_V5",
    "V5_TO_V6",
    "V6_TO_V7",
    "Synchronous",
    "check_header",
    "configure",
    "inspect",
    "migrate",
    "open_file",
    "quick_check",
)
