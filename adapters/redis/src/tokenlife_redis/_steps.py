"""The operations that span slots, as a sequence of single-slot steps.

They run the same way on one server and on a cluster, so the cluster path is
exercised by every test. Why each order is safe:

**revoke_subject** = (1) on the subject's slot, raise the watermark and read
the session index; (2) on each session's slot, mirror the watermark and revoke.
A refresh racing it either runs before step 2 reaches its session (and the
token it mints dies at step 2, before revoke_subject returns) or after (and is
refused). A session created concurrently either is in the index at step 1
(and step 2 revokes it) or reads the raised watermark while being attached.

**create (cluster)** = (1) write the session; (2) on the subject's slot, add it
to the index and read the watermark; (3) mirror a watermark into the session.
Step 2 runs after step 1 and atomically with the index insert, so either
revoke_subject's step 1 came first (we read its watermark at step 2) or it
sees our sid and its step 2 finds the session already written. No token is
handed out before all steps are done.

**purge** only ever removes what its cut-off says is over, re-checked in the
slot that holds it, so a denial or watermark raised meanwhile survives.
"""

from __future__ import annotations

import asyncio
from typing import Final

from redis.typing import EncodableT

from tokenlife.store import PurgeRequest, RefreshRecord, SessionRecord

from ._codec import SESSION_FIELDS, decode_record, decode_session, num, text, texts, unpack
from ._keys import Keys
from ._scripts import Call, Scripts

#: Members read from a purge queue per round trip.
BATCH: Final = 500


class Steps:
    """Subject-wide operations, purge and lookups without a sid."""

    __slots__ = ("_cluster", "_keys", "_scripts")

    def __init__(self, scripts: Scripts, keys: Keys, *, cluster: bool) -> None:
        self._scripts = scripts
        self._keys = keys
        self._cluster = cluster

    async def attach(self, session: SessionRecord, deadline: bytes) -> None:
        """Cluster create, after the session is written: index it, then mirror."""
        keys, scripts, sid = self._keys, self._scripts, session.sid
        watermark, _ = await asyncio.gather(
            scripts.run(
                scripts.subject_add,
                (keys.index(session.subject), keys.watermark(session.subject)),
                (deadline, num(session.created_at), sid),
            ),
            scripts.client.zadd(keys.session_queue, {sid: num(session.expires_at)}),
        )
        if watermark is not None:
            await scripts.run(scripts.mark, (keys.session(sid),), (watermark, b"", b"", b"0"))

    async def revoke(
        self, subject: str, *, now: float, reason: str, keep_sid: str | None = None
    ) -> int:
        if keep_sid is not None:
            return await self._revoke_others(subject, now=now, reason=reason, keep_sid=keep_sid)
        keys, scripts = self._keys, self._scripts
        shared = [keys.watermark(subject), keys.index(subject)]
        if not self._cluster:
            shared.append(keys.watermark_queue)
        watermark, *sids = await scripts.run(scripts.subject_mark, shared, (num(now), subject))
        args: tuple[EncodableT, ...] = (watermark, num(now), reason, b"1")
        calls: list[Call] = [(scripts.mark, (keys.session(text(sid)),), args) for sid in sids]
        if self._cluster:
            revoked, _ = await asyncio.gather(
                scripts.many(calls),
                scripts.client.zadd(keys.watermark_queue, {subject: watermark}, gt=True),
            )
        else:
            revoked = await scripts.many(calls)
        return sum(int(n) for n in revoked)

    async def _revoke_others(self, subject: str, *, now: float, reason: str, keep_sid: str) -> int:
        """Everywhere but ``keep_sid``, no watermark: one script on a single server;
        on a cluster the index read, then one script per session (each atomic)."""
        keys, scripts = self._keys, self._scripts
        index = keys.index(subject)
        if not self._cluster:
            head, tail = keys.session_parts()
            args = (num(now), reason, keep_sid, head, tail)
            return int(await scripts.run(scripts.end_others, (index,), args))
        sids = [sid for sid in texts(await scripts.client.zrange(index, 0, -1)) if sid != keep_sid]
        calls: list[Call] = [
            (scripts.end_session, (keys.session(sid),), (num(now), reason)) for sid in sids
        ]
        return sum(int(n) for n in await scripts.many(calls))

    async def sessions(self, subject: str) -> list[SessionRecord]:
        """One script (one round trip) on a single server; on a cluster the
        index read, then one pipeline of reads spread over the nodes."""
        client, scripts = self._scripts.client, self._scripts
        if not self._cluster:
            head, tail = self._keys.session_parts()
            packed = await scripts.run(scripts.sessions, (self._keys.index(subject),), (head, tail))
            listed = [decode_session(unpack(one)) for one in packed]
            found = [s for s in listed if s is not None]
            found.sort(key=lambda s: (s.created_at, s.sid))
            return found
        sids = texts(await client.zrange(self._keys.index(subject), 0, -1))
        if not sids:
            return []
        pipe = client.pipeline(transaction=False)
        for sid in sids:
            pipe.hmget(self._keys.session(sid), SESSION_FIELDS)
        found = [s for s in map(decode_session, await pipe.execute()) if s is not None]
        found.sort(key=lambda s: (s.created_at, s.sid))
        return found

    async def find_record(self, jti: str) -> RefreshRecord | None:
        client, keys = self._scripts.client, self._keys
        start = 0
        while True:
            sids = texts(await client.zrange(keys.session_queue, start, start + BATCH - 1))
            if not sids:
                return None
            pipe = client.pipeline(transaction=False)
            for sid in sids:
                pipe.hget(keys.family(sid), jti)
            for raw in await pipe.execute():
                if raw is not None:
                    return decode_record(jti, raw)
            start += BATCH

    # -- purge ------------------------------------------------------------------------

    async def purge(self, request: PurgeRequest) -> int:
        removed = await self._purge_sessions(request.sessions_before, request.limit)
        await self._purge_denials(request.denials_before)
        await self._purge_watermarks(request.watermarks_before)
        return removed

    async def _purge_sessions(self, before: float, limit: int) -> int:
        if limit <= 0:
            return 0
        client, keys, scripts = self._scripts.client, self._keys, self._scripts
        sids = texts(await client.zrangebyscore(keys.session_queue, "-inf", before, 0, limit))
        if not sids:
            return 0
        subjects = await scripts.many(
            [(scripts.purge_session, (keys.session(sid), keys.family(sid)), ()) for sid in sids]
        )
        pipe = client.pipeline(transaction=False)
        for sid, subject in zip(sids, subjects, strict=True):
            if subject is not None:
                pipe.zrem(keys.index(text(subject)), sid)
        pipe.zrem(keys.session_queue, *sids)
        await pipe.execute()
        return len(sids)

    async def _purge_denials(self, before: float) -> None:
        client, keys, scripts = self._scripts.client, self._keys, self._scripts
        cut = num(before)
        while True:
            jtis = texts(await client.zrangebyscore(keys.denial_queue, "-inf", before, 0, BATCH))
            if not jtis:
                return
            await scripts.many([(scripts.purge_value, (keys.denial(j),), (cut,)) for j in jtis])
            await scripts.run(scripts.queue_trim, (keys.denial_queue,), (cut, *jtis))
            if len(jtis) < BATCH:
                return

    async def _purge_watermarks(self, before: float) -> None:
        client, keys, scripts = self._scripts.client, self._keys, self._scripts
        cut = num(before)
        while True:
            queue = keys.watermark_queue
            subjects = texts(await client.zrangebyscore(queue, "-inf", before, 0, BATCH))
            if not subjects:
                return
            deleted = await scripts.many(
                [
                    (scripts.purge_value, (keys.watermark(s), keys.index(s)), (cut,))
                    for s in subjects
                ]
            )
            # Sessions that mirrored a purged watermark forget it too.
            sids = [sid for found in deleted if found is not None for sid in texts(found)]
            await scripts.many([(scripts.clear_mirror, (keys.session(s),), (cut,)) for s in sids])
            await scripts.run(scripts.queue_trim, (queue,), (cut, *subjects))
            if len(subjects) < BATCH:
                return


__all__ = ("BATCH", "Steps")
