"""Several processes on one file: atomic rotation, durability after SIGKILL, revocation seen."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tokenlife.store import RefreshRequest, RefreshState, Rotate
from tokenlife_sqlite import SQLiteStore

from ._support import T0, expect_line, integrity, login, send, spawn

pytestmark = pytest.mark.anyio

PROCESSES, PER_PROCESS, SESSIONS, GRACE = 4, 250, 25, 10.0


def request(sid: str, jti: str, now: float, successor: str, subject: str = "alice") -> RefreshRequest:  # fmt: skip  # noqa: E501
    return RefreshRequest(
        jti=jti, sid=sid, subject=subject, now=now, grace=GRACE,
        successor_jti=successor, refresh_ttl=3600.0,
    )  # fmt: skip


def run_phase(children: list[subprocess.Popen[str]], plans: list[list[RefreshRequest]]) -> list[Any]:  # fmt: skip  # noqa: E501
    """Start every child's plan at once; gather every outcome."""
    for child in children:
        expect_line(child, "ready")
    for child, plan in zip(children, plans, strict=True):
        send(child.stdin, msgspec.json.encode(plan).decode())
    outcomes = []
    for child in children:
        assert child.stdout is not None
        outcomes.extend(json.loads(child.stdout.readline()))
    return outcomes


async def test_four_processes_refreshing_the_same_sessions(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    sids = [f"s{i:02d}" for i in range(SESSIONS)]
    async with SQLiteStore(path) as store:
        for sid in sids:
            await store.create_session(*login(sid, now=T0))
    children = [spawn("refresh", str(path)) for _ in range(PROCESSES)]
    try:
        # Phase 1: every process refreshes every session's first token, inside grace.
        plans = [
            [request(sids[k % SESSIONS], f"{sids[k % SESSIONS]}-r0", T0 + 1, f"p{p}-{k}")
             for k in range(PER_PROCESS)]
            for p in range(PROCESSES)
        ]  # fmt: skip
        first = run_phase(children, plans)
        # Phase 2, outside grace: half the sessions see their first token replayed
        # (reuse), the other half rotate their current token once more.
        async with SQLiteStore(path) as store:
            stored = {sid: await store.session(sid) for sid in sids}
        current = {sid: s.current_jti for sid, s in stored.items() if s is not None}
        late = T0 + 1 + GRACE + 5
        replayed = set(sids[: SESSIONS // 2])
        plans = [
            [request(sid, f"{sid}-r0" if sid in replayed else current[sid], late, f"q{p}-{k}")
             for k in range(PER_PROCESS) for sid in [sids[k % SESSIONS]]]
            for p in range(PROCESSES)
        ]  # fmt: skip
        second = run_phase(children, plans)
        for child in children:
            expect_line(child, "ready")
            send(child.stdin, "")
            assert child.wait(timeout=30) == 0
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
            child.communicate(timeout=10)

    assert len(first) == len(second) == PROCESSES * PER_PROCESS, "an outcome went missing"
    by_session: defaultdict[str, Counter[str]] = defaultdict(Counter)
    successors: defaultdict[str, set[str]] = defaultdict(set)
    for plan_index, outcome in enumerate(first):
        sid = sids[(plan_index % PER_PROCESS) % SESSIONS]
        by_session[sid][outcome["kind"]] += 1
        successors[sid].add(outcome.get("successor", "-"))
    for sid in sids:
        assert by_session[sid]["Rotate"] == 1, f"{sid}: exactly one rotation across processes"
        assert by_session[sid]["Replay"] == PROCESSES * PER_PROCESS // SESSIONS - 1
        assert len(successors[sid]) == 1, f"{sid}: never two successors for one token"

    kinds: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for plan_index, outcome in enumerate(second):
        kinds[sids[(plan_index % PER_PROCESS) % SESSIONS]][outcome["kind"]] += 1
    async with SQLiteStore(path) as store:
        for sid in sids:
            session = await store.session(sid)
            assert session is not None
            chain = await store.refresh_record(f"{sid}-r0")
            assert chain is not None and chain.state is RefreshState.ROTATED
            if sid in replayed:
                assert kinds[sid]["RevokeForReuse"] == 1, f"{sid}: the first replay revokes"
                assert kinds[sid]["Reject"] == PROCESSES * PER_PROCESS // SESSIONS - 1
                assert session.revoked_reason == "reuse_detected"
            else:
                assert kinds[sid]["Rotate"] == 1 and kinds[sid]["Reject"] == 0
                assert session.revoked_at is None
                newest = await store.refresh_record(session.current_jti)
                assert newest is not None and newest.state is RefreshState.ACTIVE
                middle = await store.refresh_record(newest.parent_jti or "")
                assert middle is not None and middle.parent_jti == f"{sid}-r0"
    # Nothing lost, nothing extra: one record per rotation that happened.
    conn = sqlite3.connect(path)
    counts = dict(conn.execute("SELECT sid, count(*) FROM refresh GROUP BY sid").fetchall())
    conn.close()
    assert counts == {sid: 2 if sid in replayed else 3 for sid in sids}
    assert integrity(path) == ["ok"]


@pytest.mark.parametrize("synchronous", ["full", "normal"])
async def test_acknowledged_writes_survive_sigkill(tmp_path: Path, synchronous: str) -> None:
    path = tmp_path / "crash.db"
    child = spawn("stream", str(path), synchronous, "c")
    acks: list[dict[str, Any]] = []
    try:
        expect_line(child, "ready")
        assert child.stdout is not None
        while len(acks) < 400:
            line = child.stdout.readline()
            assert line, f"the writer died early: {child.communicate(timeout=10)[1]}"
            acks.append(json.loads(line))
    finally:
        child.send_signal(signal.SIGKILL)  # mid-stream: eight writers are busy
        rest, _ = child.communicate(timeout=30)
    # What it printed before dying was acknowledged too.
    acks.extend(json.loads(line) for line in rest.splitlines() if line.startswith("{"))
    assert child.returncode == -signal.SIGKILL

    assert integrity(path) == ["ok"]
    async with SQLiteStore(path) as store:
        for ack in acks:
            if ack["op"] == "create":
                assert await store.session(ack["sid"]) is not None, ack
            elif ack["op"] == "rotate":
                parent = await store.refresh_record(ack["parent"])
                assert parent is not None and parent.successor_jti == ack["successor"], ack
                assert await store.refresh_record(ack["successor"]) is not None, ack
            else:
                session = await store.session(ack["sid"])
                assert session is not None and session.revoked_at is not None, ack
                assert (await store.access_status(ack["denied"], ack["sid"], "crash")).denied
        # The file is fully usable: a session the writer left open still rotates.
        sessions = await store.sessions("crash")
        open_one = next(s for s in sessions if s.revoked_at is None)
        decision = await store.refresh(
            request(open_one.sid, open_one.current_jti, T0 + 99, "after-crash", "crash")
        )
        assert isinstance(decision, Rotate)


async def test_another_processs_revocation_is_seen_within_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "seen.db"
    async with SQLiteStore(path) as store:
        assert store.staleness == 0.05
        await store.create_session(*login("s1"))
        status = await store.access_status("a1", "s1", "alice")
        assert not status.session_revoked and not status.denied  # now cached here
        child = spawn("revoke", str(path), "s1", str(T0 + 5), "a1")
        try:
            # The child's commit happens before it prints; wait for that line
            # without blocking the loop, and time from there.
            await asyncio.to_thread(expect_line, child, "revoked")
            acked = time.monotonic()
            while not (await store.access_status("a1", "s1", "alice")).session_revoked:
                assert time.monotonic() - acked < 1.0, "never saw the revocation"
                await asyncio.sleep(0.001)
            seen_after = time.monotonic() - acked
        finally:
            child.communicate(timeout=30)
        status = await store.access_status("a1", "s1", "alice")
        assert status.session_revoked and status.denied
        # The bound itself, plus scheduling slack for a loaded machine.
        assert seen_after <= store.staleness + 0.05, seen_after
