"""The core examples: the lifecycle tour, keys, revocation, stores and a custom store."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import pytest

from docs.examples import keys, lifecycle_tour, revocation, stores
from docs.examples.dict_store import DictStore
from docs.examples.store_contract import anyio_backend as anyio_backend
from docs.examples.store_contract import test_store_contract as test_store_contract
from tests.docs.conftest import SECRET, make_authority
from tokenlife import (
    Codec,
    KeySet,
    ReuseDetectedError,
    RevokedTokenError,
    StoreError,
    TokenAuthority,
)
from tokenlife.testing import FrozenClock
from tokenlife_memory import MemoryStore
from tokenlife_sqlite import SQLiteStore

pytestmark = pytest.mark.anyio


# -- the tour ---------------------------------------------------------------------


async def test_the_lifecycle_tour_runs_as_documented(capsys: pytest.CaptureFixture[str]) -> None:
    await lifecycle_tour.main()
    assert capsys.readouterr().out.splitlines() == [
        "access token from before the refresh refused: superseded",
        "replay refused: reuse_detected",
        "newest refresh token refused: revoked",
        "tour complete",
    ]


# -- keys -------------------------------------------------------------------------


def test_a_secret_from_the_environment_signs_and_verifies() -> None:
    keyset = keys.keys_from_environment({"TOKENLIFE_SECRET": SECRET})
    codec = Codec(keyset)
    token = codec.encode({"sub": "alice", "exp": 4_000_000_000})
    assert codec.decode(token, now=1_800_000_000).subject == "alice"
    assert keyset.public_jwks() == {"keys": []}  # a secret is never published


def test_a_published_jwks_verifies_but_cannot_sign() -> None:
    keyset, jwks = keys.signing_keys()
    assert all("d" not in jwk for jwk in jwks["keys"])
    signer = Codec(keyset, issuer="https://api.example", audience="api")
    token = signer.encode({"sub": "alice", "exp": 4_000_000_000})
    verifier = keys.verifier_elsewhere(jwks)
    assert verifier.decode(token, now=1_800_000_000).subject == "alice"
    assert not verifier.keys.can_sign


def test_a_rotated_key_set_still_verifies_old_tokens() -> None:
    old = KeySet.from_secret(SECRET)
    old_token = Codec(old).encode({"sub": "alice", "exp": 4_000_000_000})
    rotated = keys.rotate(old, "a-brand-new-secret-of-more-than-32-bytes")
    codec = Codec(rotated)
    assert codec.decode(old_token, now=1_800_000_000).subject == "alice"
    new_token = codec.encode({"sub": "bob", "exp": 4_000_000_000})
    assert codec.peek_header(new_token)["kid"] != codec.peek_header(old_token)["kid"]


# -- revocation -------------------------------------------------------------------


async def test_logout_and_devices(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = make_authority(store, clock)
        laptop = await revocation.login(auth, "alice", "Firefox", "192.0.2.1")
        clock.advance(60)
        await revocation.login(auth, "alice", "Safari", "192.0.2.2")
        listed = await revocation.devices(auth, "alice")
        assert [d["user_agent"] for d in listed] == ["Firefox", "Safari"]
        assert listed[0]["ip"] == "192.0.2.1"

        await revocation.logout(auth, laptop)
        await revocation.logout(auth, laptop)  # idempotent
        await revocation.logout(auth, "not a token")  # ignored
        with pytest.raises(RevokedTokenError):
            await auth.verify(laptop)
        assert [d["user_agent"] for d in await revocation.devices(auth, "alice")] == ["Safari"]

        phone = (await revocation.devices(auth, "alice"))[0]["id"]
        assert not await revocation.sign_out_device(auth, "mallory", phone)
        assert await revocation.sign_out_device(auth, "alice", phone)
        assert await revocation.devices(auth, "alice") == []


async def test_log_out_everywhere(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = make_authority(store, clock)
        pairs = [await auth.issue("alice") for _ in range(3)]
        other = await auth.issue("bob")
        clock.advance(1)
        assert await revocation.password_changed(auth, "alice") == 3
        for pair in pairs:
            with pytest.raises(RevokedTokenError):
                await auth.verify(pair.access_token)
            with pytest.raises(RevokedTokenError):
                await auth.refresh(pair.refresh_token)
        await auth.verify(other.access_token)
        clock.advance(1)
        await auth.verify((await auth.issue("alice")).access_token)  # a new login works


async def test_log_out_everywhere_else(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = make_authority(store, clock)
        here, *elsewhere = [await auth.issue("alice") for _ in range(3)]
        other = await auth.issue("bob")
        assert await revocation.sign_out_other_devices(auth, here.access_token) == 2
        await auth.verify(here.access_token)
        for pair in elsewhere:
            with pytest.raises(RevokedTokenError):
                await auth.verify(pair.access_token)
        await auth.verify(other.access_token)
        clock.advance(1)
        await auth.refresh(here.refresh_token)


async def test_a_session_limit_ends_the_oldest(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = revocation.limited_authority(store, KeySet.from_secret(SECRET))
        auth = TokenAuthority(
            store, keys=KeySet.from_secret(SECRET), policy=auth.policy, clock=clock
        )
        pairs = []
        for _ in range(6):
            pairs.append(await auth.issue("alice"))
            clock.advance(1)
        with pytest.raises(RevokedTokenError):
            await auth.verify(pairs[0].access_token)
        assert [s.sid for s in await auth.sessions("alice")] == [p.session_id for p in pairs[1:]]


async def test_the_event_hook_reports_reuse(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with MemoryStore() as store:
        built = revocation.make_authority(store, KeySet.from_secret(SECRET))
        assert built._on_event is revocation.on_event
        auth = TokenAuthority(
            store, keys=KeySet.from_secret(SECRET), clock=clock, on_event=revocation.on_event
        )
        pair = await auth.issue("alice")
        await auth.refresh(pair.refresh_token)
        clock.advance(60)
        with (
            caplog.at_level(logging.WARNING, logger="myapp.security"),
            pytest.raises(ReuseDetectedError),
        ):
            await auth.refresh(pair.refresh_token)
        assert "refresh token reuse: subject=alice" in caplog.text


async def test_stateless_mode_trades_immediate_logout_for_no_store_read() -> None:
    async with MemoryStore() as store:
        auth = revocation.stateless_authority(store, KeySet.from_secret(SECRET))
        assert auth.policy.revocation == "stateless"
        pair = await auth.issue("alice")
        await auth.revoke(pair.access_token)
        # Still valid until exp: nothing asks the store...
        assert (await auth.verify(pair.access_token)).subject == "alice"
        # ...but the session is gone, so it cannot be refreshed.
        with pytest.raises(RevokedTokenError):
            await auth.refresh(pair.refresh_token)


# -- stores -----------------------------------------------------------------------


async def test_each_documented_store_opens(tmp_path: Path, clock: FrozenClock) -> None:
    memory = stores.memory_store()
    assert isinstance(memory, MemoryStore)
    sqlite = stores.sqlite_store(str(tmp_path / "tokens.sqlite3"))
    assert isinstance(sqlite, SQLiteStore)
    for store in (memory, sqlite):
        async with store:
            auth = make_authority(store, clock)
            pair = await auth.issue("alice")
            await auth.verify(pair.access_token)
    assert (tmp_path / "tokens.sqlite3").exists()


async def test_redis_stores_are_built_from_a_url() -> None:
    from tokenlife_redis import RedisStore

    single = stores.redis_store("redis://127.0.0.1:6379/0")
    assert isinstance(single, RedisStore)
    assert single.prefix == "myapp:tokens:"
    await single.close()  # never connected: nothing to reach
    cluster = stores.redis_cluster_store("redis://127.0.0.1:7000/0")
    assert isinstance(cluster, RedisStore)


async def test_the_postgres_store_is_built_from_a_dsn() -> None:
    from tokenlife_postgres import PostgresStore

    store = stores.postgres_store("postgresql://app@127.0.0.1:5432/app")
    assert isinstance(store, PostgresStore)
    assert (store.schema, store.command_timeout) == ("tokenlife", 5.0)
    await store.close()  # never connected: nothing to reach


async def test_purge_forever_removes_expired_sessions(clock: FrozenClock) -> None:
    async with MemoryStore() as store:
        auth = make_authority(store, clock, session_ttl=3600, refresh_ttl=3600, access_ttl=60)
        expired = await auth.issue("alice")
        clock.advance(3600 + 1)
        live = await auth.issue("alice")
        with anyio.move_on_after(0.2):
            await stores.purge_forever(auth, every=0.01)
        assert await store.session(expired.session_id) is None
        assert await store.session(live.session_id) is not None


async def test_purge_forever_survives_a_store_failure(
    clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    await store.close()
    auth: TokenAuthority = make_authority(store, clock)
    with caplog.at_level(logging.ERROR, logger="myapp.tokens"), anyio.move_on_after(0.05):
        await stores.purge_forever(auth, every=0.01)
    assert "purge failed" in caplog.text
    with pytest.raises(StoreError):
        await auth.purge()


# -- the custom store -----------------------------------------------------------


async def test_the_dict_store_runs_a_lifecycle(clock: FrozenClock) -> None:
    async with DictStore() as store:
        auth = make_authority(store, clock)
        pair = await auth.issue("alice")
        clock.advance(1)
        successor = await auth.refresh(pair.refresh_token)
        await auth.verify(successor.access_token)
        clock.advance(60)
        with pytest.raises(ReuseDetectedError):
            await auth.refresh(pair.refresh_token)
    with pytest.raises(StoreError):
        await store.session(pair.session_id)  # closed: fails closed


# ``test_store_contract`` (imported above from docs/examples/store_contract.py)
# runs the whole contract against the DictStore, exactly as the page shows it.
