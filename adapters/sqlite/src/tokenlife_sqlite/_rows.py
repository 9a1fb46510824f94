"""Records to rows and back, and the SQL that moves them.

Times are REAL columns: an IEEE double goes in and comes out unchanged.
``access_claims`` and ``metadata`` are JSON (msgspec) in BLOB columns, with
NULL for the common empty dict; a refresh record's state is 0 (ACTIVE) or 1
(ROTATED). Column lists are spelled once here so a statement and the
function reading its rows cannot drift apart.
"""

from __future__ import annotations

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


def _prefixed(columns: str, alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


# -- statements ---------------------------------------------------------------------

# Every f-string here interpolates only the constant column lists above. Since
# schema v4 a session and its refresh records are rows of one table,
# ``records``, keyed ``(sid, jti)``; the session's row has ``jti = ''``. Reads
# name that key in full, so each is one B-tree descent (the ``sessions`` and
# ``refresh`` views say the same thing for people reading the file).
#: A login: the session's columns, then the size of its ``headroom`` (schema v5).
INSERT_SESSION: Final = (
    f"INSERT INTO records (jti, {SESSION_COLUMNS}, headroom) "  # noqa: S608
    f"VALUES ('', {', '.join('?' * 12)}, zeroblob(?))"
)
INSERT_REFRESH: Final = f"INSERT INTO records ({REFRESH_COLUMNS}) VALUES ({', '.join('?' * 9)})"  # noqa: S608
SELECT_SESSION: Final = f"SELECT {SESSION_COLUMNS} FROM records WHERE sid = ? AND jti = ''"  # noqa: S608
SELECT_REFRESH: Final = f"SELECT {REFRESH_COLUMNS} FROM records WHERE jti = ?1 AND jti != ''"  # noqa: S608
SELECT_SESSIONS_OF: Final = (
    f"SELECT {SESSION_COLUMNS} FROM records "  # noqa: S608
    "WHERE subject = ? AND jti = '' ORDER BY created_at, sid"
)
SELECT_OPEN_SESSIONS_OF: Final = (
    f"SELECT {SESSION_COLUMNS} FROM records "  # noqa: S608
    "WHERE subject = ? AND jti = '' AND revoked_at IS NULL ORDER BY created_at, sid"
)
SELECT_WATERMARK: Final = "SELECT revoked_before FROM watermarks WHERE subject = ?"
#: Everything decide_refresh needs, in one statement that always returns one
#: row: the record, its session, its successor, and the subject's watermark.
#: The record is looked up under the session its token names: all three rows
#: sit together in ``records``, usually on one page. A token whose ``sid``
#: does not match its record's finds nothing, which the core rejects as
#: "unknown" either way; the empty ``jti`` is a session row, never a token.
SNAPSHOT: Final = (
    f"SELECT {_prefixed(REFRESH_COLUMNS, 'r')}, {_prefixed(SESSION_COLUMNS, 's')}, "  # noqa: S608
    f"{_prefixed(REFRESH_COLUMNS, 'n')}, "
    "(SELECT revoked_before FROM watermarks WHERE subject = q.subject) "
    "FROM (SELECT ?1 AS jti, ?2 AS sid, ?3 AS subject) AS q "
    "LEFT JOIN records AS r ON r.sid = q.sid AND r.jti = q.jti AND q.jti != '' "
    "LEFT JOIN records AS s ON s.sid = r.sid AND s.jti = '' "
    "LEFT JOIN records AS n ON n.sid = r.sid AND n.jti = r.successor_jti AND n.jti != ''"
)
#: The compare-and-swap of a rotation: only an ACTIVE record moves.
MARK_ROTATED: Final = (
    "UPDATE records SET state = ?1, rotated_at = ?2, successor_jti = ?3 "
    "WHERE sid = ?4 AND jti = ?5 AND state = 0"
)
#: A rotation's session update. It runs before the rotation's other writes and
#: gives the login's ``headroom`` back to the page, where the successor lands.
UPDATE_SESSION: Final = (
    "UPDATE records SET current_jti = ?, refreshed_at = ?, access_floor = ?, generation = ?, "
    "revoked_at = ?, revoked_reason = ?, headroom = NULL WHERE sid = ? AND jti = ''"
)
REVOKE_SESSION: Final = (
    "UPDATE records SET revoked_at = ?, revoked_reason = ? "
    "WHERE sid = ? AND jti = '' AND revoked_at IS NULL"
)
ACCESS_ROW: Final = (
    "SELECT subject, created_at, access_floor, revoked_at IS NOT NULL, expires_at, generation, "
    "refreshed_at FROM records WHERE sid = ? AND jti = ''"
)
#: A denial only ever lengthens, whichever operation writes it (the contract).
DENY_EXTEND: Final = (
    "INSERT INTO denials (jti, until) VALUES (?, ?) "
    "ON CONFLICT (jti) DO UPDATE SET until = max(until, excluded.until)"
)
RAISE_WATERMARK: Final = (
    "INSERT INTO watermarks (subject, revoked_before) VALUES (?, ?) "
    "ON CONFLICT (subject) DO UPDATE SET revoked_before = max(revoked_before, excluded.revoked_before)"  # noqa: E501
)


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
        session.created_at,
        session.expires_at,
        session.current_jti,
        session.refreshed_at,
        session.access_floor,
        session.revoked_at,
        session.revoked_reason,
        _encode(session.access_claims) if session.access_claims else None,
        _encode(session.metadata) if session.metadata else None,
        session.generation,
    )


#: Per-row bytes :func:`headroom` adds to the strings' lengths: a record header
#: of one byte per column (two for a long string), the REAL times each row
#: gains (``issued_at``, ``expires_at``; the parent's ``rotated_at``; the
#: session's ``access_floor``), the cell's size and pointer, and some slack.
_ROW_OVERHEAD: Final = 64
#: No session reserves more than this, whatever its ids and subject weigh.
HEADROOM_CAP: Final = 512


def headroom(session: SessionRecord, first: RefreshRecord) -> int:
    """Bytes a login reserves for its first rotation (see schema v5).

    An upper bound of what that rotation adds to the session's page: the
    successor record (``sid``, ``jti``, ``subject``, ``parent_jti``), and the
    parent's ``successor_jti``. Successors' ids are assumed as long as the
    first one's, which holds for any one id generator.
    """
    jti = len(first.jti.encode())
    need = _ROW_OVERHEAD + len(session.sid.encode()) + len(session.subject.encode()) + 3 * jti
    return min(need, HEADROOM_CAP)


def login_row(session: SessionRecord, first: RefreshRecord) -> tuple[Any, ...]:
    """The parameters of :data:`INSERT_SESSION`."""
    return (*session_row(session), headroom(session, first))


def refresh_row(record: RefreshRecord) -> tuple[Any, ...]:
    return (
        record.jti,
        record.sid,
        record.subject,
        record.issued_at,
        record.expires_at,
        record.parent_jti,
        STATE_CODES[record.state],
        record.rotated_at,
        record.successor_jti,
    )


__all__ = (
    "ACCESS_ROW",
    "DENY_EXTEND",
    "HEADROOM_CAP",
    "INSERT_REFRESH",
    "INSERT_SESSION",
    "MARK_ROTATED",
    "RAISE_WATERMARK",
    "REFRESH_COLUMNS",
    "REVOKE_SESSION",
    "SELECT_OPEN_SESSIONS_OF",
    "SELECT_REFRESH",
    "SELECT_SESSION",
    "SELECT_SESSIONS_OF",
    "SELECT_WATERMARK",
    "SESSION_COLUMNS",
    "SNAPSHOT",
    "STATES",
    "STATE_CODES",
    "UPDATE_SESSION",
    "headroom",
    "login_row",
    "refresh_from",
    "refresh_row",
    "session_from",
    "session_row",
    "snapshot_from",
)
