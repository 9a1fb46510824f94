"""One session's life with the core alone: issue, verify, refresh, replay, reuse.

Run it with ``python docs/examples/lifecycle_tour.py``. The clock is a
``FrozenClock`` only so the tour can move time; leave ``clock`` out in an
application and the authority reads the system clock.
"""

from __future__ import annotations

import asyncio

from tokenlife import (
    KeySet,
    Policy,
    ReuseDetectedError,
    RevokedTokenError,
    TokenAuthority,
)
from tokenlife.store import Store
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore


# --8<-- [start:authority]
def make_authority(store: Store, clock: FrozenClock) -> TokenAuthority:
    keys = KeySet.from_secret(b"a secret of at least thirty-two bytes, from your vault")
    policy = Policy(
        issuer="https://api.example",
        audience="api",
        access_ttl=900,  # 15 minutes
        refresh_ttl=14 * 86400,  # idle limit: a refresh token unused this long is dead
        session_ttl=30 * 86400,  # absolute limit from login; rotation never extends it
        grace=10,  # how long a rotated refresh token still gets the same successor
    )
    return TokenAuthority(store, keys=keys, policy=policy, clock=clock)


# --8<-- [end:authority]


async def tour(auth: TokenAuthority, clock: FrozenClock) -> None:
    # --8<-- [start:issue]
    pair = await auth.issue("alice", scopes=["read"], claims={"tenant": "acme"})
    claims = await auth.verify(pair.access_token)
    assert claims.subject == "alice"
    assert claims.scopes == ("read",)
    assert claims.get("tenant") == "acme"
    assert claims.fresh  # straight from a login
    # --8<-- [end:issue]

    # --8<-- [start:refresh]
    clock.advance(600)
    second = await auth.refresh(pair.refresh_token)  # rotation: a new pair
    assert second.session_id == pair.session_id
    assert second.refresh_token != pair.refresh_token
    assert not (await auth.verify(second.access_token)).fresh

    # Another tab sends the same, now rotated, token 2 s later: inside the
    # grace window it receives the very same successor, and nothing changes.
    clock.advance(2)
    again = await auth.refresh(pair.refresh_token)
    assert again.refresh_token == second.refresh_token
    # --8<-- [end:refresh]

    # --8<-- [start:superseded]
    # Once the grace window has passed, access tokens minted before the
    # refresh stop working: a refresh leaves no trail of live access tokens.
    clock.advance(10)
    try:
        await auth.verify(pair.access_token)
    except RevokedTokenError as error:
        print("access token from before the refresh refused:", error.code)  # superseded
    else:
        raise AssertionError("an access token from before the refresh must be refused")
    # --8<-- [end:superseded]

    # --8<-- [start:reuse]
    # Someone replays the first refresh token after the grace window:
    # a thief, or the legitimate client after the thief. Either way the
    # session is no longer trustworthy, and all of it dies.
    try:
        await auth.refresh(pair.refresh_token)
    except ReuseDetectedError as error:
        print("replay refused:", error.code)  # reuse_detected
    else:
        raise AssertionError("a replay after the grace window must be refused")
    try:
        await auth.refresh(second.refresh_token)  # the newest token dies too
    except RevokedTokenError as error:
        print("newest refresh token refused:", error.code)  # revoked
    else:
        raise AssertionError("the newest token of a revoked session must be refused")
    # --8<-- [end:reuse]


async def main() -> None:
    clock = FrozenClock()
    async with MemoryStore() as store:
        await tour(make_authority(store, clock), clock)
    print("tour complete")


if __name__ == "__main__":
    asyncio.run(main())
