"""The remote key-set state machine and the JWKS judge: plain functions, an injected clock."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokenlife import (
    ConfigurationError,
    JWKSError,
    KeySet,
    KeySetUnavailableError,
    RemoteKeyPolicy,
    RemoteKeyState,
    UnknownKeyError,
)
from tokenlife.remote import Fetch, Refuse, UseKeys, Wait, parse_jwks

POLICY = RemoteKeyPolicy(
    algorithms=("EdDSA", "ES256"),
    min_interval=30,
    retry_interval=5,
    default_max_age=300,
    min_max_age=60,
    max_max_age=3600,
    stale_window=600,
)


def _jwks(*sets: KeySet) -> bytes:
    return msgspec.json.encode({"keys": [jwk for s in sets for jwk in s.public_jwks()["keys"]]})


OLD = KeySet.generate("EdDSA", kid="old")
NEW = KeySet.generate("ES256", kid="new")


def _loaded(now: float = 0.0, *sets: KeySet) -> RemoteKeyState:
    state = RemoteKeyState(POLICY)
    assert isinstance(state.decide("old", now), Fetch)
    assert state.fetched(_jwks(*(sets or (OLD,))), now=now) is not None
    return state


# -- decisions ---------------------------------------------------------------------


def test_first_use_fetches_and_concurrent_callers_wait() -> None:
    state = RemoteKeyState(POLICY)
    assert isinstance(state.decide("old", 0), Fetch)
    assert isinstance(state.decide("old", 0), Wait)
    assert isinstance(state.decide("other", 0), Wait)
    keys = state.fetched(_jwks(OLD), now=0.5)
    assert keys is not None
    decision = state.decide("old", 1)
    assert isinstance(decision, UseKeys)
    assert not decision.stale
    assert decision.keys.get("old") is not None
    assert state.fetches == 1


def test_unknown_kid_refetches_at_most_once_per_min_interval() -> None:
    state = _loaded()  # fetched at 0
    for t in range(1, 30):
        decision = state.decide(f"forged-{t}", t)
        assert isinstance(decision, Refuse)
        assert isinstance(decision.error, UnknownKeyError)
    assert isinstance(state.decide("forged-x", 30), Fetch)
    state.fetched(_jwks(OLD), now=30)
    assert isinstance(state.decide("forged-y", 59.9), Refuse)
    assert isinstance(state.decide("old", 59.9), UseKeys)
    assert state.fetches == 2


def test_rotation_accepted_within_one_min_interval() -> None:
    state = _loaded()
    before = state.generation
    assert isinstance(state.decide("new", 10), Refuse)  # fetched 10 s ago
    assert isinstance(state.decide("new", 30), Fetch)  # one min_interval after
    state.fetched(_jwks(OLD, NEW), now=30)
    decision = state.decide("new", 30)
    assert isinstance(decision, UseKeys)
    assert decision.keys.get("new") is not None
    assert state.generation == before + 1


def test_max_age_is_honoured_within_bounds() -> None:
    state = RemoteKeyState(POLICY)
    state.decide(None, 0)
    state.fetched(_jwks(OLD), now=0, cache_control="public, max-age=120")
    assert state.fresh_keys(119) is not None
    assert state.fresh_keys(120) is None
    assert isinstance(state.decide("old", 120), Fetch)
    state.fetched(_jwks(OLD), now=120, cache_control="max-age=999999")
    assert state.fresh_keys(120 + 3599) is not None
    assert state.fresh_keys(120 + 3600) is None
    assert POLICY.max_age("no-store") == 60
    assert POLICY.max_age(None) == 300
    assert POLICY.max_age("max-age=200", age="50") == 150
    assert POLICY.max_age("max-age=banana") == 300


def test_unchanged_document_keeps_the_same_key_set() -> None:
    state = _loaded()
    first = state.keys
    state.decide("old", 400)
    assert state.fetched(_jwks(OLD), now=400) is first
    assert state.generation == 1


def test_issuer_down_serves_stale_keys_for_the_window_then_fails_closed() -> None:
    state = _loaded()  # fresh until 300, stale until 900
    assert isinstance(state.decide("old", 300), Fetch)
    state.failed("connection refused", now=300)
    decision = state.decide("old", 301)
    assert isinstance(decision, UseKeys)
    assert decision.stale
    assert isinstance(state.decide("old", 305), Fetch)  # retry_interval later
    assert state.fetched(b"<html>oops</html>", now=305) is None  # garbage: also a failure
    assert "not valid" in (state.last_error or "")
    assert isinstance(state.decide("old", 899), Fetch)
    state.failed("connection refused", now=899)
    assert isinstance(state.decide("old", 899.5), UseKeys)  # the last moment of the window
    refused = state.decide("old", 900)
    assert isinstance(refused, Refuse)
    assert isinstance(refused.error, KeySetUnavailableError)
    assert "connection refused" in refused.error.message


def test_stale_keys_serve_known_kids_while_a_refresh_is_in_flight() -> None:
    state = _loaded()
    assert isinstance(state.decide("old", 300), Fetch)
    during = state.decide("old", 300.1)
    assert isinstance(during, UseKeys)
    assert during.stale
    assert isinstance(state.decide("unknown", 300.1), Wait)


def test_never_fetched_and_failing_fails_closed_between_retries() -> None:
    state = RemoteKeyState(POLICY)
    assert isinstance(state.decide("old", 0), Fetch)
    state.failed("timeout", now=0)
    decision = state.decide("old", 1)
    assert isinstance(decision, Refuse)
    assert isinstance(decision.error, KeySetUnavailableError)
    assert "timeout" in decision.error.message
    assert isinstance(state.decide("old", 5), Fetch)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=50, allow_nan=False),
            st.sampled_from(["old", "new", "forged", None]),
            st.sampled_from(["ok", "rotated", "fail", "garbage"]),
        ),
        max_size=60,
    )
)
def test_fetches_are_spaced_whatever_the_traffic(steps: list[tuple[float, Any, str]]) -> None:
    """Every fetch starts at least one second (the policy floors) after the previous one."""
    state, now, starts = RemoteKeyState(POLICY), 0.0, []
    for delta, kid, outcome in steps:
        now += delta
        decision = state.decide(kid, now)
        if isinstance(decision, Fetch):
            starts.append(now)
            if outcome == "fail":
                state.failed("down", now=now)
            else:
                body = {"ok": _jwks(OLD), "rotated": _jwks(OLD, NEW), "garbage": b"[]"}[outcome]
                state.fetched(body, now=now)
        elif isinstance(decision, UseKeys):
            assert decision.keys.get(kid) is not None
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= POLICY.retry_interval for gap in gaps)


# -- the JWKS judge ----------------------------------------------------------------


def _doc(*keys: Any) -> bytes:
    return msgspec.json.encode({"keys": list(keys)})


ED = OLD.public_jwks()["keys"][0]


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        (b"not json", "not valid"),
        (b"\xff\xfe", "not valid"),
        (b"[]", "object"),
        (b'{"keys": {}}', "object"),
        (_doc("a string"), "not a JSON object"),
        (_doc({**ED, "kid": 7}), "'kid'"),
        (_doc({**ED, "kty": None}), "'kty'"),
        (_doc({**ED, "alg": ["EdDSA"]}), "'alg'"),
        (_doc({**ED, "d": "AAAA"}), "private"),
        (_doc({"kty": "oct", "k": "c2VjcmV0", "kid": "h", "alg": "HS256"}), "private"),
        (_doc(ED, {**ED, "x": NEW.public_jwks()["keys"][0]["x"]}), "duplicate"),
        (_doc({**ED, "x": "!!"}), "cannot be loaded"),
        (_doc({**ED, "alg": "RS256"}), "no key"),
        (_doc(), "no key"),
        (b" " * (POLICY.max_document_bytes + 1), "larger"),
        (_doc(*[{**ED, "kid": f"k{i}"} for i in range(POLICY.max_keys + 1)]), "more than"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid"),
    ],
)
def test_hostile_documents_are_refused_with_a_typed_error(document: bytes, needle: str) -> None:
    with pytest.raises(JWKSError, match=needle) as caught:
        parse_jwks(document, POLICY)
    assert caught.value.code == "bad_jwks"


def test_encryption_keys_and_disallowed_algorithms_are_skipped() -> None:
    rsa = KeySet.generate("RS256", kid="rsa").public_jwks()["keys"][0]
    document = _doc(ED, {**rsa}, {**NEW.public_jwks()["keys"][0], "use": "enc"})
    keys = parse_jwks(document, POLICY)
    assert [k.kid for k in keys.keys] == ["old"]
    assert not keys.can_sign


def test_a_key_without_alg_binds_only_when_one_allowed_algorithm_fits() -> None:
    bare = {k: v for k, v in ED.items() if k != "alg"}
    assert parse_jwks(_doc(bare), POLICY).get("old") is not None
    rsa = dict(KeySet.generate("RS256").public_jwks()["keys"][0].items())
    del rsa["alg"]
    two = RemoteKeyPolicy(algorithms=("RS256", "PS256"))
    with pytest.raises(JWKSError, match="no key"):
        parse_jwks(_doc(rsa), two)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithms": ()},
        {"algorithms": "RS256"},
        {"algorithms": ("HS256",)},
        {"algorithms": ("none",)},
        {"algorithms": ("RS256",), "min_interval": 0},
        {"algorithms": ("RS256",), "retry_interval": 0.5},
        {"algorithms": ("RS256",), "stale_window": float("nan")},
        {"algorithms": ("RS256",), "min_max_age": 100, "max_max_age": 50},
        {"algorithms": ("RS256",), "max_keys": 0},
        {"algorithms": ("RS256",), "max_document_bytes": True},
    ],
)
def test_unusable_policies_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RemoteKeyPolicy(**kwargs)
