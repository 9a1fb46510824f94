"""A child process for the multi-process tests: ``python -m tests.adapters.sqlite._worker``.

Commands (the database path first, then JSON arguments):

- ``refresh DB`` — for each phase: print ``ready``, wait for a line on stdin
  (the plan: a JSON list of RefreshRequest objects), run all of them
  concurrently, print one JSON line of outcomes. Ends on an empty line.
- ``stream DB SYNCHRONOUS PREFIX`` — log in, rotate and revoke sessions
  with eight concurrent workers until killed, printing one JSON line per
  acknowledged operation, flushed, only after the store has returned.
- ``revoke DB SID NOW JTI`` — revoke one session (denying one access jti),
  print ``revoked``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from typing import Any

import msgspec

from tokenlife.store import (
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    Replay,
    RevokeForReuse,
    Rotate,
    SessionRecord,
)
from tokenlife_sqlite import SQLiteStore

T0 = 1_800_000_000.0


def outcome(decision: RefreshDecision) -> dict[str, Any]:
    if isinstance(decision, (Rotate, Replay)):
        return {"kind": decision.__class__.__name__, "successor": decision.successor.jti}
    if isinstance(decision, RevokeForReuse):
        return {"kind": "RevokeForReuse", "sid": decision.session.sid}
    return {"kind": "Reject", "reason": decision.reason}


async def refresh(path: str) -> None:
    async with SQLiteStore(path) as store:
        while True:
            print("ready", flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line.strip():
                return
            plan = msgspec.json.decode(line, type=list[RefreshRequest])
            decisions = await asyncio.gather(*[store.refresh(r) for r in plan])
            print(json.dumps([outcome(d) for d in decisions]), flush=True)


async def stream(path: str, synchronous: str, prefix: str) -> None:
    ids = (f"{prefix}-{n}" for n in itertools.count())
    clock = itertools.count()

    def ack(**fields: Any) -> None:
        print(json.dumps(fields), flush=True)

    async def worker(store: SQLiteStore) -> None:
        while True:
            now = T0 + next(clock) * 0.001
            sid, jti = next(ids), next(ids)
            session = SessionRecord(
                sid=sid, subject="crash", created_at=now, expires_at=now + 86400,
                current_jti=jti, refreshed_at=now,
            )  # fmt: skip
            first = RefreshRecord(jti=jti, sid=sid, subject="crash", issued_at=now,
                                  expires_at=now + 3600)  # fmt: skip
            await store.create_session(session, first)
            ack(op="create", sid=sid, jti=jti)
            for _ in range(5):
                successor = next(ids)
                request = RefreshRequest(
                    jti=jti, sid=sid, subject="crash", now=T0 + next(clock) * 0.001,
                    grace=10.0, successor_jti=successor, refresh_ttl=3600.0,
                )  # fmt: skip
                decision = await store.refresh(request)
                assert isinstance(decision, Rotate), decision
                ack(op="rotate", sid=sid, parent=jti, successor=successor)
                jti = successor
            denied = next(ids)
            await store.revoke_session(sid, now=T0, reason="logout", deny=(denied, T0 + 60))
            ack(op="revoke", sid=sid, denied=denied, current=jti)

    store = SQLiteStore(path, synchronous="full" if synchronous == "full" else "normal")
    async with store:
        print("ready", flush=True)
        await asyncio.gather(*[worker(store) for _ in range(8)])


async def revoke(path: str, sid: str, now: str, jti: str) -> None:
    async with SQLiteStore(path) as store:
        await store.revoke_session(sid, now=float(now), reason="logout", deny=(jti, T0 + 900))
        print("revoked", flush=True)


def main(argv: list[str]) -> None:
    command, *args = argv
    if command == "refresh":
        asyncio.run(refresh(*args))
    elif command == "stream":
        asyncio.run(stream(*args))
    elif command == "revoke":
        asyncio.run(revoke(*args))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
