"""Time in the rules, on every store: exact supersession, whole lifetimes, and a
clock that steps back never opens a window (no negative elapsed time is inside one)."""

from __future__ import annotations

import math

import pytest

from tokenlife import (
    ClaimError,
    KeySet,
    NotYetValidError,
    Policy,
    ReuseDetectedError,
    RevokedTokenError,
    SecurityEvent,
    TokenAuthority,
)
from tokenlife.store import Store
from tokenlife.testing import FrozenClock, SequentialIds

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"time-tests-secret-of-at-least-32-bytes")
T = 1_800_000_000.0


def authority(
    store: Store, clock: FrozenClock, events: list[SecurityEvent] | None = None, **policy: float
) -> TokenAuthority:
    settings: dict[str, float] = {
        "access_ttl": 60,
        "refresh_ttl": 86_400 * 3,
        "session_ttl": 86_400 * 7,
        "grace": 10,
    }
    settings.update(policy)
    return TokenAuthority(
        store,
        keys=KEYS,
        policy=Policy(**settings),  # type: ignore[arg-type]
        clock=clock,
        ids=SequentialIds(),
        on_event=None if events is None else events.append,
    )


async def reason(call: object) -> str | None:
    try:
        await call  # type: ignore[misc]
    except RevokedTokenError as error:
        return error.code
    return None


# -- exact supersession ------------------------------------------------------------------


@pytest.mark.parametrize("step", [0.0, 0.001, 0.4])
async def test_a_refresh_supersedes_the_access_token_before_it_whatever_the_instant(
    store: Store, step: float
) -> None:
    clock = FrozenClock(T + 0.25)
    auth = authority(store, clock)
    login = await auth.issue("alice")
    clock.advance(step)
    refreshed = await auth.refresh(login.refresh_token)
    await auth.verify(login.access_token)  # inside grace: requests in flight finish
    clock.advance(9.999)
    await auth.verify(login.access_token)
    clock.advance(0.001)  # the grace window after the rotation has passed
    assert await reason(auth.verify(login.access_token)) == "superseded"
    await auth.verify(refreshed.access_token)


async def test_two_generations_back_is_superseded_at_once(store: Store) -> None:
    clock = FrozenClock(T)
    auth = authority(store, clock)
    login = await auth.issue("alice")
    second = await auth.refresh(login.refresh_token)
    await auth.refresh(second.refresh_token)
    # Same instant, both refreshes inside grace: the first token is two generations old.
    assert await reason(auth.verify(login.access_token)) == "superseded"
    await auth.verify(second.access_token)


# -- whole lifetimes, sizes ------------------------------------------------------------------


@pytest.mark.parametrize("start", [T, T + 0.25, T + 0.75, T + 0.999])
async def test_exp_never_cuts_a_lifetime_short(store: Store, start: float) -> None:
    clock = FrozenClock(start)
    auth = authority(store, clock, access_ttl=0.5)
    pair = await auth.issue("alice")
    claims = auth.codec.peek_claims(pair.access_token)
    assert start + 0.5 <= claims["exp"] < start + 1.5
    assert claims["iat"] == math.floor(start)
    await auth.verify(pair.access_token)  # not born expired


@pytest.mark.parametrize(
    ("subject", "claims"),
    [("a" * 6000, {}), ("alice", {"blob": "x" * 7000}), ("alice", {"many": list(range(2000))})],
)
async def test_a_session_whose_tokens_are_too_large_is_refused_before_it_is_stored(
    store: Store, subject: str, claims: dict[str, object]
) -> None:
    auth = authority(store, FrozenClock(T))
    with pytest.raises(ClaimError) as refused:
        await auth.issue(subject, claims=claims)
    assert refused.value.code == "token_too_large"
    assert "8192" in str(refused.value)
    assert await auth.sessions(subject) == []


async def test_the_largest_session_accepted_keeps_working_for_many_generations(
    store: Store,
) -> None:
    clock = FrozenClock(T)
    auth = authority(store, clock)
    size = 2000
    while True:  # the largest claim the limit lets through
        try:
            pair = await auth.issue("alice", claims={"blob": "x" * size})
        except ClaimError:
            break
        size += 500
    clock.advance(1)
    for _ in range(12):
        pair = await auth.refresh(pair.refresh_token)
        await auth.verify(pair.access_token)


# -- a clock that steps back ---------------------------------------------------------------


async def test_a_clock_stepped_back_mints_nothing_from_a_rotated_token(store: Store) -> None:
    clock, events = FrozenClock(T), list[SecurityEvent]()
    auth = authority(store, clock, events)
    login = await auth.issue("alice")
    clock.advance(100)
    current = await auth.refresh(login.refresh_token)
    clock.now = T + 50  # the clock steps back before the rotation
    assert await reason(auth.refresh(login.refresh_token)) == "clock_behind"
    # Nothing revoked either: the clock cannot tell reuse from a late clock.
    assert [s.revoked for s in await auth.sessions("alice")] == [False]
    assert not events
    clock.now = T + 100.5
    successor = await auth.refresh(current.refresh_token)
    await auth.verify(successor.access_token)


async def test_a_day_forward_and_back_does_not_revive_a_rotated_token(store: Store) -> None:
    clock = FrozenClock(T)
    auth = authority(store, clock)
    login = await auth.issue("alice")
    clock.advance(100)
    second = await auth.refresh(login.refresh_token)
    clock.advance(86_400)  # a day ahead: the client refreshes there
    await auth.refresh(second.refresh_token)
    clock.now = T + 101  # and back, one second after the first rotation
    with pytest.raises(ReuseDetectedError):
        await auth.refresh(login.refresh_token)


async def test_an_older_generation_is_not_inside_grace_before_its_rotation(store: Store) -> None:
    clock = FrozenClock(T)
    auth = authority(store, clock, access_ttl=300)
    login = await auth.issue("alice")
    clock.advance(100)
    refreshed = await auth.refresh(login.refresh_token)
    clock.now = T + 95  # before the rotation: a negative elapsed time
    assert await reason(auth.verify(login.access_token)) == "superseded"
    with pytest.raises(NotYetValidError):  # and the newer one is from its future
        await auth.verify(refreshed.access_token)
    clock.now = T + 100
    await auth.verify(refreshed.access_token)


async def test_no_token_outlives_its_session_even_at_a_fraction_of_a_second(
    store: Store,
) -> None:
    clock = FrozenClock(T + 0.25)
    auth = authority(store, clock, session_ttl=100, refresh_ttl=100, access_ttl=100)
    pair = await auth.issue("alice")
    session_end = T + 100.25
    for token in (pair.access_token, pair.refresh_token):
        assert auth.codec.peek_claims(token)["exp"] <= session_end
    clock.advance(50.5)
    pair = await auth.refresh(pair.refresh_token)
    for token in (pair.access_token, pair.refresh_token):
        assert auth.codec.peek_claims(token)["exp"] == math.floor(session_end)
