"""The session limit on a Redis Cluster, where one script cannot see a subject's sessions.

On a single server the CREATE script counts, ends and inserts in one step. On
a cluster a subject's sessions live in many slots, so a limited login instead
holds a lock in the subject's slot (``SET NX PX`` with a random token,
released by compare-and-delete) while it reads the sessions, asks the core's
:func:`~tokenlife.store.sessions_to_end`, inserts, then ends the excess. Only
limited logins take the lock, and only they add live sessions that the limit
counts, so two of them never both slip past it. The insert comes before the
endings: a failed insert ends nothing, and nobody counting meanwhile can
look (the lock is held). Logins of one subject in this process queue on an
``asyncio.Lock`` first, so only one of them polls the server.

The lock expires after :data:`LOCK_TTL` seconds so a crashed holder cannot
block the subject forever; a holder slower than that could overlap the
next one, which is why it is generous.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from tokenlife import StoreError
from tokenlife.store import SessionLimit, SessionRecord, sessions_to_end

from ._codec import num, opt_float
from ._keys import Keys
from ._scripts import Call, Scripts

#: How long the lock lives if its holder never releases it (seconds).
LOCK_TTL: Final = 10.0
#: How long a login waits for the lock before failing closed (seconds).
LOCK_WAIT: Final = 10.0


class SubjectLimits:
    """Limited logins on a cluster, one subject at a time."""

    __slots__ = ("_keys", "_local", "_scripts")

    def __init__(self, scripts: Scripts, keys: Keys) -> None:
        self._scripts = scripts
        self._keys = keys
        self._local: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    async def create(
        self,
        session: SessionRecord,
        limit: SessionLimit,
        sessions: Callable[[str], Awaitable[list[SessionRecord]]],
        insert: Callable[[], Awaitable[object]],
    ) -> tuple[str, ...]:
        subject, scripts, keys = session.subject, self._scripts, self._keys
        async with self._held(subject):
            found = await sessions(subject)
            mark = opt_float(await scripts.client.get(keys.watermark(subject)))
            picked = sessions_to_end(found, limit, revoked_before=mark)  # a refusal raises here
            await insert()
            args = (num(limit.now), limit.reason)
            calls: list[Call] = [
                (scripts.end_session, (keys.session(s.sid),), args) for s in picked
            ]
            await scripts.many(calls)
            return tuple(s.sid for s in picked)

    @contextlib.asynccontextmanager
    async def _held(self, subject: str) -> AsyncIterator[None]:
        entry = self._local.get(subject)
        if entry is None:
            entry = self._local[subject] = (asyncio.Lock(), [0])
        local, users = entry
        users[0] += 1
        try:
            async with local:
                token = os.urandom(16).hex()
                await self._acquire(self._keys.limit_lock(subject), token)
                try:
                    yield
                finally:
                    lock = self._keys.limit_lock(subject)
                    await self._scripts.run(self._scripts.unlock, (lock,), (token,))
        finally:
            users[0] -= 1
            if not users[0]:
                del self._local[subject]

    async def _acquire(self, lock: str, token: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + LOCK_WAIT
        delay = 0.001
        client = self._scripts.client
        while not await client.set(lock, token, nx=True, px=int(LOCK_TTL * 1000)):
            if loop.time() >= deadline:
                raise StoreError("timed out waiting for another login of this subject")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)


__all__ = ("LOCK_TTL", "LOCK_WAIT", "SubjectLimits")
