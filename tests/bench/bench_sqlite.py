"""The SQLite store against raw ``sqlite3`` doing the same rotation transaction.

The baseline is what a careful hand-written store would do: one ``sqlite3``
connection, synchronous calls, one ``BEGIN IMMEDIATE … COMMIT`` per rotation
with exactly the statements tokenlife-sqlite runs (read the record, its
session, its successor and the watermark in one SELECT; update the session,
giving back its headroom; mark the parent rotated; insert the successor;
append a change row), on the same schema with the same pragmas and
``synchronous`` setting. It blocks the event loop, which an async service
cannot afford; the third contender is the usual way around that (aiosqlite,
one ``await`` per statement, a lock around each transaction).

Every rotation picks a random live session (uniformly among all of them: the
worst case for a B-tree's page cache). Ids are made as ``TokenAuthority`` makes
them (time-ordered, see ``RandomIds``). At 1,000 sessions the whole file stays
cached and a batch's rotations share pages; at 1,000,000 each rotation dirties
pages of its own — its session's page (the session row and its refresh
records, stored together), its entry in the one-ACTIVE index, and the pages a
split adds when the successor does not fit (rarely, thanks to the room each
login sets aside for its first rotation) — and every one of them is a cache
miss to read and a random write when the WAL is checkpointed. The files are
written and synced before any round runs, so no contender pays for another's
setup. One row without a target shows the 1,000,000 file when rotations come
from 10,000 active sessions, as real traffic does (a session refreshes every
few minutes while its user is there).
Targets: 64 concurrent refreshers at ≥ 0.40 of raw's rate; at 1,000,000 live
sessions ≥ 0.80 of the rate at 1,000; the strict access check adds ≤ 25 µs to a
stateless verify. The database size per live session is in a group title.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from tokenlife import KeySet, Policy, TokenAuthority, TokenPair
from tokenlife._authority import RandomIds
from tokenlife.store import RefreshRecord, RefreshRequest, Rotate, SessionRecord

from ._harness import Group, Skip, Target

try:
    import aiosqlite

    from tokenlife_sqlite import SQLiteStore
    from tokenlife_sqlite import _rows as rows
    from tokenlife_sqlite._cache import INSERT_CHANGE
    from tokenlife_sqlite._schema import Synchronous, migrate
except ImportError as exc:  # pragma: no cover
    raise Skip(f"tokenlife-sqlite is not installed ({exc})") from None

RAW = "raw sqlite3 (sync, 1 connection)"
STORE = "tokenlife-sqlite"
NAIVE = "aiosqlite, 1 await per statement"
SECRET = "bench-only-hs256-secret-0123456789abcdef"
T0 = 1_800_000_000.0
SESSION_TTL, REFRESH_TTL = 30 * 86400.0, 14 * 86400.0
#: What a browser login typically stores with its session.
CLAIMS, METADATA = {"scope": "read write"}, {"user_agent": "Firefox/128.0", "ip": "203.0.113.7"}
Statement = tuple[str, tuple[Any, ...]]
#: Ids as ``TokenAuthority`` draws them.
new_id = RandomIds()


class Pool:
    """Live sessions of one file: (sid, subject, current refresh jti) each."""

    def __init__(self, path: Path, sessions: list[tuple[str, str, str]]) -> None:
        self.path, self.sessions, self.now = path, sessions, T0 + 1
        # How many rotations each session has had: the store's own counter,
        # which a hand-written rotation must move as the store does.
        self.generations = [0] * len(sessions)

    def tick(self) -> float:
        self.now += 0.001
        return self.now

    def pick(self, k: int = 1, among: int | None = None) -> list[int]:
        """``k`` distinct sessions, at random among all (or the first ``among``)."""
        return random.sample(range(among or len(self.sessions)), k)

    def request(self, i: int) -> RefreshRequest:
        sid, subject, jti = self.sessions[i]
        return RefreshRequest(
            jti=jti, sid=sid, subject=subject, now=self.tick(), grace=10.0,
            successor_jti=new_id(), refresh_ttl=REFRESH_TTL,
        )  # fmt: skip

    def rotation(self, i: int) -> list[Statement]:
        """The transaction tokenlife-sqlite runs to rotate session ``i``, as plain SQL."""
        sid, subject, jti = self.sessions[i]
        now, new = self.tick(), new_id()
        self.sessions[i] = (sid, subject, new)
        self.generations[i] += 1
        generation = self.generations[i]
        expires = min(now + REFRESH_TTL, T0 + SESSION_TTL)
        return [
            ("BEGIN IMMEDIATE", ()),
            (rows.SNAPSHOT, (jti, sid, subject)),
            (rows.UPDATE_SESSION, (new, now, float(int(now)), generation, None, None, sid)),
            (rows.MARK_ROTATED, (1, now, new, sid, jti)),
            (rows.INSERT_REFRESH, (new, sid, subject, now, expires, jti, 0, None, None)),
            (INSERT_CHANGE, ("S", f'["{sid}"]', None)),
            ("COMMIT", ()),
        ]


def populate(path: Path, n: int, rotations: int = 0) -> Pool:
    """``n`` fresh logins in a new store file, fast: one transaction, indexes built last.

    Rows go in as the store writes them at login (a session, then its first
    refresh record), so ``records`` has the layout a run of logins leaves.
    """
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")  # a setup step: durability is not the point
    migrate(conn, str(path))
    indexes = conn.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL").fetchall()  # fmt: skip  # noqa: E501
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    sessions = [(new_id(), f"user-{i // 2}", new_id()) for i in range(n)]
    template = SessionRecord(
        sid="", subject="", created_at=T0, expires_at=T0 + SESSION_TTL, current_jti="",
        refreshed_at=T0, access_claims=CLAIMS, metadata=METADATA,
    )  # fmt: skip
    for sid, subject, jti in sessions:
        session = replace(template, sid=sid, subject=subject, current_jti=jti)
        first = RefreshRecord(
            jti=jti, sid=sid, subject=subject, issued_at=T0, expires_at=T0 + REFRESH_TTL
        )
        conn.execute(rows.INSERT_SESSION, rows.login_row(session, first))
        conn.execute(rows.INSERT_REFRESH, rows.refresh_row(first))
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    pool = Pool(path, sessions)
    conn.execute("BEGIN")
    for _ in range(rotations):
        for i in range(n):
            for sql, params in pool.rotation(i)[1:-1]:  # without BEGIN/COMMIT
                conn.execute(sql, params)
    conn.execute("COMMIT")
    conn.close()
    os.sync()  # the setup's writes reach the disk now, not during a measured round
    return pool


def raw_rotation(conn: sqlite3.Connection, pool: Pool, i: int) -> None:
    for sql, params in pool.rotation(i):
        conn.execute(sql, params).fetchone()


async def naive_rotation(db: aiosqlite.Connection, pool: Pool, i: int) -> None:
    for sql, params in pool.rotation(i):
        cursor = await db.execute(sql, params)
        await cursor.fetchone()
        await cursor.close()


def bytes_per_live_session() -> str:
    """The file's size per session, and per refresh record kept along its chain."""
    with tempfile.TemporaryDirectory() as tmp:

        def used(path: Path) -> int:
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                pages = conn.execute("SELECT page_count - freelist_count FROM pragma_page_count, pragma_freelist_count").fetchone()[0]  # fmt: skip  # noqa: E501
                size: int = pages * conn.execute("PRAGMA page_size").fetchone()[0]
            conn.close()
            return size

        n = 2000
        logins = used(populate(Path(tmp) / "a.db", n).path) / n
        chains = used(populate(Path(tmp) / "b.db", n, rotations=2).path) / n
    return f"{logins:,.0f} B per session + {(chains - logins) / 2:,.0f} B per rotation"


class Rig:
    """One file of 1,000 live sessions per contender, all at one ``synchronous`` level."""

    def __init__(self, synchronous: Synchronous) -> None:
        self.synchronous = synchronous
        self.dir = Path()
        self.pools: dict[str, Pool] = {}
        self.store: SQLiteStore | None = None
        self.raw: sqlite3.Connection | None = None
        self.naive: aiosqlite.Connection | None = None
        self.lock = asyncio.Lock()

    async def setup(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tokenlife-bench-"))
        for name in (RAW, STORE, NAIVE):
            self.pools[name] = populate(self.dir / f"{len(self.pools)}.db", 1000)
        self.store = await SQLiteStore(self.pools[STORE].path, synchronous=self.synchronous).open()
        self.raw = sqlite3.connect(self.pools[RAW].path, isolation_level=None)
        self.naive = await aiosqlite.connect(self.pools[NAIVE].path, isolation_level=None)
        # The pragmas the store sets on its own connection.
        self.raw.execute("PRAGMA foreign_keys = ON")
        self.raw.execute(f"PRAGMA synchronous = {self.synchronous}")
        await self.naive.execute("PRAGMA foreign_keys = ON")
        await self.naive.execute(f"PRAGMA synchronous = {self.synchronous}")
        await self.store_one()
        self.raw_one()
        await self.naive_one()

    async def teardown(self) -> None:
        if self.store is not None:
            await self.store.close()
        if self.naive is not None:
            await self.naive.close()
        if self.raw is not None:
            self.raw.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def store_rotate(self, i: int) -> None:
        assert self.store is not None
        pool = self.pools[STORE]
        decision = await self.store.refresh(pool.request(i))
        if not isinstance(decision, Rotate):
            raise AssertionError(f"expected a rotation, got {decision}")
        pool.sessions[i] = (*pool.sessions[i][:2], decision.successor.jti)

    async def naive_rotate(self, i: int) -> None:
        assert self.naive is not None
        async with self.lock:  # one connection carries one transaction at a time
            await naive_rotation(self.naive, self.pools[NAIVE], i)

    async def store_one(self) -> None:
        await self.store_rotate(self.pools[STORE].pick()[0])

    def raw_one(self) -> None:
        assert self.raw is not None
        raw_rotation(self.raw, self.pools[RAW], self.pools[RAW].pick()[0])

    async def naive_one(self) -> None:
        await self.naive_rotate(self.pools[NAIVE].pick()[0])

    async def store_64(self) -> None:
        await asyncio.gather(*[self.store_rotate(i) for i in self.pools[STORE].pick(64)])

    def raw_64(self) -> None:
        assert self.raw is not None
        for i in self.pools[RAW].pick(64):
            raw_rotation(self.raw, self.pools[RAW], i)

    async def naive_64(self) -> None:
        await asyncio.gather(*[self.naive_rotate(i) for i in self.pools[NAIVE].pick(64)])


#: Rounds of 64 rotations per op of the live-sessions group (a few checkpoint intervals).
BURST = 16


class Sizes:
    """The store (default settings) at 1,000 and at 1,000,000 live sessions."""

    def __init__(self) -> None:
        self.dir = Path()
        self.stores: dict[int, tuple[SQLiteStore, Pool]] = {}

    async def setup(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tokenlife-bench-"))
        for size in (1_000, 1_000_000):
            pool = await asyncio.to_thread(populate, self.dir / f"{size}.db", size)
            self.stores[size] = (await SQLiteStore(pool.path).open(), pool)
            await self.rotate_64(size)

    async def teardown(self) -> None:
        for store, _ in self.stores.values():
            await store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def rotate_64(self, size: int, among: int | None = None) -> None:
        store, pool = self.stores[size]

        async def one(i: int) -> None:
            decision = await store.refresh(pool.request(i))
            if not isinstance(decision, Rotate):
                raise AssertionError(f"expected a rotation, got {decision}")
            pool.sessions[i] = (*pool.sessions[i][:2], decision.successor.jti)

        await asyncio.gather(*[one(i) for i in pool.pick(64, among)])

    async def burst(self, size: int, among: int | None = None) -> None:
        """:data:`BURST` rounds of 64 concurrent rotations: long enough that the
        store's background checkpoints of its own writes fall inside the op,
        instead of running on while the other file is being timed."""
        for _ in range(BURST):
            await self.rotate_64(size, among)

    def contender(self, size: int, among: int | None = None) -> Callable[[], Awaitable[None]]:
        return lambda: self.burst(size, among)


class Strict:
    """One access token verified stateless, strict on SQLite, and stateless + 25 µs."""

    BUDGET = 25e-6

    def __init__(self) -> None:
        self.dir = Path()
        self.store: SQLiteStore | None = None
        self.auth: TokenAuthority | None = None
        self.pair: TokenPair | None = None

    async def setup(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tokenlife-bench-"))
        self.store = await SQLiteStore(self.dir / "strict.db").open()
        self.auth = TokenAuthority(self.store, keys=KeySet.from_secret(SECRET), policy=Policy())
        self.pair = await self.auth.issue("alice", scopes=("read",))
        await self.strict()

    async def teardown(self) -> None:
        if self.store is not None:
            await self.store.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def stateless(self) -> object:
        assert self.auth is not None and self.pair is not None
        return self.auth.verify_stateless(self.pair.access_token)

    async def strict(self) -> None:
        assert self.auth is not None and self.pair is not None
        await self.auth.verify(self.pair.access_token)

    def budget(self) -> None:
        """What the target allows: a stateless verify, then 25 µs doing nothing."""
        start = time.perf_counter()
        self.stateless()
        while time.perf_counter() - start < self.BUDGET:
            pass


def _rotations(synchronous: Synchronous, label: str) -> list[Group]:
    one, many = Rig(synchronous), Rig(synchronous)
    return [
        Group(
            f"sqlite: rotations, 1 refresher ({label})",
            baseline=RAW,
            contenders={RAW: one.raw_one, STORE: one.store_one, NAIVE: one.naive_one},
            setup=one.setup,
            teardown=one.teardown,
            packages=("tokenlife-sqlite", "aiosqlite"),
        ),
        Group(
            f"sqlite: rotations, 64 concurrent refreshers, 64 per op ({label})",
            baseline=RAW,
            contenders={RAW: many.raw_64, STORE: many.store_64, NAIVE: many.naive_64},
            targets=[Target(STORE, 0.40)],
            setup=many.setup,
            teardown=many.teardown,
        ),
    ]


def groups() -> list[Group]:
    sizes, strict = Sizes(), Strict()
    small, large = "1,000 live sessions", "1,000,000 live sessions"
    active = "1,000,000 live, rotations among 10,000 active (no target)"
    budget, checked = "stateless verify + 25 µs", "strict verify (tokenlife-sqlite)"
    verifiers = {
        "stateless verify": strict.stateless,
        checked: strict.strict,
        budget: strict.budget,
    }
    size_note = f"; database: {bytes_per_live_session()}"
    return [
        *_rotations("normal", "synchronous=NORMAL"),
        *_rotations("full", "synchronous=FULL, the default"),
        Group(
            "sqlite: strict access check vs stateless verify",
            baseline="stateless verify",
            contenders=verifiers,
            targets=[Target(checked, 1.0, vs=budget)],
            setup=strict.setup,
            teardown=strict.teardown,
        ),
        Group(
            f"sqlite: {BURST} rounds of 64 concurrent rotations, by live sessions{size_note}",
            baseline=small,
            contenders={
                small: sizes.contender(1_000),
                large: sizes.contender(1_000_000),
                active: sizes.contender(1_000_000, among=10_000),
            },
            targets=[Target(large, 0.80)],
            setup=sizes.setup,
            teardown=sizes.teardown,
        ),
    ]
