"""DPoP-bound sessions through TokenAuthority, on every store (RFC 9449 §5-6).

The binding is a signed ``cnf.jkt`` claim in every token of the session, so
each check here is made before the store is asked anything.
"""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from tests.stores.test_authority import KEYS, POLICY, Rig
from tokenlife import (
    ACCESS_TYP,
    REFRESH_TYP,
    ClaimError,
    DPoPBindingError,
    TokenAuthority,
)
from tokenlife.store import Store
from tokenlife.testing import FrozenClock, SequentialIds

pytestmark = pytest.mark.anyio

#: RFC 7638 §3.1's example thumbprint, and another key's.
JKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
OTHER = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"


async def test_a_bound_session_carries_cnf_in_both_tokens(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice", jkt=JKT)
    assert pair.token_type == "DPoP"
    assert pair.to_response()["token_type"] == "DPoP"
    codec = rig.auth.codec
    access = codec.decode(pair.access_token, typ=ACCESS_TYP, now=rig.clock())
    refresh = codec.decode(pair.refresh_token, typ=REFRESH_TYP, now=rig.clock())
    assert access.jkt == refresh.jkt == JKT
    assert access.to_dict()["cnf"] == {"jkt": JKT}
    assert (await rig.auth.verify(pair.access_token, JKT)).jkt == JKT


async def test_a_bound_access_token_needs_its_own_key(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice", jkt=JKT)
    with pytest.raises(DPoPBindingError) as bearer:
        await rig.auth.verify(pair.access_token)
    assert bearer.value.code == "dpop_required"
    with pytest.raises(DPoPBindingError) as other:
        await rig.auth.verify(pair.access_token, OTHER)
    assert other.value.code == "dpop_key_mismatch"
    with pytest.raises(DPoPBindingError):
        rig.auth.verify_stateless(pair.access_token)
    assert rig.auth.verify_stateless(pair.access_token, JKT).jkt == JKT


async def test_a_bound_refresh_needs_its_own_key_and_revokes_nothing(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice", jkt=JKT)
    rig.clock.advance(5)
    for jkt, code in ((None, "dpop_required"), (OTHER, "dpop_key_mismatch")):
        with pytest.raises(DPoPBindingError) as refused:
            await rig.auth.refresh(pair.refresh_token, jkt)
        assert refused.value.code == code
    assert [(e.kind, e.reason) for e in rig.events] == [
        ("dpop_binding_refused", "dpop_required"),
        ("dpop_binding_refused", "dpop_key_mismatch"),
    ]
    session = await store.session(pair.session_id)
    assert session is not None and session.revoked_at is None, "a thief cannot log its owner out"
    record = await store.refresh_record(session.current_jti)
    assert record is not None and record.successor_jti is None, "nothing rotated"
    second = await rig.auth.refresh(pair.refresh_token, JKT)
    assert second.token_type == "DPoP"
    rig.clock.advance(30)
    third = await rig.auth.refresh(second.refresh_token, JKT)
    codec = rig.auth.codec
    assert codec.decode(third.refresh_token, typ=REFRESH_TYP, now=rig.clock()).jkt == JKT
    assert (await rig.auth.verify(third.access_token, JKT)).jkt == JKT


async def test_a_grace_replay_keeps_the_binding(store: Store) -> None:
    rig = Rig(store)
    pair = await rig.auth.issue("alice", jkt=JKT)
    first = await rig.auth.refresh(pair.refresh_token, JKT)
    again = await rig.auth.refresh(pair.refresh_token, JKT)
    assert again.refresh_token == first.refresh_token
    with pytest.raises(DPoPBindingError):
        await rig.auth.refresh(pair.refresh_token)


async def test_bearer_and_bound_sessions_coexist(store: Store) -> None:
    rig = Rig(store)
    bearer = await rig.auth.issue("bob")
    bound = await rig.auth.issue("alice", jkt=JKT)
    assert bearer.token_type == "bearer"
    assert (await rig.auth.verify(bearer.access_token)).jkt is None
    with pytest.raises(DPoPBindingError) as proof_with_bearer:
        await rig.auth.verify(bearer.access_token, JKT)
    assert proof_with_bearer.value.code == "dpop_not_bound"
    # Binding is decided at login: a proof on a bearer session's refresh binds nothing.
    refreshed = await rig.auth.refresh(bearer.refresh_token, JKT)
    assert refreshed.token_type == "bearer"
    assert (await rig.auth.verify(refreshed.access_token)).jkt is None
    assert (await rig.auth.verify(bound.access_token, JKT)).subject == "alice"


async def test_a_policy_can_require_dpop(store: Store) -> None:
    clock = FrozenClock()
    lax = TokenAuthority(store, keys=KEYS, policy=POLICY, clock=clock, ids=SequentialIds())
    strict = TokenAuthority(
        store,
        keys=KEYS,
        policy=replace(POLICY, require_dpop=True),
        clock=clock,
        ids=SequentialIds("x"),
    )
    with pytest.raises(DPoPBindingError):
        await strict.issue("alice")
    unbound = await lax.issue("bob")
    with pytest.raises(DPoPBindingError) as refused:
        await strict.verify(unbound.access_token)
    assert refused.value.code == "dpop_required"
    with pytest.raises(DPoPBindingError):
        await strict.refresh(unbound.refresh_token, JKT)
    bound = await strict.issue("alice", jkt=JKT)
    assert (await strict.verify(bound.access_token, JKT)).jkt == JKT
    assert (await strict.refresh(bound.refresh_token, JKT)).token_type == "DPoP"


async def test_cnf_is_reserved_and_jkt_must_be_a_thumbprint(store: Store) -> None:
    rig = Rig(store)
    with pytest.raises(ClaimError) as reserved:
        await rig.auth.issue("alice", claims={"cnf": {"jkt": JKT}})
    assert reserved.value.code == "reserved_claim"
    for bad in ("", "short", JKT + " ", "a" * 129, "é" * 43):
        with pytest.raises(ClaimError) as refused:
            await rig.auth.issue("alice", jkt=bad)
        assert refused.value.code == "bad_jkt"
    assert await store.sessions("alice") == []
