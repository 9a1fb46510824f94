"""A complete tokenlife store on plain dictionaries: the pattern every store follows.

The store keeps records and makes writes atomic; it never decides anything.
``refresh`` reads a snapshot, asks ``decide_refresh`` what to do and writes
exactly what the decision says, all inside one atomic section (here an
``asyncio.Lock``; a transaction in SQL, a Lua script in Redis). It passes
``tokenlife.testing.STORE_CONTRACT``.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

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


class DictStore:
    """Sessions, refresh records, denials and watermarks in this process's memory."""

    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._refresh: dict[str, RefreshRecord] = {}
        self._denied: dict[str, float] = {}  # access jti -> its exp
        self._watermarks: dict[str, float] = {}  # subject -> revoked_before
        self._claims: dict[str, float] = {}  # one-time key -> until
        self._lock = asyncio.Lock()
        self._closed = False

    async def __aenter__(self) -> DictStore:
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

    def _open(self) -> None:
        if self._closed:  # fail closed: never answer from a closed store
            raise StoreError("the store is closed")

    async def create_session(
        self, session: SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        self._open()
        async with self._lock:  # count, end and insert as one atomic step
            if session.sid in self._sessions or first.jti in self._refresh:
                raise StoreError("duplicate session or refresh token id")
            ended: tuple[str, ...] = ()
            if limit is not None:  # the core picks what to end, or raises to refuse
                mine = [s for s in self._sessions.values() if s.subject == session.subject]
                mark = self._watermarks.get(session.subject)
                for old in sessions_to_end(mine, limit, revoked_before=mark):
                    self._sessions[old.sid] = revoke_record(old, now=limit.now, reason=limit.reason)
                    ended += (old.sid,)
            self._sessions[session.sid] = session
            self._refresh[first.jti] = first
            return ended

    # --8<-- [start:refresh]
    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._open()
        async with self._lock:  # read, decide and write as one atomic step
            record = self._refresh.get(request.jti)
            session = self._sessions.get(record.sid) if record else None
            successor = (
                self._refresh.get(record.successor_jti) if record and record.successor_jti else None
            )
            snapshot = RefreshSnapshot(
                record=record,
                session=session,
                successor=successor,
                revoked_before=self._watermarks.get(request.subject),
            )
            decision = decide_refresh(snapshot, request)  # the rules live in the core
            if isinstance(decision, Rotate):  # write all three records
                self._refresh[decision.parent.jti] = decision.parent
                self._refresh[decision.successor.jti] = decision.successor
                self._sessions[decision.session.sid] = decision.session
            elif isinstance(decision, RevokeForReuse):  # write the revoked session
                self._sessions[decision.session.sid] = decision.session
            return decision  # Replay and Reject write nothing

    # --8<-- [end:refresh]

    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        self._open()
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

    async def revoke_session(
        self, sid: str, *, now: float, reason: str, deny: tuple[str, float] | None = None
    ) -> SessionRecord | None:
        self._open()
        async with self._lock:
            if deny is not None:
                jti, until = deny
                self._denied[jti] = max(until, self._denied.get(jti, until))
            session = self._sessions.get(sid)
            if session is None:
                return None
            # revoke_record keeps the first revocation's time and reason.
            self._sessions[sid] = revoke_record(session, now=now, reason=reason)
            return self._sessions[sid]

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        self._open()
        async with self._lock:
            if keep_sid is None:  # "everywhere else" keeps the watermark where it is
                self._watermarks[subject] = max(now, self._watermarks.get(subject, now))
            revoked = 0
            for sid, session in list(self._sessions.items()):
                if sid == keep_sid:
                    continue
                if session.subject == subject and session.revoked_at is None:
                    self._sessions[sid] = revoke_record(session, now=now, reason=reason)
                    revoked += 1
            return revoked

    async def deny_access(self, jti: str, *, until: float, now: float) -> None:
        self._open()
        async with self._lock:
            self._denied[jti] = max(until, self._denied.get(jti, until))

    async def claim_once(self, key: str, *, until: float, now: float) -> bool:
        self._open()
        async with self._lock:
            if self._claims.get(key, now) > now:
                return False  # an earlier claim still holds: a replay
            self._claims[key] = until
            return True

    async def session(self, sid: str) -> SessionRecord | None:
        self._open()
        return self._sessions.get(sid)

    async def refresh_record(self, jti: str, *, sid: str | None = None) -> RefreshRecord | None:
        self._open()
        record = self._refresh.get(jti)
        return None if record is None or (sid is not None and record.sid != sid) else record

    async def sessions(self, subject: str) -> list[SessionRecord]:
        self._open()
        found = [s for s in self._sessions.values() if s.subject == subject]
        return sorted(found, key=lambda s: (s.created_at, s.sid))

    async def purge(self, request: PurgeRequest) -> int:
        self._open()
        async with self._lock:
            expired = [
                sid for sid, s in self._sessions.items() if s.expires_at <= request.sessions_before
            ][: request.limit]
            for sid in expired:
                del self._sessions[sid]
            for jti in [j for j, r in self._refresh.items() if r.sid not in self._sessions]:
                del self._refresh[jti]
            for jti in [j for j, exp in self._denied.items() if exp <= request.denials_before]:
                del self._denied[jti]
            for key in [k for k, until in self._claims.items() if until <= request.denials_before]:
                del self._claims[key]
            for subject in [
                s for s, mark in self._watermarks.items() if mark <= request.watermarks_before
            ]:
                del self._watermarks[subject]
            return len(expired)
