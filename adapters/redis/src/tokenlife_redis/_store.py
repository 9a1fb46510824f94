"""RedisStore: the Store protocol on Redis, one Lua script per lifecycle operation.

Two shapes of deployment, one key layout (see ``_keys``):

- **A single server** (``redis.asyncio.Redis``): issue (with a session limit
  too), refresh, strict verify, revoke, revoke_session, listing a subject's
  sessions and "everywhere else" (``revoke_subject(keep_sid=...)``) are each
  ONE EVALSHA — one round trip, atomic.
  The scripts may also touch keys outside the session's slot (the subject
  index, a denial), which a standalone server allows.
- **Redis Cluster** (``redis.asyncio.cluster.RedisCluster``): every script
  touches one slot only. refresh is still one script (everything it reads is
  in the session's slot, the subject watermark included — mirrored there);
  issue, verify and revoke split into per-slot steps (see ``_steps``); a
  limited login holds a per-subject lock around them (see ``_limit``).

The subject watermark ("log out everywhere") is mirrored into every session
of the subject, so a refresh never has to leave the session's slot. The
mirror is written by revoke_subject (per session, together with the
revocation) and copied at session creation; the creation order in cluster
mode (session first, then index + watermark read, then mirror) leaves no
window in which a session started before a watermark escapes it.

Errors: anything redis-py raises, and any stored value that does not decode,
becomes :class:`tokenlife.StoreError`, so the driver fails closed.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Callable, Coroutine, Sequence
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, RedisClusterException, RedisError
from redis.typing import EncodableT

from tokenlife import MAX_LEEWAY, SessionLimitError, StoreError
from tokenlife.store import (
    AccessStatus,
    PurgeRequest,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    RefreshSnapshot,
    SessionLimit,
    SessionRecord,
    decide_refresh,
)

from ._claims import claim_once
from ._codec import (
    ACCESS_FIELDS,
    SESSION_FIELDS,
    Value,
    check_prefix,
    decision_tag,
    decode_access,
    decode_record,
    decode_session,
    encode_record,
    encode_session,
    num,
    successor_parts,
    texts,
    unpack,
    watermark_of,
)
from ._keys import Keys
from ._limit import SubjectLimits
from ._scripts import Client, Scripts
from ._steps import Steps

#: The latest key expiry the store sets (2**53 ms, about the year 287,000).
_MAX_MS = 2**53
#: What opening may fail with: redis-py's errors, cluster routing errors, sockets.
FAILURES = (RedisError, RedisClusterException, OSError)


_P = ParamSpec("_P")
_R = TypeVar("_R")
_Method = Callable[Concatenate["RedisStore", _P], Coroutine[Any, Any, _R]]


def _fails_closed(what: str) -> Callable[[_Method[_P, _R]], _Method[_P, _R]]:
    """Refuse when closed; turn every failure — redis-py's errors, stored data
    that does not decode, anything else — into StoreError: the driver fails closed."""

    def wrap(method: _Method[_P, _R]) -> _Method[_P, _R]:
        @functools.wraps(method)
        async def guarded(self: RedisStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            if self._closed:
                raise StoreError("the redis store is closed")
            try:
                return await method(self, *args, **kwargs)
            except (StoreError, SessionLimitError):
                raise
            except Exception as exc:
                # Whatever the client library or the stored bytes throw at us
                # (redis-py raises more than RedisError when a node dies): the
                # caller gets StoreError and fails closed; the cause is chained.
                raise StoreError(f"redis store failed to {what}: {exc!r}") from exc

        return guarded

    return wrap


class RedisStore:
    """A :class:`tokenlife.Store` on a Redis server or a Redis Cluster.

    ``client`` is a ``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster``
    (the store leaves a client it was given open). ``prefix`` namespaces every
    key. Keys expire ``retention`` seconds (default: the largest leeway a Policy
    allows) after the moment they stop mattering — a session's absolute expiry,
    a denied token's ``exp`` — so a late replay is still recognised within
    leeway. Each expiry is a duration from the caller's clock (the server's only
    counts it down); ``purge()`` removes what key expiry could not (a deadline
    already behind the caller's clock when it was written).
    """

    __slots__ = (
        "_closed",
        "_cluster",
        "_keys",
        "_limits",
        "_owns_client",
        "_retention",
        "_scripts",
        "_steps",
    )

    def __init__(
        self,
        client: Client,
        *,
        prefix: str = "tokenlife:",
        retention: float = MAX_LEEWAY,
        close_client: bool = False,
    ) -> None:
        check_prefix(prefix)
        self._cluster = isinstance(client, RedisCluster)
        self._keys = Keys(prefix)
        self._retention = float(retention)
        self._scripts = Scripts(client)
        self._owns_client = close_client
        self._closed = False
        self._steps = Steps(self._scripts, self._keys, cluster=self._cluster)
        self._limits = SubjectLimits(self._scripts, self._keys)

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        prefix: str = "tokenlife:",
        retention: float = MAX_LEEWAY,
        cluster: bool = False,
        **client_options: Any,
    ) -> RedisStore:
        """A store with a client of its own (closed with the store).

        ``cluster=True`` connects a ``RedisCluster`` (the URL names any node).
        Otherwise the client gets a *blocking* pool (``max_connections``,
        default 64: a burst of callers waits for a connection, up to
        ``timeout``, 5 s, instead of failing at once), 5-second socket timeouts
        (a hung server fails closed instead of hanging the request), and three
        quick retries of a command that met a dropped connection — never of one
        that timed out, so a caller with a connection waits at most 5 s plus
        under a second of backoff against a stalled server. A retried rotation
        that did reach the server finds it inside the grace window and gets
        the same successor. Keyword arguments go to redis-py and override
        these defaults.
        """
        check_prefix(prefix)
        client: Client
        if cluster:
            client = RedisCluster.from_url(url, **client_options)
        else:
            options = {
                "max_connections": 64,
                "socket_timeout": 5.0,
                "socket_connect_timeout": 5.0,
                "timeout": 5.0,  # the pool's wait for a free connection
                # Only dropped connections: a timeout already took 5 s, and a
                # retry would take 5 s more each time (RedisError subclasses
                # both, neither is the other).
                "retry": Retry(
                    ExponentialBackoff(cap=0.25, base=0.01), 3, supported_errors=(ConnectionError,)
                ),
                **client_options,
            }
            client = Redis.from_pool(BlockingConnectionPool.from_url(url, **options))
        return cls(client, prefix=prefix, retention=retention, close_client=True)

    @property
    def client(self) -> Client:
        """The redis-py client (for administration and tests)."""
        return self._scripts.client

    @property
    def prefix(self) -> str:
        return self._keys.prefix

    async def __aenter__(self) -> RedisStore:
        """Load the scripts, which also proves the server is there."""
        try:
            await self._scripts.load()
        except FAILURES as exc:
            raise StoreError(f"redis unavailable: {exc}") from exc
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Refuse further calls; close the client if the store opened it."""
        if self._closed:
            return
        self._closed = True
        if self._owns_client:
            await self.client.aclose()

    def _deadline(self, at: float, now: float) -> bytes:
        """Milliseconds from the caller's ``now`` until a key stops mattering
        (``at`` plus retention): a duration, so the server's clock never moves it.

        Clamped to what PEXPIRE and Lua's doubles hold exactly: a time that
        far out means "never" anyway.
        """
        ms = (float(at) + self._retention - float(now)) * 1000
        if not ms < _MAX_MS:  # also inf and nan
            return b"%d" % _MAX_MS
        return b"%d" % math.ceil(ms) if ms > 0 else b"0"

    # -- the lifecycle: one script each on a single server ----------------------

    @_fails_closed("create a session")
    async def create_session(
        self, session: SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        """One script on a single server, the limit included (counted, ended and
        inserted atomically). On a cluster, a limited login holds the subject's
        lock around the per-slot steps (see ``_limit``)."""
        if self._cluster and limit is not None:
            return await self._limits.create(
                session, limit, self._steps.sessions, lambda: self._create(session, first, None)
            )
        return await self._create(session, first, limit)

    async def _create(
        self, session: SessionRecord, first: RefreshRecord, limit: SessionLimit | None
    ) -> tuple[str, ...]:
        keys, scripts, sid, subject = self._keys, self._scripts, session.sid, session.subject
        deadline = self._deadline(session.expires_at, session.created_at)
        own = [keys.session(sid), keys.family(sid)]
        args: list[EncodableT] = [deadline, sid, num(session.created_at)]
        args += (num(session.expires_at), first.jti, encode_record(first))
        if limit is None:
            args += (b"", b"", b"", b"", b"", b"")
        else:
            head, tail = keys.session_parts()
            args += (limit.max_sessions, limit.on_excess, num(limit.now), limit.reason, head, tail)
        args += encode_session(session)
        if not self._cluster:
            own += (keys.index(subject), keys.watermark(subject), keys.session_queue)
        status, *ended = texts(await scripts.run(scripts.create, own, args))
        if status == "duplicate":
            raise StoreError("a session or refresh token with this id already exists")
        if status == "refused":
            raise SessionLimitError("the subject already holds its limit of live sessions")
        if self._cluster:
            await self._steps.attach(session, deadline)
        return tuple(ended)

    @_fails_closed("refresh")
    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        sid, now = request.sid, num(request.now)
        head, tail, rotated = successor_parts(
            request.jti, sid, request.subject, now, request.successor_jti
        )
        args = (
            request.jti,
            sid,
            request.subject,
            now,
            num(request.grace),
            request.successor_jti,
            head,
            tail,
            rotated,
            num(request.now + request.refresh_ttl),
            num(float(int(request.now))) if request.raise_access_floor else b"",
        )
        keys = (self._keys.session(sid), self._keys.family(sid))
        reply = unpack(await self._scripts.run(self._scripts.refresh, keys, args))
        code, raw, raw_successor, fields = reply[0], reply[1], reply[2], reply[3:]
        if code == "collision":
            raise StoreError("successor id collision")
        record = None if raw is None else decode_record(request.jti, raw)
        successor = None
        if raw_successor is not None and record is not None and record.successor_jti is not None:
            successor = decode_record(record.successor_jti, raw_successor)
        snapshot = RefreshSnapshot(
            record=record,
            session=decode_session(fields),
            successor=successor,
            revoked_before=watermark_of(fields),
        )
        # The script decided and wrote; the rules, run on what it read, must agree.
        decision = decide_refresh(snapshot, request)
        if decision_tag(decision) != code:
            raise StoreError(
                f"refresh script decided {code!r}, the rules {decision_tag(decision)!r}"
            )
        return decision

    @_fails_closed("check an access token")
    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        keys = self._keys
        fields: Sequence[Value]
        if not self._cluster:
            own = (keys.session(sid), keys.denial(jti))
            flag, *fields = unpack(await self._scripts.run(self._scripts.access, own, ()))
            denied = flag == "1"
        else:
            fields, found = await asyncio.gather(
                self.client.hmget(keys.session(sid), ACCESS_FIELDS),
                # Not client.exists(): on a cluster that goes through a per-slot pipeline.
                self.client.execute_command("EXISTS", keys.denial(jti)),
            )
            denied = found > 0
        return decode_access(denied, fields, subject)

    @_fails_closed("revoke a session")
    async def revoke_session(
        self,
        sid: str,
        *,
        now: float,
        reason: str,
        deny: tuple[str, float] | None = None,
    ) -> SessionRecord | None:
        keys, scripts = self._keys, self._scripts
        own: list[str] = [keys.session(sid)]
        args: list[EncodableT] = [num(now), reason]
        if deny is None:
            reply = await scripts.run(scripts.revoke, own, args)
        elif not self._cluster:
            own += (keys.denial(deny[0]), keys.denial_queue)
            args += (deny[0], num(deny[1]), self._deadline(deny[1], now))
            reply = await scripts.run(scripts.revoke, own, args)
        else:
            reply, _ = await asyncio.gather(
                scripts.run(scripts.revoke, own, args), self._deny(*deny, now)
            )
        return None if reply is None else decode_session(unpack(reply))

    @_fails_closed("deny an access token")
    async def deny_access(self, jti: str, *, until: float, now: float) -> None:
        await self._deny(jti, until, now)

    async def _deny(self, jti: str, until: float, now: float) -> None:
        keys, scripts = self._keys, self._scripts
        args = (jti, num(until), self._deadline(until, now))
        if not self._cluster:
            await scripts.run(scripts.deny, (keys.denial(jti), keys.denial_queue), args)
        else:
            await asyncio.gather(
                scripts.run(scripts.deny, (keys.denial(jti),), args),
                self.client.zadd(keys.denial_queue, {jti: num(until)}, gt=True),
            )

    @_fails_closed("claim a one-time key")
    async def claim_once(self, key: str, *, until: float, now: float) -> bool:
        return await claim_once(self._scripts, self._keys.prefix, key, until, now)

    # -- subject-wide and housekeeping: per-slot steps (see _steps) ------------

    @_fails_closed("revoke a subject")
    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        return await self._steps.revoke(subject, now=now, reason=reason, keep_sid=keep_sid)

    @_fails_closed("list sessions")
    async def sessions(self, subject: str) -> list[SessionRecord]:
        return await self._steps.sessions(subject)

    @_fails_closed("purge")
    async def purge(self, request: PurgeRequest) -> int:
        return await self._steps.purge(request)

    # -- reads ----------------------------------------------------------------------

    @_fails_closed("read a session")
    async def session(self, sid: str) -> SessionRecord | None:
        return decode_session(await self.client.hmget(self._keys.session(sid), SESSION_FIELDS))

    @_fails_closed("read a refresh record")
    async def refresh_record(self, jti: str, *, sid: str | None = None) -> RefreshRecord | None:
        """Records are filed under their session: with the ``sid`` one HGET;
        without it, a diagnostic read through every session the store tracks."""
        if sid is None:
            return await self._steps.find_record(jti)
        raw = await self.client.hget(self._keys.family(sid), jti)
        return None if raw is None else decode_record(jti, raw)


__all__ = ("RedisStore",)
