"""The lifecycle through TokenAuthority, on every store (docs/design/lifecycle.md, end to end)."""

from __future__ import annotations

import msgspec
import pytest

from tokenlife import (
    ExpiredTokenError,
    KeySet,
    Policy,
    ReuseDetectedError,
    RevokedTokenError,
    SecurityEvent,
    SessionLimitError,
    SignatureError,
    TokenAuthority,
)
from tokenlife.store import Store
from tokenlife.testing import FrozenClock, SequentialIds

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"authority-tests-secret-of-32-bytes!")
POLICY = Policy(
    issuer="https://api.example",
    audience="api",
    access_ttl=60,
    refresh_ttl=600,
    session_ttl=1800,
    grace=10,
)


class Rig:
    def __init__(self, store: Store, policy: Policy = POLICY) -> None:
        self.clock = FrozenClock()
        self.events: list[SecurityEvent] = []
        self.auth = TokenAuthority(
            store,
            keys=KEYS,
            policy=policy,
            clock=self.clock,
            ids=SequentialIds(),
            on_event=self.events.append,
        )


async def test_issue_verify_carries_scopes_claims_and_freshness(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice", scopes=("read", "write"), claims={"org": 7})
    claims = await rig.auth.verify(pair.access_token)
    assert (claims.sub, claims.scopes, claims.fresh) == ("alice", ("read", "write"), True)
    assert claims.custom() == {"org": 7}
    assert claims.iss == "https://api.example"
    assert pair.expires_in == 60
    rig.clock.advance(1)
    refreshed = await rig.auth.refresh(pair.refresh_token)
    again = await rig.auth.verify(refreshed.access_token)
    assert (again.scopes, again.fresh, again.custom()) == (("read", "write"), False, {"org": 7})


async def test_grace_replay_same_successor_then_reuse_kills_session(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice")
    rig.clock.advance(5)
    first = await rig.auth.refresh(pair.refresh_token)
    rig.clock.advance(10)
    second = await rig.auth.refresh(pair.refresh_token)
    assert second.refresh_token == first.refresh_token
    rig.clock.advance(0.5)
    with pytest.raises(ReuseDetectedError):
        await rig.auth.refresh(pair.refresh_token)
    assert [e.kind for e in rig.events] == ["reuse_detected"]
    with pytest.raises(RevokedTokenError):
        await rig.auth.refresh(first.refresh_token)
    with pytest.raises(RevokedTokenError):
        await rig.auth.verify(first.access_token)


async def test_access_floor_retires_older_access_tokens_after_grace(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice")
    rig.clock.advance(5)
    new = await rig.auth.refresh(pair.refresh_token)
    await rig.auth.verify(pair.access_token)  # still inside grace
    rig.clock.advance(10)
    with pytest.raises(RevokedTokenError) as caught:
        await rig.auth.verify(pair.access_token)
    assert caught.value.code == "superseded"
    await rig.auth.verify(new.access_token)


async def test_access_floor_can_be_turned_off(store: Store) -> None:
    rig = Rig(store, Policy(access_floor_on_refresh=False, grace=10))
    pair = await rig.auth.issue("alice")
    rig.clock.advance(5)
    await rig.auth.refresh(pair.refresh_token)
    rig.clock.advance(100)
    await rig.auth.verify(pair.access_token)


async def test_logout_with_either_token_and_everywhere(store: Store) -> None:
    rig = Rig(store)
    a = await rig.auth.issue("alice")
    b = await rig.auth.issue("alice")
    c = await rig.auth.issue("alice")
    await rig.auth.revoke(a.access_token)
    await rig.auth.revoke(a.access_token)  # idempotent
    with pytest.raises(RevokedTokenError):
        await rig.auth.verify(a.access_token)
    await rig.auth.revoke(b.refresh_token)
    with pytest.raises(RevokedTokenError):
        await rig.auth.refresh(b.refresh_token)
    assert [s.sid for s in await rig.auth.sessions("alice")] == [c.session_id]
    assert await rig.auth.revoke_subject("alice") == 1
    with pytest.raises(RevokedTokenError):
        await rig.auth.verify(c.access_token)
    assert await rig.auth.sessions("alice") == []
    rig.clock.advance(1)
    fresh = await rig.auth.issue("alice")
    await rig.auth.verify(fresh.access_token)


async def test_logout_everywhere_else_keeps_the_caller(store: Store) -> None:
    rig = Rig(store)
    a, b, c = [await rig.auth.issue("alice") for _ in range(3)]
    bob = await rig.auth.issue("bob")
    kept = b.session_id
    assert await rig.auth.revoke_subject("alice", reason="others", keep_sid=kept) == 2
    await rig.auth.verify(b.access_token)  # no watermark: the kept session's tokens live on
    for pair in (a, c):
        with pytest.raises(RevokedTokenError):
            await rig.auth.verify(pair.access_token)
    await rig.auth.verify(bob.access_token)
    assert [s.sid for s in await rig.auth.sessions("alice")] == [kept]
    assert rig.events[-1].kind == "subject_revoked"
    assert (rig.events[-1].session_id, rig.events[-1].reason) == (kept, "others")
    rig.clock.advance(1)
    await rig.auth.refresh(b.refresh_token)


async def test_a_login_beyond_the_limit_ends_the_oldest(store: Store) -> None:
    rig = Rig(store, msgspec.structs.replace(POLICY, max_sessions=2))
    first = await rig.auth.issue("alice")
    rig.clock.advance(1)
    second = await rig.auth.issue("alice")
    rig.clock.advance(1)
    third = await rig.auth.issue("alice")
    with pytest.raises(RevokedTokenError):
        await rig.auth.verify(first.access_token)
    for pair in (second, third):
        await rig.auth.verify(pair.access_token)
    ended = [e for e in rig.events if e.kind == "session_revoked"]
    assert [(e.session_id, e.subject, e.reason) for e in ended] == [
        (first.session_id, "alice", "session_limit")
    ]
    stored = await store.session(first.session_id)
    assert stored is not None and stored.revoked_reason == "session_limit"


async def test_a_login_beyond_the_limit_can_be_refused(store: Store) -> None:
    rig = Rig(store, msgspec.structs.replace(POLICY, max_sessions=1, on_session_limit="refuse"))
    only = await rig.auth.issue("alice")
    with pytest.raises(SessionLimitError) as refused:
        await rig.auth.issue("alice")
    assert refused.value.code == "session_limit"
    assert [s.sid for s in await rig.auth.sessions("alice", include_revoked=True)] == [
        only.session_id
    ]
    await rig.auth.issue("bob")  # the limit is per subject
    await rig.auth.revoke(only.refresh_token)
    await rig.auth.issue("alice")  # room again


async def test_revoke_ignores_garbage_and_forgeries(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice")
    forged = pair.access_token[:-4] + ("AAAA" if not pair.access_token.endswith("AAAA") else "BBBB")
    for junk in ("", "not-a-token", forged, b"\xff\xfe"):
        await rig.auth.revoke(junk)
    await rig.auth.verify(pair.access_token)
    forged_refresh = pair.refresh_token[:-4] + (
        "AAAA" if not pair.refresh_token.endswith("AAAA") else "BBBB"
    )
    with pytest.raises(SignatureError):
        await rig.auth.refresh(forged_refresh)


async def test_expiry_paths(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice")
    rig.clock.advance(60)
    with pytest.raises(ExpiredTokenError):
        await rig.auth.verify(pair.access_token)
    rig.clock.advance(600)
    with pytest.raises(ExpiredTokenError):
        await rig.auth.refresh(pair.refresh_token)
    assert [e.kind for e in rig.events] == ["refresh_after_expiry"]


async def test_session_cap_bounds_every_token(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice")
    for _ in range(3):
        rig.clock.advance(500)
        pair = await rig.auth.refresh(pair.refresh_token)
    session = await store.session(pair.session_id)
    assert session is not None
    # At t=1500 the idle lifetime would reach 2100: the session's end caps it.
    assert pair.refresh_expires_at == int(session.expires_at)
    rig.clock.advance(250)
    assert pair.access_expires_at <= session.expires_at
    rig.clock.advance(50)
    with pytest.raises(ExpiredTokenError):
        await rig.auth.refresh(pair.refresh_token)


async def test_purge_forgets_only_the_dead(store: Store) -> None:
    rig = Rig(store)
    old = await rig.auth.issue("alice")
    rig.clock.advance(1000)
    live = await rig.auth.issue("alice")
    rig.clock.advance(500)
    live = await rig.auth.refresh(live.refresh_token)
    rig.clock.advance(300)  # t=1800: the old session's absolute end
    assert await rig.auth.purge(batch=1) == 1
    refreshed = await rig.auth.refresh(live.refresh_token)
    await rig.auth.verify(refreshed.access_token)
    assert await store.session(old.session_id) is None


async def test_stateless_mode_never_reads_the_store(store: Store) -> None:
    rig = Rig(store, Policy(revocation="stateless"))
    pair = await rig.auth.issue("alice")
    await rig.auth.revoke_session(pair.session_id)
    claims = await rig.auth.verify(pair.access_token)  # documented trade-off
    assert claims.sub == "alice"


async def test_verify_cache_never_outlives_revocation_or_expiry(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice")
    first = await rig.auth.verify(pair.access_token)
    assert await rig.auth.verify(pair.access_token) is first, "a repeat is served from the cache"
    await rig.auth.revoke_session(pair.session_id)
    with pytest.raises(RevokedTokenError):
        await rig.auth.verify(pair.access_token)
    other = await rig.auth.issue("bob")
    await rig.auth.verify(other.access_token)
    rig.clock.advance(60)
    with pytest.raises(ExpiredTokenError):
        await rig.auth.verify(other.access_token)
    with pytest.raises(ExpiredTokenError):
        rig.auth.verify_stateless(other.access_token)


async def test_verify_cache_is_bounded_and_only_holds_verified_tokens(store: Store) -> None:
    clock = FrozenClock()
    auth = TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock, verify_cache=2)
    tokens = [(await auth.issue(f"user{i}")).access_token for i in range(3)]
    for token in tokens:
        await auth.verify(token)
    assert len(auth._verified) == 2
    assert tokens[0] not in auth._verified, "the oldest entry goes first"
    with pytest.raises(SignatureError):
        await auth.verify(tokens[2][:-2] + ("AA" if not tokens[2].endswith("AA") else "BB"))
    assert len(auth._verified) == 2
    off = TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock, verify_cache=0)
    await off.verify(tokens[0])
    assert off._verified == {}
