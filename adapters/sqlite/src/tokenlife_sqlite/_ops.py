"""The operations, as synchronous jobs run on the connection's thread inside a batch.

Each job applies the core's rules, never its own: ``refresh`` reads the
snapshot, asks :func:`tokenlife.store.decide_refresh` and writes exactly what
the decision says; the revocations write what
:func:`tokenlife.store.revoke_record` returns. Writes run under the write
lock (``BEGIN IMMEDIATE``, taken by the batch), so read-decide-write is one
atomic step across threads and processes; the conditional UPDATEs are a
second line of defence, and the partial unique index a third.

Every write that changes what the strict access check would answer is
logged for other processes (:meth:`Tx.log`, :meth:`Tx.session_changed`) and
applied to this process's cache after COMMIT (:meth:`Tx.after`).
"""

from __future__ import annotations

import sqlite3
from functools import partial

from tokenlife import StoreError
from tokenlife.store import (
    PurgeRequest,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    RevokeForReuse,
    Rotate,
    SessionLimit,
    SessionRecord,
    decide_refresh,
    revoke_record,
    sessions_to_end,
)

from . import _rows as rows
from ._batch import Tx
from ._cache import (
    DENIAL,
    DENIALS_PURGED,
    SESSIONS_PURGED,
    WATERMARK,
    WATERMARKS_PURGED,
    Entry,
)

#: The sessions one purge step removes: earliest expiry first, a total order, so
#: the same parameters pick the same rows again within one transaction.
_PURGE_PICK = (
    "SELECT sid FROM records WHERE jti = '' AND expires_at <= ?1 ORDER BY expires_at, sid LIMIT ?2"
)
_PURGE_READ = _PURGE_PICK.replace("SELECT sid", "SELECT sid, expires_at")
#: One set-based delete takes each picked session's row and its refresh
#: records, which share its key prefix; the session row goes first.
_PURGE_RECORDS = f"DELETE FROM records WHERE sid IN ({_PURGE_PICK})"  # noqa: S608

# -- writes ---------------------------------------------------------------------------


def create_session(
    tx: Tx, session: SessionRecord, first: RefreshRecord, limit: SessionLimit | None
) -> tuple[str, ...]:
    """The login; with ``limit``, first what the core says must end (same
    transaction and savepoint: a failed insert undoes the endings too)."""
    if not first.jti or not session.sid:
        raise StoreError("a session or refresh token id cannot be empty")
    ended = () if limit is None else _end_for_limit(tx, session.subject, limit)
    try:
        tx.conn.execute(rows.INSERT_SESSION, rows.login_row(session, first))
        tx.conn.execute(rows.INSERT_REFRESH, rows.refresh_row(first))
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"a session or refresh token with this id already exists ({exc})") from exc
    tx.after(partial(tx.cache.put_session, session))
    return ended


def _end_for_limit(tx: Tx, subject: str, limit: SessionLimit) -> tuple[str, ...]:
    conn = tx.conn
    found = [
        rows.session_from(row) for row in conn.execute(rows.SELECT_OPEN_SESSIONS_OF, (subject,))
    ]
    mark = conn.execute(rows.SELECT_WATERMARK, (subject,)).fetchone()
    live = [s for s in found if s is not None]
    picked = sessions_to_end(live, limit, revoked_before=None if mark is None else mark[0])
    for old in picked:
        _revoke(tx, old, revoke_record(old, now=limit.now, reason=limit.reason))
    return tuple(old.sid for old in picked)


def refresh(tx: Tx, request: RefreshRequest) -> RefreshDecision:
    if not request.successor_jti:
        raise StoreError("a refresh token id cannot be empty")
    row = tx.conn.execute(rows.SNAPSHOT, (request.jti, request.sid, request.subject)).fetchone()
    snapshot = rows.snapshot_from(row)
    decision = decide_refresh(snapshot, request)
    if isinstance(decision, Rotate):
        assert snapshot.session is not None  # a Rotate comes from a stored session
        _rotate(tx, decision, snapshot.session)
    elif isinstance(decision, RevokeForReuse):
        assert snapshot.session is not None
        _revoke(tx, snapshot.session, decision.session)
    return decision


def _rotate(tx: Tx, decision: Rotate, before: SessionRecord) -> None:
    conn = tx.conn
    parent, successor, session = decision.parent, decision.successor, decision.session
    # The session first: it frees the login's headroom on the page the other
    # two writes grow (see schema v5). A failure below rolls all three back.
    conn.execute(
        rows.UPDATE_SESSION,
        (
            session.current_jti,
            session.refreshed_at,
            session.access_floor,
            session.generation,
            session.revoked_at,
            session.revoked_reason,
            session.sid,
        ),
    )
    marked = conn.execute(
        rows.MARK_ROTATED,
        (
            rows.STATE_CODES[parent.state],
            parent.rotated_at,
            parent.successor_jti,
            parent.sid,
            parent.jti,
        ),
    )
    if marked.rowcount != 1:  # impossible under the write lock; refuse rather than fork
        raise StoreError("the refresh record was not ACTIVE any more")
    try:
        conn.execute(rows.INSERT_REFRESH, rows.refresh_row(successor))
    except sqlite3.IntegrityError as exc:
        raise StoreError(f"successor id collision ({exc})") from exc
    # Every rotation starts a generation, which other processes' access
    # checks must learn of (the floor only mattered when it moved).
    if session.generation != before.generation or session.access_floor != before.access_floor:
        tx.session_changed(session.sid)
    tx.after(partial(tx.cache.put_session, session))


def _revoke(tx: Tx, before: SessionRecord, after: SessionRecord) -> None:
    """Write a revocation ``revoke_record`` decided; nothing if it changed nothing."""
    if after.revoked_at == before.revoked_at and after.revoked_reason == before.revoked_reason:
        return
    tx.conn.execute(rows.REVOKE_SESSION, (after.revoked_at, after.revoked_reason, after.sid))
    tx.session_changed(after.sid)
    tx.after(partial(tx.cache.put_session, after))


def revoke_session(
    tx: Tx, sid: str, now: float, reason: str, deny: tuple[str, float] | None
) -> SessionRecord | None:
    conn = tx.conn
    if deny is not None:
        jti, until = deny
        conn.execute(rows.DENY_EXTEND, (jti, until))
        tx.log(DENIAL, jti, until)
        tx.after(partial(tx.cache.denied.__setitem__, jti, until))
    session = _session(conn, sid)
    if session is None:
        return None
    revoked = revoke_record(session, now=now, reason=reason)
    _revoke(tx, session, revoked)
    return revoked


def revoke_subject(tx: Tx, subject: str, now: float, reason: str, keep_sid: str | None) -> int:
    """Everywhere (a watermark too), or everywhere but ``keep_sid`` (no watermark)."""
    conn = tx.conn
    if keep_sid is None:
        conn.execute(rows.RAISE_WATERMARK, (subject, now))
        (mark,) = conn.execute(rows.SELECT_WATERMARK, (subject,)).fetchone()
        tx.log(WATERMARK, subject, mark)
        tx.after(partial(tx.cache.marks.__setitem__, subject, mark))
    count = 0
    for row in conn.execute(rows.SELECT_OPEN_SESSIONS_OF, (subject,)).fetchall():
        session = rows.session_from(row)
        assert session is not None
        if session.sid == keep_sid:
            continue
        _revoke(tx, session, revoke_record(session, now=now, reason=reason))
        count += 1
    return count


def deny_access(tx: Tx, jti: str, until: float) -> None:
    conn = tx.conn
    conn.execute(rows.DENY_EXTEND, (jti, until))
    (stored,) = conn.execute("SELECT until FROM denials WHERE jti = ?", (jti,)).fetchone()
    tx.log(DENIAL, jti, stored)
    tx.after(partial(tx.cache.denied.__setitem__, jti, stored))


def purge(tx: Tx, request: PurgeRequest, limit: int, *, sweep: bool) -> int:
    """At most ``limit`` sessions (earliest expiry first) with their records and,
    if ``sweep``, every stale denial and watermark (few by nature)."""
    conn, cache = tx.conn, tx.cache
    pick = (request.sessions_before, limit)
    # A list of strings and one effect per step, not a tuple and a closure per
    # session: objects that outlive a young collection bring the next full
    # one closer, and a full collection stops the event loop for tens of ms.
    picked: list[str] = []
    last = 0.0  # the latest expiry purged
    for sid, expires_at in conn.execute(_PURGE_READ, pick):
        picked.append(sid)
        last = expires_at
    if picked:
        if conn.execute(_PURGE_RECORDS, pick).rowcount < len(picked):
            raise StoreError("purge picked a different set twice")  # cannot happen under the lock
        tx.log(SESSIONS_PURGED, None, last)
        tx.after(partial(cache.evict_all, picked))
    if not sweep:
        return len(picked)
    before = request.denials_before
    if conn.execute("DELETE FROM denials WHERE until <= ?", (before,)).rowcount:
        tx.log(DENIALS_PURGED, None, before)
        tx.after(partial(cache.drop_denials, before))
    before = request.watermarks_before
    if conn.execute("DELETE FROM watermarks WHERE revoked_before <= ?", (before,)).rowcount:
        tx.log(WATERMARKS_PURGED, None, before)
        tx.after(partial(cache.drop_marks, before))
    return len(picked)


# -- reads ----------------------------------------------------------------------------


def _session(conn: sqlite3.Connection, sid: str) -> SessionRecord | None:
    row = conn.execute(rows.SELECT_SESSION, (sid,)).fetchone()
    return None if row is None else rows.session_from(row)


def session(tx: Tx, sid: str) -> SessionRecord | None:
    return _session(tx.conn, sid)


def refresh_record(tx: Tx, jti: str) -> RefreshRecord | None:
    row = tx.conn.execute(rows.SELECT_REFRESH, (jti,)).fetchone()
    return None if row is None else rows.refresh_from(row)


def sessions(tx: Tx, subject: str) -> list[SessionRecord]:
    found = [rows.session_from(row) for row in tx.conn.execute(rows.SELECT_SESSIONS_OF, (subject,))]
    return [s for s in found if s is not None]


def access_entry(tx: Tx, sid: str) -> Entry | None:
    """A cache miss of the strict check: read the session, and cache what was read."""
    entry = tx.cache.read(tx.conn, sid)
    if entry is not None:
        tx.after(partial(tx.cache.put, sid, entry))
    return entry


def sync(tx: Tx) -> None:
    """Catch the cache up with other processes' commits (the staleness bound)."""
    tx.cache.sync(tx.conn)


__all__ = (
    "access_entry",
    "create_session",
    "deny_access",
    "purge",
    "refresh",
    "refresh_record",
    "revoke_session",
    "revoke_subject",
    "session",
    "sessions",
    "sync",
)
