"""MemoryStore: dictionaries guarded by one anyio lock.

Reads take no lock: every write happens in a section with no ``await`` in it,
so a reader on the same event loop never sees half of one. Writes take the
lock anyway, so the atomic sections stay atomic if one ever learns to await.
``fast_acquire`` skips the scheduling checkpoint an uncontended lock would
otherwise take: 10 µs a write down to under 3 µs, measured.
"""

from __future__ import annotations

import heapq
from types import TracebackType

import anyio

from tokenlife import StoreError
from tokenlife.store import (
    AccessStatus,
    PurgeRequest,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    RefreshSnapshot,
    RevokeForReuse,
    Rotate,
    SessionLimit,
    SessionRecord,
    decide_refresh,
    revoke_record,
    sessions_to_end,
)


class MemoryStore:
    """A :class:`tokenlife.Store` held in this process's memory."""

    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._refresh: dict[str, RefreshRecord] = {}
        self._family: dict[str, list[str]] = {}  # sid -> its refresh jtis
        self._by_subject: dict[str, dict[str, None]] = {}  # ordered set of sids
        self._denied: dict[str, float] = {}
        self._watermarks: dict[str, float] = {}
        self._claims: dict[str, float] = {}  # claim_once key -> until
        self._claim_expiries: list[tuple[float, str]] = []  # heap of (until, key)
        self._expiries: list[tuple[float, str]] = []  # heap of (expires_at, sid)
        self._lock = anyio.Lock(fast_acquire=True)
        self._closed = False

    async def __aenter__(self) -> MemoryStore:
        # Re-entering reopens: an app whose lifespan runs twice (two test
        # clients on one app) keeps its data, as a database file would.
        self._closed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the memory store is closed")

    # -- writes -------------------------------------------------------------------

    async def create_session(
        self, session: SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        self._check_open()
        async with self._lock:
            if session.sid in self._sessions or first.jti in self._refresh:
                raise StoreError("a session or refresh token with this id already exists")
            ended: tuple[str, ...] = ()
            if limit is not None:
                subject = session.subject
                mine = [self._sessions[sid] for sid in self._by_subject.get(subject, {})]
                mark = self._watermarks.get(subject)
                # Decided before any write: a refusal raises here, having written nothing.
                for old in sessions_to_end(mine, limit, revoked_before=mark):
                    self._sessions[old.sid] = revoke_record(old, now=limit.now, reason=limit.reason)
                    ended += (old.sid,)
            self._sessions[session.sid] = session
            self._refresh[first.jti] = first
            self._family[session.sid] = [first.jti]
            self._by_subject.setdefault(session.subject, {})[session.sid] = None
            heapq.heappush(self._expiries, (session.expires_at, session.sid))
            return ended

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._check_open()
        async with self._lock:
            record = self._refresh.get(request.jti)
            session = self._sessions.get(record.sid) if record is not None else None
            successor = (
                self._refresh.get(record.successor_jti)
                if record is not None and record.successor_jti is not None
                else None
            )
            decision = decide_refresh(
                RefreshSnapshot(
                    record=record,
                    session=session,
                    successor=successor,
                    revoked_before=self._watermarks.get(request.subject),
                ),
                request,
            )
            if isinstance(decision, Rotate):
                if decision.successor.jti in self._refresh:
                    raise StoreError("successor id collision")
                self._refresh[decision.parent.jti] = decision.parent
                self._refresh[decision.successor.jti] = decision.successor
                self._family[decision.session.sid].append(decision.successor.jti)
                self._sessions[decision.session.sid] = decision.session
            elif isinstance(decision, RevokeForReuse):
                self._sessions[decision.session.sid] = decision.session
            return decision

    async def revoke_session(
        self,
        sid: str,
        *,
        now: float,
        reason: str,
        deny: tuple[str, float] | None = None,
    ) -> SessionRecord | None:
        self._check_open()
        async with self._lock:
            if deny is not None:
                self._deny(*deny)
            session = self._sessions.get(sid)
            if session is None:
                return None
            revoked = revoke_record(session, now=now, reason=reason)
            self._sessions[sid] = revoked
            return revoked

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        self._check_open()
        async with self._lock:
            if keep_sid is None:
                self._watermarks[subject] = max(now, self._watermarks.get(subject, now))
            count = 0
            for sid in self._by_subject.get(subject, {}):
                if sid == keep_sid:
                    continue
                session = self._sessions[sid]
                if session.revoked_at is None:
                    self._sessions[sid] = revoke_record(session, now=now, reason=reason)
                    count += 1
            return count

    async def deny_access(self, jti: str, *, until: float, now: float) -> None:
        self._check_open()
        async with self._lock:
            self._deny(jti, until)

    def _deny(self, jti: str, until: float) -> None:
        """A denial only ever lengthens: the later of two ``until`` wins."""
        self._denied[jti] = max(until, self._denied.get(jti, until))

    async def claim_once(self, key: str, *, until: float, now: float) -> bool:
        self._check_open()
        async with self._lock:
            self._drop_claims(now)  # lapsed claims go as new ones come: memory stays bounded
            held = self._claims.get(key)
            if held is not None and held > now:
                return False
            self._claims[key] = until
            heapq.heappush(self._claim_expiries, (until, key))
            return True

    def _drop_claims(self, before: float) -> None:
        heap, claims = self._claim_expiries, self._claims
        while heap and heap[0][0] <= before:
            until, key = heapq.heappop(heap)
            if claims.get(key) == until:
                del claims[key]

    async def purge(self, request: PurgeRequest) -> int:
        self._check_open()
        async with self._lock:
            self._drop_claims(request.denials_before)
            removed = 0
            while (
                removed < request.limit
                and self._expiries
                and self._expiries[0][0] <= request.sessions_before
            ):
                _, sid = heapq.heappop(self._expiries)
                session = self._sessions.pop(sid, None)
                if session is None:
                    continue
                for jti in self._family.pop(sid, ()):
                    self._refresh.pop(jti, None)
                sids = self._by_subject.get(session.subject)
                if sids is not None:
                    sids.pop(sid, None)
                    if not sids:
                        del self._by_subject[session.subject]
                removed += 1
            for jti in [j for j, until in self._denied.items() if until <= request.denials_before]:
                del self._denied[jti]
            for subject in [
                s for s, mark in self._watermarks.items() if mark <= request.watermarks_before
            ]:
                del self._watermarks[subject]
            return removed

    # -- reads --------------------------------------------------------------------

    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        self._check_open()
        session = self._sessions.get(sid)
        if session is None or session.subject != subject:
            return AccessStatus(denied=jti in self._denied, session_found=False)
        return AccessStatus(
            denied=jti in self._denied,
            session_found=True,
            session_revoked=session.revoked_at is not None,
            session_created_at=session.created_at,
            access_floor=session.access_floor,
            revoked_before=self._watermarks.get(subject),
            generation=session.generation,
            refreshed_at=session.refreshed_at,
        )

    async def session(self, sid: str) -> SessionRecord | None:
        self._check_open()
        return self._sessions.get(sid)

    async def refresh_record(self, jti: str, *, sid: str | None = None) -> RefreshRecord | None:
        self._check_open()
        record = self._refresh.get(jti)
        return None if record is None or (sid is not None and record.sid != sid) else record

    async def sessions(self, subject: str) -> list[SessionRecord]:
        self._check_open()
        found = [self._sessions[sid] for sid in self._by_subject.get(subject, {})]
        return sorted(found, key=lambda s: (s.created_at, s.sid))


__all__ = ("MemoryStore",)
