"""What the store needs beside its class: its count type, its pool's reset, one write."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from tokenlife.store import SessionRecord

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


__all__ = ("PurgeCounts", "keep_session", "write_revocation")
