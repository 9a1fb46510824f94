"""A real MemoryStore that can be broken on demand (a store outage, for the 503 cases)."""

from __future__ import annotations

from tokenlife import StoreError
from tokenlife.store import (
    AccessStatus,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    SessionLimit,
)
from tokenlife.store import SessionRecord as _SessionRecord
from tokenlife_memory import MemoryStore


class BreakableStore(MemoryStore):
    """A MemoryStore whose every method raises StoreError while ``broken``."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = False
        self.opened = 0

    async def __aenter__(self) -> BreakableStore:
        self.opened += 1
        return self

    def _fail(self) -> None:
        if self.broken:
            raise StoreError("the store is down (test)")

    async def create_session(
        self, session: _SessionRecord, first: RefreshRecord, *, limit: SessionLimit | None = None
    ) -> tuple[str, ...]:
        self._fail()
        return await super().create_session(session, first, limit=limit)

    async def refresh(self, request: RefreshRequest) -> RefreshDecision:
        self._fail()
        return await super().refresh(request)

    async def access_status(self, jti: str, sid: str, subject: str) -> AccessStatus:
        self._fail()
        return await super().access_status(jti, sid, subject)

    async def revoke_session(
        self, sid: str, *, now: float, reason: str, deny: tuple[str, float] | None = None
    ) -> _SessionRecord | None:
        self._fail()
        return await super().revoke_session(sid, now=now, reason=reason, deny=deny)

    async def sessions(self, subject: str) -> list[_SessionRecord]:
        self._fail()
        return await super().sessions(subject)

    async def revoke_subject(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        self._fail()
        return await super().revoke_subject(subject, now=now, reason=reason, keep_sid=keep_sid)
