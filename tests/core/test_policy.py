from __future__ import annotations

from datetime import timedelta

import pytest

from tokenlife import MAX_GRACE, Policy, PolicyError


def test_defaults_follow_the_lifecycle_document() -> None:
    policy = Policy()
    assert (policy.access_ttl, policy.refresh_ttl, policy.session_ttl) == (
        900,
        14 * 86400,
        30 * 86400,
    )
    assert (policy.grace, policy.leeway, policy.revocation) == (10, 0, "strict")
    assert policy.access_floor_on_refresh is True


def test_timedeltas_become_seconds_and_lists_tuples() -> None:
    policy = Policy(access_ttl=timedelta(minutes=5), audience=["a", "b"])  # type: ignore[arg-type]
    assert policy.access_ttl == 300.0
    assert policy.audience == ("a", "b")


@pytest.mark.parametrize(
    "settings",
    [
        {"access_ttl": 0},
        {"refresh_ttl": -1},
        {"session_ttl": float("nan")},
        {"access_ttl": float("inf")},
        {"access_ttl": 100, "session_ttl": 50, "refresh_ttl": 50},
        {"refresh_ttl": 100, "session_ttl": 50, "access_ttl": 10},
        {"grace": MAX_GRACE + 1},
        {"grace": -1},
        {"leeway": 301},
        {"revocation": "lax"},
        {"access_ttl": True},
        {"access_ttl": "900"},
        {"max_sessions": 0},
        {"max_sessions": -3},
        {"max_sessions": True},
        {"max_sessions": 2.5},
        {"max_sessions": "5"},
        {"on_session_limit": "drop_newest"},
    ],
)
def test_bad_settings_fail_at_construction(settings: dict[str, object]) -> None:
    with pytest.raises(PolicyError):
        Policy(**settings)  # type: ignore[arg-type]


def test_the_session_limit_is_off_by_default() -> None:
    policy = Policy()
    assert (policy.max_sessions, policy.on_session_limit) == (None, "end_oldest")
    assert Policy(max_sessions=1, on_session_limit="refuse").max_sessions == 1
