"""Deliberately broken stores: the memory store with one realistic bug each.

Each mutant is a subclass that changes one method the way a store author
could plausibly get it wrong. The lifecycle kit must catch every one within
the default example budget (tests/property/test_mutants.py); the docstring
says what the bug is, as its author might have meant it.
"""

from __future__ import annotations

import math

import anyio
import msgspec

from tokenlife.store import (
    AccessStatus,
    PurgeRequest,
    RefreshDecision,
    RefreshRequest,
    RefreshSnapshot,
    RefreshState,
    RevokeForReuse,
    Rotate,
    SessionRecord,
    decide_refresh,
)
from tokenlife_memory import MemoryStore


class _Apply(MemoryStore):
    """Shared plumbing: read a refresh snapshot and write a decision, as MemoryStore does."""

    def _read(self, request: RefreshRequest) -> RefreshSnapshot:
        record = self._refresh.get(request.jti)
        session = self._sessions.get(record.sid) if record is not None else None
        successor = (
            self._refresh.get(record.successor_jti)
            if record is not None and record.successor_jti is not None
            else None
        )
        return RefreshSnapshot(
            record=record,
            session=session,
            successor=successor,
            revoked_before=self._watermarks.get(request.subject),
        )

    def _write(self, decision: RefreshDecision) -> None:
        if isinstance(decision, Rotate):
            self._refresh[decision.parent.jti] = decision.parent
            self._refresh[decision.successor.jti] = decision.successor
            self._family[decision.session.sid].append(decision.successor.jti)
            self._sessions[decision.session.sid] = decision.session
        elif isinstance(decision, RevokeForReuse):
            self._sessions[decision.session.sid] = decision.session


class NonAtomicRotation(_Apply):
    """Reads the record, awaits (a network round trip), then writes: two
    concurrent refreshes both see it ACTIVE and both rotate."""

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._check_open()
        snapshot = self._read(request)
        await anyio.sleep(0)
        decision = decide_refresh(snapshot, request)
        async with self._lock:
            self._write(decision)
        return decision


class ReuseNotPersisted(_Apply):
    """Reports reuse but never writes the session's revocation: the thief's
    newest token keeps refreshing."""

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._check_open()
        async with self._lock:
            decision = decide_refresh(self._read(request), request)
            if not isinstance(decision, RevokeForReuse):
                self._write(decision)
            return decision


class GraceMintsSecond(_Apply):
    """Treats a parent rotated inside the grace window as still ACTIVE, so a
    second tab's refresh mints a second successor instead of the same one."""

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._check_open()
        async with self._lock:
            snapshot = self._read(request)
            record = snapshot.record
            if (
                record is not None
                and record.rotated_at is not None
                and 0 <= request.now - record.rotated_at <= request.grace
            ):
                active = msgspec.structs.replace(
                    record, state=RefreshState.ACTIVE, rotated_at=None, successor_jti=None
                )
                snapshot = msgspec.structs.replace(snapshot, record=active, successor=None)
            decision = decide_refresh(snapshot, request)
            self._write(decision)
            return decision


class ParentStaysActive(_Apply):
    """Inserts the successor but forgets to mark the parent ROTATED: two ACTIVE
    records, and the old token rotates again."""

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._check_open()
        async with self._lock:
            decision = decide_refresh(self._read(request), request)
            if isinstance(decision, Rotate):
                self._refresh[decision.successor.jti] = decision.successor
                self._family[decision.session.sid].append(decision.successor.jti)
                self._sessions[decision.session.sid] = decision.session
            else:
                self._write(decision)
            return decision


class GenerationStuck(_Apply):
    """Writes the rotated session back without its new generation: access
    tokens from before the refresh are never superseded."""

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._check_open()
        async with self._lock:
            before = self._read(request).session
            decision = decide_refresh(self._read(request), request)
            self._write(decision)
            if isinstance(decision, Rotate) and before is not None:
                self._sessions[before.sid] = msgspec.structs.replace(
                    decision.session, generation=before.generation
                )
            return decision


class SuccessorOutlivesSession(_Apply):
    """Gives the successor the parent's whole lifetime again, from now, without
    the session's cap: the last refresh token outlives its session."""

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._check_open()
        async with self._lock:
            decision = decide_refresh(self._read(request), request)
            if isinstance(decision, Rotate):
                stretched = msgspec.structs.replace(
                    decision.successor, expires_at=request.now + request.refresh_ttl
                )
                decision = msgspec.structs.replace(decision, successor=stretched)
            self._write(decision)
            return decision


class PurgeEarly(MemoryStore):
    """Purges a minute early ("clock skew tolerance"): sessions in their last
    minute, still live, disappear."""

    async def purge(self, request: PurgeRequest) -> int:
        early = msgspec.structs.replace(request, sessions_before=request.sessions_before + 60)
        return await super().purge(early)


class PurgeRevoked(MemoryStore):
    """Purge also drops revoked sessions at once: a replayed token of a revoked
    session becomes "unknown" instead of "revoked"."""

    async def purge(self, request: PurgeRequest) -> int:
        removed = await super().purge(request)
        async with self._lock:
            for sid in [s for s, rec in self._sessions.items() if rec.revoked_at is not None]:
                session = self._sessions.pop(sid)
                for jti in self._family.pop(sid, ()):
                    self._refresh.pop(jti, None)
                self._by_subject.get(session.subject, {}).pop(sid, None)
                removed += 1
        return removed


class EverywhereSparesSameInstant(MemoryStore):
    """ "Log out everywhere" revokes sessions created strictly before now (``<``
    where ``<=`` belongs): a login at the same instant survives it."""

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        self._check_open()
        async with self._lock:
            if keep_sid is None:
                self._watermarks[subject] = max(now, self._watermarks.get(subject, now))
            count = 0
            for sid in self._by_subject.get(subject, {}):
                session = self._sessions[sid]
                if sid != keep_sid and session.revoked_at is None and session.created_at < now:
                    self._sessions[sid] = msgspec.structs.replace(
                        session, revoked_at=now, revoked_reason=reason
                    )
                    count += 1
            return count


class WatermarkRoundedUp(MemoryStore):
    """Keeps the subject watermark in whole seconds, rounded up: a login right
    after "log out everywhere", in the same second, is dead on arrival."""

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        count = await super().revoke_subject(subject, now=now, reason=reason, keep_sid=keep_sid)
        if subject in self._watermarks:
            self._watermarks[subject] = float(math.ceil(self._watermarks[subject]))
        return count


class RevocationOverwritten(MemoryStore):
    """A second revocation overwrites the first one's time and reason (the
    audit trail says "logout" where reuse was detected)."""

    async def revoke_session(
        self, sid: str, *, now: float, reason: str, deny: tuple[str, float] | None = None
    ) -> SessionRecord | None:
        self._check_open()
        async with self._lock:
            if deny is not None:
                self._deny(*deny)
            session = self._sessions.get(sid)
            if session is None:
                return None
            revoked = msgspec.structs.replace(session, revoked_at=now, revoked_reason=reason)
            self._sessions[sid] = revoked
            return revoked


class LogoutForgetsDenial(MemoryStore):
    """Revokes the session on logout but drops the access token's denial that
    came with it."""

    async def revoke_session(
        self, sid: str, *, now: float, reason: str, deny: tuple[str, float] | None = None
    ) -> SessionRecord | None:
        return await super().revoke_session(sid, now=now, reason=reason)


class StaleStatusCache(MemoryStore):
    """Caches each session's access status for speed and never invalidates it:
    a revoked session's access tokens keep passing verify."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[tuple[str, str, str], AccessStatus] = {}

    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        key = (jti, sid, subject)
        if key not in self._cache:
            self._cache[key] = await super().access_status(jti, sid, subject)
        return self._cache[key]


class NewestFirst(MemoryStore):
    """Lists a subject's sessions newest first (``ORDER BY created_at DESC``)."""

    async def sessions(self, subject: str) -> list[SessionRecord]:
        return list(reversed(await super().sessions(subject)))


#: The mutants the suite requires caught, each within the default budget.
MUTANTS: tuple[type[MemoryStore], ...] = (
    NonAtomicRotation,
    ReuseNotPersisted,
    GraceMintsSecond,
    ParentStaysActive,
    GenerationStuck,
    SuccessorOutlivesSession,
    PurgeEarly,
    PurgeRevoked,
    EverywhereSparesSameInstant,
    WatermarkRoundedUp,
    RevocationOverwritten,
    LogoutForgetsDenial,
    StaleStatusCache,
    NewestFirst,
)

__all__ = (
    "MUTANTS",
    "EverywhereSparesSameInstant",
    "GenerationStuck",
    "GraceMintsSecond",
    "LogoutForgetsDenial",
    "NewestFirst",
    "NonAtomicRotation",
    "ParentStaysActive",
    "PurgeEarly",
    "PurgeRevoked",
    "ReuseNotPersisted",
    "RevocationOverwritten",
    "StaleStatusCache",
    "SuccessorOutlivesSession",
)
