"""What is particular to the Redis store: exact floats, key layout, expiry, scripts."""

from __future__ import annotations

import math
from typing import Any

import pytest
import redis.asyncio
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.crc import key_slot

from tests import redis_servers
from tests.adapters.redis.conftest import fresh_prefix
from tokenlife import MAX_LEEWAY, ConfigurationError, StoreError
from tokenlife.store import (
    PurgeRequest,
    RefreshDecision,
    RefreshRecord,
    RefreshRequest,
    RefreshSnapshot,
    Replay,
    RevokeForReuse,
    Rotate,
    SessionRecord,
    decide_refresh,
)
from tokenlife.testing import make_session, refresh_request
from tokenlife_redis import RedisStore
from tokenlife_redis._keys import Keys

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.25


async def pexpiretime(client: Any, key: str) -> int:
    return int(await client.execute_command("PEXPIRETIME", key))


# -- exact floats -------------------------------------------------------------------

#: Finite times, small and large, with every bit of the mantissa in play.
times = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
spans = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)


class Reference:
    """One session kept in dicts, with ``decide_refresh`` applied as the memory
    store applies it: what every store must agree with, float for float."""

    def __init__(self, session: SessionRecord, first: RefreshRecord) -> None:
        self.session = session
        self.records = {first.jti: first}

    def refresh(self, request: RefreshRequest) -> RefreshDecision:
        record = self.records.get(request.jti)
        successor = None
        if record is not None and record.successor_jti is not None:
            successor = self.records.get(record.successor_jti)
        snapshot = RefreshSnapshot(
            record=record, session=self.session, successor=successor, revoked_before=None
        )
        decision = decide_refresh(snapshot, request)
        if isinstance(decision, Rotate):
            self.records[decision.parent.jti] = decision.parent
            self.records[decision.successor.jti] = decision.successor
            self.session = decision.session
        elif isinstance(decision, RevokeForReuse):
            self.session = decision.session
        return decision


@settings(max_examples=60, deadline=None)
@given(
    created=times,
    ttl=spans,
    refresh_ttl=spans,
    steps=st.lists(st.tuples(spans, st.floats(0.0, 60.0), st.booleans()), max_size=6),
)
async def test_same_decisions_and_records_as_the_rules_for_any_floats(
    redis_server: redis_servers.RedisServer,
    created: float,
    ttl: float,
    refresh_ttl: float,
    steps: list[tuple[float, float, bool]],
) -> None:
    """Lua compares the floats and copies their text; nothing is rounded on the way."""
    session, first = make_session(now=created, ttl=ttl, refresh_ttl=refresh_ttl)
    async with RedisStore.from_url(redis_server.url, prefix=fresh_prefix()) as store:
        await store.create_session(session, first)
        reference = Reference(session, first)
        current, now = first, created
        for n, (pause, grace, raise_floor) in enumerate(steps):
            now += pause
            request = refresh_request(
                current,
                now,
                f"s1-r{n + 1}",
                grace=grace,
                refresh_ttl=refresh_ttl,
                raise_access_floor=raise_floor,
            )
            got = await store.refresh(request)
            assert got == reference.refresh(request)
            assert await store.session("s1") == reference.session
            for jti, record in reference.records.items():
                assert await store.refresh_record(jti) == record
            if isinstance(got, Rotate):
                current = got.successor


@pytest.mark.parametrize(
    "value",
    [0.1, 1 / 3, 1_800_000_000.123456789, 5e-324, 1e15 + 0.5, -0.0, 2.0**52 + 1, 123456789.98765],
)
async def test_times_round_trip_bit_for_bit(redis_store: RedisStore, value: float) -> None:
    session, first = make_session(now=value, ttl=value, refresh_ttl=value)
    session = SessionRecord(**{**_fields(session), "access_floor": value, "revoked_at": value})
    await redis_store.create_session(session, first)
    stored = await redis_store.session("s1")
    assert stored == session
    assert stored is not None
    for name in ("created_at", "expires_at", "refreshed_at", "access_floor", "revoked_at"):
        assert math.copysign(1, getattr(stored, name)) == math.copysign(1, getattr(session, name))
    assert await redis_store.refresh_record(first.jti) == first


def _fields(session: SessionRecord) -> dict[str, Any]:
    return {name: getattr(session, name) for name in session.__struct_fields__}


async def test_strings_of_any_kind(redis_store: RedisStore) -> None:
    """Ids and subjects with braces, quotes, newlines and non-ASCII stay intact."""
    for sid, subject in [("a}b", 'quo"te\n'), ("{x}", "Zürich ✓"), ("", "\\u0000"), ("}", "")]:
        session, first = make_session(sid, subject, jti=f"j{sid}\t")
        await redis_store.create_session(session, first)
        assert await redis_store.session(sid) == session
        assert await redis_store.refresh_record(first.jti) == first
        decision = await redis_store.refresh(refresh_request(first, T0 + 1, f"n{sid}"))
        assert type(decision).__name__ == "Rotate"
        assert [s.sid for s in await redis_store.sessions(subject)] == [sid]


# -- key layout ----------------------------------------------------------------------


@pytest.mark.parametrize("sid", ["s1", "a}b", "{x}", "", "}", "{", "ü{}"])
def test_a_session_lives_in_one_slot(sid: str) -> None:
    keys = Keys("tokenlife:")
    assert key_slot(keys.session(sid).encode()) == key_slot(keys.family(sid).encode())


@pytest.mark.parametrize("prefix", ["app{1}:", "a}"])
async def test_a_prefix_with_a_hash_tag_is_refused(
    redis_server: redis_servers.RedisServer, prefix: str
) -> None:
    with pytest.raises(ConfigurationError):
        RedisStore.from_url(redis_server.url, prefix=prefix)


def test_subject_keys_share_a_slot_and_sessions_spread() -> None:
    keys = Keys("tokenlife:")
    assert key_slot(keys.index("alice").encode()) == key_slot(keys.watermark("alice").encode())
    slots = {key_slot(keys.session(f"sid-{n}").encode()) for n in range(100)}
    assert len(slots) > 90, "sessions must not pile up in a few slots"


# -- expiry --------------------------------------------------------------------------


async def pttl(client: Any, key: str) -> int:
    return int(await client.execute_command("PTTL", key))


def near(measured: int, expected_s: float) -> bool:
    """A PTTL (ms) counted down from ``expected_s`` by at most a few seconds of test."""
    expected = math.ceil(expected_s * 1000)
    return expected - 5000 <= measured <= expected


@pytest.mark.parametrize("epoch", [T0, 1_000_000.0, 4_000_000_000.0])
async def test_keys_expire_after_the_session_end_plus_retention_on_the_callers_clock(
    redis_store: RedisStore, epoch: float
) -> None:
    """Expiries are durations from the caller's ``now``: whatever epoch the
    caller's clock reads (far behind or ahead of the server's), a key lives
    exactly until the caller's deadline plus retention."""
    keys, client = Keys(redis_store.prefix), redis_store.client
    session, first = make_session(now=epoch)
    await redis_store.create_session(session, first)
    lifetime = session.expires_at + MAX_LEEWAY - epoch
    for key in (keys.session("s1"), keys.family("s1"), keys.index("alice")):
        assert near(await pttl(client, key), lifetime), key
    # Rotation and revocation keep the expiry (sessions are never extended).
    before = await pexpiretime(client, keys.session("s1"))
    await redis_store.refresh(refresh_request(first, epoch + 5, "s1-r1"))
    await redis_store.revoke_session("s1", now=epoch + 6, reason="x", deny=("a1", epoch + 900))
    assert await pexpiretime(client, keys.session("s1")) == before
    assert await pexpiretime(client, keys.family("s1")) == before
    # A denial lasts until the token's exp (plus the same retention for leeway).
    assert near(await pttl(client, keys.denial("a1")), 900 - 6 + MAX_LEEWAY)
    await redis_store.deny_access("a2", until=epoch + 100, now=epoch + 50)
    assert near(await pttl(client, keys.denial("a2")), 50 + MAX_LEEWAY)
    # The subject index lives as long as its longest-lived session.
    later, later_first = make_session("s2", now=epoch + 1000)
    await redis_store.create_session(later, later_first)
    index_ttl = await pttl(client, keys.index("alice"))
    assert near(index_ttl, later.expires_at + MAX_LEEWAY - later.created_at)
    await redis_store.create_session(*make_session("s3", now=epoch - 1000))
    # A shorter-lived session never shortens it.
    assert near(await pttl(client, keys.index("alice")), index_ttl / 1000)


async def test_a_deadline_already_behind_the_caller_leaves_keys_to_purge(
    redis_store: RedisStore,
) -> None:
    """A denial whose ``until`` plus retention is already behind the caller's
    ``now`` sets no expiry: purge (on the caller's clock) removes it."""
    keys, client = Keys(redis_store.prefix), redis_store.client
    session, first = make_session(now=T0)
    await redis_store.create_session(session, first)
    await redis_store.deny_access("a1", until=T0 - 10_000, now=T0)
    assert await pexpiretime(client, keys.denial("a1")) == -1
    purge = PurgeRequest(sessions_before=0, denials_before=T0 - 10_000, watermarks_before=0)
    await redis_store.purge(purge)
    assert await client.exists(keys.denial("a1")) == 0


async def test_the_watermark_mirror_is_forgotten_with_the_watermark(
    redis_store: RedisStore,
) -> None:
    await redis_store.create_session(*make_session("s1", now=T0 + 100))
    await redis_store.revoke_subject("alice", now=T0 + 50, reason="x")
    assert (await redis_store.access_status("j", "s1", "alice")).revoked_before == T0 + 50
    keep = PurgeRequest(sessions_before=0, denials_before=0, watermarks_before=T0 + 49)
    await redis_store.purge(keep)
    assert (await redis_store.access_status("j", "s1", "alice")).revoked_before == T0 + 50
    drop = PurgeRequest(sessions_before=0, denials_before=0, watermarks_before=T0 + 50)
    await redis_store.purge(drop)
    assert (await redis_store.access_status("j", "s1", "alice")).revoked_before is None


# -- scripts and clients -----------------------------------------------------------------


async def test_scripts_reload_after_the_server_forgets_them(redis_store: RedisStore) -> None:
    session, first = make_session()
    await redis_store.client.script_flush()
    await redis_store.create_session(session, first)
    await redis_store.client.script_flush()
    await redis_store.refresh(refresh_request(first, T0 + 1, "s1-r1"))
    await redis_store.client.script_flush()
    assert await redis_store.revoke_subject("alice", now=T0 + 2, reason="x") == 1
    await redis_store.client.script_flush()
    far = T0 + 1e9
    purge = PurgeRequest(sessions_before=far, denials_before=far, watermarks_before=far)
    assert await redis_store.purge(purge) == 1


async def test_a_client_that_decodes_responses(redis_server: redis_servers.RedisServer) -> None:
    client = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    async with RedisStore(client, prefix=fresh_prefix()) as store:
        session, first = make_session(access_claims={"scope": "read"}, metadata={"ip": "::1"})
        await store.create_session(session, first)
        assert await store.session("s1") == session
        decision = await store.refresh(refresh_request(first, T0 + 1, "s1-r1"))
        assert await store.refresh_record("s1-r1") == getattr(decision, "successor", None)
        assert await store.sessions("alice") != []
    assert await client.ping(), "the store leaves a client it was given open"
    await client.aclose()


async def test_a_closed_store_refuses_everything(redis_server: redis_servers.RedisServer) -> None:
    store = RedisStore.from_url(redis_server.url, prefix=fresh_prefix())
    async with store:
        pass
    session, first = make_session()
    request: RefreshRequest = refresh_request(first, T0, "x")
    calls = [
        store.create_session(session, first),
        store.refresh(request),
        store.access_status("j", "s1", "alice"),
        store.revoke_session("s1", now=T0, reason="x"),
        store.revoke_subject("alice", now=T0, reason="x"),
        store.deny_access("j", until=T0, now=T0),
        store.session("s1"),
        store.refresh_record("j"),
        store.sessions("alice"),
        store.purge(PurgeRequest(sessions_before=0, denials_before=0, watermarks_before=0)),
    ]
    for call in calls:
        with pytest.raises(StoreError):
            await call


async def test_successor_collision_is_refused(redis_store: RedisStore) -> None:
    session, first = make_session()
    await redis_store.create_session(session, first)
    with pytest.raises(StoreError):
        await redis_store.refresh(refresh_request(first, T0 + 1, first.jti))
    assert await redis_store.refresh_record(first.jti) == first


async def test_corrupt_records_fail_closed(redis_store: RedisStore) -> None:
    """Stored bytes that do not decode are a StoreError, never another exception."""
    keys, client = Keys(redis_store.prefix), redis_store.client
    session, first = make_session()
    await redis_store.create_session(session, first)
    await client.hset(keys.session("s1"), "ca", "not-a-time")
    with pytest.raises(StoreError):
        await redis_store.session("s1")
    await client.hset(keys.session("s1"), "ca", "1.5")
    await client.hset(keys.family("s1"), first.jti, b"\xff{garbage")
    with pytest.raises(StoreError):
        await redis_store.refresh(refresh_request(first, T0 + 1, "s1-r1"))
    with pytest.raises(StoreError):
        await redis_store.refresh_record(first.jti)


@pytest.mark.parametrize("grace", [10.0, 0.0])
async def test_a_retried_rotation_hands_back_its_own_successor(
    redis_store: RedisStore, grace: float
) -> None:
    """Why from_url may retry a command after a dropped connection: the same
    request, run again, finds its own rotation (now - rotated_at = 0 <= grace)."""
    session, first = make_session()
    await redis_store.create_session(session, first)
    request = refresh_request(first, T0 + 1, "s1-r1", grace=grace)
    rotated = await redis_store.refresh(request)
    again = await redis_store.refresh(request)
    assert isinstance(rotated, Rotate)
    assert isinstance(again, Replay)
    assert again.successor == rotated.successor
