"""Where the implementation and LIFECYCLE.md part ways, found while modelling.

Each test is a minimal reproduction of the document's wording, marked
``xfail(strict=True)``: it fails today, and turns the suite red once it passes,
so the mark can go (and the matching reading in ``model.py``'s docstring with it).
"""

from __future__ import annotations

import pytest

from tokenlife import KeySet, Policy, RevokedTokenError, TokenAuthority
from tokenlife.store import Store
from tokenlife.testing import FrozenClock, SequentialIds

pytestmark = pytest.mark.anyio

KEYS = KeySet.from_secret(b"findings-tests-secret-of-32-bytes!!")


@pytest.mark.xfail(
    strict=True,
    reason=(
        "access_floor is the refresh time truncated to the second and tokens carry "
        "whole-second iat, so an access token minted earlier in the same second as a "
        "refresh is not 'issued earlier' and outlives the grace window"
    ),
)
async def test_a_refresh_supersedes_an_access_token_from_earlier_in_the_same_second(
    store: Store,
) -> None:
    # LIFECYCLE.md, Refresh: "After a refresh, access tokens issued earlier in the
    # same session stop working once the grace window has passed (access_floor),
    # so a refresh never leaves a trail of valid access tokens."
    clock = FrozenClock(1_800_000_000.25)
    auth = TokenAuthority(
        store, keys=KEYS, policy=Policy(access_ttl=60, grace=10), clock=clock, ids=SequentialIds()
    )
    login = await auth.issue("alice")
    clock.advance(0.5)  # the refresh comes half a second later, in the same second
    await auth.refresh(login.refresh_token)
    clock.advance(11)  # past the grace window, well inside the access token's 60 s
    with pytest.raises(RevokedTokenError):
        await auth.verify(login.access_token)
