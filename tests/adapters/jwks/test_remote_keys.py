"""Remote key sets against a real HTTP server on 127.0.0.1, with an injected clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import msgspec
import pytest

from tests.adapters.jwks._issuer import Issuer, serving
from tokenlife import (
    ClaimError,
    Codec,
    ConfigurationError,
    KeySet,
    KeySetUnavailableError,
    RemoteKeyPolicy,
    SignatureError,
    TokenError,
    UnknownKeyError,
)
from tokenlife.testing import FrozenClock
from tokenlife_jwks import RemoteKeySet, RemoteVerifier

pytestmark = pytest.mark.anyio

ISSUER = "https://auth.example"
POLICY = RemoteKeyPolicy(
    algorithms=("EdDSA", "ES256"), min_interval=30, retry_interval=5, stale_window=600
)
OLD = KeySet.generate("EdDSA", kid="k-old")
NEW = KeySet.generate("ES256", kid="k-new")


def mint(keys: KeySet, clock: FrozenClock, *, issuer: str = ISSUER, **extra: Any) -> str:
    codec = Codec(keys, issuer=issuer, audience="api")
    now = int(clock())
    claims = {"sub": "alice", "sid": "s1", "jti": uuid.uuid4().hex, "iat": now, "exp": now + 600}
    return codec.encode({**claims, **extra})


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with serving() as running:
        running.publish(OLD)
        yield running


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(1_800_000_000)


@pytest.fixture
async def source(issuer: Issuer, clock: FrozenClock) -> AsyncIterator[RemoteKeySet]:
    async with RemoteKeySet(issuer.url, issuer=ISSUER, policy=POLICY, clock=clock) as opened:
        yield opened


@pytest.fixture
def verifier(source: RemoteKeySet) -> RemoteVerifier:
    return RemoteVerifier(source, audience="api")


async def test_first_token_fetches_then_the_cache_answers(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier
) -> None:
    for _ in range(20):
        claims = await verifier.verify(mint(OLD, clock))
        assert claims.sub == "alice"
    assert issuer.requests == 1


async def test_rotation_is_picked_up_within_one_min_interval_without_restart(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier
) -> None:
    await verifier.verify(mint(OLD, clock))
    issuer.publish(OLD, NEW)  # the issuer rotates right after our fetch
    clock.advance(1)
    with pytest.raises(UnknownKeyError):
        await verifier.verify(mint(NEW, clock))  # within min_interval: no fetch
    assert issuer.requests == 1
    clock.advance(29)
    assert (await verifier.verify(mint(NEW, clock))).sub == "alice"
    assert issuer.requests == 2
    assert (await verifier.verify(mint(OLD, clock))).sub == "alice"


async def test_a_retired_key_stops_verifying_once_the_issuer_drops_it(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier
) -> None:
    old_token = mint(OLD, clock)
    await verifier.verify(old_token)  # cached as verified, too
    issuer.publish(NEW)
    clock.advance(300)  # max-age over: refetch
    await verifier.verify(mint(NEW, clock))
    with pytest.raises(UnknownKeyError):
        await verifier.verify(old_token)


async def test_concurrent_verifications_during_rotation_share_one_fetch(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier
) -> None:
    await verifier.verify(mint(OLD, clock))
    issuer.publish(OLD, NEW)
    clock.advance(30)
    issuer.gate.clear()
    issuer.arrived.clear()
    tokens = [mint(NEW, clock) for _ in range(50)] + [mint(OLD, clock) for _ in range(10)]
    results: list[object] = []

    async def check(token: str) -> None:
        results.append((await verifier.verify(token)).sub)

    async with anyio.create_task_group() as group:
        for token in tokens:
            group.start_soon(check, token)
        await anyio.to_thread.run_sync(issuer.arrived.wait, 10)
        issuer.gate.set()
    assert results == ["alice"] * len(tokens)
    assert issuer.requests == 2  # the first load, and exactly one for the rotation


async def test_a_flood_of_random_kids_causes_at_most_one_fetch_per_interval(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier
) -> None:
    await verifier.verify(mint(OLD, clock))
    accepted = 0
    for i in range(2000):
        forged = KeySet.from_secret(b"x" * 32, kid=f"forged-{i}")  # made-up kid, wrong alg
        try:
            await verifier.verify(mint(forged, clock))
            accepted += 1
        except TokenError:
            pass
        clock.advance(0.0005)
    assert accepted == 0
    assert issuer.requests == 1  # the one second passed within min_interval of the load


async def test_issuer_down_serves_stale_keys_for_the_window_then_fails_closed(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier
) -> None:
    await verifier.verify(mint(OLD, clock))
    issuer.down = True
    clock.advance(300 + 599)  # past max-age, inside the stale window
    assert (await verifier.verify(mint(OLD, clock))).sub == "alice"
    clock.advance(1)
    with pytest.raises(KeySetUnavailableError) as caught:
        await verifier.verify(mint(OLD, clock))
    assert caught.value.code == "keys_unavailable"
    issuer.down = False
    clock.advance(5)  # the retry interval
    assert (await verifier.verify(mint(OLD, clock))).sub == "alice"


HOSTILE = {
    "non-JSON": (b"<html>502 Bad Gateway</html>", "not valid"),
    "wrong types": (b'{"keys": "all of them"}', '"keys" array'),
    "huge": (b'{"keys": [' + b" " * (POLICY.max_document_bytes + 10) + b"]}", "larger"),
    "duplicate kids": (
        msgspec.json.encode({"keys": OLD.public_jwks()["keys"] * 2}),
        "duplicate",
    ),
    "private members": (
        msgspec.json.encode({"keys": [{**OLD.public_jwks()["keys"][0], "d": "AAAA"}]}),
        "private",
    ),
    "alg outside the allow-list": (
        msgspec.json.encode(KeySet.generate("RS256", kid="r").public_jwks()),
        "no key",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_documents_fail_closed_with_a_typed_error(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier, case: str
) -> None:
    issuer.body, needle = HOSTILE[case]
    with pytest.raises(KeySetUnavailableError, match=needle):
        await verifier.verify(mint(OLD, clock))


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_hostile_documents_keep_the_last_good_keys(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier, case: str
) -> None:
    await verifier.verify(mint(OLD, clock))
    issuer.body = HOSTILE[case][0]
    clock.advance(300)
    assert (await verifier.verify(mint(OLD, clock))).sub == "alice"
    assert verifier.sources[0].state.last_error is not None


async def test_http_errors_are_failures_not_documents(
    issuer: Issuer, clock: FrozenClock, verifier: RemoteVerifier
) -> None:
    issuer.status = 500
    with pytest.raises(KeySetUnavailableError, match="HTTP 500"):
        await verifier.verify(mint(OLD, clock))


async def test_several_issuers_each_with_its_own_key_set(clock: FrozenClock) -> None:
    with serving() as one, serving() as two:
        one.publish(OLD)
        two.publish(NEW)
        async with (
            RemoteKeySet(one.url, issuer="https://one", policy=POLICY, clock=clock) as a,
            RemoteKeySet(two.url, issuer="https://two", policy=POLICY, clock=clock) as b,
        ):
            verifier = RemoteVerifier([a, b], audience="api")
            assert (await verifier.verify(mint(OLD, clock, issuer="https://one"))).sub == "alice"
            assert (await verifier.verify(mint(NEW, clock, issuer="https://two"))).sub == "alice"
            # Issuer one's key, claiming to be issuer two: two's keys do not verify it.
            with pytest.raises((UnknownKeyError, SignatureError)):
                await verifier.verify(mint(OLD, clock, issuer="https://two"))
            with pytest.raises(ClaimError, match="not trusted"):
                await verifier.verify(mint(OLD, clock, issuer="https://three"))


async def test_configuration_is_checked(issuer: Issuer) -> None:
    with pytest.raises(ConfigurationError, match="https"):
        RemoteKeySet("http://auth.example/jwks", issuer=ISSUER, algorithms=("RS256",))
    with pytest.raises(ConfigurationError, match="public keys"):
        RemoteKeySet(issuer.url, issuer=ISSUER, algorithms=("HS256",))
    with pytest.raises(ConfigurationError):
        RemoteKeySet(issuer.url, issuer=ISSUER)
