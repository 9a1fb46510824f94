"""PostgresStore: the Store protocol on PostgreSQL through an asyncpg pool.

A refresh is one READ COMMITTED transaction on one pooled connection: BEGIN,
one call that locks the session row and reads the snapshot, the core's
``decide_refresh`` in this process, one statement writing what it decided,
COMMIT — four round trips, the same as the plainest hand-written rotation.
Every write to a session first locks its row, so concurrent refreshes of one
token, from any number of processes, see each other's commits and exactly one
rotates. A failure anywhere rolls the whole transaction back: nothing is ever
half-written, and an acknowledged rotation is committed (and, with the
server's default ``synchronous_commit``, flushed to its WAL).

The strict access check is one statement (one round trip). Errors: anything
asyncpg or the socket raises — a lost connection, a statement timeout, a
server restarting — and any stored value that does not decode becomes
:class:`tokenlife.StoreError`, so the driver fails closed.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Concatenate, Final, ParamSpec, TypeVar

import asyncpg

from tokenlife import ConfigurationError, SessionLimitError, StoreError
from tokenlife.store import (
    AccessStatus,
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
)

from . import _claims as claims
from . import _rows as rows
from ._locks import SessionLocks
from ._schema import check_schema_name, prepare
from ._support import PurgeCounts, end_for_limit, keep_session, write_revocation

#: Sessions purged per transaction (one purge call may run several).
PURGE_CHUNK: Final = 256


_P = ParamSpec("_P")
_R = TypeVar("_R")
_Method = Callable[Concatenate["PostgresStore", _P], Coroutine[Any, Any, _R]]


def _fails_closed(what: str) -> Callable[[_Method[_P, _R]], _Method[_P, _R]]:
    """Turn every failure into StoreError (cause chained): the driver fails closed."""

    def wrap(method: _Method[_P, _R]) -> _Method[_P, _R]:
        @functools.wraps(method)
        async def guarded(self: PostgresStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            self._ready()
            try:
                return await method(self, *args, **kwargs)
            except (StoreError, SessionLimitError):
                raise
            except Exception as exc:
                raise StoreError(f"postgres store failed to {what}: {exc!r}") from exc

        return guarded

    return wrap


class PostgresStore:
    """A :class:`tokenlife.Store` in a PostgreSQL database, shared by any number of processes.

    ``dsn`` is a libpq URL (``postgresql://user:pass@host:5432/db``). The
    store's tables live in the schema ``schema`` (created on first open,
    migrated in place later; one that is not tokenlife's, or is newer than
    this code, is refused untouched). ``max_size``: pooled connections (a
    burst of callers waits for one). ``command_timeout``: seconds any one
    statement may take before the call fails with :class:`StoreError` (a
    hung server fails closed); ``statement_timeout`` is also set server-side
    so the server abandons it too. Other keyword arguments go to
    ``asyncpg.create_pool``. Use it as ``async with PostgresStore(dsn) as store``.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "tokenlife",
        min_size: int = 1,
        max_size: int = 64,
        command_timeout: float = 5.0,
        **pool_options: Any,
    ) -> None:
        if not dsn.startswith(("postgresql://", "postgres://")):
            raise ConfigurationError("PostgresStore needs a postgresql:// URL")
        if not (0 <= min_size <= max_size and max_size >= 1) or not command_timeout > 0:
            raise ConfigurationError("0 ≤ min_size ≤ max_size, max_size ≥ 1, command_timeout > 0")
        self.dsn: str | None = dsn
        self._min_size, self._max_size = min_size, max_size
        self._pool_options = pool_options
        self._setup(schema, command_timeout, None)

    def _setup(self, schema: str, command_timeout: float | None, pool: asyncpg.Pool | None) -> None:
        self.schema = check_schema_name(schema)
        self.command_timeout = command_timeout
        self._q = rows.qualified(self.schema)
        self._given = pool  # an application's own pool: never created nor closed here
        self._pool: asyncpg.Pool | None = None
        self._locks = SessionLocks()
        self._closed = False

    @classmethod
    def from_dsn(cls, dsn: str, **options: Any) -> PostgresStore:
        """``PostgresStore(dsn, **options)``, spelled like ``RedisStore.from_url``."""
        return cls(dsn, **options)

    @classmethod
    def from_pool(cls, pool: asyncpg.Pool, *, schema: str = "tokenlife") -> PostgresStore:
        """A store on a pool the application made and keeps (``close`` leaves it open).

        The pool's own settings then apply: give it a ``command_timeout`` (a hung
        server should fail closed, not hang the request), and know that asyncpg's
        default reset on release costs every operation one more round trip.
        """
        store = cls.__new__(cls)
        store.dsn = None
        store._setup(schema, None, pool)
        return store

    # -- lifecycle --------------------------------------------------------------------

    async def open(self) -> PostgresStore:
        """Connect, then create or migrate the schema; ``async with`` calls this for you."""
        if self._pool is not None or self._closed:
            raise StoreError("a PostgresStore opens once")
        if self._given is not None:
            try:
                async with self._given.acquire() as conn:
                    await prepare(conn, self.schema)
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(f"postgres store failed to open: {exc!r}") from exc
            self._pool = self._given
            return self
        assert self.dsn is not None
        assert self.command_timeout is not None
        settings = {
            "search_path": self.schema,
            "statement_timeout": str(int(self.command_timeout * 1000)),
            "application_name": "tokenlife",
            **self._pool_options.pop("server_settings", {}),
        }
        try:
            pool = await asyncpg.create_pool(
                self.dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                command_timeout=self.command_timeout,
                server_settings=settings,
                **{"reset": keep_session, **self._pool_options},
            )
        except Exception as exc:
            raise StoreError(f"postgres unavailable: {exc!r}") from exc
        try:
            async with pool.acquire() as conn:
                await prepare(conn, self.schema)
        except BaseException as exc:
            pool.terminate()
            if isinstance(exc, StoreError):
                raise
            if isinstance(exc, Exception):
                raise StoreError(f"postgres store failed to open: {exc!r}") from exc
            raise
        self._pool = pool
        return self

    async def close(self) -> None:
        """Close the pool (waiting for calls under way). Later calls raise StoreError."""
        if self._closed:
            return
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None or pool is self._given:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=self.command_timeout)
        except Exception:
            pool.terminate()  # a dead server: nothing left to wait for

    async def __aenter__(self) -> PostgresStore:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _ready(self) -> asyncpg.Pool:
        if self._closed or self._pool is None:
            raise StoreError("the postgres store is closed" if self._closed else "not opened yet")
        return self._pool

    @property
    def pool(self) -> asyncpg.Pool:
        """The asyncpg pool (for administration and tests).

        Its connections go back to the pool without a reset (see
        ``keep_session``): leave no session setting, cursor or listener behind.
        """
        return self._ready()

    # -- writes -------------------------------------------------------------------------

    @_fails_closed("create a session")
    async def create_session(
        self, session: SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        """One transaction. With ``limit`` it first takes the subject's advisory
        lock (see ``SUBJECT_LOCK``), so counting, ending and inserting are one
        step against every other limited login of the subject, in any process."""
        if not first.jti or not session.sid:
            raise StoreError("a session or refresh token id cannot be empty")
        ended: tuple[str, ...] = ()
        async with self._ready().acquire() as conn, conn.transaction():
            if limit is not None:
                ended = await end_for_limit(conn, self._q, self.schema, session.subject, limit)
            added = await conn.execute(self._q[rows.INSERT_SESSION], *rows.session_row(session))
            if added == "INSERT 0 1":
                added = await conn.execute(self._q[rows.INSERT_REFRESH], *rows.refresh_row(first))
            if added != "INSERT 0 1":
                # Raising inside the transaction rolls the session row back too.
                raise StoreError("a session or refresh token with this id already exists")
        return ended

    @_fails_closed("refresh")
    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        if not request.successor_jti:
            raise StoreError("a refresh token id cannot be empty")
        pool = self._ready()
        async with self._locks.hold(request.sid), pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                self._q[rows.SNAPSHOT], request.jti, request.sid, request.subject
            )
            assert row is not None  # the function always returns one row
            snapshot = rows.snapshot_from(row)
            decision = decide_refresh(snapshot, request)
            if isinstance(decision, Rotate):
                await self._rotate(conn, decision)
            elif isinstance(decision, RevokeForReuse):
                assert snapshot.session is not None  # a reuse is found on a stored session
                await write_revocation(conn, self._q, snapshot.session, decision.session)
        return decision

    async def _rotate(self, conn: asyncpg.Connection, decision: Rotate) -> None:
        parent, successor, session = decision.parent, decision.successor, decision.session
        written = await conn.fetchval(
            self._q[rows.ROTATE],
            successor.jti,
            float(session.refreshed_at),
            float(session.access_floor),
            session.sid,
            rows.STATE_CODES[parent.state],
            None if parent.rotated_at is None else float(parent.rotated_at),
            parent.jti,
            successor.subject,
            float(successor.issued_at),
            float(successor.expires_at),
            rows.STATE_CODES[successor.state],
            session.generation,
        )
        if written is None:  # the parent was not ACTIVE (impossible under the lock) or id taken
            raise StoreError("successor id collision or the refresh record was not ACTIVE")

    @_fails_closed("revoke a session")
    async def revoke_session(
        self,
        sid: str,
        *,
        now: float,
        reason: str,
        deny: tuple[str, float] | None = None,
    ) -> SessionRecord | None:
        pool = self._ready()
        async with self._locks.hold(sid), pool.acquire() as conn, conn.transaction():
            if deny is not None:
                await conn.execute(self._q[rows.DENY_EXTEND], deny[0], float(deny[1]))
            row = await conn.fetchrow(self._q[rows.SELECT_SESSION_LOCKED], sid)
            session = None if row is None else rows.session_from(row)
            if session is None:
                return None
            revoked = revoke_record(session, now=now, reason=reason)
            await write_revocation(conn, self._q, session, revoked)
        return revoked

    @_fails_closed("revoke a subject")
    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        async with self._ready().acquire() as conn, conn.transaction():
            if keep_sid is None:  # "everywhere else" leaves the watermark alone
                await conn.execute(self._q[rows.RAISE_WATERMARK], subject, float(now))
            found = await conn.fetch(self._q[rows.SELECT_OPEN_SESSIONS_OF], subject)
            changes = []
            for row in found:
                before = rows.session_from(row)
                assert before is not None
                if before.sid == keep_sid:
                    continue
                after = revoke_record(before, now=now, reason=reason)
                changes.append((after.revoked_at, after.revoked_reason, after.sid))
            if changes:
                await conn.executemany(self._q[rows.REVOKE_SESSION], changes)
        return len(changes)

    @_fails_closed("deny an access token")
    async def deny_access(self, jti: str, *, until: float, now: float) -> None:
        # Rows never expire on their own (purge removes them), so ``now`` is not needed.
        await self._ready().execute(self._q[rows.DENY_EXTEND], jti, float(until))

    @_fails_closed("claim a one-time key")
    async def claim_once(self, key: str, *, until: float, now: float) -> bool:
        won = await self._ready().fetchval(
            claims.claim_statement(self.schema), key, float(until), float(now)
        )
        return won is True

    @_fails_closed("purge")
    async def purge(self, request: PurgeRequest) -> int:
        """At most ``request.limit`` sessions, in transactions of at most
        :data:`PURGE_CHUNK`; sessions a concurrent call has locked are skipped
        (``SKIP LOCKED``), so a purge never waits behind a rotation."""
        pool = self._ready()
        limit, removed = max(request.limit, 0), 0
        async with pool.acquire() as conn:
            async with conn.transaction():
                await conn.execute(self._q[rows.PURGE_DENIALS], float(request.denials_before))
                await conn.execute(self._q[rows.PURGE_WATERMARKS], float(request.watermarks_before))
                await conn.execute(
                    claims.purge_statement(self.schema), float(request.denials_before)
                )
            while removed < limit:
                chunk = min(limit - removed, PURGE_CHUNK)
                async with conn.transaction():
                    status = await conn.execute(
                        self._q[rows.PURGE_SESSIONS], float(request.sessions_before), chunk
                    )
                count = int(status.rsplit(" ", 1)[1])
                removed += count
                if count < chunk:
                    break
        return removed

    @_fails_closed("count what purge would remove")
    async def purge_counts(self, request: PurgeRequest) -> PurgeCounts:
        """What :meth:`purge` would remove for ``request``, ignoring its ``limit``,
        counted read-only (a dry run): nothing is locked or written."""
        row = await self._ready().fetchrow(
            self._q[rows.PURGE_COUNTS],
            float(request.sessions_before),
            float(request.denials_before),
            float(request.watermarks_before),
        )
        assert row is not None  # four scalar subqueries: always one row
        return PurgeCounts(
            sessions=row[0], refresh_tokens=row[1], denials=row[2], watermarks=row[3]
        )

    # -- reads --------------------------------------------------------------------------

    @_fails_closed("check an access token")
    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        row = await self._ready().fetchrow(self._q[rows.ACCESS], jti, sid, subject)
        assert row is not None  # the statement always returns one row
        denied: bool = row[0]
        if row[1] is None or row[1] != subject:
            return AccessStatus(denied=denied, session_found=False)
        return AccessStatus(
            denied=denied,
            session_found=True,
            session_revoked=row[4],
            session_created_at=row[2],
            access_floor=row[3],
            revoked_before=row[7],
            generation=row[5],
            refreshed_at=row[6],
        )

    @_fails_closed("read a session")
    async def session(self, sid: str) -> SessionRecord | None:
        row = await self._ready().fetchrow(self._q[rows.SELECT_SESSION], sid)
        return None if row is None else rows.session_from(row)

    @_fails_closed("read a refresh record")
    async def refresh_record(self, jti: str, *, sid: str | None = None) -> RefreshRecord | None:
        pool = self._ready()
        if sid is None:
            row = await pool.fetchrow(self._q[rows.SELECT_REFRESH], jti)
        else:
            row = await pool.fetchrow(self._q[rows.SELECT_REFRESH_OF], jti, sid)
        return None if row is None else rows.refresh_from(row)

    @_fails_closed("list sessions")
    async def sessions(self, subject: str) -> list[SessionRecord]:
        found = [
            rows.session_from(row)
            for row in await self._ready().fetch(self._q[rows.SELECT_SESSIONS_OF], subject)
        ]
        return [s for s in found if s is not None]


__all__ = ("PURGE_CHUNK", "PostgresStore")
