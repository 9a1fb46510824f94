"""Every lifecycle outcome increments exactly its counter, once (the real SDK)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import pytest

from tests.otel.conftest import KEYS, POLICY, Points, Rig, Telemetry
from tokenlife import (
    REFRESH_TYP,
    ExpiredTokenError,
    KeySet,
    Policy,
    ReuseDetectedError,
    RevokedTokenError,
    SignatureError,
    StoreError,
    TokenAuthority,
    TokenError,
    UnknownTokenError,
)
from tokenlife.otel import INSTRUMENTS, InstrumentedStore, instrument
from tokenlife.store import Store

pytestmark = pytest.mark.anyio

OTHER_KEYS = KeySet.from_secret(b"another-secret-nobody-trusts-here!!")
Pairs = tuple[tuple[str, str], ...]


async def delta(telemetry: Telemetry, action: Callable[[], Awaitable[object]]) -> Points:
    """The counters that moved while ``action`` ran, and by how much."""
    before = telemetry.counters()
    with contextlib.suppress(TokenError):
        await action()
    after = telemetry.counters()
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


def tampered(token: str) -> str:
    """The token with one character of its signature changed."""
    head, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    swapped = "B" if signature[middle] == "A" else "A"
    return f"{head}.{signature[:middle]}{swapped}{signature[middle + 1 :]}"


def one(name: str, **attributes: str) -> Points:
    pairs = tuple(sorted((f"tokenlife.{k}", v) for k, v in attributes.items()))
    return {(name, pairs): 1.0}


async def test_a_login_counts_one_session(rig: Rig, telemetry: Telemetry) -> None:
    assert await delta(telemetry, lambda: rig.auth.issue("alice")) == one("tokenlife.login")


async def test_verify_outcomes(rig: Rig, telemetry: Telemetry) -> None:
    pair = await rig.auth.issue("alice")
    foreign = TokenAuthority(rig.auth.store, keys=OTHER_KEYS, policy=POLICY, clock=rig.clock)
    forged = (await foreign.issue("mallory")).access_token

    async def verify(token: str) -> Points:
        return await delta(telemetry, lambda: rig.auth.verify(token))

    refused = {"outcome": "refused", "check": "strict"}
    assert await verify(pair.access_token) == one(
        "tokenlife.verify", outcome="valid", check="strict"
    )
    assert await verify("not.a.token") == one("tokenlife.verify", reason="malformed", **refused)
    assert await verify(forged) == one("tokenlife.verify", reason="unknown_key", **refused)
    assert await verify(tampered(pair.access_token)) == one(
        "tokenlife.verify", reason="bad_signature", **refused
    )
    await rig.auth.revoke_session(pair.session_id)
    assert await verify(pair.access_token) == one("tokenlife.verify", reason="revoked", **refused)
    rig.clock.advance(POLICY.access_ttl + 1)
    assert await verify(pair.access_token) == one("tokenlife.verify", reason="expired", **refused)


async def test_a_superseded_access_token_is_refused_for_that_reason(
    rig: Rig, telemetry: Telemetry
) -> None:
    pair = await rig.auth.issue("alice")
    rig.clock.advance(1)
    await rig.auth.refresh(pair.refresh_token)
    rig.clock.advance(POLICY.grace + 1)
    moved = await delta(telemetry, lambda: rig.auth.verify(pair.access_token))
    assert moved == one("tokenlife.verify", outcome="refused", check="strict", reason="superseded")


async def test_stateless_verification_is_counted_as_such(rig: Rig, telemetry: Telemetry) -> None:
    pair = await rig.auth.issue("alice")

    async def stateless(token: str) -> None:
        rig.auth.verify_stateless(token)

    moved = await delta(telemetry, lambda: stateless(pair.access_token))
    assert moved == one("tokenlife.verify", outcome="valid", check="stateless")
    moved = await delta(telemetry, lambda: stateless(pair.refresh_token))
    assert moved == one(
        "tokenlife.verify", outcome="refused", check="stateless", reason="wrong_type"
    )


async def test_verify_on_a_stateless_authority_is_stateless(
    store: Store, telemetry: Telemetry
) -> None:
    rig = Rig(store, telemetry, Policy(issuer="https://api.example", revocation="stateless"))
    pair = await rig.auth.issue("alice")
    moved = await delta(telemetry, lambda: rig.auth.verify(pair.access_token))
    assert moved == one("tokenlife.verify", outcome="valid", check="stateless")


async def test_refresh_outcomes(rig: Rig, telemetry: Telemetry) -> None:
    auth, clock = rig.auth, rig.clock

    async def refresh(token: str) -> Points:
        return await delta(telemetry, lambda: auth.refresh(token))

    first = await auth.issue("alice")
    clock.advance(1)
    assert await refresh(first.refresh_token) == one("tokenlife.refresh", outcome="rotated")
    assert await refresh(first.refresh_token) == one("tokenlife.refresh", outcome="grace_replay")
    clock.advance(POLICY.grace + 1)
    reuse = await refresh(first.refresh_token)
    assert reuse == one("tokenlife.refresh", outcome="reuse_detected", reason="reuse_detected")
    assert [event.kind for event in rig.events].count("reuse_detected") == 1

    revoked = await auth.issue("bob")
    await auth.revoke_session(revoked.session_id)
    assert await refresh(revoked.refresh_token) == one(
        "tokenlife.refresh", outcome="revoked", reason="revoked"
    )

    expired = await auth.issue("carol")
    clock.advance(POLICY.refresh_ttl + 1)
    assert await refresh(expired.refresh_token) == one(
        "tokenlife.refresh", outcome="expired", reason="expired"
    )

    stranger = TokenAuthority(auth.store, keys=OTHER_KEYS, policy=POLICY, clock=clock)
    forged = (await stranger.issue("mallory")).refresh_token
    assert await refresh(forged) == one(
        "tokenlife.refresh", outcome="invalid", reason="unknown_key"
    )
    assert await refresh(tampered(expired.refresh_token)) == one(
        "tokenlife.refresh", outcome="invalid", reason="bad_signature"
    )
    assert await refresh(first.access_token) == one(
        "tokenlife.refresh", outcome="invalid", reason="wrong_type"
    )
    # Well signed, never stored: the store answers "unknown".
    unknown = auth.codec.encode(
        {
            "sub": "dave",
            "sid": "no-such-session",
            "jti": "no-such-jti",
            "iat": int(clock()),
            "exp": int(clock()) + 60,
        },
        typ=REFRESH_TYP,
    )
    assert await refresh(unknown) == one(
        "tokenlife.refresh", outcome="invalid", reason="unknown_token"
    )


async def test_refresh_errors_are_the_documented_ones(rig: Rig) -> None:
    """The outcomes above are the errors the authority raises (counting changes nothing)."""
    first = await rig.auth.issue("alice")
    rig.clock.advance(1)
    await rig.auth.refresh(first.refresh_token)
    rig.clock.advance(POLICY.grace + 1)
    with pytest.raises(ReuseDetectedError):
        await rig.auth.refresh(first.refresh_token)
    with pytest.raises(RevokedTokenError):
        await rig.auth.refresh(first.refresh_token)
    rig.clock.advance(POLICY.refresh_ttl + 1)
    with pytest.raises(ExpiredTokenError):
        await rig.auth.refresh(first.refresh_token)
    with pytest.raises(SignatureError):
        await rig.auth.refresh(tampered(first.refresh_token))
    with pytest.raises(UnknownTokenError):
        await rig.auth.refresh(
            rig.auth.codec.encode(
                {
                    "sub": "x",
                    "sid": "y",
                    "jti": "z",
                    "iat": int(rig.clock()),
                    "exp": int(rig.clock()) + 9,
                },
                typ=REFRESH_TYP,
            )
        )


async def test_revocations_by_scope(rig: Rig, telemetry: Telemetry) -> None:
    auth = rig.auth

    async def moved(action: Callable[[], Awaitable[object]]) -> Points:
        return await delta(telemetry, action)

    pair = await auth.issue("alice")
    token = {"scope": "token"}
    assert await moved(lambda: auth.revoke(pair.access_token)) == one(
        "tokenlife.revocation", outcome="revoked", **token
    )
    rig.clock.advance(1)
    assert await moved(lambda: auth.revoke(pair.refresh_token)) == one(
        "tokenlife.revocation", outcome="already_revoked", **token
    )
    assert await moved(lambda: auth.revoke("not-a-token")) == one(
        "tokenlife.revocation", outcome="ignored", **token
    )
    other = await auth.issue("alice")
    assert await moved(lambda: auth.revoke_session(other.session_id)) == one(
        "tokenlife.revocation", scope="session", outcome="revoked"
    )
    rig.clock.advance(1)
    assert await moved(lambda: auth.revoke_session(other.session_id)) == one(
        "tokenlife.revocation", scope="session", outcome="already_revoked"
    )
    assert await moved(lambda: auth.revoke_session("no-such-session")) == one(
        "tokenlife.revocation", scope="session", outcome="unknown"
    )
    assert await moved(lambda: auth.revoke_subject("alice")) == one(
        "tokenlife.revocation", scope="subject", outcome="revoked"
    )


async def test_a_failed_store_counts_one_fail_closed_refusal(
    rig: Rig, telemetry: Telemetry
) -> None:
    """A closed store fails every call: each operation counts there, and nowhere else."""
    pair = await rig.auth.issue("alice")
    await rig.auth.store.close()
    operations: dict[str, Callable[[], Awaitable[object]]] = {
        "issue": lambda: rig.auth.issue("bob"),
        "verify": lambda: rig.auth.verify(pair.access_token),
        "refresh": lambda: rig.auth.refresh(pair.refresh_token),
        "revoke": lambda: rig.auth.revoke(pair.access_token),
        "revoke_session": lambda: rig.auth.revoke_session(pair.session_id),
        "revoke_subject": lambda: rig.auth.revoke_subject("alice"),
    }
    for operation, action in operations.items():

        async def failing(action: Callable[[], Awaitable[object]] = action) -> None:
            with pytest.raises(StoreError):
                await action()

        assert await delta(telemetry, failing) == one(
            "tokenlife.store.unavailable", operation=operation
        ), operation
    failed = [
        value
        for (name, attrs), value in telemetry.points().items()
        if name == "tokenlife.store.duration" and ("error.type", "store_unavailable") in attrs
    ]
    assert sum(failed) == len(operations)


async def test_store_calls_are_timed_by_operation_and_backend(
    rig: Rig, telemetry: Telemetry
) -> None:
    pair = await rig.auth.issue("alice")
    await rig.auth.verify(pair.access_token)
    await rig.auth.refresh(pair.refresh_token)
    assert isinstance(rig.auth.store, InstrumentedStore)
    backend = type(rig.auth.store.inner).__module__.split(".")[0].removeprefix("tokenlife_")
    timed = {
        dict(attrs)["tokenlife.store.operation"]: count
        for (name, attrs), count in telemetry.points().items()
        if name == "tokenlife.store.duration" and dict(attrs)["tokenlife.store.backend"] == backend
    }
    assert timed == {"create_session": 1, "access_status": 1, "refresh": 1}


async def test_every_attribute_value_is_one_the_table_lists(rig: Rig, telemetry: Telemetry) -> None:
    """Bounded cardinality: no value outside the documented lists, whatever happened."""
    await test_refresh_outcomes(rig, telemetry)
    await test_revocations_by_scope(rig, telemetry)
    listed = {
        spec.name: {attribute.key: set(attribute.values) for attribute in spec.attributes}
        for spec in INSTRUMENTS
    }
    for name, attrs in telemetry.points():
        for key, value in attrs:
            if key == "tokenlife.store.backend":
                assert value in {"memory", "sqlite"}
            else:
                assert value in listed[name][key], (name, key, value)


async def test_instrumenting_twice_counts_once(store: Store, telemetry: Telemetry) -> None:
    rig = Rig(store, telemetry)
    instrument(
        rig.auth,
        meter_provider=telemetry.meter_provider,
        tracer_provider=telemetry.tracer_provider,
    )
    moved = await delta(telemetry, lambda: rig.auth.issue("alice"))
    assert moved == one("tokenlife.login")
    timed = sum(v for (n, _), v in telemetry.points().items() if n == "tokenlife.store.duration")
    assert timed == 1


def test_the_keys_in_use() -> None:
    assert KEYS.can_sign


def test_every_error_code_is_a_listed_reason() -> None:
    """A refusal's reason is its error's code: each class's own code is on the list."""
    import tokenlife
    from tokenlife.otel._instruments import REASONS

    def codes(cls: type[tokenlife.TokenError]) -> set[str]:
        found = {cls.code}
        for sub in cls.__subclasses__():
            found |= codes(sub)
        return found

    assert codes(tokenlife.TokenError) <= set(REASONS)
