"""What ``purge`` would remove, counted without removing anything (``--dry-run``).

The Store protocol has ``purge`` but no "count what purge would take", so
the count is made here, per backend, read-only, with the exact conditions the
stores' own purge uses (docs/design/lifecycle.md#purge; ``PurgeRequest``):

- SQLite: a second, read-only connection (``mode=ro``) to the file and four
  ``COUNT(*)`` queries on the indexed expiry columns. Nothing is written; the
  file's ``application_id`` and schema version are checked first.
- Redis: ``ZCOUNT`` on the store's three purge queues (sorted sets scored by
  expiry). A queue entry may outlive its record (Redis key expiry reclaimed
  it first); purge still has to clear that entry, so it is counted.
- PostgreSQL: the store's own ``purge_counts``, one read-only statement with
  the conditions of its purge statements (the layout stays in the adapter).

The first two read the adapters' storage layout, so a test compares the count
with what a real purge then removes (for all three); an adapter whose layout
moved, or that cannot count, gives :class:`CountUnavailable` (``--dry-run``
fails in one line, a real purge goes on without a total) rather than a wrong
number.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tokenlife import Policy, StoreError
from tokenlife.store import PurgeRequest

from ._errors import CliError
from ._stores import StoreURL


class CountUnavailable(CliError):
    """This store cannot be counted (an adapter version with another layout).

    ``--dry-run`` fails with it; a real purge goes on without a total.
    """


@dataclass(frozen=True)
class PurgeCount:
    """Records at or past their purge cutoff; ``refresh_tokens`` only where countable."""

    sessions: int
    refresh_tokens: int | None
    denials: int
    watermarks: int


def purge_request(policy: Policy, now: float, batch: int) -> PurgeRequest:
    """The cutoffs ``TokenAuthority.purge`` uses for this policy at ``now``.

    Mirrored (the authority builds its request internally); a test checks that
    a dry run and the real purge agree, so a drift in the core shows up there.
    """
    leeway = policy.leeway
    return PurgeRequest(
        sessions_before=now - leeway,
        denials_before=now - leeway,
        watermarks_before=now - policy.session_ttl - leeway,
        limit=batch,
    )


async def count(spec: StoreURL, store: Any, request: PurgeRequest) -> PurgeCount:
    """Count on the opened ``store`` (Redis, PostgreSQL) or beside it (SQLite's file)."""
    if spec.kind == "sqlite":
        assert spec.path is not None
        return _count_sqlite(spec.path, request)
    if spec.kind == "redis":
        return await _count_redis(store, request)
    if spec.kind == "postgres":
        return await _count_postgres(store, request)
    raise CountUnavailable(f"{spec.display} cannot be counted without changing it")


_SQLITE_COUNTS = (
    "SELECT count(*) FROM sessions WHERE expires_at <= :sessions",
    "SELECT count(*) FROM refresh WHERE sid IN "
    "(SELECT sid FROM sessions WHERE expires_at <= :sessions)",
    "SELECT count(*) FROM denials WHERE until <= :denials",
    "SELECT count(*) FROM watermarks WHERE revoked_before <= :watermarks",
)


def _count_sqlite(path: Path, request: PurgeRequest) -> PurgeCount:
    try:
        from tokenlife_sqlite import SCHEMA_VERSION
        from tokenlife_sqlite._schema import APPLICATION_ID
    except ImportError:
        raise CountUnavailable("this tokenlife-sqlite does not say its file format") from None
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    bounds = {
        "sessions": request.sessions_before,
        "denials": request.denials_before,
        "watermarks": request.watermarks_before,
    }
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise CliError(f"cannot open {path} read-only: {exc}") from None
    try:
        (application_id,) = conn.execute("PRAGMA application_id").fetchone()
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if application_id != APPLICATION_ID or version != SCHEMA_VERSION:
            raise CountUnavailable(f"{path} is not in the file format this count knows")
        sessions, refresh, denials, marks = (
            int(conn.execute(query, bounds).fetchone()[0]) for query in _SQLITE_COUNTS
        )
    except sqlite3.OperationalError as exc:  # no such table or column: another format
        raise CountUnavailable(f"cannot count in {path}: {exc}") from None
    except sqlite3.Error as exc:
        raise CliError(f"cannot count in {path}: {exc}") from None
    finally:
        conn.close()
    return PurgeCount(sessions=sessions, refresh_tokens=refresh, denials=denials, watermarks=marks)


async def _count_redis(store: Any, request: PurgeRequest) -> PurgeCount:
    from redis.exceptions import RedisError

    try:
        from tokenlife_redis._keys import Keys
    except ImportError:
        raise CountUnavailable("this tokenlife-redis keeps its purge queues elsewhere") from None
    keys = Keys(store.prefix)
    client = store.client
    try:
        sessions = await client.zcount(keys.session_queue, "-inf", request.sessions_before)
        denials = await client.zcount(keys.denial_queue, "-inf", request.denials_before)
        marks = await client.zcount(keys.watermark_queue, "-inf", request.watermarks_before)
    except (RedisError, OSError) as exc:
        raise StoreError(f"redis failed to count: {exc}") from exc
    return PurgeCount(
        sessions=int(sessions), refresh_tokens=None, denials=int(denials), watermarks=int(marks)
    )


async def _count_postgres(store: Any, request: PurgeRequest) -> PurgeCount:
    # The store counts with its own purge's conditions: no layout is read here.
    counter = getattr(store, "purge_counts", None)
    if counter is None:
        raise CountUnavailable("this tokenlife-postgres cannot count what purge would remove")
    counts = await counter(request)
    return PurgeCount(
        sessions=counts.sessions,
        refresh_tokens=counts.refresh_tokens,
        denials=counts.denials,
        watermarks=counts.watermarks,
    )


__all__ = ("CountUnavailable", "PurgeCount", "count", "purge_request")
