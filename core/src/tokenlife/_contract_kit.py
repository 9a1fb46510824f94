"""What the Store contract's checks share: the factory type, the records they build,
the clock they use and how they fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Final

from ._store import (
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    SessionRecord,
    Store,
)
from ._violation import ContractViolation, expect

StoreFactory = Callable[[], AbstractAsyncContextManager[Store]]
ContractCheck = Callable[[StoreFactory], Awaitable[None]]

T0: Final = 1_800_000_000.25
DAY: Final = 86400.0
GRACE: Final = 10.0
REFRESH_TTL: Final = 14 * DAY
SESSION_TTL: Final = 30 * DAY


def make_session(
    sid: str = "s1",
    subject: str = "alice",
    *,
    now: float = T0,
    jti: str | None = None,
    ttl: float = SESSION_TTL,
    refresh_ttl: float = REFRESH_TTL,
    **fields: Any,
) -> tuple[SessionRecord, RefreshRecord]:
    """A session and its first refresh record, as TokenAuthority.issue builds them."""
    jti = jti or f"{sid}-r0"
    session = SessionRecord(
        sid=sid,
        subject=subject,
        created_at=now,
        expires_at=now + ttl,
        current_jti=jti,
        refreshed_at=now,
        **fields,
    )
    first = RefreshRecord(
        jti=jti,
        sid=sid,
        subject=subject,
        issued_at=now,
        expires_at=min(now + refresh_ttl, session.expires_at),
    )
    return session, first


def refresh_request(
    record: RefreshRecord, now: float, successor: str, **overrides: Any
) -> RefreshRequest:
    fields: dict[str, Any] = {
        "jti": record.jti,
        "sid": record.sid,
        "subject": record.subject,
        "now": now,
        "grace": GRACE,
        "successor_jti": successor,
        "refresh_ttl": REFRESH_TTL,
    }
    fields.update(overrides)
    return RefreshRequest(**fields)


async def state(store: Store, sid: str, *jtis: str) -> tuple[Any, ...]:
    return (await store.session(sid), *[await store.refresh_record(j) for j in jtis])


def kind(decision: RefreshDecision) -> str:
    return type(decision).__name__


async def gather(calls: Sequence[Awaitable[Any]]) -> list[Any]:
    """Run ``calls`` concurrently (asyncio or trio) and return results in order."""
    import anyio  # the ``tokenlife[testing]`` extra; only concurrency checks need it

    results: list[Any] = [None] * len(calls)

    async def run(index: int, call: Awaitable[Any]) -> None:
        results[index] = await call

    async with anyio.create_task_group() as group:
        for index, call in enumerate(calls):
            group.start_soon(run, index, call)
    return results


__all__ = (
    "DAY",
    "GRACE",
    "REFRESH_TTL",
    "SESSION_TTL",
    "T0",
    "ContractCheck",
    "ContractViolation",
    "StoreFactory",
    "expect",
    "gather",
    "kind",
    "make_session",
    "refresh_request",
    "state",
)
