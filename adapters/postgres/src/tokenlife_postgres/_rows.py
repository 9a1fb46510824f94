"""Records to rows and back, and the SQL that moves them.

Column lists are spelled once here so a statement and the function reading
its rows cannot drift apart. Statements are written unqualified and the store
runs them as :func:`qualified` makes them, every table named in its schema:
nothing depends on a connection's ``search_path`` (a pool the application
made itself has none of ours).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import msgspec

from tokenlife.store import RefreshRecord, RefreshSnapshot, RefreshState, SessionRecord

SESSION_COLUMNS: Final = (
    "sid, subject, created_at, expires_at, current_jti, refreshed_at, access_floor, "
    "revoked_at, revoked_reason, access_claims, metadata, generation"
)
REFRESH_COLUMNS: Final = (
    "jti, sid, subject, issued_at, expires_at, parent_jti, state, rotated_at, successor_jti"
)
_SESSION_WIDTH: Final = 12
_REFRESH_WIDTH: Final = 9

STATES: Final = (RefreshState.ACTIVE, RefreshState.ROTATED)
STATE_CODES: Final = {RefreshState.ACTIVE: 0, RefreshState.ROTATED: 1}

_encode = msgspec.json.Encoder().encode
_decode_claims = msgspec.json.Decoder(dict[str, Any]).decode
_decode_metadata = msgspec.json.Decoder(dict[str, str]).decode

# -- statements ---------------------------------------------------------------------

# Every f-string here interpolates only the constant column lists above.
INSERT_SESSION: Final = (
    f"INSERT INTO sessions ({SESSION_COLUMNS}) "  # noqa: S608
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING"
)
INSERT_REFRESH: Final = (
    f"INSERT INTO refresh ({REFRESH_COLUMNS}) "  # noqa: S608
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING"
)
SELECT_SESSION: Final = f"SELECT {SESSION_COLUMNS} FROM sessions WHERE sid = $1"  # noqa: S608
SELECT_SESSION_LOCKED: Final = SELECT_SESSION + " FOR UPDATE"
SELECT_REFRESH: Final = f"SELECT {REFRESH_COLUMNS} FROM refresh WHERE jti = $1"  # noqa: S608
SELECT_REFRESH_OF: Final = SELECT_REFRESH + " AND sid = $2"
SELECT_SESSIONS_OF: Final = (
    f"SELECT {SESSION_COLUMNS} FROM sessions "  # noqa: S608
    "WHERE subject = $1 ORDER BY created_at, sid"
)
SELECT_OPEN_SESSIONS_OF: Final = (
    f"SELECT {SESSION_COLUMNS} FROM sessions "  # noqa: S608
    "WHERE subject = $1 AND revoked_at IS NULL ORDER BY created_at, sid FOR UPDATE"
)
#: Serialises the limited logins of one subject until COMMIT: a transaction-level
#: advisory lock keyed by (schema, subject) hashes. Two subjects that collide
#: only wait for each other; nothing else takes this lock.
SUBJECT_LOCK: Final = "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))"
#: The subject's sessions that may count against a limit at ``$2``, with its watermark.
SELECT_LIVE_OF: Final = (
    f"SELECT {SESSION_COLUMNS}, "  # noqa: S608
    "(SELECT revoked_before FROM watermarks WHERE subject = $1) FROM sessions "
    "WHERE subject = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, sid"
)
#: Locks the session row, then reads the record, its session, its successor
#: and the subject's watermark (see the function in ``_schema``).
SNAPSHOT: Final = "SELECT * FROM tokenlife_lock_snapshot($1, $2, $3)"
#: A rotation's three writes in one statement. The INSERT reads the parent
#: update's output, so the parent is ROTATED before its successor goes in
#: (the one-ACTIVE index sees one at a time), and nothing is inserted unless
#: the compare-and-swap on the parent and the session update both matched.
#: No row back means the swap failed or the successor's id is taken.
ROTATE: Final = """
WITH s AS (
    UPDATE sessions SET current_jti = $1, refreshed_at = $2, access_floor = $3, generation = $12
    WHERE sid = $4 RETURNING sid
), p AS (
    UPDATE refresh SET state = $5, rotated_at = $6, successor_jti = $1
    WHERE jti = $7 AND sid = $4 AND state = 0 RETURNING jti
)
INSERT INTO refresh (jti, sid, subject, issued_at, expires_at, parent_jti, state)
SELECT $1, $4, $8, $9, $10, p.jti, $11 FROM p, s
ON CONFLICT (jti) DO NOTHING
RETURNING jti
"""
REVOKE_SESSION: Final = (
    "UPDATE sessions SET revoked_at = $1, revoked_reason = $2 WHERE sid = $3 AND revoked_at IS NULL"
)
#: Everything the strict check asks, in one statement that always returns one row.
ACCESS: Final = (
    "SELECT EXISTS (SELECT 1 FROM denials WHERE jti = $1), s.subject, s.created_at, "
    "s.access_floor, s.revoked_at IS NOT NULL, s.generation, s.refreshed_at, "
    "(SELECT revoked_before FROM watermarks WHERE subject = $3) "
    "FROM (SELECT 1) AS one LEFT JOIN sessions AS s ON s.sid = $2"
)
#: A denial only ever lengthens, whichever operation writes it (the contract).
DENY_EXTEND: Final = (
    "INSERT INTO denials (jti, until) VALUES ($1, $2) "
    "ON CONFLICT (jti) DO UPDATE SET until = greatest(denials.until, excluded.until)"
)
RAISE_WATERMARK: Final = (
    "INSERT INTO watermarks (subject, revoked_before) VALUES ($1, $2) "
    "ON CONFLICT (subject) DO UPDATE SET "
    "revoked_before = greatest(watermarks.revoked_before, excluded.revoked_before)"
)
#: One bounded purge step: the earliest-expiring sessions nobody holds a lock
#: on (a rotation in flight is skipped, not waited for); refresh records go
#: with them (ON DELETE CASCADE).
PURGE_SESSIONS: Final = (
    "WITH picked AS (SELECT sid FROM sessions WHERE expires_at <= $1 "
    "ORDER BY expires_at, sid LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "DELETE FROM sessions WHERE sid IN (SELECT sid FROM picked)"
)
PURGE_DENIALS: Final = "DELETE FROM denials WHERE until <= $1"
PURGE_WATERMARKS: Final = "DELETE FROM watermarks WHERE revoked_before <= $1"
#: What the three purge statements above would remove, counted in one
#: read-only statement with their very conditions (a dry run's totals).
PURGE_COUNTS: Final = (
    "SELECT (SELECT count(*) FROM sessions WHERE expires_at <= $1), "
    "(SELECT count(*) FROM refresh AS r JOIN sessions AS s ON s.sid = r.sid "
    "WHERE s.expires_at <= $1), "
    "(SELECT count(*) FROM denials WHERE until <= $2), "
    "(SELECT count(*) FROM watermarks WHERE revoked_before <= $3)"
)

STATEMENTS: Final = (
    INSERT_SESSION, INSERT_REFRESH, SELECT_SESSION, SELECT_SESSION_LOCKED, SELECT_REFRESH,
    SELECT_REFRESH_OF, SELECT_SESSIONS_OF, SELECT_OPEN_SESSIONS_OF, SNAPSHOT, ROTATE,
    REVOKE_SESSION, ACCESS, DENY_EXTEND, RAISE_WATERMARK, PURGE_SESSIONS, PURGE_DENIALS,
    PURGE_WATERMARKS, PURGE_COUNTS, SUBJECT_LOCK, SELECT_LIVE_OF,
)  # fmt: skip
_TABLES = re.compile(
    r"\b(FROM|INTO|UPDATE|JOIN) (sessions|refresh|denials|watermarks|tokenlife_lock_snapshot)\b"
)


def qualify_tables(sql: str, schema: str) -> str:
    """``sql`` with every table of the store named in ``schema`` (a checked name)."""
    return _TABLES.sub(rf"\1 {schema}.\2", sql)


def qualified(schema: str) -> dict[str, str]:
    """Each statement above (the key) as the store runs it in ``schema``."""
    return {sql: qualify_tables(sql, schema) for sql in STATEMENTS}


# -- rows -> records ------------------------------------------------------------------


def session_from(row: Sequence[Any], at: int = 0) -> SessionRecord | None:
    if row[at] is None:
        return None
    claims, metadata = row[at + 9], row[at + 10]
    return SessionRecord(
        sid=row[at],
        subject=row[at + 1],
        created_at=row[at + 2],
        expires_at=row[at + 3],
        current_jti=row[at + 4],
        refreshed_at=row[at + 5],
        access_floor=row[at + 6],
        revoked_at=row[at + 7],
        revoked_reason=row[at + 8],
        access_claims={} if claims is None else _decode_claims(claims),
        metadata={} if metadata is None else _decode_metadata(metadata),
        generation=row[at + 11],
    )


def refresh_from(row: Sequence[Any], at: int = 0) -> RefreshRecord | None:
    if row[at] is None:
        return None
    return RefreshRecord(
        jti=row[at],
        sid=row[at + 1],
        subject=row[at + 2],
        issued_at=row[at + 3],
        expires_at=row[at + 4],
        parent_jti=row[at + 5],
        state=STATES[row[at + 6]],
        rotated_at=row[at + 7],
        successor_jti=row[at + 8],
    )


def snapshot_from(row: Sequence[Any]) -> RefreshSnapshot:
    session_at = _REFRESH_WIDTH
    successor_at = session_at + _SESSION_WIDTH
    return RefreshSnapshot(
        record=refresh_from(row),
        session=session_from(row, session_at),
        successor=refresh_from(row, successor_at),
        revoked_before=row[successor_at + _REFRESH_WIDTH],
    )


# -- records -> rows ------------------------------------------------------------------


def session_row(session: SessionRecord) -> tuple[Any, ...]:
    return (
        session.sid,
        session.subject,
        float(session.created_at),
        float(session.expires_at),
        session.current_jti,
        float(session.refreshed_at),
        float(session.access_floor),
        None if session.revoked_at is None else float(session.revoked_at),
        session.revoked_reason,
        _encode(session.access_claims) if session.access_claims else None,
        _encode(session.metadata) if session.metadata else None,
        session.generation,
    )


def refresh_row(record: RefreshRecord) -> tuple[Any, ...]:
    return (
        record.jti,
        record.sid,
        record.subject,
        float(record.issued_at),
        float(record.expires_at),
        record.parent_jti,
        STATE_CODES[record.state],
        None if record.rotated_at is None else float(record.rotated_at),
        record.successor_jti,
    )


__all__ = (
    "ACCESS",
    "DENY_EXTEND",
    "INSERT_REFRESH",
    "INSERT_SESSION",
    "PURGE_COUNTS",
    "PURGE_DENIALS",
    "PURGE_SESSIONS",
    "PURGE_WATERMARKS",
    "RAISE_WATERMARK",
    "REVOKE_SESSION",
    "ROTATE",
    "SELECT_LIVE_OF",
    "SELECT_OPEN_SESSIONS_OF",
    "SELECT_REFRESH",
    "SELECT_REFRESH_OF",
    "SELECT_SESSION",
    "SELECT_SESSIONS_OF",
    "SELECT_SESSION_LOCKED",
    "SNAPSHOT",
    "STATEMENTS",
    "STATES",
    "STATE_CODES",
    "SUBJECT_LOCK",
    "qualified",
    "qualify_tables",
    "refresh_from",
    "refresh_row",
    "session_from",
    "session_row",
    "snapshot_from",
)
