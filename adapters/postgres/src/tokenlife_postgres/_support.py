"""What the store needs beside its class: its count type, its pool's reset, two writes."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from tokenlife.store import SessionLimit, SessionRecord, revoke_record, sessions_to_end

from . import _rows as rows


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    """Rows at or past their purge cutoffs: sessions, their refresh records,
    denials and watermarks (what ``PostgresStore.purge_counts`` returns)."""

    sessions: int
    refresh_tokens: int
    denials: int
    watermarks: int


async def keep_session(conn: asyncpg.Connection) -> None:
    """Return a connection to the pool as it is: no reset query, no round trip.

    asyncpg's default reset (``RESET ALL``, ``UNLISTEN *``, ``CLOSE ALL``, …)
    costs a round trip on every release, which would double the strict
    check's. The store leaves nothing behind to reset: no session settings
    beyond the pool's own, no cursors, no listeners, advisory locks only
    transaction-scoped; asyncpg still rolls back a transaction left open.
    """


async def write_revocation(
    conn: asyncpg.Connection, q: dict[str, str], before: SessionRecord, after: SessionRecord
) -> None:
    """Write a revocation ``revoke_record`` decided; nothing if it changed nothing."""
    if after.revoked_at == before.revoked_at and after.revoked_reason == before.revoked_reason:
        return
    await conn.execute(q[rows.REVOKE_SESSION], after.revoked_at, after.revoked_reason, after.sid)


async def end_for_limit(
    conn: asyncpg.Connection, q: dict[str, str], schema: str, subject: str, limit: SessionLimit
) -> tuple[str, ...]:
    """Inside a login's transaction: take the subject's lock, then end what the
    core picks (a refusal raises before anything is written)."""
    await conn.execute(q[rows.SUBJECT_LOCK], schema, subject)
    found = await conn.fetch(q[rows.SELECT_LIVE_OF], subject, float(limit.now))
    mark = found[0][-1] if found else None
    live = [s for s in map(rows.session_from, found) if s is not None]
    picked = sessions_to_end(live, limit, revoked_before=mark)
    changes = []
    for old in picked:
        after = revoke_record(old, now=limit.now, reason=limit.reason)
        changes.append((after.revoked_at, after.revoked_reason, after.sid))
    if changes:
        await conn.executemany(q[rows.REVOKE_SESSION], changes)
    return tuple(old.sid for old in picked)


__all__ = ("PurgeCounts", "end_for_limit", "keep_session", "write_revocation")
