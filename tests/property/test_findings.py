"""Where the implementation and the design documents part ways, found while modelling.

Each test states the document's wording as a minimal check; every store
must pass it.
"""

from __future__ import annotations

import time

import anyio
import pytest

from tests import backends
from tokenlife import KeySet, Policy, RevokedTokenError, TokenAuthority
from tokenlife.store import Store
from tokenlife.testing import FrozenClock, SequentialIds

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"findings-tests-secret-of-32-bytes!!")


async def test_a_refresh_supersedes_an_access_token_from_earlier_in_the_same_second(
    store: Store,
) -> None:
    # docs/design/lifecycle.md#refresh: "access tokens issued earlier in the session stop
    # working once `grace` has passed, so a refresh never leaves a trail of valid
    # access tokens."
    clock = FrozenClock(1_800_000_000.25)
    auth = TokenAuthority(
        store, keys=KEYS, policy=Policy(access_ttl=60, grace=10), clock=clock, ids=SequentialIds()
    )
    login = await auth.issue("alice")
    clock.advance(0.5)  # the refresh comes half a second later, in the same second
    await auth.refresh(login.refresh_token)
    clock.advance(11)  # past the grace window, well inside the access token's 60 s
    refused: str | None = None
    try:
        await auth.verify(login.access_token)
    except RevokedTokenError as exc:
        refused = exc.code
    assert refused == "superseded", "the access token from before the refresh is still accepted"


async def test_records_do_not_vanish_on_the_store_servers_clock(
    backend: backends.Backend, store: Store, request: pytest.FixtureRequest
) -> None:
    # docs/design/architecture.md#layers-and-what-each-may-touch: "Stores never read a clock".
    # docs/design/lifecycle.md#what-the-store-keeps: "Expiry is derived from `now`, never
    # stored, so correctness never depends on a sweeper." Here the application's
    # clock runs 35 minutes behind the store's host; a session with ten seconds
    # left must still refresh.
    policy = Policy(access_ttl=60, refresh_ttl=1800, session_ttl=1800)
    retention = 300.0  # RedisStore's default; the other stores keep records until purge
    started = time.time()
    # Chosen so that "session end + retention" is one second ahead of the wall clock.
    clock = FrozenClock(started + 1.0 - policy.session_ttl - retention)
    auth = TokenAuthority(store, keys=KEYS, policy=policy, clock=clock, ids=SequentialIds())
    login = await auth.issue("alice")
    if time.time() - started > 0.8:
        pytest.skip("the machine is too busy to set the scene inside the second")
    await anyio.sleep(1.5)
    clock.advance(policy.session_ttl - 10)
    pair = await auth.refresh(login.refresh_token)
    assert pair.session_id == login.session_id
