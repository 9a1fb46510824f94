"""The default ids: unique, URL-safe, and in time order (B-tree friendly)."""

from __future__ import annotations

import re
import time

import pytest

from tokenlife import _authority
from tokenlife._authority import RandomIds, time_prefix

URL_SAFE = re.compile(r"[A-Za-z0-9_-]{21}")


def test_ids_are_unique_url_safe_and_never_look_like_an_option() -> None:
    ids = RandomIds()
    drawn = [ids() for _ in range(10_000)]
    assert len(set(drawn)) == len(drawn)
    assert all(URL_SAFE.fullmatch(i) for i in drawn)
    assert not any(i.startswith("-") for i in drawn)


def test_the_random_part_is_not_repeated_across_batches() -> None:
    ids = RandomIds()
    tails = {ids()[8:] for _ in range(1_000)}  # many urandom batches of 64
    assert len(tails) == 1_000


@pytest.mark.parametrize("ms", [0, 1, 61, 62, 1_800_000_000_000, 62**8 - 1])
def test_time_prefix_is_eight_digits_that_round_trip(ms: int) -> None:
    prefix = time_prefix(ms)
    assert len(prefix) == 8
    value = 0
    for char in prefix:
        value = value * 62 + _authority._SORTED_DIGITS.index(char)
    assert value == ms


def test_string_order_is_time_order() -> None:
    times = [0, 1, 61, 62, 63, 3843, 3844, 1_799_999_999_999, 1_800_000_000_000, 62**8 - 1]
    prefixes = [time_prefix(ms) for ms in times]
    assert prefixes == sorted(prefixes)
    assert len(set(prefixes)) == len(prefixes)


def test_later_ids_sort_after_earlier_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_800_000_000_000_000_000]
    monkeypatch.setattr(time, "time_ns", lambda: now[0])
    ids = RandomIds()
    drawn = []
    for _ in range(50):
        drawn.append(ids())
        now[0] += 1_000_000  # one millisecond
    assert drawn == sorted(drawn)
    assert drawn[0][:8] == time_prefix(1_800_000_000_000)
